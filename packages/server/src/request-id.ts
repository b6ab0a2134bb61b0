import { randomBytes } from 'node:crypto';

/**
 * A Request-ID in the style of WeChat's (hex, 40+ characters): on every response of the gateway and on
 * every callback.
 */
export function newRequestId(): string {
  return randomBytes(24).toString('hex').toUpperCase();
}
