import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type { TargetPolicy } from '../config.js';
import type { NotifyFamily } from '../domain/ports.js';
import {
  deliveryStateView,
  forwardRuleView,
  notificationDetailView,
  notificationListView,
  probeReportView,
} from '../http/routes/sim-notification-views.js';
import type { NotificationIdLookup, OfflineProbeSettings, OfflineServices } from '../offline.js';
import { type NotificationSummary, NotificationsInFlightError } from '../outbox/admin.js';
import { NoNotifyUrlError, type NotificationsService } from '../services/notifications.js';
import { merchantOrDev, notRegistered } from './dev-merchant.js';
import { DB_OPTIONS, mchidOption, parse, parseWithPositionals, required, withServices } from './options.js';
import { type CliOutput, EXIT, UsageError, unknownSubcommand } from './usage.js';

/**
 * `wechatpay-sandbox notifications …`: the delivery log, replay, pause/resume, forwarding rules and the
 * conformance probe, on the database a sandbox serves from. A running server sees every change at its
 * next poll (pause, replay) or within a second (forwarding rules). These commands call the same
 * notifications service as the simulation API, and `--json` prints what its routes answer (the same
 * views). A notification id may be given by a unique prefix.
 * @see ../../../../docs/cli.md
 */

const STATES = ['pending', 'no-target', 'delivered', 'dead'] as const;
const FAMILIES: readonly NotifyFamily[] = ['busifavor', 'product-coupon', 'delivery-plan'];

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
  const page = await withNotifications(values, (n) => n.list(mchid, filter));
  const { total, items } = page;
  if (values.json) {
    out.out(JSON.stringify(notificationListView(page, filter.offset), null, 2));
  } else if (items.length === 0) {
    out.out(
      `No notifications of merchant ${mchid}${filter.state ? ` in state ${filter.state}` : ''}${filter.offset ? ` past offset ${filter.offset}` : ''}`,
    );
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
  const prefix = positionals[0] as string;
  const only = values.mchid === undefined ? undefined : mchidOption(values.mchid);
  const detail = await withNotifications(values, async (n, { notificationIds }) => {
    const found = await resolveId(notificationIds, prefix, only);
    return found === undefined ? undefined : n.get(found.mchid, found.id);
  });
  if (!detail) throw new Error(`${noNotification([prefix], only)}; see wechatpay-sandbox notifications list`);
  if (values.json) {
    out.out(JSON.stringify(notificationDetailView(detail), null, 2));
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

/** Runs `fn` with the notifications service over the CLI's database (opened and closed around it). */
function withNotifications<T>(
  values: { db?: string; dir: string },
  fn: (notifications: NotificationsService, services: OfflineServices) => Promise<T>,
  probe?: OfflineProbeSettings,
): Promise<T> {
  return withServices(values, { create: false, ...(probe ? { probe } : {}) }, (services) =>
    fn(services.notifications, services),
  );
}

/** How many candidates an ambiguous id prefix lists. */
const MAX_CANDIDATES = 10;

/**
 * The notification named by `prefix` (an id, or the start of exactly one; of merchant `mchid` when
 * given); undefined when none matches. An ambiguous prefix is a {@link UsageError} listing candidates.
 */
async function resolveId(
  lookup: NotificationIdLookup,
  prefix: string,
  mchid: string | undefined,
): Promise<{ id: string; mchid: string } | undefined> {
  const found = await lookup.withPrefix(prefix, { mchid, limit: MAX_CANDIDATES + 1 });
  const exact = found.find((n) => n.id === prefix);
  if (exact !== undefined || found.length <= 1) return exact ?? found[0];
  const shown = found.slice(0, MAX_CANDIDATES).map((n) => n.id);
  throw new UsageError(
    `notification id "${prefix}" is ambiguous: it starts ${found.length > MAX_CANDIDATES ? `more than ${MAX_CANDIDATES}` : found.length} notifications (${shown.join(', ')}${found.length > MAX_CANDIDATES ? ', …' : ''}); give more of the id`,
  );
}

function noNotification(ids: readonly string[], mchid: string | undefined): string {
  return `no notification ${ids.join(', ')}${mchid ? ` of merchant ${mchid}` : ''}`;
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
  const replayed = await withNotifications(values, async (notifications, { notificationIds }) => {
    if (values['all-failed']) {
      return notifications.replay(merchantOrDev(values.mchid, values.dir), { state: 'dead' });
    }
    const only = values.mchid === undefined ? undefined : mchidOption(values.mchid);
    const owners = new Map<string, string>();
    const missing: string[] = [];
    for (const prefix of positionals) {
      const found = await resolveId(notificationIds, prefix, only);
      if (found === undefined) missing.push(prefix);
      else owners.set(found.id, found.mchid);
    }
    // All or nothing: a typo in one id should not leave a half-done replay behind.
    if (missing.length > 0) {
      throw new Error(
        `${noNotification(missing, only)}; nothing was replayed (wechatpay-sandbox notifications list shows the ids)`,
      );
    }
    // Replays run per merchant, each refusing in-flight ids; checking all first keeps a replay over
    // several merchants from stopping half-done (the per-merchant check still guards the race).
    const busy = await notifications.inFlight([...owners.keys()]);
    if (busy.length > 0) throw new NotificationsInFlightError(busy);
    const byMerchant = new Map<string, string[]>();
    for (const [id, mchid] of owners) byMerchant.set(mchid, [...(byMerchant.get(mchid) ?? []), id]);
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
  const values = parse(args, {
    ...DB_OPTIONS,
    mchid: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const mchid = mchidOption(values.mchid);
  await withNotifications(values, async (notifications, { merchants, displayUrl }) => {
    if (!(await merchants.find(mchid))) throw notRegistered(mchid, displayUrl);
    await notifications.setPaused(mchid, paused);
    const since = await notifications.pausedSince(mchid);
    if (values.json) out.out(JSON.stringify(deliveryStateView(since), null, 2));
    else
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
  // The platform keys of DIR sign the probe exactly as they sign real callbacks of this sandbox.
  const settings: OfflineProbeSettings = {
    dir: resolve(values.dir),
    policy,
    insecureTls: values.insecure,
    ...(caPem === undefined ? {} : { caPem }),
  };
  try {
    const report = await withNotifications(
      values,
      async (notifications, { merchants, displayUrl }) => {
        const merchant = await merchants.find(mchid);
        if (!merchant) throw notRegistered(mchid, displayUrl);
        try {
          return await notifications.probe(merchant, { url: values.url, family });
        } catch (err) {
          if (err instanceof NoNotifyUrlError) {
            throw new UsageError(
              `merchant ${mchid} has no ${family} notify URL; pass --url, or set the URL through the API first`,
            );
          }
          throw err;
        }
      },
      settings,
    );
    if (values.json) {
      out.out(JSON.stringify(probeReportView(report), null, 2));
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
        json: { type: 'boolean', default: false },
      });
      const mchid = mchidOption(values.mchid);
      const fromUrl = urlOption(values.from, 'from');
      const toUrl = urlOption(values.to, 'to');
      const rule = await withNotifications(values, (n) => n.putForward({ mchid, fromUrl, toUrl }));
      if (values.json) out.out(JSON.stringify(forwardRuleView(rule), null, 2));
      else out.out(`${rule.id}  ${rule.fromUrl} -> ${rule.toUrl}`);
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
      if (values.json) out.out(JSON.stringify({ data: rules.map(forwardRuleView) }, null, 2));
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
        throw new Error(
          `no forwarding rule ${id} of merchant ${mchid}; see wechatpay-sandbox notifications forward list --mchid ${mchid}`,
        );
      }
      out.out(`Removed forwarding rule ${id}`);
      return EXIT.ok;
    }
    default:
      throw unknownSubcommand('notifications forward', sub, ['add', 'list', 'remove']);
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
      throw unknownSubcommand('notifications', sub, [
        'list',
        'show',
        'replay',
        'pause',
        'resume',
        'probe',
        'forward',
      ]);
  }
}
