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
  const [applied] = await completeAttempts(db, [input]);
  return applied === true;
}

/**
 * Records several finished attempts in one transaction (group commit): one multi-row INSERT into the log,
 * then one lease-checked UPDATE per group of rows moving to the same next state (a burst of deliveries
 * that finished in the same millisecond is one statement, not one per row). Returns, per input, whether
 * the lease was still held. Nothing is acknowledged before the commit, so a crash loses only attempts
 * whose rows are still leased and will be retried (at-least-once, same id).
 */
export async function completeAttempts(
  db: Kysely<DatabaseSchema>,
  inputs: readonly CompleteInput[],
): Promise<boolean[]> {
  if (inputs.length === 0) return [];
  const groups = new Map<string, CompleteInput[]>();
  for (const input of inputs) {
    const o = input.outcome;
    const key = JSON.stringify([
      input.instanceId,
      o.kind,
      o.kind === 'retry-at' ? o.atMs : null,
      input.attempt !== undefined,
      input.lastStatus,
      input.lastError,
      input.wallMs,
    ]);
    const group = groups.get(key);
    if (group) group.push(input);
    else groups.set(key, [input]);
  }
  return db.transaction().execute(async (trx) => {
    const attempts = inputs.flatMap((i) => (i.attempt ? [i.attempt] : []));
    if (attempts.length > 0) await trx.insertInto('notification_attempts').values(attempts).execute();
    const applied = new Set<string>();
    for (const group of groups.values()) {
      // Every member has the same values but its id.
      const [first] = group as [CompleteInput, ...CompleteInput[]];
      const counted = first.attempt !== undefined && first.outcome.kind !== 'no-target';
      const o = first.outcome;
      const rows = await trx
        .updateTable('notification_outbox')
        .set((eb) => ({
          state: o.kind === 'retry-at' ? 'pending' : o.kind,
          attempts: counted ? eb('attempts', '+', 1) : eb.ref('attempts'),
          round_attempts: counted ? eb('round_attempts', '+', 1) : eb.ref('round_attempts'),
          ...(o.kind === 'retry-at' ? { next_attempt_at: o.atMs } : {}),
          ...(o.kind === 'delivered' ? { delivered_at: first.wallMs } : {}),
          locked_until: null,
          locked_by: null,
          last_status: first.lastStatus,
          last_error: first.lastError,
          updated_at: first.wallMs,
        }))
        .where(
          'id',
          'in',
          group.map((i) => i.id),
        )
        .where('locked_by', '=', first.instanceId)
        .returning('id')
        .execute();
      for (const r of rows) applied.add(r.id);
    }
    return inputs.map((i) => applied.has(i.id));
  });
}
