import { type Kysely, sql } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import type { NotificationAttemptsTable, NotificationOutboxTable } from './tables.js';

/**
 * Operations on the delivery log for the simulation API and CLI: list, inspect, replay, pause/resume.
 * Every query is scoped to one merchant; a merchant never sees another's notifications.
 */

/** A notification as the operator sees it. */
export interface NotificationSummary {
  id: string;
  mchid: string;
  family: string;
  eventType: string;
  /** pending | no-target | delivered | dead */
  state: string;
  attempts: number;
  roundAttempts: number;
  nextAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: number | null;
  createTime: number;
  createdAt: number;
}

/** One attempt of the log. */
export interface NotificationAttempt {
  attemptNo: number;
  outcome: string;
  url: string | null;
  targetAddress: string | null;
  status: number | null;
  error: string | null;
  latencyMs: number;
  responseExcerpt: string | null;
  requestId: string | null;
  instanceId: string | null;
  businessAt: number;
  startedAt: number;
}

/** A notification with its plaintext event and every attempt. */
export interface NotificationDetail extends NotificationSummary {
  summary: string;
  originalType: string;
  associatedData: string;
  plaintext: unknown;
  attemptLog: NotificationAttempt[];
}

/** Filters of {@link listNotifications}. */
export interface ListFilter {
  state?: string | undefined;
  eventType?: string | undefined;
  family?: string | undefined;
  /** @default 50 */
  limit?: number | undefined;
  /** @default 0 */
  offset?: number | undefined;
}

function toSummary(r: NotificationOutboxTable): NotificationSummary {
  const finished = r.state === 'delivered' || r.state === 'dead';
  return {
    id: r.id,
    mchid: r.mchid,
    family: r.family,
    eventType: r.event_type,
    state: r.state,
    attempts: r.attempts,
    roundAttempts: r.round_attempts,
    nextAttemptAt: finished ? null : Number(r.next_attempt_at),
    lastStatus: r.last_status,
    lastError: r.last_error,
    deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
    createTime: Number(r.create_time),
    createdAt: Number(r.created_at),
  };
}

function toAttempt(a: NotificationAttemptsTable): NotificationAttempt {
  return {
    attemptNo: a.attempt_no,
    outcome: a.outcome,
    url: a.url,
    targetAddress: a.target_address,
    status: a.status,
    error: a.error,
    latencyMs: a.latency_ms,
    responseExcerpt: a.response_excerpt,
    requestId: a.request_id,
    instanceId: a.instance_id,
    businessAt: Number(a.business_at),
    startedAt: Number(a.started_at),
  };
}

/** Newest first. */
export async function listNotifications(
  db: Kysely<DatabaseSchema>,
  mchid: string,
  filter: ListFilter = {},
): Promise<{ total: number; items: NotificationSummary[] }> {
  let query = db.selectFrom('notification_outbox').where('mchid', '=', mchid);
  if (filter.state) query = query.where('state', '=', filter.state);
  if (filter.eventType) query = query.where('event_type', '=', filter.eventType);
  if (filter.family) query = query.where('family', '=', filter.family);
  const [count, rows] = await Promise.all([
    query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    query
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(Math.min(filter.limit ?? 50, 500))
      .offset(filter.offset ?? 0)
      .execute(),
  ]);
  return { total: Number(count.n), items: rows.map(toSummary) };
}

/** One notification with its attempt log, or undefined. */
export async function getNotification(
  db: Kysely<DatabaseSchema>,
  mchid: string,
  id: string,
): Promise<NotificationDetail | undefined> {
  const row = await db
    .selectFrom('notification_outbox')
    .selectAll()
    .where('mchid', '=', mchid)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) return undefined;
  const attempts = await db
    .selectFrom('notification_attempts')
    .selectAll()
    .where('notification_id', '=', id)
    .orderBy('attempt_no')
    .orderBy('started_at')
    .execute();
  return {
    ...toSummary(row),
    summary: row.summary,
    originalType: row.original_type,
    associatedData: row.associated_data,
    plaintext: JSON.parse(row.plaintext) as unknown,
    attemptLog: attempts.map(toAttempt),
  };
}

/**
 * The merchant of each known notification id (for operator tools that start from an id alone, such as
 * the CLI; the simulation API always scopes by the calling merchant instead). Unknown ids are absent.
 */
export async function notificationOwners(
  db: Kysely<DatabaseSchema>,
  ids: readonly string[],
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('notification_outbox')
    .select(['id', 'mchid'])
    .where('id', 'in', [...new Set(ids)])
    .execute();
  return new Map(rows.map((r) => [r.id, r.mchid]));
}

/**
 * Notifications whose id starts with `prefix` (of one merchant when `mchid` is given), by id, at most
 * `limit`: how an operator names a notification by the first characters `list` printed.
 */
export async function notificationsWithIdPrefix(
  db: Kysely<DatabaseSchema>,
  prefix: string,
  options: { mchid?: string | undefined; limit: number },
): Promise<Array<{ id: string; mchid: string }>> {
  // LIKE with its wildcards escaped; SQLite compares ASCII case-insensitively, so startsWith decides.
  const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  let query = db
    .selectFrom('notification_outbox')
    .select(['id', 'mchid'])
    .where(sql<boolean>`id like ${pattern} escape '\\'`);
  if (options.mchid !== undefined) query = query.where('mchid', '=', options.mchid);
  const rows = await query.orderBy('id').limit(options.limit).execute();
  return rows.filter((r) => r.id.startsWith(prefix));
}

/** What to replay: explicit ids, or every notification of the merchant in a state. */
export type ReplaySelection = { ids: string[] } | { state: string };

/**
 * A replay asked for notifications that have an attempt in flight (a live lease). Replaying them would
 * let a second dispatcher send the same notification while the first request is still open, so the
 * replay is refused and nothing is changed; the caller replays again once the attempt has finished.
 */
export class NotificationsInFlightError extends Error {
  override readonly name = 'NotificationsInFlightError';
  constructor(readonly ids: readonly string[]) {
    super(
      `notification ${ids.join(', ')} ${ids.length === 1 ? 'has' : 'have'} a delivery attempt in flight; ` +
        'nothing was replayed. Replay again once the attempt has finished (at most 5 s plus its commit)',
    );
  }
}

/**
 * Queues notifications again for immediate delivery: a new round of the schedule, the same notification
 * id (a receiver deduplicates on it), and a fresh timestamp, nonce and signature at delivery.
 * Returns the ids that were queued.
 *
 * Rows whose lease is live (an attempt is in flight) are never touched: clearing that lease would let
 * another claim send a duplicate while the first attempt is still open. Replay by ids is all or nothing:
 * if any of them is in flight, nothing is replayed and {@link NotificationsInFlightError} names them.
 * Replay by state skips in-flight rows (their attempt is the delivery asked for). An expired lease (the
 * holder crashed) is cleared, as a claim would take it over anyway.
 */
export async function replayNotifications(
  db: Kysely<DatabaseSchema>,
  mchid: string,
  selection: ReplaySelection,
  businessNowMs: number,
  wallMs: number,
): Promise<string[]> {
  // One transaction: on PostgreSQL the UPDATE row-locks what it replays, so a concurrent claim waits and
  // then sees the new row; a claim that won first has set a live lease, which the UPDATE re-checks.
  return db.transaction().execute(async (trx) => {
    let query = trx
      .updateTable('notification_outbox')
      .set({
        state: 'pending',
        round_attempts: 0,
        next_attempt_at: businessNowMs,
        locked_until: null,
        locked_by: null,
        updated_at: wallMs,
      })
      .where('mchid', '=', mchid)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', wallMs)]));
    query =
      'ids' in selection
        ? query.where('id', 'in', selection.ids)
        : query.where('state', '=', selection.state);
    const rows = await query.returning('id').execute();
    if ('ids' in selection) {
      const busy = await inFlightNotifications(trx, selection.ids, wallMs, mchid);
      // Thrown inside the transaction: the rows replayed above are rolled back with it.
      if (busy.length > 0) throw new NotificationsInFlightError(busy);
    }
    return rows.map((r) => r.id);
  });
}

/** Which of these notifications (of `mchid`, or of any merchant) have an attempt in flight (a live lease). */
export async function inFlightNotifications(
  db: Kysely<DatabaseSchema>,
  ids: readonly string[],
  wallMs: number,
  mchid?: string,
): Promise<string[]> {
  if (ids.length === 0) return [];
  let query = db
    .selectFrom('notification_outbox')
    .select('id')
    .where('id', 'in', [...new Set(ids)])
    .where('locked_until', '>=', wallMs);
  if (mchid !== undefined) query = query.where('mchid', '=', mchid);
  const rows = await query.orderBy('id').execute();
  return rows.map((r) => r.id);
}

/** Pauses (true) or resumes (false) a merchant's deliveries; events keep accumulating while paused. */
export async function setDeliveriesPaused(
  db: Kysely<DatabaseSchema>,
  mchid: string,
  paused: boolean,
  wallMs: number,
): Promise<void> {
  if (paused) {
    await db
      .insertInto('notification_pauses')
      .values({ mchid, paused_at: wallMs })
      .onConflict((oc) => oc.column('mchid').doNothing())
      .execute();
  } else {
    await db.deleteFrom('notification_pauses').where('mchid', '=', mchid).execute();
  }
}

/** When the merchant's deliveries were paused, or undefined when they run. */
export async function pausedSince(db: Kysely<DatabaseSchema>, mchid: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('notification_pauses')
    .select('paused_at')
    .where('mchid', '=', mchid)
    .executeTakeFirst();
  return row ? Number(row.paused_at) : undefined;
}
