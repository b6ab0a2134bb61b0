import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';
import { DELIVERY_TIMEOUT_MS, MIN_NOTIFY_LEASE_SECONDS } from './outbox/delivery-timeout.js';

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
