import { randomFillSync } from 'node:crypto';

/** Random bytes taken in slices of a larger buffer: one CSPRNG call for many ids instead of one each. */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

/**
 * `count` fresh bytes from the system CSPRNG (at most 256), hex-encoded. Each byte is handed out once;
 * the pool is refilled when it runs out.
 */
export function randomHex(count: number): string {
  if (count > 256) throw new RangeError(`randomHex takes at most 256 bytes, got ${count}`);
  if (used + count > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + count);
  used += count;
  return hex;
}

/**
 * A Request-ID in the style of WeChat's (hex, 40+ characters): on every response of the gateway and on
 * every callback.
 */
export function newRequestId(): string {
  return randomHex(24).toUpperCase();
}
