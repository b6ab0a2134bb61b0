import type { RateLimitRule } from '../config.js';

/**
 * Token buckets per merchant and endpoint, in process memory. Exact limits across several instances are
 * not the point; a merchant's retry-on-429 code is.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedMs: number }>();

  constructor(private readonly now: () => number) {}

  /** Takes one token; false when the bucket is empty. */
  take(key: string, rule: RateLimitRule): boolean {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: rule.burst, updatedMs: now };
    const refill = ((now - bucket.updatedMs) / 1000) * rule.perSecond;
    bucket.tokens = Math.min(rule.burst, bucket.tokens + refill);
    bucket.updatedMs = now;
    if (this.buckets.size > 100_000) this.buckets.clear(); // bound memory under hostile key churn
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
