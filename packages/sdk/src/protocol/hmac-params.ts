import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-SHA256 parameter signing with the APIv2 key, used by the coupon-send mini-program plugin and H5
 * page: drop empty values and `sign`, sort keys by ASCII, join `k=v` with `&`, append `&key=<APIv2 key>`,
 * HMAC-SHA256 keyed with the APIv2 key, upper-case hex.
 * @see docs/protocol.md §12
 */

/** Builds the string that is HMAC'd. */
export function buildHmacSigningString(
  params: Record<string, string | number | undefined>,
  apiV2Key: string,
): string {
  const pairs = Object.keys(params)
    .filter((k) => k !== 'sign' && params[k] !== undefined && params[k] !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`);
  return `${pairs.join('&')}&key=${apiV2Key}`;
}

/** Signs parameters; returns upper-case hex. */
export function signParamsHmacSha256(
  params: Record<string, string | number | undefined>,
  apiV2Key: string,
): string {
  return createHmac('sha256', apiV2Key)
    .update(buildHmacSigningString(params, apiV2Key), 'utf8')
    .digest('hex')
    .toUpperCase();
}

/** Checks a `sign` in constant time (case-insensitive hex). */
export function verifyParamsHmacSha256(
  params: Record<string, string | number | undefined>,
  sign: string,
  apiV2Key: string,
): boolean {
  const expected = Buffer.from(signParamsHmacSha256(params, apiV2Key), 'utf8');
  const given = Buffer.from(sign.toUpperCase(), 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}
