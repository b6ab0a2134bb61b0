import { randomBytes } from 'node:crypto';
import { buildAuthorization } from '../protocol/authorization.js';
import { loadPrivateKey, type PrivateKeyInput } from '../protocol/keys.js';
import { signMessage } from '../protocol/rsa-signature.js';
import { buildRequestSigningString } from '../protocol/signing-string.js';

/** Merchant identity that signs requests. The private key is parsed once, here. */
export interface RequestSignerOptions {
  mchid: string;
  /** Serial number of the merchant API certificate (`serial_no`). */
  serialNo: string;
  /** apiclient_key.pem (PKCS#8 or PKCS#1 PEM) or a private KeyObject. */
  privateKey: PrivateKeyInput;
  /** Current time in milliseconds. @default Date.now */
  now?: () => number;
  /** Nonce generator; must return 1–32 characters of [0-9A-Za-z]. @default 32 random upper-case hex digits */
  nonce?: () => string;
}

/** What to sign. */
export interface SignRequestInput {
  method: string;
  /** Path plus `?query` exactly as sent on the wire. */
  canonicalUrl: string;
  /** Raw body, or the meta JSON for the image upload. @default '' */
  body?: string;
}

/** A signed request's Authorization header and the values it signed. */
export interface SignedRequest {
  authorization: string;
  timestamp: number;
  nonce: string;
}

/** Signs requests with a cached KeyObject: a fresh nonce and timestamp on every call (retries included). */
export type RequestSigner = (input: SignRequestInput) => SignedRequest;

/** Generates a 32-character nonce of upper-case hex digits (inside the [0-9A-Za-z] set WeChat accepts). */
export function generateNonce(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

/**
 * Creates a request signer. The private key is parsed once; every call produces a fresh nonce and
 * timestamp, builds the five-line signing string and the Authorization header.
 * @example
 * const sign = createRequestSigner({ mchid, serialNo, privateKey: pem });
 * const { authorization } = sign({ method: 'GET', canonicalUrl: '/v3/certificates' });
 */
export function createRequestSigner(options: RequestSignerOptions): RequestSigner {
  const key = loadPrivateKey(options.privateKey);
  const now = options.now ?? Date.now;
  const nextNonce = options.nonce ?? generateNonce;
  const { mchid, serialNo } = options;
  return (input) => {
    const timestamp = Math.floor(now() / 1000);
    const nonce = nextNonce();
    const message = buildRequestSigningString({
      method: input.method,
      canonicalUrl: input.canonicalUrl,
      timestamp,
      nonce,
      body: input.body ?? '',
    });
    const authorization = buildAuthorization({
      mchid,
      serialNo,
      timestamp: String(timestamp),
      nonce,
      signature: signMessage(message, key),
    });
    return { authorization, timestamp, nonce };
  };
}
