/**
 * Ports the domain calls. Adapters (SQL repositories, the virtual clock, id generators) are wired in
 * app.ts; the domain never imports fastify, kysely, node:http or node:fs.
 */

/** Business time. Per-merchant virtual time is resolved by the adapter. */
export interface Clock {
  /** Current instant in epoch milliseconds for a merchant's business rules. */
  now(mchid?: string): number;
}

/** Identifier generation, injectable so tests are deterministic. */
export interface IdGen {
  /** A fresh random token of `[0-9A-Za-z]` with the given length. */
  token(length: number): string;
  /** A UUID-like string (notification ids). */
  uuid(): string;
  /** A numeric id of `digits` digits (stock ids, coupon codes). */
  digits(digits: number): string;
}
