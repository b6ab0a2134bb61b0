/**
 * Retry policy: which failures are retried, for which requests, and how long to wait.
 * @see docs/protocol.md §5.3 (retry guidance) and §8.2 (idempotency)
 */

/** Retry settings. */
export interface RetryOptions {
  /** Total attempts including the first. @default 3 */
  maxAttempts?: number;
  /** Delay before the first retry, before jitter. @default 200 */
  baseDelayMs?: number;
  /** Upper bound of one delay. @default 5000 */
  maxDelayMs?: number;
  /** Retry a request that timed out (its outcome is unknown; safe only for idempotent requests). @default true */
  retryOnTimeout?: boolean;
  /** Random source in [0, 1) for jitter. @default Math.random */
  random?: () => number;
  /** Waits `ms`; rejects when `signal` aborts. Inject a fake in tests. @default a setTimeout-based sleep */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * What `onRetry` is told before the client waits and tries again: which attempt failed, why, and how long
 * it will wait. A sandbox fault rule that the retry absorbs shows up here (`injectedFault`), though the
 * call itself succeeds.
 */
export interface RetryEvent {
  /** The HTTP method of the request. */
  method: string;
  /** The path and query as signed (`/v3/…?…`). */
  url: string;
  /** The attempt that failed, from 1; the next one is `attempt + 1`. */
  attempt: number;
  /** Attempts allowed in all (`maxAttempts`). */
  maxAttempts: number;
  /** Milliseconds the client waits before the next attempt (after jitter and `Retry-After`). */
  delayMs: number;
  /** `status`: a retryable HTTP answer (429, 5xx, busifavor's 400 `SYSTEM_ERROR`); else no answer arrived. */
  reason: 'status' | 'connection' | 'timeout';
  /** The HTTP status, when `reason` is `status`. */
  status?: number;
  /** WeChat's error `code` of that answer, when it had one. */
  code?: string;
  /** The `Request-ID` of that answer. */
  requestId?: string;
  /**
   * The sandbox's `Wechatpay-Sandbox-Injected-Fault` header of that answer (`rule=<id>` or `header`): the
   * failure was injected on purpose. WeChat never sends it.
   */
  injectedFault?: string;
  /** The error the failed attempt produced (an `ApiError`, `ConnectionError` or `TimeoutError`). */
  error: Error;
}

/** Retry settings with defaults applied. */
export type ResolvedRetryOptions = Required<RetryOptions>;

/** Request-number fields that make a body safe to repeat (WeChat deduplicates on them). */
const REQUEST_NUMBER_FIELD = /(^|_)request_no$|^out_subsidy(_return)?_no$/;

/** True when a request may be repeated: GET/HEAD, or a body/query carrying a merchant request number. */
export function isIdempotentRequest(method: string, body: unknown, query?: Record<string, unknown>): boolean {
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') return true;
  // An empty request number deduplicates nothing, in a query as in a body.
  const carriesRequestNo = (record: Record<string, unknown>) =>
    Object.keys(record).some(
      (k) => REQUEST_NUMBER_FIELD.test(k) && typeof record[k] === 'string' && record[k] !== '',
    );
  if (query && carriesRequestNo(query)) return true;
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    return carriesRequestNo(body as Record<string, unknown>);
  }
  return false;
}

/** True for statuses worth retrying: 429, every 5xx, and busifavor's `400 SYSTEM_ERROR`. */
export function isRetryableStatus(status: number, code: string | undefined): boolean {
  return status === 429 || status >= 500 || (status === 400 && code === 'SYSTEM_ERROR');
}

/** Exponential backoff with "equal jitter": half fixed, half random, capped; honours Retry-After. */
export function backoffDelayMs(
  retryNumber: number,
  options: ResolvedRetryOptions,
  retryAfterSeconds?: number,
): number {
  const exp = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retryNumber - 1));
  const jittered = exp / 2 + options.random() * (exp / 2);
  if (retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds >= 0) {
    return Math.min(options.maxDelayMs, Math.max(jittered, retryAfterSeconds * 1000));
  }
  return jittered;
}

/** A sleep that rejects with the signal's reason on abort. */
export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Applies defaults. */
export function resolveRetryOptions(options: RetryOptions | false | undefined): ResolvedRetryOptions {
  const o = options === false ? { maxAttempts: 1 } : (options ?? {});
  return {
    maxAttempts: Math.max(1, o.maxAttempts ?? 3),
    baseDelayMs: o.baseDelayMs ?? 200,
    maxDelayMs: o.maxDelayMs ?? 5000,
    retryOnTimeout: o.retryOnTimeout ?? true,
    random: o.random ?? Math.random,
    sleep: o.sleep ?? defaultSleep,
  };
}
