import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import type { NotificationAttemptsTable } from './tables.js';

/**
 * Finishing an attempt: append it to the delivery log and move the row to its next state, in one
 * transaction, releasing the lease. Only the lease holder's update applies; if the lease expired and
 * another dispatcher took the row meanwhile, the attempt is still logged (it happened) but the row
 * stays with its new holder.
 */

/** The next state of a notification after one attempt. */
export type AttemptOutcome =
  /** 200/204 in time. */
  | { kind: 'delivered' }
  /** Failed; retry at this business time. */
  | { kind: 'retry-at'; atMs: number }
  /** Failed and the schedule is exhausted (or the notification cannot be built). */
  | { kind: 'dead' }
  /** No notify URL for the family: wait until one is set (does not count as an attempt). */
  | { kind: 'no-target' };

/** Inputs of {@link completeAttempt}. */
export interface CompleteInput {
  id: string;
  instanceId: string;
  outcome: AttemptOutcome;
  /** The log row; undefined for outcomes that are not attempts (no-target). */
  attempt: NotificationAttemptsTable | undefined;
  lastStatus: number | null;
  lastError: string | null;
  wallMs: number;
}

/** Records an attempt and its outcome. Returns false when the lease had been lost. */
export async function completeAttempt(db: Kysely<DatabaseSchema>, input: CompleteInput): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    if (input.attempt) await trx.insertInto('notification_attempts').values(input.attempt).execute();
    const counted = input.attempt !== undefined && input.outcome.kind !== 'no-target';
    const o = input.outcome;
    const result = await trx
      .updateTable('notification_outbox')
      .set((eb) => ({
        state: o.kind === 'retry-at' ? 'pending' : o.kind,
        attempts: counted ? eb('attempts', '+', 1) : eb.ref('attempts'),
        round_attempts: counted ? eb('round_attempts', '+', 1) : eb.ref('round_attempts'),
        ...(o.kind === 'retry-at' ? { next_attempt_at: o.atMs } : {}),
        ...(o.kind === 'delivered' ? { delivered_at: input.wallMs } : {}),
        locked_until: null,
        locked_by: null,
        last_status: input.lastStatus,
        last_error: input.lastError,
        updated_at: input.wallMs,
      }))
      .where('id', '=', input.id)
      .where('locked_by', '=', input.instanceId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  });
}
