/**
 * The `Authorization: WECHATPAY2-SHA256-RSA2048 k="v",…` request header: build and strict parse.
 * @see docs/protocol.md §1.3
 */

/** The scheme token of RSA-signed APIv3 requests. */
export const AUTH_SCHEME = 'WECHATPAY2-SHA256-RSA2048';

/** The five parameters of the Authorization header. */
export interface AuthorizationParams {
  mchid: string;
  serialNo: string;
  /** Unix seconds as sent (digits). */
  timestamp: string;
  nonce: string;
  signature: string;
}

/** Builds the header value with the parameter order the official Go SDK uses. */
export function buildAuthorization(params: AuthorizationParams): string {
  return (
    `${AUTH_SCHEME} mchid="${params.mchid}",nonce_str="${params.nonce}",timestamp="${params.timestamp}",` +
    `serial_no="${params.serialNo}",signature="${params.signature}"`
  );
}

/** Result of parsing: the parameters, or the reason the header is malformed. */
export type ParseAuthorizationResult =
  | { ok: true; params: AuthorizationParams }
  | { ok: false; reason: string };

const WIRE_NAMES = {
  mchid: 'mchid',
  serial_no: 'serialNo',
  timestamp: 'timestamp',
  nonce_str: 'nonce',
  signature: 'signature',
} as const;
type WireName = keyof typeof WIRE_NAMES;

/**
 * Strictly parses an Authorization header: known scheme, every parameter exactly once, each value in
 * double quotes, any order, optional whitespace around `,` and `=`.
 */
export function parseAuthorization(header: string | undefined): ParseAuthorizationResult {
  if (header === undefined || header.trim() === '') {
    return { ok: false, reason: 'the Authorization header is missing' };
  }
  const trimmed = header.trim();
  const space = trimmed.indexOf(' ');
  const scheme = space < 0 ? trimmed : trimmed.slice(0, space);
  if (scheme !== AUTH_SCHEME) {
    return { ok: false, reason: `unknown authorization scheme "${scheme}", expected ${AUTH_SCHEME}` };
  }
  const rest = trimmed.slice(space + 1);
  const found: Partial<Record<WireName, string>> = {};
  for (const part of rest.split(',')) {
    const match = /^\s*([a-z_]+)\s*=\s*"([^"]*)"\s*$/.exec(part);
    if (!match) return { ok: false, reason: `malformed parameter "${part.trim()}", expected key="value"` };
    const key = match[1] as string;
    const value = match[2] as string;
    if (!(key in WIRE_NAMES)) return { ok: false, reason: `unknown parameter "${key}"` };
    const wire = key as WireName;
    if (found[wire] !== undefined) return { ok: false, reason: `parameter "${key}" appears more than once` };
    found[wire] = value;
  }
  const missing = (Object.keys(WIRE_NAMES) as WireName[]).filter(
    (k) => found[k] === undefined || found[k] === '',
  );
  if (missing.length > 0) return { ok: false, reason: `missing parameter(s): ${missing.join(', ')}` };
  return {
    ok: true,
    params: {
      mchid: found.mchid as string,
      serialNo: found.serial_no as string,
      timestamp: found.timestamp as string,
      nonce: found.nonce_str as string,
      signature: found.signature as string,
    },
  };
}
