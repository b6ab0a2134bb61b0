import type { RateLimitRule } from './contract/endpoint.js';
import { documentedRateLimits } from './contract/endpoints/index.js';

/**
 * Server configuration: parsed once, unknown keys rejected, then frozen.
 */

/** Which notify targets are allowed. `local` allows loopback/private hosts (the default for `npm start`). */
export type TargetPolicy = 'local' | 'strict';

export type { RateLimitRule };

/**
 * Per-attempt total timeout of a callback delivery (connect + response): WeChat's 5 s budget.
 * @see docs/protocol.md §6.4
 */
export const DELIVERY_TIMEOUT_MS = 5000;

/**
 * The shortest {@link AppConfig.notifyLeaseSeconds}: longer than one delivery attempt, or a slow but live
 * attempt would be retaken by another instance and sent twice.
 */
export const MIN_NOTIFY_LEASE_SECONDS = Math.floor(DELIVERY_TIMEOUT_MS / 1000) + 1;

/** Resolved configuration of one server. */
export interface AppConfig {
  /** Notify target policy. @default 'local' */
  targetPolicy: TargetPolicy;
  /** Seconds a request timestamp may differ from the wall clock. @default 300 */
  signatureWindowSeconds: number;
  /** Per-merchant limit over all /v3 endpoints. @default { perSecond: 1000, burst: 2000 } */
  rateLimit: RateLimitRule;
  /** Per-endpoint limits, keyed `METHOD /route/pattern`, per merchant. */
  endpointRateLimits: Record<string, RateLimitRule>;
  /** Largest accepted request body in bytes (the image upload allows 2 MB plus multipart framing). @default 3 MiB */
  bodyLimitBytes: number;
  /**
   * Milliseconds a client has to send a request's headers (counted from the connection or the start of
   * the request); then 408 and the connection closes. At most {@link AppConfig.requestTimeoutMs}.
   * @default 10000
   * @see docs/fidelity.md (Gateway: timeouts)
   */
  headersTimeoutMs: number;
  /** Milliseconds a client has to send a whole request, body included; then 408 and close. @default 30000 */
  requestTimeoutMs: number;
  /** Milliseconds a keep-alive connection may stay idle between requests before it is closed. @default 60000 */
  idleTimeoutMs: number;
  /** Put the expected signing string into SIGN_ERROR details (sandbox diagnostics). @default true */
  signatureDiagnostics: boolean;
  /** PEM file of an extra CA trusted for notify targets (self-signed local receivers). @default undefined */
  notifyCaFile: string | undefined;
  /** Skip TLS verification of notify targets (explicit opt-in for self-signed receivers). @default false */
  notifyInsecureTls: boolean;
  /**
   * Seconds a claimed delivery stays leased to its instance; after a crash another instance (or the
   * restarted one) retakes it once this passes. Longer than the 5 s delivery timeout. @default 30
   */
  notifyLeaseSeconds: number;
  /** Deliver callbacks while listening (off: events stay in the outbox, e.g. for tests). @default true */
  notifyDelivery: boolean;
  /** Callback deliveries in flight at once per process (docs/operations.md, Callback delivery). @default 128 */
  notifyConcurrency: number;
  /**
   * Callback deliveries of one merchant in flight at once per process, so one merchant's slow receiver
   * cannot hold every slot. At most {@link AppConfig.notifyConcurrency}. @default 64
   */
  notifyMerchantConcurrency: number;
  /**
   * API calls the dashboard's live feed keeps in memory (a ring buffer per process; the oldest go first).
   * @default 500
   * @see docs/dashboard.md
   */
  dashboardFeedSize: number;
  /**
   * Level of the server log (pino); at `info` and below every request is one line (docs/operations.md, Logs).
   * @default the `WPS_LOG_LEVEL` environment variable, else 'info'
   */
  logLevel: LogLevel;
}

/** The levels of the server log, most severe first; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A level of the server log. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Environment variable giving the default {@link AppConfig.logLevel}. */
export const LOG_LEVEL_ENV = 'WPS_LOG_LEVEL';

/** Whether a value names a log level. */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * Documented endpoint limits, per merchant, from the endpoint table (each entry's `rateLimit`):
 * product-coupon GET notify-configs 20/s; busifavor create stock 1000/min, use 500 QPS, associate and
 * disassociate 500 QPS. The burst is one period's quota.
 */
export const DEFAULT_ENDPOINT_RATE_LIMITS: Readonly<Record<string, RateLimitRule>> = Object.freeze(
  documentedRateLimits(),
);

const DEFAULTS: AppConfig = {
  targetPolicy: 'local',
  signatureWindowSeconds: 300,
  rateLimit: { perSecond: 1000, burst: 2000 },
  endpointRateLimits: DEFAULT_ENDPOINT_RATE_LIMITS,
  bodyLimitBytes: 3 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  signatureDiagnostics: true,
  notifyCaFile: undefined,
  notifyInsecureTls: false,
  notifyLeaseSeconds: 30,
  notifyDelivery: true,
  notifyConcurrency: 128,
  notifyMerchantConcurrency: 64,
  dashboardFeedSize: 500,
  logLevel: 'info',
};

/** Largest {@link AppConfig.notifyConcurrency}: each delivery in flight may hold a socket. */
export const MAX_NOTIFY_CONCURRENCY = 1024;

/** Largest {@link AppConfig.dashboardFeedSize}: each entry keeps at most about 40 KB of headers. */
export const MAX_DASHBOARD_FEED_SIZE = 100_000;

/** The log level of {@link LOG_LEVEL_ENV} when set (an unknown name is refused), else `info`. */
function defaultLogLevel(): LogLevel {
  const value = process.env[LOG_LEVEL_ENV];
  if (value === undefined || value === '') return DEFAULTS.logLevel;
  const level = value.trim().toLowerCase();
  if (!isLogLevel(level)) {
    throw new Error(`${LOG_LEVEL_ENV} must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
  }
  return level;
}

/** Merges overrides over the defaults, refusing unknown keys, and freezes the result. */
export function resolveConfig(overrides: Partial<AppConfig> = {}): Readonly<AppConfig> {
  for (const key of Object.keys(overrides)) {
    if (!(key in DEFAULTS)) throw new Error(`unknown configuration key "${key}"`);
  }
  // The environment is read only when no level is given (a bad WPS_LOG_LEVEL does not matter then).
  const config: AppConfig = { ...DEFAULTS, ...overrides, logLevel: overrides.logLevel ?? defaultLogLevel() };
  if (!isLogLevel(config.logLevel)) {
    throw new Error(`logLevel must be one of ${LOG_LEVELS.join(', ')}, got "${String(config.logLevel)}"`);
  }
  if (config.targetPolicy !== 'local' && config.targetPolicy !== 'strict') {
    throw new Error(`targetPolicy must be "local" or "strict", got "${String(config.targetPolicy)}"`);
  }
  if (!Number.isInteger(config.notifyLeaseSeconds) || config.notifyLeaseSeconds < MIN_NOTIFY_LEASE_SECONDS) {
    throw new Error(
      `notifyLeaseSeconds must be a whole number of at least ${MIN_NOTIFY_LEASE_SECONDS}, got ${config.notifyLeaseSeconds}`,
    );
  }
  for (const key of ['headersTimeoutMs', 'requestTimeoutMs', 'idleTimeoutMs'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1) {
      throw new Error(`${key} must be a whole number of milliseconds above 0, got ${config[key]}`);
    }
  }
  for (const key of ['notifyConcurrency', 'notifyMerchantConcurrency'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1 || config[key] > MAX_NOTIFY_CONCURRENCY) {
      throw new Error(
        `${key} must be a whole number from 1 to ${MAX_NOTIFY_CONCURRENCY}, got ${config[key]}`,
      );
    }
  }
  if (config.notifyMerchantConcurrency > config.notifyConcurrency) {
    throw new Error(
      `notifyMerchantConcurrency (${config.notifyMerchantConcurrency}) must not exceed notifyConcurrency (${config.notifyConcurrency})`,
    );
  }
  const feed = config.dashboardFeedSize;
  if (!Number.isInteger(feed) || feed < 1 || feed > MAX_DASHBOARD_FEED_SIZE) {
    throw new Error(
      `dashboardFeedSize must be a whole number from 1 to ${MAX_DASHBOARD_FEED_SIZE}, got ${feed}`,
    );
  }
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    // Node's HTTP server refuses it too: the headers are part of the request.
    throw new Error(
      `headersTimeoutMs (${config.headersTimeoutMs}) must not exceed requestTimeoutMs (${config.requestTimeoutMs})`,
    );
  }
  return Object.freeze(config);
}
