import type { Kysely } from 'kysely';
import type { TargetPolicy } from '../config.js';
import type { DatabaseSchema } from '../db/schema.js';
import type { NotificationListenSessionsTable } from './tables.js';
import {
  classifyAddress,
  classifyHostLiteral,
  type HostResolver,
  policyHost,
  type ResolvedTarget,
  resolveTarget,
  type TargetRefusal,
} from './target-policy.js';

/**
 * Listen sessions, like `stripe listen --forward-to`: while a session of a merchant is live (its wall-clock
 * lease `expiresAt` is in the future), every delivery of that merchant's notifications whose event type
 * the session selects goes to the session's URL instead of the registered (or forwarded) notify URL,
 * signed and encrypted as usual. The listener renews the lease every few seconds; a listener that dies
 * stops receiving when its lease runs out, and deliveries go back to the registered URL, so a dead
 * listener never swallows callbacks. Sessions are rows, so every instance on one database honours them.
 * Several live sessions of one merchant: the newest whose event types match wins. Expired sessions are
 * ignored at once and deleted lazily (when a session of the merchant is opened).
 * @see docs/simulation.md "Listen sessions"
 */

/** A listen session. */
export interface ListenSession {
  id: string;
  mchid: string;
  /** Where the session's deliveries go (the URL itself: no path of the notify URL is appended). */
  targetUrl: string;
  /** The event types it takes (upper case); undefined = every event type. */
  eventTypes: readonly string[] | undefined;
  leaseMs: number;
  /** Wall-clock epoch ms when the lease ends. */
  expiresAt: number;
  createdAt: number;
}

/** What opening a session takes. */
export interface OpenListenInput {
  id: string;
  mchid: string;
  targetUrl: string;
  eventTypes?: readonly string[] | undefined;
  leaseMs: number;
}

function toSession(r: NotificationListenSessionsTable): ListenSession {
  return {
    id: r.id,
    mchid: r.mchid,
    targetUrl: r.target_url,
    eventTypes: r.event_types === null ? undefined : (JSON.parse(r.event_types) as string[]),
    leaseMs: Number(r.lease_ms),
    expiresAt: Number(r.expires_at),
    createdAt: Number(r.created_at),
  };
}

/** Whether a session takes an event type. */
export function sessionTakes(session: Pick<ListenSession, 'eventTypes'>, eventType: string): boolean {
  return session.eventTypes === undefined || session.eventTypes.includes(eventType);
}

/**
 * The session a delivery of `eventType` goes to at `wallMs`: the newest live one that takes the event
 * type, or undefined (then the registered notify URL applies).
 * @param sessions the merchant's sessions, newest first
 */
export function listenTargetFor(
  sessions: readonly ListenSession[],
  eventType: string,
  wallMs: number,
): ListenSession | undefined {
  return sessions.find((s) => s.expiresAt > wallMs && sessionTakes(s, eventType));
}

/** Opens a session (and deletes the merchant's expired ones). */
export async function openListenSession(
  db: Kysely<DatabaseSchema>,
  input: OpenListenInput,
  wallMs: number,
): Promise<ListenSession> {
  const row: NotificationListenSessionsTable = {
    id: input.id,
    mchid: input.mchid,
    target_url: input.targetUrl,
    event_types: input.eventTypes === undefined ? null : JSON.stringify(input.eventTypes),
    lease_ms: input.leaseMs,
    expires_at: wallMs + input.leaseMs,
    created_at: wallMs,
  };
  await db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom('notification_listen_sessions')
      .where('mchid', '=', input.mchid)
      .where('expires_at', '<=', wallMs)
      .execute();
    await trx.insertInto('notification_listen_sessions').values(row).execute();
  });
  return toSession(row);
}

/**
 * Extends a live session's lease by its lease length from now. Undefined when the session does not
 * exist, is another merchant's, or has already expired (its deliveries went back to the notify URL; the
 * listener must open a new session).
 */
export async function renewListenSession(
  db: Kysely<DatabaseSchema>,
  mchid: string,
  id: string,
  wallMs: number,
): Promise<ListenSession | undefined> {
  const row = await db
    .updateTable('notification_listen_sessions')
    // Cast: PostgreSQL would add an untyped parameter to the integer lease as an integer (overflow).
    .set((eb) => ({ expires_at: eb(eb.cast<number>(eb.val(wallMs), 'bigint'), '+', eb.ref('lease_ms')) }))
    .where('id', '=', id)
    .where('mchid', '=', mchid)
    .where('expires_at', '>', wallMs)
    .returningAll()
    .executeTakeFirst();
  return row ? toSession(row) : undefined;
}

/** Deletes a session; false when it did not exist (or is another merchant's). */
export async function closeListenSession(
  db: Kysely<DatabaseSchema>,
  mchid: string,
  id: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('notification_listen_sessions')
    .where('id', '=', id)
    .where('mchid', '=', mchid)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The merchant's live sessions at `wallMs`, newest first. */
export async function liveListenSessions(
  db: Kysely<DatabaseSchema>,
  mchid: string,
  wallMs: number,
): Promise<ListenSession[]> {
  const rows = await db
    .selectFrom('notification_listen_sessions')
    .selectAll()
    .where('mchid', '=', mchid)
    .where('expires_at', '>', wallMs)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map(toSession);
}

/** Every session of the merchant, expired ones not yet deleted included, newest first. */
export async function listListenSessions(
  db: Kysely<DatabaseSchema>,
  mchid: string,
): Promise<ListenSession[]> {
  const rows = await db
    .selectFrom('notification_listen_sessions')
    .selectAll()
    .where('mchid', '=', mchid)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map(toSession);
}

/**
 * Ids of `no-target` notifications that a live session takes: they can be delivered now although their
 * family has no notify URL. Every merchant's, or one merchant's.
 */
export async function noTargetRowsTakenBySessions(
  db: Kysely<DatabaseSchema>,
  wallMs: number,
  mchid?: string,
): Promise<string[]> {
  // Runs at every poll of every dispatcher: the (usually empty) session table first, the outbox only
  // for merchants with a live session.
  let live = db
    .selectFrom('notification_listen_sessions')
    .select(['mchid', 'event_types'])
    .where('expires_at', '>', wallMs);
  if (mchid !== undefined) live = live.where('mchid', '=', mchid);
  const sessions = await live.execute();
  if (sessions.length === 0) return [];
  const byMerchant = new Map<string, Array<Pick<ListenSession, 'eventTypes'>>>();
  for (const s of sessions) {
    const eventTypes = s.event_types === null ? undefined : (JSON.parse(s.event_types) as string[]);
    byMerchant.set(s.mchid, [...(byMerchant.get(s.mchid) ?? []), { eventTypes }]);
  }
  const rows = await db
    .selectFrom('notification_outbox')
    .select(['id', 'mchid', 'event_type'])
    .where('state', '=', 'no-target')
    .where('mchid', 'in', [...byMerchant.keys()])
    .execute();
  return rows
    .filter((r) => byMerchant.get(r.mchid)?.some((s) => sessionTakes(s, r.event_type)))
    .map((r) => r.id);
}

/** One attempt made for a listen session, as the listener prints it. */
export interface ListenDelivery {
  /** The attempt's id (a listener polling with overlapping windows skips ids it has printed). */
  id: string;
  notificationId: string;
  eventType: string;
  attemptNo: number;
  outcome: string;
  url: string | null;
  status: number | null;
  error: string | null;
  latencyMs: number;
  startedAt: number;
}

/**
 * Longest time between an attempt's start and its row in the log: the delivery timeout, signing, and the
 * group commit. A page of deliveries started at or after `since` is complete once this long has passed.
 */
export const LISTEN_LOG_SETTLE_MS = 10_000;

/**
 * The attempts of a merchant's listen session started at or after `sinceMs` (wall ms), oldest first, at
 * most `limit`, and the `since` to ask with next. An attempt is logged when it ends, so one that started
 * earlier can appear after a later one; the next `since` therefore stays {@link LISTEN_LOG_SETTLE_MS}
 * behind now, and a poller skips the attempt ids it has already seen.
 */
export async function listenSessionDeliveries(
  db: Kysely<DatabaseSchema>,
  mchid: string,
  sessionId: string,
  sinceMs: number,
  limit: number,
  wallMs: number,
): Promise<{ deliveries: ListenDelivery[]; nextSince: number }> {
  const rows = await db
    .selectFrom('notification_attempts as a')
    .innerJoin('notification_outbox as o', 'o.id', 'a.notification_id')
    .select([
      'a.id',
      'a.notification_id',
      'o.event_type',
      'a.attempt_no',
      'a.outcome',
      'a.url',
      'a.status',
      'a.error',
      'a.latency_ms',
      'a.started_at',
    ])
    .where('a.listen_session_id', '=', sessionId)
    .where('o.mchid', '=', mchid)
    .where('a.started_at', '>=', sinceMs)
    .orderBy('a.started_at')
    .orderBy('a.id')
    .limit(limit)
    .execute();
  const deliveries = rows.map((r) => ({
    id: r.id,
    notificationId: r.notification_id,
    eventType: r.event_type,
    attemptNo: Number(r.attempt_no),
    outcome: r.outcome,
    url: r.url,
    status: r.status === null ? null : Number(r.status),
    error: r.error,
    latencyMs: Number(r.latency_ms),
    startedAt: Number(r.started_at),
  }));
  const last = deliveries.at(-1);
  // A full page: continue from its last start (ties repeat and are skipped by id). Otherwise every
  // attempt that started before now - settle is logged and was in this page, so continue from there.
  const nextSince =
    deliveries.length === limit && last ? last.startedAt : Math.max(sinceMs, wallMs - LISTEN_LOG_SETTLE_MS);
  return { deliveries, nextSince };
}

/**
 * Checks a listen target against the target policy. A listen session is an explicit action of a local
 * operator, so a loopback target (127.0.0.0/8, ::1, a `localhost` name), http or https, is allowed under
 * both policies, provided every address it resolves to is loopback; any other target follows the policy.
 */
export async function resolveListenTarget(
  rawUrl: string,
  policy: TargetPolicy,
  resolver?: HostResolver,
): Promise<ResolvedTarget | TargetRefusal> {
  let host: string;
  try {
    host = policyHost(new URL(rawUrl));
  } catch {
    return resolveTarget(rawUrl, policy, resolver);
  }
  if (policy === 'local' || classifyHostLiteral(host) !== 'loopback') {
    return resolveTarget(rawUrl, policy, resolver);
  }
  const target = await resolveTarget(rawUrl, 'local', resolver);
  if ('refused' in target) return target;
  if (classifyAddress(target.address) !== 'loopback') {
    return {
      refused: true,
      reason: `${host} resolves to ${target.address}, not a loopback address; refused by the strict target policy`,
    };
  }
  return target;
}

/** Why a listen target URL is unusable (not an absolute http(s) URL with a host), or undefined. */
export function listenTargetIssue(rawUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an absolute http(s) URL';
  if (url.hostname === '') return 'must name a host';
  if (url.username !== '' || url.password !== '') return 'must not carry user info';
  if (rawUrl.length > 512) return 'must be at most 512 characters';
  return undefined;
}
