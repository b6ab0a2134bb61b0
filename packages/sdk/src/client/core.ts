import {
  ConnectionError,
  errorFromResponse,
  SignatureVerificationError,
  TimeoutError,
  WechatPayError,
} from '../protocol/errors.js';
import type { PrivateKeyInput } from '../protocol/keys.js';
import { encryptSensitiveField } from '../protocol/oaep.js';
import { verifyResponseSignature } from '../protocol/response-signature.js';
import { decryptCertificateList, PlatformKeyStore, type VerificationOptions } from './platform-keys.js';
import { createRequestSigner, type RequestSigner } from './request-signer.js';
import {
  backoffDelayMs,
  isIdempotentRequest,
  isRetryableStatus,
  type RetryEvent,
  type RetryOptions,
  resolveRetryOptions,
} from './retry.js';
import type { CertificatesResponse } from './types/certificates.js';
import { SDK_VERSION } from './version.js';

/** The primary API host. */
export const DEFAULT_BASE_URL = 'https://api.mch.weixin.qq.com';

/** Options of createWechatPayClient. */
export interface WechatPayClientOptions {
  /** Merchant number (the caller). */
  mchid: string;
  /** Serial number of the merchant API certificate. */
  serialNo: string;
  /** apiclient_key.pem text or a private KeyObject; parsed once. */
  privateKey: PrivateKeyInput;
  /** The 32-character APIv3 key; needed for `certificates: 'auto'` and for notifications. */
  apiV3Key?: string;
  /** How responses are verified: WeChat Pay public key, platform certificates, or both. */
  verification: VerificationOptions;
  /** API host; the sandbox's URL, or the backup `https://api2.mch.weixin.qq.com`. @default 'https://api.mch.weixin.qq.com' */
  baseUrl?: string;
  /** Current time in milliseconds, for signing and the ±300 s response window. @default Date.now */
  now?: () => number;
  /** The fetch implementation. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Per-attempt timeout. @default 10000 */
  timeoutMs?: number;
  /** Retry policy, or `false` to never retry. @default { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 5000 } */
  retry?: RetryOptions | false;
  /**
   * Called before each retry with the failed attempt and the wait (see {@link RetryEvent}), so a failure
   * the retry absorbs (a 500, a sandbox fault rule) is still visible. An exception it throws is ignored.
   * @default undefined
   */
  onRetry?: (event: RetryEvent) => void;
  /** Seconds a response timestamp may differ from now (rejected at ≥). @default 300 */
  signatureWindowSeconds?: number;
  /** Auto certificates: refresh interval. @default 43200000 (12 h) */
  certificateRefreshIntervalMs?: number;
  /** Extra User-Agent product appended after the SDK's own. @default undefined */
  userAgent?: string;
  /** `Accept-Language` for error messages (`en`, `zh-CN`, …). @default undefined (WeChat uses zh-CN) */
  acceptLanguage?: string;
}

/** Per-call options. */
export interface CallOptions {
  /** Aborts the call (and any pending retry). */
  signal?: AbortSignal;
  /** Overrides the client's per-attempt timeout. */
  timeoutMs?: number;
  /** Force (`true`) or forbid (`false`) retries; by default only idempotent requests are retried. */
  idempotent?: boolean;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

/** A query value; undefined members are skipped. */
export type QueryValue = string | number | boolean | undefined;

/** A generic request. */
export interface RequestInput extends CallOptions {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path with path parameters already percent-encoded (use `encodePathSegment`). */
  path: string;
  query?: Record<string, QueryValue>;
  /** An object is JSON-serialised once; a string is sent byte for byte. */
  body?: unknown;
}

/** A verified response. */
export interface WechatPayResponse<T> {
  status: number;
  /** Response headers, lower-cased names. */
  headers: Record<string, string>;
  /** Parsed JSON body; undefined for 204 / empty bodies. */
  data: T;
  /** The raw body exactly as received (and verified). */
  rawBody: string;
  requestId: string | undefined;
  /** The `Wechatpay-Serial` that verified the response. */
  verifiedBy: string;
}

/** Internal: a prepared request body. */
interface PreparedBody {
  bytes: string | Uint8Array | undefined;
  /** The string that goes on the BODY line of the signing string. */
  signed: string;
  contentType: string | undefined;
}

/** Percent-encodes one path parameter as a path segment (Go url.PathEscape-like). */
export function encodePathSegment(value: string): string {
  return encodeURIComponent(value);
}

/** The transport every typed method goes through. */
export class WechatPayCore {
  readonly mchid: string;
  readonly keys: PlatformKeyStore;
  readonly baseUrl: string;
  private readonly apiV3Key: string | undefined;
  private readonly signer: RequestSigner;
  private readonly now: () => number;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly retry: ReturnType<typeof resolveRetryOptions>;
  private readonly onRetry: ((event: RetryEvent) => void) | undefined;
  private readonly windowSeconds: number;
  private readonly userAgent: string;
  private readonly acceptLanguage: string | undefined;

  constructor(options: WechatPayClientOptions) {
    this.mchid = options.mchid;
    this.now = options.now ?? Date.now;
    this.signer = createRequestSigner({
      mchid: options.mchid,
      serialNo: options.serialNo,
      privateKey: options.privateKey,
      now: this.now,
    });
    this.apiV3Key = options.apiV3Key;
    this.keys = new PlatformKeyStore({
      verification: options.verification,
      now: this.now,
      ...(options.certificateRefreshIntervalMs === undefined
        ? {}
        : { refreshIntervalMs: options.certificateRefreshIntervalMs }),
    });
    if (this.keys.autoCertificates) {
      if (!options.apiV3Key || Buffer.byteLength(options.apiV3Key, 'utf8') !== 32) {
        throw new TypeError(
          "certificates: 'auto' needs the 32-character apiV3Key to decrypt /v3/certificates",
        );
      }
      this.keys.setDownloader(() => this.downloadCertificates());
    }
    this.baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retry = resolveRetryOptions(options.retry);
    this.onRetry = options.onRetry;
    this.windowSeconds = options.signatureWindowSeconds ?? 300;
    this.userAgent =
      `wechatpay-sandbox-sdk/${SDK_VERSION} (node/${process.versions.node})` +
      (options.userAgent ? ` ${options.userAgent}` : '');
    this.acceptLanguage = options.acceptLanguage;
  }

  /** Sends a signed request, verifies the 2xx response, retries safe requests; throws typed errors. */
  async request<T>(input: RequestInput): Promise<WechatPayResponse<T>> {
    const prepared = prepareJsonBody(input.body);
    const idempotent = input.idempotent ?? isIdempotentRequest(input.method, input.body, input.query);
    return this.send<T>(input, prepared, idempotent, false);
  }

  /** Sends a pre-built body (multipart) whose signed string differs from its bytes. */
  async requestRaw<T>(
    input: Omit<RequestInput, 'body'>,
    body: { bytes: Uint8Array; signed: string; contentType: string },
  ): Promise<WechatPayResponse<T>> {
    return this.send<T>(input, body, input.idempotent ?? false, false);
  }

  /**
   * Encrypts a sensitive field (RSA-OAEP SHA-1) with the active platform key. The client's requests carry
   * that key's identifier in `Wechatpay-Serial`, so WeChat can decrypt.
   */
  async encryptSensitive(plaintext: string): Promise<string> {
    await this.keys.ensureFresh();
    const active = this.keys.active();
    if (!active) throw new WechatPayError('no platform key is available to encrypt with');
    return encryptSensitiveField(plaintext, active.key);
  }

  /** Auto mode: GET /v3/certificates, decrypt with the APIv3 key, self-verify, return the entries. */
  private async downloadCertificates() {
    const res = await this.send<CertificatesResponse>(
      { method: 'GET', path: '/v3/certificates' },
      { bytes: undefined, signed: '', contentType: undefined },
      true,
      true,
    );
    return decryptCertificateList(res.data, this.apiV3Key as string);
  }

  private async send<T>(
    input: Omit<RequestInput, 'body'>,
    body: PreparedBody,
    idempotent: boolean,
    bootstrap: boolean,
  ): Promise<WechatPayResponse<T>> {
    if (!input.path.startsWith('/')) throw new TypeError(`path must start with "/": ${input.path}`);
    const url = new URL(this.baseUrl + input.path + buildQuery(input.query));
    const canonicalUrl = url.pathname + url.search;
    const maxAttempts = idempotent ? this.retry.maxAttempts : 1;
    if (!bootstrap) await this.keys.ensureFresh();
    for (let attempt = 1; ; attempt++) {
      input.signal?.throwIfAborted();
      const signed = this.signer({ method: input.method, canonicalUrl, body: body.signed });
      const headers: Record<string, string> = {
        Accept: 'application/json',
        'User-Agent': this.userAgent,
        Authorization: signed.authorization,
        ...(body.contentType ? { 'Content-Type': body.contentType } : {}),
        ...(this.acceptLanguage ? { 'Accept-Language': this.acceptLanguage } : {}),
      };
      const active = this.keys.active();
      if (active) headers['Wechatpay-Serial'] = active.serial;
      Object.assign(headers, input.headers);
      let outcome: AttemptOutcome;
      try {
        outcome = await this.attempt(url, input, headers, body.bytes);
      } catch (err) {
        const retryable =
          err instanceof ConnectionError || (err instanceof TimeoutError && this.retry.retryOnTimeout);
        if (!retryable || attempt >= maxAttempts) throw err;
        const reason = err instanceof ConnectionError ? 'connection' : 'timeout';
        await this.waitToRetry(input, { url: canonicalUrl, attempt, maxAttempts }, { reason, error: err });
        continue;
      }
      const { status, headers: resHeaders, rawBody } = outcome;
      if (status >= 200 && status < 300) {
        return this.verify<T>(status, resHeaders, rawBody, bootstrap);
      }
      const error = errorFromResponse(status, resHeaders, rawBody);
      if (!isRetryableStatus(status, error.code) || attempt >= maxAttempts) throw error;
      const retryAfter = resHeaders['retry-after'];
      const injectedFault = resHeaders['wechatpay-sandbox-injected-fault'];
      await this.waitToRetry(
        input,
        { url: canonicalUrl, attempt, maxAttempts },
        {
          reason: 'status',
          status,
          ...(error.code === undefined ? {} : { code: error.code }),
          ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
          ...(injectedFault === undefined ? {} : { injectedFault }),
          error,
        },
        retryAfter === undefined ? undefined : Number(retryAfter),
      );
    }
  }

  /** Tells `onRetry` about the failed attempt and waits the backoff (at least `Retry-After`). */
  private async waitToRetry(
    input: Omit<RequestInput, 'body'>,
    at: Pick<RetryEvent, 'url' | 'attempt' | 'maxAttempts'>,
    failure: Omit<RetryEvent, 'method' | 'url' | 'attempt' | 'maxAttempts' | 'delayMs'>,
    retryAfterSeconds?: number,
  ): Promise<void> {
    const delayMs = backoffDelayMs(at.attempt, this.retry, retryAfterSeconds);
    this.notifyRetry({ method: input.method, ...at, delayMs, ...failure });
    await this.retry.sleep(delayMs, input.signal);
  }

  /** Tells `onRetry`; what it throws must not turn a retry into a failure. */
  private notifyRetry(event: RetryEvent): void {
    if (!this.onRetry) return;
    try {
      this.onRetry(event);
    } catch {
      // The hook is for observation only.
    }
  }

  private async attempt(
    url: URL,
    input: Omit<RequestInput, 'body'>,
    headers: Record<string, string>,
    bytes: string | Uint8Array | undefined,
  ): Promise<AttemptOutcome> {
    const timeoutMs = input.timeoutMs ?? this.timeoutMs;
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new TimeoutError(`no response from ${url.origin} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const signal = input.signal ? AbortSignal.any([input.signal, timeout.signal]) : timeout.signal;
    try {
      const res = await this.fetchImpl(url, {
        method: input.method,
        headers,
        ...(bytes === undefined ? {} : { body: bytes }),
        signal,
      });
      const rawBody = await res.text();
      const resHeaders: Record<string, string> = {};
      res.headers.forEach((value, name) => {
        resHeaders[name.toLowerCase()] = value;
      });
      return { status: res.status, headers: resHeaders, rawBody };
    } catch (err) {
      if (input.signal?.aborted) throw input.signal.reason;
      if (timeout.signal.aborted) throw timeout.signal.reason as TimeoutError;
      if (err instanceof WechatPayError) throw err;
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      throw new ConnectionError(
        `cannot reach ${url.origin} (${err instanceof Error ? err.message : String(err)}${cause}); ` +
          'check baseUrl and the network',
        { cause: err },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private async verify<T>(
    status: number,
    headers: Record<string, string>,
    rawBody: string,
    bootstrap: boolean,
  ): Promise<WechatPayResponse<T>> {
    const serial = headers['wechatpay-serial'];
    let resolveKey = (s: string) => this.keys.resolve(s);
    if (serial !== undefined && !this.keys.resolve(serial)) {
      if (bootstrap) {
        // Self-verification of /v3/certificates: the key is inside the (decrypted) body itself.
        const certs = tryDecryptCertificates(rawBody, this.apiV3Key as string);
        resolveKey = (s) =>
          this.keys.resolve(s) ?? certs.find((c) => c.serialNo === s.toUpperCase())?.publicKey;
      } else {
        await this.keys.resolveOrRefresh(serial);
      }
    }
    const result = verifyResponseSignature({
      headers,
      body: rawBody,
      resolveKey,
      nowSeconds: Math.floor(this.now() / 1000),
      windowSeconds: this.windowSeconds,
    });
    if (!result.ok) {
      throw new SignatureVerificationError(
        `the HTTP ${status} response failed verification (${result.failure}): ${result.message}`,
      );
    }
    let data: unknown;
    if (rawBody !== '') {
      try {
        data = JSON.parse(rawBody);
      } catch {
        throw new WechatPayError(`the HTTP ${status} response body is not JSON`);
      }
    }
    return {
      status,
      headers,
      data: data as T,
      rawBody,
      requestId: headers['request-id'],
      verifiedBy: result.serial,
    };
  }
}

interface AttemptOutcome {
  status: number;
  headers: Record<string, string>;
  rawBody: string;
}

function prepareJsonBody(body: unknown): PreparedBody {
  if (body === undefined) return { bytes: undefined, signed: '', contentType: undefined };
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { bytes: text, signed: text, contentType: 'application/json' };
}

function buildQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

function tryDecryptCertificates(rawBody: string, apiV3Key: string) {
  let parsed: CertificatesResponse;
  try {
    parsed = JSON.parse(rawBody) as CertificatesResponse;
  } catch {
    return [];
  }
  // A DecryptionError (wrong APIv3 key) propagates: it says what to fix, unlike "unknown serial".
  return decryptCertificateList(parsed, apiV3Key);
}
