import { type Static, Type } from '@sinclair/typebox';

/**
 * POST /v3/marketing/favor/media/image-upload — marketing image upload (图片上传(营销专用)).
 * multipart/form-data: part `meta` = `{"filename","sha256"}` (the signed body), part `file` = the image.
 * @see docs/protocol.md §7
 */
export const ImageUploadMeta = Type.Object({
  filename: Type.String({ minLength: 1, maxLength: 128 }),
  sha256: Type.String({ minLength: 64, maxLength: 64, pattern: '^[0-9A-Fa-f]{64}$' }),
});
export type ImageUploadMeta = Static<typeof ImageUploadMeta>;
export const ImageUploadResponse = Type.Object({ media_url: Type.String() });
export type ImageUploadResponse = Static<typeof ImageUploadResponse>;
