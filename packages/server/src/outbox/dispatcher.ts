import { randomBytes } from 'node:crypto';
import type { TargetPolicy } from '../config.js';
import type { PlatformIdentity } from '../credentials/types.js';
import type { DatabaseHandle } from '../db/connect.js';
import type { Clock, IdGen, NotifyFamily } from '../domain/ports.js';
import { claimDueNotifications, findMerchantsWithWork, releaseNoTargetNotifications } from './claim.js';
import { type CompleteInput, completeAttempts } from './complete.js';
import {
  type DeliveryEnv,
  type DeliveryResult,
  deliverNotification,
  type NotificationRow,
  Transport,
  type TransportOptions,
} from './deliver.js';
import { type DeliveryContext, loadDeliveryContext } from './lookup.js';
import { DEFAULT_RETRY_SCHEDULES, type RetrySchedule } from './retry-schedules.js';
import type { HostResolver } from './target-policy.js';

/**
 * The notification dispatcher: a loop that claims due outbox rows (per merchant, by that merchant's
 * virtual clock), delivers them with bounded concurrency and records every attempt. It never throws out
 * of the loop; database errors are reported through `onError` and retried after the poll interval.
 * Time jumps of a virtual clock wake it at once, so fast-forwarding a merchant's clock runs its retries.
 */

/** Options of {@link NotificationDispatcher}. */
export interface DispatcherOptions {
  db: DatabaseHandle;
  /** Business time per merchant (the retry schedule follows it). */
  clock: Clock;
  /** Wall clock for leases and signatures. @default Date.now */
  wallClock?: () => number;
  platform: PlatformIdentity;
  ids: IdGen;
  /** @default 'local' */
  policy?: TargetPolicy;
  /** TLS trust and timeout of the outgoing requests. */
  transport?: TransportOptions;
  /** Per-family schedule overrides. @default DEFAULT_RETRY_SCHEDULES */
  schedules?: Partial<Record<NotifyFamily, RetrySchedule>>;
  /** Deliveries in flight at once. @default 128 */
  concurrency?: number;
  /**
   * Deliveries of one merchant in flight at once, so a merchant whose receiver is slow (answers after
   * 5 s, or never) holds at most this many slots and the others' callbacks keep going out.
   * @default half of `concurrency`, at least 1
   */
  merchantConcurrency?: number;
  /** Wall-clock lease of a claimed row; a crashed holder's rows are retaken after it. @default 30000 */
  leaseMs?: number;
  /** Longest sleep between looks at the outbox (other instances' work is only seen by polling). @default 250 */
  pollIntervalMs?: number;
  /** Identifies this process in leases and the attempt log. @default random */
  instanceId?: string;
  /** DNS resolver (tests simulate rebinding with it). @default system resolver */
  resolver?: HostResolver;
  /**
   * How long a merchant's delivery context (APIv3 key, signing mode, notify URL, forwarding rules) is
   * reused before it is read again; a missing notify URL is never cached. @default 1000
   */
  contextTtlMs?: number;
  /** Called after every persisted attempt (metrics, tests). Must not throw. */
  onAttempt?: (row: NotificationRow, result: DeliveryResult) => void;
  /**
   * Subscribes to virtual-clock jumps (e.g. `(l) => subscribeClockChanges(clock, l)` from sim/clock.ts);
   * a jump wakes the dispatcher so retries made due by fast-forwarding run at once.
   */
  subscribeClockChanges?: (listener: () => void) => () => void;
  /** Called with loop errors (database unavailable…). @default ignore */
  onError?: (err: unknown) => void;
}

/**
 * Whether the loop runs: `stopped` before {@link NotificationDispatcher.start} and after
 * {@link NotificationDispatcher.stop}; `died` when the loop ended while it should run (a bug), until the
 * next start.
 */
export type DispatcherState = 'running' | 'stopped' | 'died';

/**
 * Watches a running dispatcher (metrics, the log), attached by whoever built it:
 * {@link NotificationDispatcher.observe}. A throwing observer is ignored.
 */
export interface DispatcherObserver {
  /** After a delivery attempt was persisted. */
  attempt?(row: NotificationRow, result: DeliveryResult): void;
  /** A loop or delivery error (database unavailable…); the work is retried. */
  error?(err: unknown): void;
}

/** Delivers outbox notifications. */
export class NotificationDispatcher {
  readonly instanceId: string;
  private readonly options: DispatcherOptions;
  private readonly env: DeliveryEnv;
  private readonly transport: Transport;
  private readonly concurrency: number;
  private readonly merchantConcurrency: number;
  /** Deliveries in flight per merchant (only merchants with at least one). */
  private readonly inflightByMerchant = new Map<string, number>();
  /** Deliveries finished since the last claim: the loop refills in batches. */
  private finishedSinceFill = 0;
  /** The merchant the last fill started at; the next starts at the one after it (round robin by mchid). */
  private lastStartMchid: string | undefined;
  private readonly leaseMs: number;
  private readonly pollIntervalMs: number;
  private readonly wallClock: () => number;
  private readonly inflight = new Set<Promise<void>>();
  private running = false;
  private died = false;
  private readonly observers = new Set<DispatcherObserver>();
  private loopDone: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private lastReleaseWall = Number.NEGATIVE_INFINITY;
  private unsubscribe: (() => void) | undefined;
  private readonly contexts = new Map<string, { at: number; context: Promise<DeliveryContext> }>();
  /** Finished attempts waiting for the next group commit. */
  private completions: Array<{
    input: CompleteInput;
    done: (applied: boolean) => void;
    fail: (err: unknown) => void;
  }> = [];
  private committing = false;

  constructor(options: DispatcherOptions) {
    this.options = options;
    this.instanceId = options.instanceId ?? `dispatcher-${randomBytes(6).toString('hex')}`;
    this.concurrency = options.concurrency ?? 128;
    this.merchantConcurrency = Math.min(
      this.concurrency,
      options.merchantConcurrency ?? Math.max(1, Math.ceil(this.concurrency / 2)),
    );
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.wallClock = options.wallClock ?? Date.now;
    // A socket per delivery in flight, so the slots are never queued behind the agent's own limit.
    this.transport = new Transport({ maxSockets: this.concurrency, ...options.transport });
    const schedules = { ...DEFAULT_RETRY_SCHEDULES, ...options.schedules };
    this.env = {
      platform: options.platform,
      ids: options.ids,
      transport: this.transport,
      policy: options.policy ?? 'local',
      resolver: options.resolver,
      businessNow: (mchid) => options.clock.now(mchid),
      wallClock: this.wallClock,
      schedule: (family) => schedules[family as NotifyFamily] ?? DEFAULT_RETRY_SCHEDULES.busifavor,
      instanceId: this.instanceId,
    };
  }

  /** Starts the background loop. */
  start(): void {
    if (this.running && !this.died) return;
    this.unsubscribe?.();
    this.running = true;
    this.died = false;
    this.unsubscribe = this.options.subscribeClockChanges?.(() => this.wake());
    this.loopDone = this.loop().catch(() => {
      // The loop catches its own errors; only a throwing onError ends it. Readiness reports it.
      this.died = true;
    });
  }

  /** Adds an observer of attempts and errors; returns its removal. */
  observe(observer: DispatcherObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Whether the loop runs (the readiness check of a server that delivers callbacks). */
  get state(): DispatcherState {
    if (this.died) return 'died';
    return this.running ? 'running' : 'stopped';
  }

  /** Stops claiming, waits for deliveries in flight, closes idle sockets. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.wake();
    await this.loopDone;
    await Promise.allSettled([...this.inflight]);
    this.transport.close();
  }

  /** Looks at the outbox now instead of at the next poll (after an enqueue, replay or clock change). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /**
   * Delivers everything due now and waits for it, including retries that fall due meanwhile (with a
   * frozen virtual clock, only what is due at the frozen instant). Returns the number of attempts.
   * For tests and the simulation API; safe alongside the loop.
   */
  async drain(): Promise<number> {
    let attempts = 0;
    for (;;) {
      const { claimed } = await this.fill();
      attempts += claimed;
      if (claimed === 0 && this.inflight.size === 0) return attempts;
      if (this.inflight.size > 0) await Promise.race([...this.inflight]);
    }
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let sleepMs = this.pollIntervalMs;
      try {
        const { claimed, free, nextDueMs } = await this.fill();
        // A full batch suggests more is due: go again at once.
        if (free > 0 && claimed === free) continue;
        sleepMs = Math.max(0, Math.min(this.pollIntervalMs, nextDueMs));
      } catch (err) {
        this.reportError(err);
        this.options.onError?.(err);
      }
      await this.sleep(sleepMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || !this.running) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        // Cleared on every exit, so a later wake() is never swallowed by a stale callback.
        this.wakeUp = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  /** Claims as many due rows as there are free slots and starts their deliveries. */
  private async fill(): Promise<{ claimed: number; free: number; nextDueMs: number }> {
    const db = this.options.db;
    const wallMs = this.wallClock();
    if (wallMs - this.lastReleaseWall >= this.pollIntervalMs) {
      this.lastReleaseWall = wallMs;
      await releaseNoTargetNotifications(db.db, wallMs);
    }
    const free = this.concurrency - this.inflight.size;
    let nextDueMs = Number.POSITIVE_INFINITY;
    if (free <= 0) return { claimed: 0, free, nextDueMs };
    let claimed = 0;
    this.finishedSinceFill = 0;
    const merchants = (await findMerchantsWithWork(db.db, wallMs)).sort((a, b) =>
      a.mchid < b.mchid ? -1 : a.mchid > b.mchid ? 1 : 0,
    );
    // Each fill starts at the merchant after the one the last fill started at, so with fewer slots than
    // merchants with work they take turns, and none waits behind the others' whole backlogs.
    const after = this.lastStartMchid;
    const next = after === undefined ? -1 : merchants.findIndex((m) => m.mchid > after);
    const start = Math.max(0, next);
    this.lastStartMchid = merchants[start]?.mchid;
    for (let i = 0; i < merchants.length && claimed < free; i++) {
      const merchant = merchants[(start + i) % merchants.length] as (typeof merchants)[number];
      const businessNowMs = this.options.clock.now(merchant.mchid);
      if (merchant.nextAttemptAt > businessNowMs) {
        // Virtual time runs at wall speed unless frozen (then a clock change wakes us).
        nextDueMs = Math.min(nextDueMs, merchant.nextAttemptAt - businessNowMs);
        continue;
      }
      const room = this.merchantConcurrency - (this.inflightByMerchant.get(merchant.mchid) ?? 0);
      if (room <= 0) continue;
      const rows = await claimDueNotifications(db.db, db.capabilities, {
        mchid: merchant.mchid,
        businessNowMs,
        wallMs,
        leaseMs: this.leaseMs,
        instanceId: this.instanceId,
        limit: Math.min(free - claimed, room),
      });
      claimed += rows.length;
      for (const row of rows) this.track(row.mchid, this.process(row));
    }
    return { claimed, free, nextDueMs };
  }

  private track(mchid: string, work: Promise<void>): void {
    this.inflight.add(work);
    this.inflightByMerchant.set(mchid, (this.inflightByMerchant.get(mchid) ?? 0) + 1);
    void work.finally(() => {
      this.inflight.delete(work);
      const left = (this.inflightByMerchant.get(mchid) ?? 1) - 1;
      if (left > 0) this.inflightByMerchant.set(mchid, left);
      else this.inflightByMerchant.delete(mchid);
      // Refill in batches: one claim query per quarter of the slots finished, not one per delivery.
      this.finishedSinceFill++;
      if (this.finishedSinceFill >= Math.max(1, this.concurrency >> 2) || this.inflight.size === 0)
        this.wake();
    });
  }

  /** The HTTP transport (shared with the conformance probe, so it trusts the same CAs). */
  get deliveryTransport(): Transport {
    return this.transport;
  }

  /** The target policy deliveries follow. */
  get targetPolicy(): TargetPolicy {
    return this.env.policy;
  }

  /** Forgets cached merchant contexts (after a forwarding rule or key changed here). */
  invalidate(): void {
    this.contexts.clear();
  }

  private context(mchid: string, family: string): Promise<DeliveryContext> {
    const key = `${mchid}|${family}`;
    const wallMs = this.wallClock();
    const cached = this.contexts.get(key);
    if (cached && wallMs - cached.at < (this.options.contextTtlMs ?? 1000)) return cached.context;
    const context = loadDeliveryContext(this.options.db.db, mchid, family);
    this.contexts.set(key, { at: wallMs, context });
    // A failed read or a missing URL is not reused: the next attempt asks the database again.
    context.then(
      (c) => {
        if (c.notifyUrl === undefined) this.contexts.delete(key);
      },
      () => this.contexts.delete(key),
    );
    return context;
  }

  /**
   * Persists a finished attempt with others that finished meanwhile, in one transaction (group commit):
   * one commit per batch instead of one per attempt. The delivery's slot is freed only after its commit,
   * so at-least-once and the concurrency bound hold exactly as with one transaction per attempt.
   */
  private complete(input: CompleteInput): Promise<boolean> {
    return new Promise((done, fail) => {
      this.completions.push({ input, done, fail });
      if (!this.committing) {
        this.committing = true;
        // After the I/O callbacks of this loop turn, so responses that arrived together commit together.
        setImmediate(() => void this.commitCompletions());
      }
    });
  }

  private async commitCompletions(): Promise<void> {
    while (this.completions.length > 0) {
      const batch = this.completions.splice(0, 256);
      // One wall time for the batch (updated_at, delivered_at: when the attempt was persisted), so the
      // attempts that ended alike are one UPDATE; each attempt's own start and latency are in its log row.
      const wallMs = this.wallClock();
      try {
        const applied = await completeAttempts(
          this.options.db.db,
          batch.map((c) => ({ ...c.input, wallMs })),
          this.options.db.dialect,
        );
        for (const [i, c] of batch.entries()) c.done(applied[i] === true);
      } catch (err) {
        for (const c of batch) c.fail(err);
      }
    }
    this.committing = false;
  }

  private async process(row: NotificationRow): Promise<void> {
    try {
      const context = await this.context(row.mchid, row.family);
      const result = await deliverNotification(row, context, this.env);
      await this.complete({
        id: row.id,
        instanceId: this.instanceId,
        outcome: result.outcome,
        attempt: result.attempt,
        lastStatus: result.lastStatus,
        lastError: result.lastError,
        wallMs: this.wallClock(),
      });
      try {
        this.options.onAttempt?.(row, result);
      } catch {
        // An observer must not stop deliveries.
      }
      for (const observer of this.observers) {
        try {
          observer.attempt?.(row, result);
        } catch {
          // Same.
        }
      }
    } catch (err) {
      // The lease expires and the row is retried (at-least-once); nothing is lost.
      this.reportError(err);
      this.options.onError?.(err);
    }
  }

  private reportError(err: unknown): void {
    for (const observer of this.observers) {
      try {
        observer.error?.(err);
      } catch {
        // An observer must not stop the loop.
      }
    }
  }
}
