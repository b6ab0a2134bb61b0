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

/** The API families that have notify URLs. */
export type NotifyFamily = 'busifavor' | 'product-coupon' | 'delivery-plan';

/**
 * A business event to be delivered as a signed, encrypted callback. It is written in the same
 * transaction as the change that causes it (transactional outbox); the dispatcher delivers it later.
 */
export interface NotificationEvent {
  /** The merchant whose notify URL receives it (and whose APIv3 key encrypts it). */
  mchid: string;
  family: NotifyFamily;
  /** Envelope event_type, e.g. COUPON.SEND, DELIVERY_PLAN.CHANGE. */
  eventType: string;
  /** Envelope summary, e.g. 商家券领券通知. */
  summary: string;
  /** resource.original_type, e.g. coupon. */
  originalType: string;
  /** resource.associated_data, e.g. coupon. */
  associatedData: string;
  /** The business object that is encrypted into resource.ciphertext. */
  plaintext: Record<string, unknown>;
}

/**
 * The transactional outbox as a unit of work sees it: a notification written here commits or rolls
 * back with the change it reports. Only a transaction hands one out.
 */
export interface Outbox {
  /** Writes `event` for delivery; `nowMs` is the merchant's business time (the envelope create_time). */
  enqueue(event: NotificationEvent, nowMs: number): Promise<void>;
}
