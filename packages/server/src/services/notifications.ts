import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { TargetPolicy } from '../config.js';
import type { PlatformIdentity, SigningMode } from '../credentials/types.js';
import type { DatabaseSchema } from '../db/schema.js';
import type { Clock, IdGen, NotificationEvent, NotifyFamily } from '../domain/ports.js';
import {
  getNotification,
  inFlightNotifications,
  type ListFilter,
  listNotifications,
  type NotificationDetail,
  type NotificationSummary,
  notificationOwners,
  pausedSince,
  type ReplaySelection,
  replayNotifications,
  setDeliveriesPaused,
} from '../outbox/admin.js';
import { releaseNoTargetNotifications } from '../outbox/claim.js';
import type { Transport } from '../outbox/deliver.js';
import { NotificationDispatcher } from '../outbox/dispatcher.js';
import { enqueueNotification } from '../outbox/enqueue.js';
import {
  type DeliveryPlanChange,
  deliveryPlanChangeEvent,
  type ProductCouponEventType,
  productCouponEvent,
  sampleEvent,
} from '../outbox/events.js';
import {
  applyForwarding,
  deleteForwardRule,
  type ForwardRule,
  listForwardRules,
  putForwardRule,
} from '../outbox/forwarding.js';
import {
  closeListenSession,
  type ListenDelivery,
  type ListenSession,
  listenSessionDeliveries,
  liveListenSessions,
  openListenSession,
  renewListenSession,
} from '../outbox/listen-sessions.js';
import { loadDeliveryContext } from '../outbox/lookup.js';
import { type ProbeReport, runConformanceProbe } from '../outbox/probe.js';
import { productCouponResourceIssue, type ResourceIssue } from '../outbox/product-coupon-resources.js';
import type { ServiceContext } from './context.js';

/**
 * The notifications feature: the delivery log, replay, pause/resume, forwarding rules, the conformance
 * probe and enqueueing simulated events. The simulation API and the `notifications` CLI both call this
 * one service, so a replay or a probe behaves the same from either.
 */

/** What the service works with. */
export interface NotificationsServiceDeps {
  db: Kysely<DatabaseSchema>;
  /** Business time (virtual per merchant): replays are due at it, sample events carry it. */
  clock: Clock;
  /** Wall-clock epoch ms (signatures, pause times, the outbox log order). */
  wallClock: () => number;
  /**
   * Ids of the notifications {@link NotificationsService.enqueue} writes (`uuid()`).
   * @default crypto.randomUUID, as enqueueNotification does (the CLI never enqueues)
   */
  ids?: Pick<IdGen, 'uuid'>;
  /** What the conformance probe needs; without it {@link NotificationsService.probe} refuses to run. */
  probe?: ProbeDeps;
  /**
   * The dispatcher running in this process, woken after a replay or a new event and refreshed after a
   * forwarding change; absent in the CLI (a running server sees changes at its next poll).
   */
  dispatcher?: { wake(): void; invalidate(): void };
}

/** The keys the probe signs with, how it reaches a target (TLS trust), and which targets are allowed. */
export interface ProbeDeps {
  platform: PlatformIdentity;
  ids: IdGen;
  transport: Transport;
  policy: TargetPolicy;
}

/** The caller of a probe: whose keys and signing mode the forged and genuine callbacks use. */
export interface ProbeMerchant {
  mchid: string;
  apiV3Key: string;
  signingMode: SigningMode;
}

/** The merchant has no notify URL for the family and none was given. */
export class NoNotifyUrlError extends Error {
  override name = 'NoNotifyUrlError';
  constructor(readonly family: NotifyFamily) {
    super(`no ${family} notify URL is set`);
  }
}

/** A product-coupon resource WeChat could not send (nothing was enqueued). */
export class ProductCouponResourceError extends Error {
  override name = 'ProductCouponResourceError';
  constructor(readonly issue: ResourceIssue) {
    super(`resource${issue.pointer} ${issue.issue}`);
  }
}

/** The probe could not run against the target (refused by the policy, unreachable, bad URL). */
export class ProbeFailedError extends Error {
  override name = 'ProbeFailedError';
}

export class NotificationsService {
  constructor(private readonly deps: NotificationsServiceDeps) {}

  list(mchid: string, filter: ListFilter): Promise<{ total: number; items: NotificationSummary[] }> {
    return listNotifications(this.deps.db, mchid, filter);
  }

  get(mchid: string, id: string): Promise<NotificationDetail | undefined> {
    return getNotification(this.deps.db, mchid, id);
  }

  /** The merchant of each id that exists (for replays across merchants). */
  owners(ids: readonly string[]): Promise<Map<string, string>> {
    return notificationOwners(this.deps.db, ids);
  }

  /** The ids among `ids` with a delivery attempt in flight. */
  inFlight(ids: readonly string[]): Promise<string[]> {
    return inFlightNotifications(this.deps.db, ids, this.deps.wallClock());
  }

  /**
   * Queues the selected notifications of a merchant for delivery again, due at its business time.
   * Throws NotificationsInFlightError (nothing replayed) when one has an attempt in flight.
   */
  async replay(mchid: string, selection: ReplaySelection): Promise<string[]> {
    const { db, clock, wallClock } = this.deps;
    const replayed = await replayNotifications(db, mchid, selection, clock.now(mchid), wallClock());
    if (replayed.length > 0) this.deps.dispatcher?.wake();
    return replayed;
  }

  /** Since when (wall-clock ms) the merchant's deliveries are paused, or undefined. */
  pausedSince(mchid: string): Promise<number | undefined> {
    return pausedSince(this.deps.db, mchid);
  }

  async setPaused(mchid: string, paused: boolean): Promise<void> {
    await setDeliveriesPaused(this.deps.db, mchid, paused, this.deps.wallClock());
    if (!paused) this.deps.dispatcher?.wake();
  }

  listForwards(mchid: string): Promise<ForwardRule[]> {
    return listForwardRules(this.deps.db, mchid);
  }

  async putForward(rule: { mchid: string; fromUrl: string; toUrl: string }): Promise<ForwardRule> {
    const saved = await putForwardRule(this.deps.db, rule, this.deps.wallClock());
    this.deps.dispatcher?.invalidate();
    return saved;
  }

  async deleteForward(mchid: string, id: string): Promise<boolean> {
    const deleted = await deleteForwardRule(this.deps.db, mchid, id);
    if (deleted) this.deps.dispatcher?.invalidate();
    return deleted;
  }

  /**
   * Sends the conformance probe (genuine and forged callbacks) to `url`, or to the merchant's notify URL
   * for the family after its forwarding rules. Throws NoNotifyUrlError or ProbeFailedError.
   */
  async probe(
    merchant: ProbeMerchant,
    options: { url?: string; family: NotifyFamily },
  ): Promise<ProbeReport> {
    const { db, clock, wallClock } = this.deps;
    if (!this.deps.probe) throw new ProbeFailedError('this service was built without probe settings');
    const { platform, ids, transport, policy } = this.deps.probe;
    let url = options.url;
    if (url === undefined) {
      const context = await loadDeliveryContext(db, merchant.mchid, options.family);
      if (context.notifyUrl === undefined) throw new NoNotifyUrlError(options.family);
      url = applyForwarding(context.notifyUrl, context.forwards);
    }
    const businessMs = clock.now(merchant.mchid);
    try {
      return await runConformanceProbe({
        url,
        merchant,
        event: sampleEvent(options.family, merchant.mchid, businessMs),
        platform,
        ids,
        transport,
        policy,
        wallMs: wallClock(),
        businessMs,
      });
    } catch (err) {
      throw new ProbeFailedError((err as Error).message);
    }
  }

  /** The merchant's business time now (virtual clock). */
  businessNow(mchid: string): number {
    return this.deps.clock.now(mchid);
  }

  /**
   * Opens a listen session: while its lease runs, the merchant's callbacks of the selected event types
   * (all when `eventTypes` is undefined) go to `targetUrl`. Notifications waiting for a notify URL that
   * it takes are released at once. @see outbox/listen-sessions.ts
   */
  async openListen(input: {
    mchid: string;
    targetUrl: string;
    eventTypes?: readonly string[] | undefined;
    leaseMs: number;
  }): Promise<ListenSession> {
    const { db, wallClock } = this.deps;
    const session = await openListenSession(db, { ...input, id: randomUUID() }, wallClock());
    await releaseNoTargetNotifications(db, wallClock(), input.mchid);
    this.deps.dispatcher?.invalidate();
    this.deps.dispatcher?.wake();
    return session;
  }

  /** Extends a live session's lease; undefined when it is gone or already expired. */
  renewListen(mchid: string, id: string): Promise<ListenSession | undefined> {
    return renewListenSession(this.deps.db, mchid, id, this.deps.wallClock());
  }

  /** Closes a session (deliveries go back to the notify URL); false when it did not exist. */
  async closeListen(mchid: string, id: string): Promise<boolean> {
    const closed = await closeListenSession(this.deps.db, mchid, id);
    if (closed) this.deps.dispatcher?.invalidate();
    return closed;
  }

  /** The merchant's live listen sessions, newest first (the one that wins). */
  listens(mchid: string): Promise<ListenSession[]> {
    return liveListenSessions(this.deps.db, mchid, this.deps.wallClock());
  }

  /**
   * The attempts made for a listen session that started at or after `sinceMs`, oldest first, and the
   * `since` of the next poll (pages overlap: skip attempt ids already seen).
   */
  listenDeliveries(
    mchid: string,
    id: string,
    sinceMs: number,
    limit = 100,
  ): Promise<{ deliveries: ListenDelivery[]; nextSince: number }> {
    return listenSessionDeliveries(this.deps.db, mchid, id, sinceMs, limit, this.deps.wallClock());
  }

  /**
   * Queues a product-coupon (商品券) callback; throws ProductCouponResourceError (nothing queued) when the
   * resource is not one WeChat could send (docs/busifavor.md §7.3).
   */
  enqueueProductCouponEvent(
    mchid: string,
    eventType: ProductCouponEventType,
    resource: Record<string, unknown>,
  ): Promise<string> {
    const issue = productCouponResourceIssue(eventType, resource);
    if (issue) return Promise.reject(new ProductCouponResourceError(issue));
    return this.enqueue(mchid, productCouponEvent(mchid, eventType, resource));
  }

  /** Queues a delivery-plan DELIVERY_PLAN.CHANGE callback at the merchant's business time. */
  enqueueDeliveryPlanChange(mchid: string, change: DeliveryPlanChange): Promise<string> {
    const now = this.businessNow(mchid);
    return this.enqueue(mchid, deliveryPlanChangeEvent(mchid, change, now), now);
  }

  /**
   * Puts an event in the merchant's outbox, due at `atMs` (default: its business time now), and wakes
   * the dispatcher.
   */
  async enqueue(mchid: string, event: NotificationEvent, atMs = this.businessNow(mchid)): Promise<string> {
    const { db, ids, wallClock } = this.deps;
    const { id } = await enqueueNotification(db, event, atMs, {
      ...(ids ? { id: ids.uuid() } : {}),
      wallMs: wallClock(),
    });
    this.deps.dispatcher?.wake();
    return id;
  }
}

/** Options of {@link createNotificationDispatcher}. */
export interface NotificationRuntimeOptions {
  /** Subscribes to virtual-clock jumps (wakes the dispatcher). */
  subscribeClockChanges?: (listener: () => void) => () => void;
}

/**
 * The dispatcher of a server, configured from `ctx.config` (target policy, CA file, insecure TLS).
 * Not started: `startServer` starts it, tests may call `drain()` instead.
 */
export function createNotificationDispatcher(
  ctx: ServiceContext,
  options: NotificationRuntimeOptions = {},
): NotificationDispatcher {
  const config = ctx.config;
  return new NotificationDispatcher({
    db: ctx.db,
    clock: ctx.clock,
    wallClock: ctx.wallClock,
    platform: ctx.platform,
    ids: ctx.ids,
    policy: ctx.config.targetPolicy,
    leaseMs: config.notifyLeaseSeconds * 1000,
    concurrency: config.notifyConcurrency,
    merchantConcurrency: config.notifyMerchantConcurrency,
    transport: {
      caPem: config.notifyCaFile ? readFileSync(config.notifyCaFile, 'utf8') : undefined,
      insecureTls: config.notifyInsecureTls === true,
    },
    ...(options.subscribeClockChanges ? { subscribeClockChanges: options.subscribeClockChanges } : {}),
  });
}
