import { createHash, randomBytes } from 'node:crypto';

/**
 * The two-part multipart body of the marketing image upload: `meta` (JSON, the signed string) then `file`.
 * @see docs/protocol.md §7
 */

/** A built upload body. */
export interface ImageUploadBody {
  /** The exact meta JSON placed in the meta part; it is the BODY line of the signing string. */
  meta: string;
  body: Uint8Array;
  contentType: string;
}

const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  bmp: 'image/bmp',
};

/** Builds the multipart body; the meta JSON is serialised once and reused for signing. */
export function buildImageUploadBody(
  filename: string,
  file: Uint8Array,
  contentType?: string,
  boundary = `wechatpay-sandbox-${randomBytes(12).toString('hex')}`,
): ImageUploadBody {
  const sha256 = createHash('sha256').update(file).digest('hex');
  const meta = JSON.stringify({ filename, sha256 });
  const ext = filename.slice(filename.lastIndexOf('.') + 1).toLowerCase();
  const fileType = contentType ?? CONTENT_TYPES[ext] ?? 'application/octet-stream';
  const safeName = filename.replace(/["\r\n]/g, '_');
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="meta";\r\nContent-Type: application/json\r\n\r\n` +
    `${meta}\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${safeName}"\r\n` +
    `Content-Type: ${fileType}\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const body = Buffer.concat([Buffer.from(head, 'utf8'), file, Buffer.from(tail, 'utf8')]);
  return { meta, body, contentType: `multipart/form-data; boundary=${boundary}` };
}
