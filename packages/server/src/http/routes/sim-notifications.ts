import { readFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StringEnum } from '../../contract/busifavor/common.js';
import type { NotifyFamily } from '../../domain/ports.js';
import { errors, paramError } from '../../errors.js';
import {
  getNotification,
  listNotifications,
  type NotificationAttempt,
  type NotificationSummary,
  NotificationsInFlightError,
  pausedSince,
  type ReplaySelection,
  replayNotifications,
  setDeliveriesPaused,
} from '../../outbox/admin.js';
import { NotificationDispatcher } from '../../outbox/dispatcher.js';
import { enqueueNotification } from '../../outbox/enqueue.js';
import {
  DELIVERY_PLAN_AUDIT_STATES,
  DELIVERY_PLAN_STATES,
  deliveryPlanChangeEvent,
  PRODUCT_COUPON_EVENT_TYPES,
  productCouponEvent,
  sampleEvent,
} from '../../outbox/events.js';
import {
  applyForwarding,
  deleteForwardRule,
  listForwardRules,
  putForwardRule,
} from '../../outbox/forwarding.js';
import { loadDeliveryContext } from '../../outbox/lookup.js';
import { runConformanceProbe } from '../../outbox/probe.js';
import { productCouponResourceIssue } from '../../outbox/product-coupon-resources.js';
import type { AuthenticatedMerchant, ServerContext } from '../context.js';

/**
 * Simulation API of the notification pipeline under `/sandbox/v1/`: the delivery log (list, inspect,
 * replay), pause/resume of a merchant's deliveries, forwarding rules, the conformance probe, and the
 * events of the families that have no business API here (product coupons, delivery plans).
 * Every route acts on the calling merchant only.
 * @see ../../../../../docs/fidelity.md "Notifications"
 */

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
  ctx: ServerContext,
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
    transport: {
      caPem: config.notifyCaFile ? readFileSync(config.notifyCaFile, 'utf8') : undefined,
      insecureTls: config.notifyInsecureTls === true,
    },
    ...(options.subscribeClockChanges ? { subscribeClockChanges: options.subscribeClockChanges } : {}),
  });
}

const FAMILIES = ['busifavor', 'product-coupon', 'delivery-plan'] as const;
const STATES = ['pending', 'no-target', 'delivered', 'dead'] as const;

const ListQuery = Type.Object(
  {
    state: Type.Optional(StringEnum(STATES)),
    event_type: Type.Optional(Type.String({ maxLength: 64 })),
    family: Type.Optional(StringEnum(FAMILIES)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    offset: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
type ListQuery = Static<typeof ListQuery>;
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 40 }) });
const ReplayBody = Type.Object(
  {
    ids: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { minItems: 1, maxItems: 1000 }),
    ),
    state: Type.Optional(StringEnum(STATES)),
  },
  { additionalProperties: false },
);
type ReplayBody = Static<typeof ReplayBody>;
const ProbeBody = Type.Object(
  {
    family: Type.Optional(StringEnum(FAMILIES)),
    url: Type.Optional(Type.String({ minLength: 8, maxLength: 512 })),
  },
  { additionalProperties: false },
);
type ProbeBody = Static<typeof ProbeBody>;
const ForwardBody = Type.Object(
  {
    from_url: Type.String({ minLength: 8, maxLength: 256 }),
    to_url: Type.String({ minLength: 8, maxLength: 512 }),
  },
  { additionalProperties: false },
);
type ForwardBody = Static<typeof ForwardBody>;
const ProductCouponEventBody = Type.Object(
  {
    event_type: StringEnum(PRODUCT_COUPON_EVENT_TYPES),
    resource: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);
type ProductCouponEventBody = Static<typeof ProductCouponEventBody>;
const DeliveryPlanEventBody = Type.Object(
  {
    plan_id: Type.String({ minLength: 1, maxLength: 64 }),
    plan_state: StringEnum(DELIVERY_PLAN_STATES),
    audit_state: StringEnum(DELIVERY_PLAN_AUDIT_STATES),
    change_reason: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
type DeliveryPlanEventBody = Static<typeof DeliveryPlanEventBody>;

const time = (ms: number | null) => (ms === null ? null : formatBeijingTime(ms));

function summaryView(n: NotificationSummary) {
  return {
    id: n.id,
    family: n.family,
    event_type: n.eventType,
    state: n.state,
    attempts: n.attempts,
    round_attempts: n.roundAttempts,
    next_attempt_time: time(n.nextAttemptAt),
    last_status: n.lastStatus,
    last_error: n.lastError,
    delivered_time: time(n.deliveredAt),
    create_time: formatBeijingTime(n.createTime),
  };
}

function attemptView(a: NotificationAttempt) {
  return {
    attempt_no: a.attemptNo,
    outcome: a.outcome,
    url: a.url,
    target_address: a.targetAddress,
    status: a.status,
    error: a.error,
    latency_ms: a.latencyMs,
    response_excerpt: a.responseExcerpt,
    request_id: a.requestId,
    instance_id: a.instanceId,
    business_time: formatBeijingTime(a.businessAt),
    start_time: formatBeijingTime(a.startedAt),
  };
}

/** Registers the notification simulation routes. */
export async function registerSimNotificationRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  dispatcher: NotificationDispatcher,
): Promise<void> {
  const db = ctx.db.db;

  app.get('/sandbox/v1/notifications', { schema: { querystring: ListQuery } }, async (request) => {
    const q = request.query as ListQuery;
    const { total, items } = await listNotifications(db, caller(request).mchid, {
      state: q.state,
      eventType: q.event_type,
      family: q.family,
      limit: q.limit,
      offset: q.offset,
    });
    return { total_count: total, offset: q.offset ?? 0, data: items.map(summaryView) };
  });

  app.get('/sandbox/v1/notifications/:id', { schema: { params: IdParams } }, async (request) => {
    const { id } = request.params as { id: string };
    const n = await getNotification(db, caller(request).mchid, id);
    if (!n) throw errors.RESOURCE_NOT_EXISTS('通知不存在');
    return {
      ...summaryView(n),
      summary: n.summary,
      original_type: n.originalType,
      associated_data: n.associatedData,
      plaintext: n.plaintext,
      attempt_log: n.attemptLog.map(attemptView),
    };
  });

  /** Replays, refusing ids with an attempt in flight (a concurrent duplicate) as 400 INVALID_REQUEST. */
  const replay = async (mchid: string, selection: ReplaySelection, single = false): Promise<string[]> => {
    try {
      return await replayNotifications(db, mchid, selection, ctx.clock.now(mchid), ctx.wallClock());
    } catch (err) {
      if (!(err instanceof NotificationsInFlightError)) throw err;
      throw errors.INVALID_REQUEST('通知正在投递中，请在本次投递结束后重试', {
        ...(single
          ? { field: 'id', location: 'path' as const }
          : { field: '/ids', location: 'body' as const }),
        value: err.ids,
        issue: 'a delivery attempt is in flight; nothing was replayed',
      });
    }
  };

  app.post('/sandbox/v1/notifications/:id/replay', { schema: { params: IdParams } }, async (request) => {
    const { id } = request.params as { id: string };
    const mchid = caller(request).mchid;
    const replayed = await replay(mchid, { ids: [id] }, true);
    if (replayed.length === 0) throw errors.RESOURCE_NOT_EXISTS('通知不存在');
    dispatcher.wake();
    return { replayed };
  });

  app.post('/sandbox/v1/notifications/replay', { schema: { body: ReplayBody } }, async (request) => {
    const body = request.body as ReplayBody;
    if ((body.ids === undefined) === (body.state === undefined)) {
      throw paramError('/ids', 'give either ids or state');
    }
    const mchid = caller(request).mchid;
    const selection = body.ids ? { ids: body.ids } : { state: body.state as string };
    const replayed = await replay(mchid, selection);
    dispatcher.wake();
    return { replayed };
  });

  app.get('/sandbox/v1/notifications-delivery', async (request) => {
    const since = await pausedSince(db, caller(request).mchid);
    return {
      paused: since !== undefined,
      paused_time: since === undefined ? null : formatBeijingTime(since),
    };
  });

  for (const action of ['pause', 'resume'] as const) {
    app.post(`/sandbox/v1/notifications-delivery/${action}`, async (request) => {
      const mchid = caller(request).mchid;
      await setDeliveriesPaused(db, mchid, action === 'pause', ctx.wallClock());
      if (action === 'resume') dispatcher.wake();
      const since = await pausedSince(db, mchid);
      return {
        paused: since !== undefined,
        paused_time: since === undefined ? null : formatBeijingTime(since),
      };
    });
  }

  app.post('/sandbox/v1/notifications-delivery/dispatch', async () => {
    // Delivers what is due now and answers when done: deterministic tests without waiting for the loop.
    return { attempts: await dispatcher.drain() };
  });

  app.get('/sandbox/v1/notification-forwards', async (request) => {
    const rules = await listForwardRules(db, caller(request).mchid);
    return { data: rules.map((r) => ({ id: r.id, from_url: r.fromUrl, to_url: r.toUrl })) };
  });

  app.post('/sandbox/v1/notification-forwards', { schema: { body: ForwardBody } }, async (request) => {
    const body = request.body as ForwardBody;
    for (const [field, value] of [
      ['/from_url', body.from_url],
      ['/to_url', body.to_url],
    ] as const) {
      if (!/^https?:\/\/[^/?#]+/.test(value))
        throw paramError(field, 'must be an absolute http(s) URL', 'body', value);
    }
    const rule = await putForwardRule(
      db,
      { mchid: caller(request).mchid, fromUrl: body.from_url, toUrl: body.to_url },
      ctx.wallClock(),
    );
    dispatcher.invalidate();
    return { id: rule.id, from_url: rule.fromUrl, to_url: rule.toUrl };
  });

  app.delete(
    '/sandbox/v1/notification-forwards/:id',
    { schema: { params: IdParams } },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      if (!(await deleteForwardRule(db, caller(request).mchid, id)))
        throw errors.RESOURCE_NOT_EXISTS('转发规则不存在');
      dispatcher.invalidate();
      return reply.code(204).send();
    },
  );

  app.post('/sandbox/v1/notifications/probe', { schema: { body: ProbeBody } }, async (request) => {
    const body = (request.body ?? {}) as ProbeBody;
    const merchant = caller(request);
    const family: NotifyFamily = body.family ?? 'busifavor';
    let url = body.url;
    if (url === undefined) {
      const context = await loadDeliveryContext(db, merchant.mchid, family);
      if (context.notifyUrl === undefined) {
        throw errors.RESOURCE_NOT_EXISTS(`未设置 ${family} 回调地址，请先设置或在请求中给出 url`);
      }
      url = applyForwarding(context.notifyUrl, context.forwards);
    }
    const businessMs = ctx.clock.now(merchant.mchid);
    let report: Awaited<ReturnType<typeof runConformanceProbe>>;
    try {
      report = await runConformanceProbe({
        url,
        merchant: { mchid: merchant.mchid, apiV3Key: merchant.apiV3Key, signingMode: merchant.signingMode },
        event: sampleEvent(family, merchant.mchid, businessMs),
        platform: ctx.platform,
        ids: ctx.ids,
        transport: dispatcher.deliveryTransport,
        policy: dispatcher.targetPolicy,
        wallMs: ctx.wallClock(),
        businessMs,
      });
    } catch (err) {
      throw errors.INVALID_REQUEST(`无法探测该地址：${(err as Error).message}`, {
        field: '/url',
        location: 'body',
      });
    }
    return {
      url: report.url,
      passed: report.passed,
      accepted_forgeries: report.acceptedForgeries,
      rejected_correct: report.rejectedCorrect,
      results: report.results.map((r) => ({
        case: r.case,
        expected: r.expected,
        status: r.status ?? null,
        accepted: r.accepted,
        passed: r.passed,
        error: r.error ?? null,
        latency_ms: r.latencyMs,
      })),
    };
  });

  app.post(
    '/sandbox/v1/product-coupon/events',
    { schema: { body: ProductCouponEventBody } },
    async (request) => {
      const body = request.body as ProductCouponEventBody;
      const mchid = caller(request).mchid;
      // The fields busifavor.md §7.3 lists for this event type; nothing is enqueued otherwise.
      const problem = productCouponResourceIssue(body.event_type, body.resource);
      if (problem) throw paramError(`/resource${problem.pointer}`, problem.issue, 'body', problem.value);
      const { id } = await enqueueNotification(
        db,
        productCouponEvent(mchid, body.event_type, body.resource),
        ctx.clock.now(mchid),
      );
      dispatcher.wake();
      return { notification_id: id };
    },
  );

  app.post(
    '/sandbox/v1/delivery-plan/events',
    { schema: { body: DeliveryPlanEventBody } },
    async (request) => {
      const body = request.body as DeliveryPlanEventBody;
      const mchid = caller(request).mchid;
      const now = ctx.clock.now(mchid);
      const event = deliveryPlanChangeEvent(
        mchid,
        {
          planId: body.plan_id,
          planState: body.plan_state,
          auditState: body.audit_state,
          changeReason: body.change_reason ?? '',
        },
        now,
      );
      const { id } = await enqueueNotification(db, event, now);
      dispatcher.wake();
      return { notification_id: id };
    },
  );
}

function caller(request: FastifyRequest): AuthenticatedMerchant {
  if (!request.merchant) throw errors.SIGN_ERROR();
  return request.merchant;
}
