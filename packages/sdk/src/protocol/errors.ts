/**
 * Error classes of the SDK. Each subclass is named for what the caller can do about it. They live in
 * the protocol module because its pure functions throw them; the client and notifications import them
 * from here.
 */

/** Base class of every error the SDK throws. */
export class WechatPayError extends Error {
  override name = 'WechatPayError';
}

/** A signature (response, notification or request) did not verify, or its headers were incomplete. */
export class SignatureVerificationError extends WechatPayError {
  override name = 'SignatureVerificationError';
}

/** AEAD_AES_256_GCM or RSA-OAEP decryption failed: wrong APIv3 key, wrong private key, or tampered data. */
export class DecryptionError extends WechatPayError {
  override name = 'DecryptionError';
}

/** Key or certificate material could not be loaded. */
export class KeyFormatError extends WechatPayError {
  override name = 'KeyFormatError';
}

/** The `detail` object WeChat may add to an error body (mainly PARAM_ERROR). Any member may be absent. */
export interface ApiErrorDetail {
  /** JSON Pointer into the body (`/stock_id`) or the bare path/query parameter name. */
  field?: string;
  value?: unknown;
  issue?: string;
  /** `body`, `path`, `query`, `header`, … */
  location?: string;
  [key: string]: unknown;
}

/** Fields of an ApiError. */
export interface ApiErrorInit {
  status: number;
  code: string | undefined;
  message: string;
  detail?: ApiErrorDetail | undefined;
  requestId?: string | undefined;
  headers: Record<string, string>;
  rawBody: string;
}

/**
 * WeChat Pay answered with a non-2xx status. Branch on `status` and `code`, never on `message` (the same
 * code carries many texts). Quote `requestId` to WeChat support.
 * @see docs/errors.md
 */
export class ApiError extends WechatPayError {
  override name = 'ApiError';
  /** HTTP status. */
  readonly status: number;
  /** Wire code such as `PARAM_ERROR`; old spellings `NOAUTH`/`RULELIMIT` are normalised. Undefined for a non-JSON body. */
  readonly code: string | undefined;
  /** The optional `detail` object. */
  readonly detail: ApiErrorDetail | undefined;
  /** The `Request-ID` response header, when present. */
  readonly requestId: string | undefined;
  /** Response headers, lower-cased names. */
  readonly headers: Record<string, string>;
  /** The raw response body. */
  readonly rawBody: string;
  constructor(init: ApiErrorInit) {
    super(init.message);
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.requestId = init.requestId;
    this.headers = init.headers;
    this.rawBody = init.rawBody;
  }
}

/** The request never got an HTTP response (DNS, refused, reset). Safe to retry only with the same request number. */
export class ConnectionError extends WechatPayError {
  override name = 'ConnectionError';
}

/** No response within `timeoutMs`. The outcome is unknown: retry with the same request number, or query. */
export class TimeoutError extends WechatPayError {
  override name = 'TimeoutError';
}

const LEGACY_CODES: Record<string, string> = { NOAUTH: 'NO_AUTH', RULELIMIT: 'RULE_LIMIT' };

/**
 * The one factory that turns a non-2xx response into an ApiError: parses `{code, message, detail}` when
 * the body is JSON, keeps the raw body and headers, normalises legacy code spellings.
 */
export function errorFromResponse(
  status: number,
  headers: Record<string, string>,
  rawBody: string,
): ApiError {
  let code: string | undefined;
  let message: string | undefined;
  let detail: ApiErrorDetail | undefined;
  if (rawBody) {
    try {
      const parsed: unknown = JSON.parse(rawBody);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        const body = parsed as Record<string, unknown>;
        if (typeof body.code === 'string') code = LEGACY_CODES[body.code] ?? body.code;
        if (typeof body.message === 'string') message = body.message;
        if (typeof body.detail === 'object' && body.detail !== null) detail = body.detail as ApiErrorDetail;
      }
    } catch {
      // A non-JSON error body (an empty 404 from a proxy, an HTML 502) still becomes an ApiError.
    }
  }
  const requestId = headers['request-id'];
  return new ApiError({
    status,
    code,
    message:
      message ??
      `WeChat Pay answered HTTP ${status}${rawBody ? '' : ' with an empty body'}${code ? ` (${code})` : ''}`,
    detail,
    requestId,
    headers,
    rawBody,
  });
}
