import { LISTEN_EVENT_TYPE_PATTERN } from '../contract/simulation/listen.js';
import { listenDeliveryView } from '../http/routes/sim-listen.js';
import { type ListenDelivery, type ListenSession, listenTargetIssue } from '../outbox/listen-sessions.js';
import type { NotificationsService } from '../services/notifications.js';
import { merchantOrDev, notRegistered } from './dev-merchant.js';
import { DB_OPTIONS, parse, required, withServices } from './options.js';
import { type CliOutput, EXIT, UsageError } from './usage.js';

/**
 * `wechatpay-sandbox listen --forward-to URL`: while it runs, the merchant's callbacks (every family, or
 * the `--events` types) are delivered to URL instead of the registered notify URL, signed and encrypted
 * as usual, and one line is printed per delivery. It opens a listen session with a short lease on the
 * sandbox's database, renews it every few seconds, polls the session's delivery log, and closes the
 * session on SIGINT/SIGTERM. A listener that dies without closing stops receiving when its lease runs
 * out (15 s by default): deliveries then go to the registered URL again.
 * @see ../../../../docs/cli.md "listen"
 */

/** What `listen` needs from outside. */
export interface ListenDeps {
  output: CliOutput;
  /** Resolves with the signal's name when the process is asked to stop (SIGINT/SIGTERM). */
  stopSignal: () => Promise<string>;
}

/** Default lease of the session, seconds; renewed every third of it. */
export const LISTEN_LEASE_SECONDS = 15;
/** How often the delivery log is polled, ms. */
export const LISTEN_POLL_MS = 200;

/** `--events a,b`: WeChat event types, upper-cased, or undefined for all. */
function eventsOption(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const types = [
    ...new Set(
      value
        .split(',')
        .map((t) => t.trim().toUpperCase())
        .filter((t) => t !== ''),
    ),
  ];
  const pattern = new RegExp(LISTEN_EVENT_TYPE_PATTERN);
  const bad = types.find((t) => !pattern.test(t) || t.length > 64);
  if (types.length === 0 || types.length > 32 || bad !== undefined) {
    throw new UsageError(
      `--events takes 1 to 32 comma-separated event types such as COUPON.SEND,DELIVERY_PLAN.CHANGE${bad ? `, got "${bad}"` : ''}`,
    );
  }
  return types;
}

function leaseOption(value: string | undefined): number {
  if (value === undefined) return LISTEN_LEASE_SECONDS;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < 1 || n > 300) {
    throw new UsageError(`--lease must be a number of seconds from 1 to 300, got "${value}"`);
  }
  return n;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** `HH:MM:SS  COUPON.SEND  <id>  200  12ms` (local time; `ERR` and the error when no status came back). */
export function deliveryLine(d: ListenDelivery): string {
  const at = new Date(d.startedAt);
  const time = `${pad2(at.getHours())}:${pad2(at.getMinutes())}:${pad2(at.getSeconds())}`;
  const status = d.status === null ? 'ERR' : String(d.status);
  const tail = d.outcome === 'delivered' || d.error === null ? '' : `  ${d.error}`;
  return `${time}  ${d.eventType}  ${d.notificationId}  ${status}  ${d.latencyMs}ms${tail}`;
}

function describe(session: ListenSession): string {
  const events = session.eventTypes === undefined ? 'every event type' : session.eventTypes.join(', ');
  return `${events} -> ${session.targetUrl} (session ${session.id}, lease ${Math.round(session.leaseMs / 1000)} s)`;
}

/**
 * Runs the listener until `deps.stopSignal()` resolves: `listen --forward-to URL [--mchid N]
 * [--events T,T] [--lease S] [--json] [--dir D] [--db URL]`. Returns the exit code.
 */
export async function listenCommand(args: string[], deps: ListenDeps): Promise<number> {
  const values = parse(args, {
    ...DB_OPTIONS,
    'forward-to': { type: 'string' },
    mchid: { type: 'string' },
    events: { type: 'string' },
    lease: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const targetUrl = required(values['forward-to'], 'forward-to');
  const issue = listenTargetIssue(targetUrl);
  if (issue) throw new UsageError(`--forward-to ${issue}, got "${targetUrl}"`);
  const mchid = merchantOrDev(values.mchid, values.dir);
  const eventTypes = eventsOption(values.events);
  const leaseMs = leaseOption(values.lease) * 1000;
  const out = deps.output;
  const stopped = deps.stopSignal();
  return withServices(values, { create: false }, async ({ notifications, merchants, displayUrl }) => {
    if (!(await merchants.find(mchid))) throw notRegistered(mchid, displayUrl);
    const open = () => notifications.openListen({ mchid, targetUrl, eventTypes, leaseMs });
    let session = await open();
    out.err(`Ready: callbacks of merchant ${mchid}, ${describe(session)}. Ctrl-C to stop.`);
    const listener = new Listener(notifications, mchid, session, out, values.json);
    const stop: { signal?: string } = {};
    void stopped.then((name) => {
      stop.signal = name;
      listener.wake();
    });
    let nextRenew = Date.now() + leaseMs / 3;
    try {
      while (stop.signal === undefined) {
        await listener.poll();
        if (stop.signal !== undefined) break;
        if (Date.now() >= nextRenew) {
          nextRenew = Date.now() + leaseMs / 3;
          const renewed = await notifications.renewListen(mchid, session.id).catch((err: unknown) => {
            out.err(`could not renew the listen session: ${(err as Error).message}`);
            return session;
          });
          if (renewed === undefined) {
            // The lease ran out (the process was suspended, or the database unreachable for a while):
            // callbacks went back to the registered URL meanwhile. Take them again with a new session.
            const previous = session.id;
            session = await open();
            listener.follow(session);
            out.err(`The lease of session ${previous} ran out; listening again as ${describe(session)}`);
          } else session = renewed;
        }
        await listener.sleep(LISTEN_POLL_MS);
      }
      // Deliveries that finished just before the signal are still printed.
      await listener.poll();
    } finally {
      await notifications.closeListen(mchid, session.id).catch(() => false);
    }
    out.err(
      `${stop.signal}: closed listen session ${session.id}; callbacks go to the registered notify URL again`,
    );
    return EXIT.ok;
  });
}

/** Polls the delivery log of the current session and prints each attempt once. */
class Listener {
  private since: number;
  /** Attempt ids printed, with their start, forgotten once the cursor has passed them. */
  private readonly seen = new Map<string, number>();
  private wakeUp: (() => void) | undefined;
  private sessionIds: string[];

  constructor(
    private readonly notifications: NotificationsService,
    private readonly mchid: string,
    session: ListenSession,
    private readonly out: CliOutput,
    private readonly json: boolean,
  ) {
    this.since = session.createdAt;
    this.sessionIds = [session.id];
  }

  /** Prints the deliveries of a new session too (the old one may still log attempts in flight). */
  follow(session: ListenSession): void {
    this.sessionIds = [session.id, ...this.sessionIds].slice(0, 2);
  }

  async poll(): Promise<void> {
    let next = Number.POSITIVE_INFINITY;
    const fresh: ListenDelivery[] = [];
    try {
      for (const id of this.sessionIds) {
        const page = await this.notifications.listenDeliveries(this.mchid, id, this.since, 200);
        next = Math.min(next, page.nextSince);
        for (const d of page.deliveries) if (!this.seen.has(d.id)) fresh.push(d);
      }
    } catch (err) {
      this.out.err(`could not read the delivery log: ${(err as Error).message}`);
      return;
    }
    fresh.sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id));
    for (const d of fresh) {
      this.seen.set(d.id, d.startedAt);
      this.out.out(this.json ? JSON.stringify(listenDeliveryView(d)) : deliveryLine(d));
    }
    if (Number.isFinite(next)) this.since = next;
    for (const [id, startedAt] of this.seen) if (startedAt < this.since) this.seen.delete(id);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((done) => {
      const timer = setTimeout(finish, ms);
      function finish() {
        clearTimeout(timer);
        done();
      }
      this.wakeUp = finish;
    });
  }

  wake(): void {
    this.wakeUp?.();
  }
}
