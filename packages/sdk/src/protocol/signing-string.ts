/**
 * The exact byte strings that APIv3 signs. Every line, the last included, ends with "\n".
 * @see docs/protocol.md §1.1 and §2.2
 */

/** Inputs of a request signing string. */
export interface RequestSigningInput {
  /** HTTP method; upper-cased here. */
  method: string;
  /** Path plus `?` and the raw query exactly as sent on the wire (no host, no re-encoding). */
  canonicalUrl: string;
  /** Unix seconds. */
  timestamp: number | string;
  nonce: string;
  /** Raw request entity; empty string when there is none. For the image upload: the meta JSON. */
  body: string;
}

/** Builds `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`. */
export function buildRequestSigningString(input: RequestSigningInput): string {
  return `${input.method.toUpperCase()}\n${input.canonicalUrl}\n${input.timestamp}\n${input.nonce}\n${input.body}\n`;
}

/** Inputs of a response or notification signing string. */
export interface ResponseSigningInput {
  /** Value of `Wechatpay-Timestamp`. */
  timestamp: number | string;
  /** Value of `Wechatpay-Nonce`. */
  nonce: string;
  /** Raw entity as received; empty string for 204. */
  body: string;
}

/** Builds `TIMESTAMP\nNONCE\nBODY\n`, used for API responses and for callbacks alike. */
export function buildResponseSigningString(input: ResponseSigningInput): string {
  return `${input.timestamp}\n${input.nonce}\n${input.body}\n`;
}
