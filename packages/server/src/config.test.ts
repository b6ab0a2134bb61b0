import { afterEach, describe, expect, it } from 'vitest';
import {
  DELIVERY_TIMEOUT_MS,
  MAX_NOTIFY_CONCURRENCY,
  MIN_NOTIFY_LEASE_SECONDS,
  resolveConfig,
} from './config.js';

describe('resolveConfig notify lease', () => {
  it('keeps a lease longer than one delivery attempt', () => {
    expect(MIN_NOTIFY_LEASE_SECONDS * 1000).toBeGreaterThan(DELIVERY_TIMEOUT_MS);
    expect(resolveConfig().notifyLeaseSeconds).toBe(30);
    expect(resolveConfig({ notifyLeaseSeconds: MIN_NOTIFY_LEASE_SECONDS }).notifyLeaseSeconds).toBe(6);
  });

  it.each([5, 0, 7.5, Number.NaN])(
    'refuses a lease of %s s (not above the 5 s attempt timeout, or not whole)',
    (s) => {
      expect(() => resolveConfig({ notifyLeaseSeconds: s })).toThrow(
        /notifyLeaseSeconds must be a whole number/,
      );
    },
  );
});

describe('resolveConfig notify concurrency', () => {
  it('defaults to 128 deliveries in flight, at most 64 of one merchant', () => {
    const { notifyConcurrency, notifyMerchantConcurrency } = resolveConfig();
    expect([notifyConcurrency, notifyMerchantConcurrency]).toEqual([128, 64]);
  });

  it.each([
    ['notifyConcurrency', 0],
    ['notifyConcurrency', 2.5],
    ['notifyMerchantConcurrency', 0],
    ['notifyConcurrency', MAX_NOTIFY_CONCURRENCY + 1],
  ])('refuses %s = %s', (key, value) => {
    expect(() => resolveConfig({ [key]: value })).toThrow(new RegExp(`${key} must be a whole number`));
  });

  it("refuses a merchant's share above the whole", () => {
    expect(() => resolveConfig({ notifyConcurrency: 8, notifyMerchantConcurrency: 9 })).toThrow(
      /notifyMerchantConcurrency \(9\) must not exceed notifyConcurrency \(8\)/,
    );
  });
});

describe('resolveConfig timeouts', () => {
  it('defaults to 10 s for headers, 30 s for a whole request and 60 s for an idle connection', () => {
    const { headersTimeoutMs, requestTimeoutMs, idleTimeoutMs } = resolveConfig();
    expect([headersTimeoutMs, requestTimeoutMs, idleTimeoutMs]).toEqual([10_000, 30_000, 60_000]);
  });

  it.each([
    ['headersTimeoutMs', 0],
    ['requestTimeoutMs', 1.5],
    ['idleTimeoutMs', -1],
  ])('refuses %s = %s', (key, value) => {
    expect(() => resolveConfig({ [key]: value })).toThrow(new RegExp(`${key} must be a whole number`));
  });

  it('refuses a headers timeout longer than the request timeout', () => {
    expect(() => resolveConfig({ headersTimeoutMs: 2000, requestTimeoutMs: 1000 })).toThrow(
      /headersTimeoutMs \(2000\) must not exceed requestTimeoutMs \(1000\)/,
    );
  });
});

describe('resolveConfig log level', () => {
  const saved = process.env.WPS_LOG_LEVEL;
  afterEach(() => {
    if (saved === undefined) delete process.env.WPS_LOG_LEVEL;
    else process.env.WPS_LOG_LEVEL = saved;
  });

  it('defaults to info, or to WPS_LOG_LEVEL when set', () => {
    delete process.env.WPS_LOG_LEVEL;
    expect(resolveConfig().logLevel).toBe('info');
    process.env.WPS_LOG_LEVEL = 'debug';
    expect(resolveConfig().logLevel).toBe('debug');
    process.env.WPS_LOG_LEVEL = ' WARN ';
    expect(resolveConfig().logLevel).toBe('warn');
    expect(resolveConfig({ logLevel: 'silent' }).logLevel).toBe('silent');
  });

  it('refuses an unknown level from the environment, unless a level is given', () => {
    process.env.WPS_LOG_LEVEL = 'verbose';
    expect(() => resolveConfig()).toThrow(
      'WPS_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
    );
    expect(resolveConfig({ logLevel: 'error' }).logLevel).toBe('error');
  });

  it('refuses an unknown level given in the configuration', () => {
    expect(() => resolveConfig({ logLevel: 'loud' as never })).toThrow(
      'logLevel must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    );
  });
});
