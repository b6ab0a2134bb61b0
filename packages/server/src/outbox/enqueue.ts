import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import type { NotificationEvent } from '../domain/ports.js';

/** Where a new outbox row's id and wall time come from. */
export interface EnqueueStamp {
  /** The notification id (a UUID, e.g. `ids.uuid()`). @default crypto.randomUUID() */
  id?: string;
  /** Wall-clock epoch ms; only orders the log (created_at/updated_at). @default Date.now() */
  wallMs?: number;
}

/**
 * Writes a notification into the outbox. Call it inside the transaction that makes the change the event
 * reports (transactional outbox): if that transaction rolls back, no callback is ever sent. The first
 * attempt is due at once; the dispatcher builds, encrypts and signs the envelope at delivery time.
 * @param nowMs the merchant's business time (virtual clock), used as the envelope create_time.
 * @param stamp the id and wall time to give the row; servers pass their `ids.uuid()` and wall clock.
 * @returns the notification id, stable across every redelivery and replay.
 * @example
 * await db.transaction().execute(async (trx) => {
 *   await insertCoupon(trx, coupon);
 *   await enqueueNotification(trx, couponSendEvent(coupon), clock.now(mchid), {
 *     id: ids.uuid(),
 *     wallMs: wallClock(),
 *   });
 * });
 */
export async function enqueueNotification(
  db: Kysely<DatabaseSchema> | Transaction<DatabaseSchema>,
  event: NotificationEvent,
  nowMs: number,
  stamp: EnqueueStamp = {},
): Promise<{ id: string }> {
  const id = stamp.id ?? randomUUID();
  // Wall time only orders the log; business decisions use nowMs.
  const wallMs = stamp.wallMs ?? Date.now();
  await db
    .insertInto('notification_outbox')
    .values({
      id,
      mchid: event.mchid,
      family: event.family,
      event_type: event.eventType,
      summary: event.summary,
      original_type: event.originalType,
      associated_data: event.associatedData,
      plaintext: JSON.stringify(event.plaintext),
      create_time: nowMs,
      state: 'pending',
      attempts: 0,
      round_attempts: 0,
      next_attempt_at: nowMs,
      locked_until: null,
      locked_by: null,
      last_status: null,
      last_error: null,
      delivered_at: null,
      created_at: wallMs,
      updated_at: wallMs,
    })
    .execute();
  return { id };
}
