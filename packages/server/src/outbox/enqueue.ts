import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import type { NotificationEvent } from '../domain/ports.js';

/**
 * Writes a notification into the outbox. Call it inside the transaction that makes the change the event
 * reports (transactional outbox): if that transaction rolls back, no callback is ever sent. The first
 * attempt is due at once; the dispatcher builds, encrypts and signs the envelope at delivery time.
 * @param nowMs the merchant's business time (virtual clock), used as the envelope create_time.
 * @returns the notification id, stable across every redelivery and replay.
 * @example
 * await db.transaction().execute(async (trx) => {
 *   await insertCoupon(trx, coupon);
 *   await enqueueNotification(trx, couponSendEvent(coupon), clock.now(mchid));
 * });
 */
export async function enqueueNotification(
  db: Kysely<DatabaseSchema> | Transaction<DatabaseSchema>,
  event: NotificationEvent,
  nowMs: number,
): Promise<{ id: string }> {
  const id = randomUUID();
  // Wall time only orders the log; business decisions use nowMs.
  const wallMs = Date.now();
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
