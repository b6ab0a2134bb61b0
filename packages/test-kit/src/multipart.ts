import { randomBytes } from 'node:crypto';

/**
 * The multipart/form-data body of a marketing image upload: a `meta` part (the JSON text that is signed)
 * and a `file` part, in the order given (parts may be left out or repeated, for negative tests).
 */
export function imageUploadBody(
  meta: string | Buffer,
  file: Buffer,
  parts: readonly string[] = ['meta', 'file'],
): { body: Buffer; contentType: string } {
  const boundary = `----wps${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if (part === 'meta') {
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="meta";\r\nContent-Type: application/json\r\n\r\n`,
        ),
        Buffer.isBuffer(meta) ? meta : Buffer.from(meta),
        Buffer.from('\r\n'),
      );
    } else {
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="logo.png"\r\nContent-Type: image/png\r\n\r\n`,
        ),
        file,
        Buffer.from('\r\n'),
      );
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}
