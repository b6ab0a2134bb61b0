import type { Kysely, QueryCreator } from 'kysely';
import { type Param, precompiled, statementsByShape } from '../db/precompiled.js';
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
  const [only, ...more] = groups.values();
  if (dialect === 'postgres' && only !== undefined && more.length === 0 && attempts.length > 0) {
    // The usual batch (every attempt delivered, one group) on PostgreSQL: one statement, atomic by
    // itself, with the log INSERT as a data-modifying CTE: one round trip instead of four (BEGIN, INSERT,
    // UPDATE, COMMIT). The CTE runs whether or not the UPDATE finds its rows, as in the transaction.
    const [first] = only as [CompleteInput, ...CompleteInput[]];
    const rows = await loggedUpdateQuery(updateShape(first), only.length)(db, {
      ...updateValues(only),
      log: attempts,
    });
    const applied = new Set(rows.map((r) => r.id));
    return inputs.map((i) => applied.has(i.id));
  }
  return db.transaction().execute(async (trx) => {
    if (attempts.length > 0) await insertQuery(attempts.length)(trx, { log: attempts });
    const applied = new Set<string>();
    for (const group of groups.values()) {
      const [first] = group as [CompleteInput, ...CompleteInput[]];
      for (const r of await updateQuery(updateShape(first), group.length)(trx, updateValues(group)))
        applied.add(r.id);
    }
    return inputs.map((i) => applied.has(i.id));
  });
}

// The statements, compiled once per shape (how many rows, which next state) by db/precompiled.ts: the
// builder and compiler cost more CPU than SQLite takes to write a batch.

/** Every column of a log row, in the order the INSERT binds them. */
const ATTEMPT_COLUMNS = Object.keys({
  id: true,
  notification_id: true,
  attempt_no: true,
  outcome: true,
  url: true,
  target_address: true,
  status: true,
  error: true,
  latency_ms: true,
  response_excerpt: true,
  request_id: true,
  instance_id: true,
  business_at: true,
  started_at: true,
  listen_session_id: true,
} satisfies Record<keyof NotificationAttemptsTable, true>) as Array<keyof NotificationAttemptsTable>;

type Values = Record<string, unknown>;

/** The INSERT's rows, each value a placeholder: `log.I.COLUMN` binds the I-th attempt's column. */
function attemptRows(n: number, param: Param<Values>): NotificationAttemptsTable[] {
  return Array.from({ length: n }, (_, i) => {
    const row = {} as Record<keyof NotificationAttemptsTable, unknown>;
    for (const c of ATTEMPT_COLUMNS) row[c] = param(`log.${i}.${c}`);
    return row as NotificationAttemptsTable;
  });
}

/** What decides an UPDATE's SQL: the next state and whether the attempt counts. */
interface UpdateShape {
  kind: AttemptOutcome['kind'];
  counted: boolean;
}

function updateShape(first: CompleteInput): UpdateShape {
  return {
    kind: first.outcome.kind,
    counted: first.attempt !== undefined && first.outcome.kind !== 'no-target',
  };
}

/** Every member of a group has the same values but its id (`row.I`). */
function updateValues(group: readonly CompleteInput[]): Values {
  const [first] = group as [CompleteInput, ...CompleteInput[]];
  const o = first.outcome;
  const values: Values = {
    state: o.kind === 'retry-at' ? 'pending' : o.kind,
    nextAttemptAt: o.kind === 'retry-at' ? o.atMs : null,
    deliveredAt: first.wallMs,
    lastStatus: first.lastStatus,
    lastError: first.lastError,
    updatedAt: first.wallMs,
    instanceId: first.instanceId,
  };
  values.row = group.map((input) => input.id);
  return values;
}

/** The lease-checked state change of `n` rows. */
function buildUpdate(qc: QueryCreator<DatabaseSchema>, shape: UpdateShape, n: number, param: Param<Values>) {
  return qc
    .updateTable('notification_outbox')
    .set((eb) => ({
      state: param('state') as string,
      attempts: shape.counted ? eb('attempts', '+', 1) : eb.ref('attempts'),
      round_attempts: shape.counted ? eb('round_attempts', '+', 1) : eb.ref('round_attempts'),
      ...(shape.kind === 'retry-at' ? { next_attempt_at: param('nextAttemptAt') as number } : {}),
      ...(shape.kind === 'delivered' ? { delivered_at: param('deliveredAt') as number } : {}),
      locked_until: null,
      locked_by: null,
      last_status: param('lastStatus') as number | null,
      last_error: param('lastError') as string | null,
      updated_at: param('updatedAt') as number,
    }))
    .where(
      'id',
      'in',
      Array.from({ length: n }, (_, i) => param(`row.${i}`) as string),
    )
    .where('locked_by', '=', param('instanceId') as string)
    .returning('id');
}

/** Statements by shape key, made on first use (at most a few hundred: row counts up to the batch size). */
const statement = statementsByShape();

function insertQuery(n: number) {
  return statement(`insert|${n}`, () =>
    precompiled((db: Kysely<DatabaseSchema>, param: Param<Values>) =>
      db.insertInto('notification_attempts').values(attemptRows(n, param)),
    ),
  );
}

function updateQuery(shape: UpdateShape, n: number) {
  return statement(`update|${shape.kind}|${shape.counted}|${n}`, () =>
    precompiled((db: Kysely<DatabaseSchema>, param: Param<Values>) => buildUpdate(db, shape, n, param)),
  );
}

/** PostgreSQL: the INSERT of `n` log rows as a CTE of the UPDATE of their `n` outbox rows. */
function loggedUpdateQuery(shape: UpdateShape, n: number) {
  return statement(`logged|${shape.kind}|${shape.counted}|${n}`, () =>
    precompiled((db: Kysely<DatabaseSchema>, param: Param<Values>) => {
      const withLog = db.with('logged', (qc) =>
        qc.insertInto('notification_attempts').values(attemptRows(n, param)).returning('id'),
      );
      // The UPDATE never reads the CTE, so it is built over the schema without it.
      return buildUpdate(withLog as unknown as QueryCreator<DatabaseSchema>, shape, n, param);
    }),
  );
}
