import { paramError } from '../errors.js';

/**
 * Input checks every simulation rule shares (fault rules, subsidy outcome rules): how many times it may
 * fire and when it stops applying. PARAM_ERROR naming the body field otherwise.
 */

/** `count`: 1..1000000 firings, or absent for unlimited. */
export function checkRuleCount(count: number | undefined): void {
  if (count !== undefined && (!Number.isInteger(count) || count < 1 || count > 1_000_000)) {
    throw paramError('/count', 'must be an integer in 1..1000000', 'body', count);
  }
}

/** `expire_time`: in the future on the wall clock, or absent for never. */
export function checkRuleExpiry(expiresAtMs: number | undefined, nowMs: number): void {
  if (expiresAtMs !== undefined && expiresAtMs <= nowMs) {
    throw paramError('/expire_time', 'must be in the future (wall clock)', 'body');
  }
}
