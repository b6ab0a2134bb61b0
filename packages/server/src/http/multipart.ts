import type { MultipartPart } from './context.js';

/**
 * A small multipart/form-data reader over the raw body. The image upload signs the `meta` part's
 * exact bytes, so the gateway needs those bytes before any streaming parser would hand them out.
 */

/** Extracts the boundary from a Content-Type header, or undefined. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data/i.test(contentType)) return undefined;
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/** Splits a multipart body into parts; returns undefined when the framing is malformed. */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] | undefined {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let start = body.indexOf(delimiter);
  if (start < 0) return undefined;
  for (;;) {
    let cursor = start + delimiter.length;
    if (body.subarray(cursor, cursor + 2).toString() === '--') return parts; // closing delimiter
    if (body.subarray(cursor, cursor + 2).toString() !== '\r\n') return undefined;
    cursor += 2;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), cursor);
    if (next < 0) return undefined;
    const headerEnd = body.indexOf('\r\n\r\n', cursor);
    if (headerEnd < 0 || headerEnd > next) return undefined;
    const headers = body.subarray(cursor, headerEnd).toString('utf8').split('\r\n');
    const part = readPartHeaders(headers);
    if (!part) return undefined;
    parts.push({ ...part, data: body.subarray(headerEnd + 4, next) });
    start = next + 2;
  }
}

function readPartHeaders(lines: string[]): Omit<MultipartPart, 'data'> | undefined {
  let name: string | undefined;
  let filename: string | undefined;
  let contentType: string | undefined;
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'content-disposition') {
      name = /(?:^|;)\s*name="([^"]*)"/i.exec(value)?.[1];
      filename = /(?:^|;)\s*filename="([^"]*)"/i.exec(value)?.[1];
    } else if (key === 'content-type') {
      contentType = value;
    }
  }
  if (name === undefined) return undefined;
  const part: Omit<MultipartPart, 'data'> = { name };
  if (filename !== undefined) part.filename = filename;
  if (contentType !== undefined) part.contentType = contentType;
  return part;
}
