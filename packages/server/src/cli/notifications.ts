import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type { TargetPolicy } from '../config.js';
import { CREDENTIALS_FILE_NAME, readCredentialsFile } from '../credentials/file.js';
import { loadCredentials } from '../credentials/load.js';
import type { DatabaseHandle } from '../db/connect.js';
import { MerchantRepo } from '../db/merchant-repo.js';
import type { NotifyFamily } from '../domain/ports.js';
import { type NotificationSummary, NotificationsInFlightError } from '../outbox/admin.js';
import { Transport } from '../outbox/deliver.js';
import { NoNotifyUrlError, NotificationsService, type ProbeDeps } from '../services/notifications.js';
import { VirtualClock } from '../sim/clock.js';
import { SqlClockStore } from '../sim/clock-repo.js';
import { DB_OPTIONS, mchidOption, openCliDb, parse, parseWithPositionals, required } from './options.js';
import { type CliOutput, EXIT, UsageError } from './usage.js';

/**
 * `wechatpay-sandbox notifications …`: the delivery log, replay, pause/resume, forwarding rules and the
 * conformance probe, on the database a sandbox serves from. A running server sees every change at its
 * next poll (pause, replay) or within a second (forwarding rules). These commands call the same
 * functions as the simulation API (`outbox/admin.ts`, `forwarding.ts`, `probe.ts`).
 * @see ../../../../docs/cli.md
 */

const STATES = ['pending', 'no-target', 'delivered', 'dead'] as const;
const FAMILIES: readonly NotifyFamily[] = ['busifavor', 'product-coupon', 'delivery-plan'];

/** The merchant of `--mchid`, else the dev merchant of DIR's credentials.json. */
function merchantOrDev(value: string | undefined, dir: string): string {
  if (value !== undefined) return mchidOption(value);
  const path = join(resolve(dir), CREDENTIALS_FILE_NAME);
  if (!existsSync(path))
    throw new UsageError(`--mchid is required (no ${path} to take the dev merchant from)`);
  return readCredentialsFile(path).merchant.mchid;
}

async function withDb<T>(values: { db?: string; dir: string }, fn: (handle: DatabaseHandle) => Promise<T>) {
  const handle = await openCliDb(values, false);
  try {
    return await fn(handle);
  } finally {
    await handle.close();
  }
}

const time = (ms: number | null) => (ms === null ? '-' : formatBeijingTime(ms));

function intOption(value: string | undefined, option: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < min || n > max) {
    throw new UsageError(`--${option} must be a number from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  option: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${option} must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}

function summaryLine(n: NotificationSummary): string {
  const status = n.lastStatus === null ? '-' : String(n.lastStatus);
  return `${n.id}  ${n.state.padEnd(9)}  ${n.eventType.padEnd(34)}  attempts ${String(n.attempts).padStart(2)}  last ${status.padStart(3)}  ${time(n.createdAt)}`;
}

async function list(args: string[], out: CliOutput): Promise<number> {
  const values = parse(args, {
    ...DB_OPTIONS,
    mchid: { type: 'string' },
    state: { type: 'string' },
    family: { type: 'string' },
    'event-type': { type: 'string' },
    limit: { type: 'string' },
    offset: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const mchid = merchantOrDev(values.mchid, values.dir);
  const filter = {
    state: oneOf(values.state, STATES, 'state'),
    family: oneOf(values.family, FAMILIES, 'family'),
    eventType: values['event-type'],
    limit: intOption(values.limit, 'limit', 1, 500) ?? 50,
    offset: intOption(values.offset, 'offset', 0, Number.MAX_SAFE_INTEGER),
  };
  const { total, items } = await withNotifications(values, (n) => n.list(mchid, filter));
  if (values.json) {
    out.out(JSON.stringify({ mchid, total, items }, null, 2));
  } else if (items.length === 0) {
    out.out(`No notifications of merchant ${mchid}${filter.state ? ` in state ${filter.state}` : ''}`);
  } else {
    for (const n of items) out.out(summaryLine(n));
    out.out(`${items.length} of ${total} notifications of merchant ${mchid} (newest first)`);
  }
  return EXIT.ok;
}

async function show(args: string[], out: CliOutput): Promise<number> {
  const { values, positionals } = parseWithPositionals(args, {
    ...DB_OPTIONS,
    mchid: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('notifications show takes exactly one notification id');
  const id = positionals[0] as string;
  const detail = await withNotifications(values, async (n) => {
    const mchid = values.mchid !== undefined ? mchidOption(values.mchid) : (await n.owners([id])).get(id);
    return mchid === undefined ? undefined : n.get(mchid, id);
  });
  if (!detail) throw new Error(`no notification ${id}${values.mchid ? ` of merchant ${values.mchid}` : ''}`);
  if (values.json) {
    out.out(JSON.stringify(detail, null, 2));
    return EXIT.ok;
  }
  out.out(`${detail.id}  ${detail.eventType} (${detail.family}) of merchant ${detail.mchid}`);
  out.out(`  state:        ${detail.state}`);
  out.out(`  created:      ${time(detail.createdAt)}`);
  out.out(`  next attempt: ${time(detail.nextAttemptAt)} (business time)`);
  out.out(`  delivered:    ${time(detail.deliveredAt)}`);
  out.out(`  summary:      ${detail.summary}`);
  out.out(`  resource:     ${JSON.stringify(detail.plaintext)}`);
  out.out(`  attempts:     ${detail.attemptLog.length}`);
  for (const a of detail.attemptLog) {
    const status = a.status === null ? '-' : String(a.status);
    out.out(
      `    #${a.attemptNo} ${a.outcome.padEnd(9)} status ${status.padStart(3)}  ${String(a.latencyMs).padStart(5)} ms  ${time(a.startedAt)}  ${a.url ?? '-'}${a.instanceId ? `  by ${a.instanceId}` : ''}`,
    );
    if (a.error) out.out(`        error:    ${a.error}`);
    if (a.responseExcerpt) out.out(`        response: ${a.responseExcerpt.replace(/\s+/g, ' ')}`);
  }
  return EXIT.ok;
}

/**
 * The notifications service over the CLI's database, with the business clock the server would use (its
 * virtual clock settings are read from the database) and, for the probe, the sandbox's platform keys.
 */
async function notificationsService(
  handle: DatabaseHandle,
  probe?: ProbeDeps,
): Promise<NotificationsService> {
  const clock = new VirtualClock({ store: new SqlClockStore(handle.db) });
  await clock.refresh();
  return new NotificationsService({ db: handle.db, clock, wallClock: Date.now, ...(probe ? { probe } : {}) });
}

/** Runs `fn` with the notifications service over the CLI's database (opened and closed around it). */
function withNotifications<T>(
  values: { db?: string; dir: string },
  fn: (notifications: NotificationsService) => Promise<T>,
): Promise<T> {
  return withDb(values, async (h) => fn(await notificationsService(h)));
}

async function replay(args: string[], out: CliOutput): Promise<number> {
  const { values, positionals } = parseWithPositionals(args, {
    ...DB_OPTIONS,
    mchid: { type: 'string' },
    'all-failed': { type: 'boolean', default: false },
  });
  if (values['all-failed'] === positionals.length > 0) {
    throw new UsageError('pass notification ids or --all-failed (one of them)');
  }
  const replayed = await withDb(values, async (h) => {
    const notifications = await notificationsService(h);
    if (values['all-failed']) {
      return notifications.replay(merchantOrDev(values.mchid, values.dir), { state: 'dead' });
    }
    const owners = await notifications.owners(positionals);
    const only = values.mchid === undefined ? undefined : mchidOption(values.mchid);
    const missing = positionals.filter(
      (id) => !owners.has(id) || (only !== undefined && owners.get(id) !== only),
    );
    // All or nothing: a typo in one id should not leave a half-done replay behind.
    if (missing.length > 0)
      throw new Error(
        `no notification ${missing.join(', ')}${only ? ` of merchant ${only}` : ''}; nothing was replayed`,
      );
    // Replays run per merchant, each refusing in-flight ids; checking all first keeps a replay over
    // several merchants from stopping half-done (the per-merchant check still guards the race).
    const busy = await notifications.inFlight(positionals);
    if (busy.length > 0) throw new NotificationsInFlightError(busy);
    const byMerchant = new Map<string, string[]>();
    for (const id of new Set(positionals)) {
      const mchid = owners.get(id) as string;
      byMerchant.set(mchid, [...(byMerchant.get(mchid) ?? []), id]);
    }
    const done: string[] = [];
    for (const [mchid, ids] of byMerchant) done.push(...(await notifications.replay(mchid, { ids })));
    return done;
  });
  for (const id of replayed) out.out(`replayed ${id}`);
  out.out(
    replayed.length === 0
      ? 'Nothing to replay'
      : `${replayed.length} notification(s) queued; a running sandbox delivers them at its next poll`,
  );
  return EXIT.ok;
}

async function pauseOrResume(args: string[], out: CliOutput, paused: boolean): Promise<number> {
  const values = parse(args, { ...DB_OPTIONS, mchid: { type: 'string' } });
  const mchid = mchidOption(values.mchid);
  await withDb(values, async (h) => {
    if (!(await new MerchantRepo(h.db).findMerchant(mchid))) {
      throw new UsageError(`merchant ${mchid} is not registered in ${h.displayUrl}`);
    }
    const notifications = await notificationsService(h);
    await notifications.setPaused(mchid, paused);
    const since = await notifications.pausedSince(mchid);
    out.out(
      since === undefined
        ? `Deliveries of merchant ${mchid} run`
        : `Deliveries of merchant ${mchid} are paused since ${time(since)}; events keep accumulating`,
    );
  });
  return EXIT.ok;
}

async function probe(args: string[], out: CliOutput): Promise<number> {
  const values = parse(args, {
    ...DB_OPTIONS,
    mchid: { type: 'string' },
    url: { type: 'string' },
    family: { type: 'string', default: 'busifavor' },
    policy: { type: 'string', default: 'local' },
    'ca-file': { type: 'string' },
    insecure: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  const mchid = mchidOption(values.mchid);
  const family = oneOf(values.family, FAMILIES, 'family') as NotifyFamily;
  const policy = oneOf<TargetPolicy>(values.policy, ['local', 'strict'], 'policy') as TargetPolicy;
  if (values.url !== undefined && !/^https?:\/\/[^/?#]+/.test(values.url)) {
    throw new UsageError(`--url must be an absolute http(s) URL, got "${values.url}"`);
  }
  let caPem: string | undefined;
  if (values['ca-file'] !== undefined) {
    try {
      caPem = readFileSync(values['ca-file'], 'utf8');
    } catch (err) {
      throw new UsageError(
        `--ca-file ${values['ca-file']}: cannot read the file (${(err as NodeJS.ErrnoException).code})`,
      );
    }
  }
  // The platform keys sign the probe exactly as they sign real callbacks of this sandbox.
  const { platform } = loadCredentials(resolve(values.dir));
  const { systemIds } = await import('../app.js');
  const transport = new Transport({ caPem, insecureTls: values.insecure });
  try {
    const report = await withDb(values, async (h) => {
      const merchant = await new MerchantRepo(h.db).findMerchant(mchid);
      if (!merchant) throw new UsageError(`merchant ${mchid} is not registered in ${h.displayUrl}`);
      const notifications = await notificationsService(h, { platform, ids: systemIds, transport, policy });
      try {
        return await notifications.probe(merchant, { url: values.url, family });
      } catch (err) {
        if (err instanceof NoNotifyUrlError) {
          throw new UsageError(`merchant ${mchid} has no ${family} notify URL; pass --url`);
        }
        throw err;
      }
    });
    if (values.json) {
      out.out(JSON.stringify(report, null, 2));
    } else {
      out.out(`Conformance probe of ${report.url} (merchant ${mchid}, ${family})`);
      for (const r of report.results) {
        const verdict = r.passed ? 'ok  ' : 'FAIL';
        const answer = r.status === undefined ? (r.error ?? 'no answer') : `HTTP ${r.status}`;
        const what =
          r.expected === 'reject'
            ? r.accepted
              ? 'forged notification ACCEPTED'
              : 'rejected'
            : r.passed
              ? 'accepted'
              : 'correct notification NOT accepted';
        out.out(`  ${verdict}  ${r.case.padEnd(20)} ${answer.padEnd(10)} ${what}`);
      }
      if (report.acceptedForgeries.length > 0) {
        out.out(
          `The endpoint accepted ${report.acceptedForgeries.length} forged notification(s): ${report.acceptedForgeries.join(', ')}.`,
        );
        out.out(
          'Verify Wechatpay-Signature with the platform key named by Wechatpay-Serial, reject timestamps',
        );
        out.out('older than 5 minutes, and answer 4xx/5xx when AES-256-GCM decryption fails.');
      }
      if (report.rejectedCorrect)
        out.out('The endpoint did not answer the correct notification with 200/204.');
      if (report.passed) out.out('Passed: every forgery was rejected and the correct notification accepted.');
    }
    if (report.acceptedForgeries.length > 0) return EXIT.forgeryAccepted;
    return report.rejectedCorrect ? EXIT.failure : EXIT.ok;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // A refused target (policy) or an unreachable one: the command was valid but could not probe.
    throw new Error(`cannot probe: ${(err as Error).message}`);
  } finally {
    transport.close();
  }
}

function urlOption(value: string | undefined, option: string): string {
  const url = required(value, option);
  if (!/^https?:\/\/[^/?#]+/.test(url))
    throw new UsageError(`--${option} must be an absolute http(s) URL, got "${url}"`);
  return url;
}

async function forward(sub: string | undefined, args: string[], out: CliOutput): Promise<number> {
  switch (sub) {
    case 'add': {
      const values = parse(args, {
        ...DB_OPTIONS,
        mchid: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
      });
      const mchid = mchidOption(values.mchid);
      const fromUrl = urlOption(values.from, 'from');
      const toUrl = urlOption(values.to, 'to');
      const rule = await withNotifications(values, (n) => n.putForward({ mchid, fromUrl, toUrl }));
      out.out(`${rule.id}  ${rule.fromUrl} -> ${rule.toUrl}`);
      return EXIT.ok;
    }
    case 'list': {
      const values = parse(args, {
        ...DB_OPTIONS,
        mchid: { type: 'string' },
        json: { type: 'boolean', default: false },
      });
      const mchid = mchidOption(values.mchid);
      const rules = await withNotifications(values, (n) => n.listForwards(mchid));
      if (values.json) out.out(JSON.stringify(rules, null, 2));
      else if (rules.length === 0) out.out(`No forwarding rules for merchant ${mchid}`);
      else for (const r of rules) out.out(`${r.id}  ${r.fromUrl} -> ${r.toUrl}`);
      return EXIT.ok;
    }
    case 'remove': {
      const { values, positionals } = parseWithPositionals(args, {
        ...DB_OPTIONS,
        mchid: { type: 'string' },
      });
      const mchid = mchidOption(values.mchid);
      if (positionals.length !== 1)
        throw new UsageError('notifications forward remove takes exactly one rule id');
      const id = positionals[0] as string;
      if (!(await withNotifications(values, (n) => n.deleteForward(mchid, id)))) {
        throw new Error(`no forwarding rule ${id} of merchant ${mchid}`);
      }
      out.out(`Removed forwarding rule ${id}`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown notifications forward command "${sub ?? ''}"; use add, list or remove`);
  }
}

/** Runs `notifications <sub> …` and returns the exit code (throws UsageError for bad input). */
export async function notificationsCommand(
  sub: string | undefined,
  args: string[],
  out: CliOutput,
): Promise<number> {
  switch (sub) {
    case 'list':
      return list(args, out);
    case 'show':
      return show(args, out);
    case 'replay':
      return replay(args, out);
    case 'pause':
      return pauseOrResume(args, out, true);
    case 'resume':
      return pauseOrResume(args, out, false);
    case 'probe':
      return probe(args, out);
    case 'forward':
      return forward(args[0], args.slice(1), out);
    default:
      throw new UsageError(
        `unknown notifications command "${sub ?? ''}"; use list, show, replay, pause, resume, probe or forward`,
      );
  }
}
