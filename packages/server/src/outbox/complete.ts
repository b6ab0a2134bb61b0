import type { Kysely, QueryCreator } from 'kysely';
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
 * then one lease-checked UPDATE per group of rows moving to the same next state (the dispatcher gives a
 * batch one wall time, so a batch of deliveries is one statement, not one per row). On PostgreSQL a batch
 * of one group is a single statement (the INSERT as a CTE of the UPDATE). Returns, per input, whether
 * the lease was still held. Nothing is acknowledged before the commit, so a crash loses only attempts
 * whose rows are still leased and will be retried (at-least-once, same id).
 * @param dialect the database's dialect (DatabaseHandle.dialect). @default 'sqlite' (a transaction)
 */
export async function completeAttempts(
  db: Kysely<DatabaseSchema>,
  inputs: readonly CompleteInput[],
  dialect: 'sqlite' | 'postgres' = 'sqlite',
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
  const attempts = inputs.flatMap((i) => (i.attempt ? [i.attempt] : []));
  /** The lease-checked state change of one group (every member has the same values but its id). */
  const update = (qc: QueryCreator<DatabaseSchema>, group: CompleteInput[]) => {
    const [first] = group as [CompleteInput, ...CompleteInput[]];
    const counted = first.attempt !== undefined && first.outcome.kind !== 'no-target';
    const o = first.outcome;
    return qc
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
      .returning('id');
  };
  const [only, ...more] = groups.values();
  if (dialect === 'postgres' && only !== undefined && more.length === 0 && attempts.length > 0) {
    // The usual batch (every attempt delivered, one group) on PostgreSQL: one statement, atomic by
    // itself, with the log INSERT as a data-modifying CTE: one round trip instead of four (BEGIN, INSERT,
    // UPDATE, COMMIT). The CTE runs whether or not the UPDATE finds its rows, as in the transaction.
    const applied = new Set<string>();
    const withLog = db.with('logged', (qc) =>
      qc.insertInto('notification_attempts').values(attempts).returning('id'),
    );
    // The UPDATE never reads the CTE, so it is built over the schema without it.
    for (const r of await update(withLog as unknown as QueryCreator<DatabaseSchema>, only).execute())
      applied.add(r.id);
    return inputs.map((i) => applied.has(i.id));
  }
  return db.transaction().execute(async (trx) => {
    if (attempts.length > 0) await trx.insertInto('notification_attempts').values(attempts).execute();
    const applied = new Set<string>();
    for (const group of groups.values()) {
      for (const r of await update(trx, group).execute()) applied.add(r.id);
    }
    return inputs.map((i) => applied.has(i.id));
  });
}
