import { describe, expect, it } from 'vitest';
import { DELIVERY_TIMEOUT_MS, MIN_NOTIFY_LEASE_SECONDS, resolveConfig } from './config.js';

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
