/**
 * POST /v3/marketing/favor/media/image-upload (multipart; the meta JSON is what gets signed).
 * @see docs/protocol.md §7
 */

/** The `meta` part. */
export interface ImageUploadMeta {
  /** ≤ 128 characters, ending in .jpg, .bmp or .png. */
  filename: string;
  /** Lower-case hex SHA-256 of the file bytes. */
  sha256: string;
}

/** Response of the image upload. */
export interface ImageUploadResponse {
  media_url: string;
}
