import { type KeyObject, sign } from 'node:crypto';
import { signMessage, verifyMessage } from './rsa-signature.js';
import { buildResponseSigningString } from './signing-string.js';

/**
 * Signatures WeChat puts on API responses and callbacks: the four `Wechatpay-*` headers over
 * `TIMESTAMP\nNONCE\nBODY\n`.
 * @see docs/protocol.md §2
 */

/** The signature type WeChat names in `Wechatpay-Signature-Type`. */
export const SIGNATURE_TYPE = 'WECHATPAY2-SHA256-RSA2048';

/** Prefix of WeChat Pay public key IDs; any other `Wechatpay-Serial` is a platform certificate serial. */
export const PUBLIC_KEY_ID_PREFIX = 'PUB_KEY_ID_';

/** Seconds a signed timestamp may differ from now. Responses at exactly 300 s are rejected (Go/Java). */
export const SIGNATURE_WINDOW_SECONDS = 300;

/** The four signature headers (plus the optional signature type). */
export type WechatpaySignatureHeaders = {
  'Wechatpay-Timestamp': string;
  'Wechatpay-Nonce': string;
  'Wechatpay-Signature': string;
  'Wechatpay-Serial': string;
  'Wechatpay-Signature-Type': string;
};

/** Inputs for signing a response or callback body. */
export interface SignResponseInput {
  body: string;
  /** Unix seconds. */
  timestamp: number;
  nonce: string;
  /** Platform certificate serial or `PUB_KEY_ID_…` of the key that signs. */
  serial: string;
  privateKey: KeyObject;
}

/** Produces the `Wechatpay-*` headers for a body. */
export function signResponse(input: SignResponseInput): WechatpaySignatureHeaders {
  return signatureHeaders(input, signMessage(responseSigningString(input), input.privateKey));
}

/**
 * {@link signResponse} with the RSA signature computed on libuv's thread pool, so a server signing many
 * bodies at once (callback deliveries) uses the other cores while its event loop goes on.
 */
export async function signResponseAsync(input: SignResponseInput): Promise<WechatpaySignatureHeaders> {
  const message = Buffer.from(responseSigningString(input), 'utf8');
  const signature = await new Promise<Buffer>((resolve, reject) =>
    sign('sha256', message, input.privateKey, (err, sig) => (err ? reject(err) : resolve(sig))),
  );
  return signatureHeaders(input, signature.toString('base64'));
}

function responseSigningString(input: SignResponseInput): string {
  return buildResponseSigningString({ timestamp: input.timestamp, nonce: input.nonce, body: input.body });
}

function signatureHeaders(input: SignResponseInput, signatureBase64: string): WechatpaySignatureHeaders {
  return {
    'Wechatpay-Timestamp': String(input.timestamp),
    'Wechatpay-Nonce': input.nonce,
    'Wechatpay-Signature': signatureBase64,
    'Wechatpay-Serial': input.serial,
    'Wechatpay-Signature-Type': SIGNATURE_TYPE,
  };
}

/** Why a signed response or callback was refused. */
export type ResponseVerificationFailure =
  | 'missing-headers'
  | 'stale-timestamp'
  | 'unknown-serial'
  | 'unsupported-signature-type'
  | 'bad-signature';

/** Outcome of verifying a signed response or callback. */
export type ResponseVerificationResult =
  | { ok: true; serial: string }
  | { ok: false; failure: ResponseVerificationFailure; message: string };

/** Inputs of a verification: raw headers (any case), the raw body, a key resolver and the current time. */
export interface VerifyResponseInput {
  headers: Record<string, string | string[] | undefined> | Headers;
  body: string;
  /** Returns the verifying key for a `Wechatpay-Serial`, or undefined when unknown. */
  resolveKey: (serial: string) => KeyObject | undefined;
  /** Current Unix time in seconds. */
  nowSeconds: number;
  /** @default 300 */
  windowSeconds?: number;
}

/**
 * Verifies a response or callback signature: all four headers present, timestamp within the window
 * (rejected at >= window), key chosen by serial, signature over the raw body.
 */
export function verifyResponseSignature(input: VerifyResponseInput): ResponseVerificationResult {
  const get = (name: string) => readHeader(input.headers, name);
  const timestamp = get('wechatpay-timestamp');
  const nonce = get('wechatpay-nonce');
  const signature = get('wechatpay-signature');
  const serial = get('wechatpay-serial');
  if (!timestamp || !nonce || !signature || !serial) {
    return {
      ok: false,
      failure: 'missing-headers',
      message:
        'Wechatpay-Timestamp, Wechatpay-Nonce, Wechatpay-Signature and Wechatpay-Serial are all required on a ' +
        'signed response; a 2xx without them must be treated as forged',
    };
  }
  const signatureType = get('wechatpay-signature-type');
  if (signatureType && signatureType !== SIGNATURE_TYPE) {
    return {
      ok: false,
      failure: 'unsupported-signature-type',
      message: `unsupported Wechatpay-Signature-Type ${signatureType}`,
    };
  }
  const window = input.windowSeconds ?? SIGNATURE_WINDOW_SECONDS;
  const ts = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
  if (!Number.isFinite(ts) || Math.abs(input.nowSeconds - ts) >= window) {
    return {
      ok: false,
      failure: 'stale-timestamp',
      message: `Wechatpay-Timestamp ${timestamp} is not within ${window}s of now (${input.nowSeconds}); check the clock`,
    };
  }
  const key = input.resolveKey(serial);
  if (!key) {
    return {
      ok: false,
      failure: 'unknown-serial',
      message: `no platform certificate or WeChat Pay public key is configured for Wechatpay-Serial ${serial}`,
    };
  }
  const message = buildResponseSigningString({ timestamp, nonce, body: input.body });
  if (!verifyMessage(message, signature, key)) {
    return {
      ok: false,
      failure: 'bad-signature',
      message:
        'Wechatpay-Signature does not verify: pass the raw body bytes (not re-serialized JSON) and the right ' +
        'platform key',
    };
  }
  return { ok: true, serial };
}

/** Reads a header case-insensitively from a plain object or a Fetch `Headers`. */
export function readHeader(
  headers: Record<string, string | string[] | undefined> | Headers,
  name: string,
): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const lower = name.toLowerCase();
  // Fast path: node:http and most frameworks hand over lower-case names.
  const direct = record[lower];
  if (direct !== undefined) return Array.isArray(direct) ? direct[0] : direct;
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() === lower) {
      const value = record[key];
      return Array.isArray(value) ? value[0] : value;
    }
  }
  return undefined;
}
