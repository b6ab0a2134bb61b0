import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type { SIM_NOTIFICATION_ENDPOINTS } from '../../contract/endpoints/simulation.js';
import type {
  DeliveryStateResponse,
  NotificationAttemptView,
  NotificationSummaryView,
  ReplayNotificationsBody,
} from '../../contract/simulation/notifications.js';
import type { NotifyFamily } from '../../domain/ports.js';
import { errors, paramError } from '../../errors.js';
import {
  type NotificationAttempt,
  type NotificationSummary,
  NotificationsInFlightError,
  type ReplaySelection,
} from '../../outbox/admin.js';
import type { NotificationDispatcher } from '../../outbox/dispatcher.js';
import type { ProbeReport } from '../../outbox/probe.js';
import {
  NoNotifyUrlError,
  type NotificationsService,
  ProbeFailedError,
  ProductCouponResourceError,
} from '../../services/notifications.js';
import type { EndpointHandlers } from '../endpoints.js';
import { listenSessionHandlers } from './sim-listen.js';

/**
 * Simulation API of the notification pipeline under `/sandbox/v1/`: the delivery log (list, inspect,
 * replay), pause/resume of a merchant's deliveries, forwarding rules, the conformance probe, and the
 * events of the families that have no business API here (product coupons, delivery plans).
 * Every operation acts on the calling merchant only; the schemas are in contract/simulation/notifications.ts.
 * @see docs/fidelity.md "Notifications"
 */

const time = (ms: number | null) => (ms === null ? null : formatBeijingTime(ms));

function summaryView(n: NotificationSummary): NotificationSummaryView {
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

function attemptView(a: NotificationAttempt): NotificationAttemptView {
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

/** The notification simulation operations; every one acts on the calling merchant only. */
export function simNotificationHandlers(
  notifications: NotificationsService,
  dispatcher: Pick<NotificationDispatcher, 'drain'>,
): EndpointHandlers<typeof SIM_NOTIFICATION_ENDPOINTS> {
  /** Replays, refusing ids with an attempt in flight (a concurrent duplicate) as 400 INVALID_REQUEST. */
  const replay = async (mchid: string, selection: ReplaySelection, single = false): Promise<string[]> => {
    try {
      return await notifications.replay(mchid, selection);
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

  const deliveryState = async (mchid: string): Promise<DeliveryStateResponse> => {
    const since = await notifications.pausedSince(mchid);
    return {
      paused: since !== undefined,
      paused_time: since === undefined ? null : formatBeijingTime(since),
    };
  };

  const setPaused = async (mchid: string, paused: boolean): Promise<DeliveryStateResponse> => {
    await notifications.setPaused(mchid, paused);
    return deliveryState(mchid);
  };

  return {
    ...listenSessionHandlers(notifications),

    listNotifications: async ({ query: q }, { merchant }) => {
      const { total, items } = await notifications.list(merchant.mchid, {
        state: q.state,
        eventType: q.event_type,
        family: q.family,
        limit: q.limit,
        offset: q.offset,
      });
      return { total_count: total, offset: q.offset ?? 0, data: items.map(summaryView) };
    },

    getNotification: async ({ params }, { merchant }) => {
      const n = await notifications.get(merchant.mchid, params.id);
      if (!n) throw errors.RESOURCE_NOT_EXISTS('通知不存在');
      return {
        ...summaryView(n),
        summary: n.summary,
        original_type: n.originalType,
        associated_data: n.associatedData,
        plaintext: n.plaintext,
        attempt_log: n.attemptLog.map(attemptView),
      };
    },

    replayNotification: async ({ params }, { merchant }) => {
      const replayed = await replay(merchant.mchid, { ids: [params.id] }, true);
      if (replayed.length === 0) throw errors.RESOURCE_NOT_EXISTS('通知不存在');
      return { replayed };
    },

    replayNotifications: async ({ body }, { merchant }) => ({
      replayed: await replay(merchant.mchid, replaySelection(body)),
    }),

    getDeliveryState: async (_request, { merchant }) => deliveryState(merchant.mchid),
    pauseDeliveries: async (_request, { merchant }) => setPaused(merchant.mchid, true),
    resumeDeliveries: async (_request, { merchant }) => setPaused(merchant.mchid, false),

    // Delivers what is due now and answers when done: deterministic tests without waiting for the loop.
    dispatchDeliveries: async () => ({ attempts: await dispatcher.drain() }),

    listNotificationForwards: async (_request, { merchant }) => {
      const rules = await notifications.listForwards(merchant.mchid);
      return { data: rules.map((r) => ({ id: r.id, from_url: r.fromUrl, to_url: r.toUrl })) };
    },

    createNotificationForward: async ({ body }, { merchant }) => {
      for (const [field, value] of [
        ['/from_url', body.from_url],
        ['/to_url', body.to_url],
      ] as const) {
        if (!/^https?:\/\/[^/?#]+/.test(value))
          throw paramError(field, 'must be an absolute http(s) URL', 'body', value);
      }
      const rule = await notifications.putForward({
        mchid: merchant.mchid,
        fromUrl: body.from_url,
        toUrl: body.to_url,
      });
      return { id: rule.id, from_url: rule.fromUrl, to_url: rule.toUrl };
    },

    deleteNotificationForward: async ({ params }, { merchant }) => {
      if (!(await notifications.deleteForward(merchant.mchid, params.id)))
        throw errors.RESOURCE_NOT_EXISTS('转发规则不存在');
    },

    probeNotifyUrl: async ({ body }, { merchant }) => {
      const family: NotifyFamily = body.family ?? 'busifavor';
      let report: ProbeReport;
      try {
        report = await notifications.probe(merchant, { url: body.url, family });
      } catch (err) {
        if (err instanceof NoNotifyUrlError) {
          throw errors.RESOURCE_NOT_EXISTS(`未设置 ${family} 回调地址，请先设置或在请求中给出 url`);
        }
        if (!(err instanceof ProbeFailedError)) throw err;
        throw errors.INVALID_REQUEST(`无法探测该地址：${err.message}`, { field: '/url', location: 'body' });
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
    },

    simProductCouponEvent: async ({ body }, { merchant }) => {
      // The fields docs/busifavor.md §7.3 lists for this event type; nothing is enqueued otherwise.
      try {
        return {
          notification_id: await notifications.enqueueProductCouponEvent(
            merchant.mchid,
            body.event_type,
            body.resource,
          ),
        };
      } catch (err) {
        if (!(err instanceof ProductCouponResourceError)) throw err;
        const { pointer, issue, value } = err.issue;
        throw paramError(`/resource${pointer}`, issue, 'body', value);
      }
    },

    simDeliveryPlanEvent: async ({ body }, { merchant }) => ({
      notification_id: await notifications.enqueueDeliveryPlanChange(merchant.mchid, {
        planId: body.plan_id,
        planState: body.plan_state,
        auditState: body.audit_state,
        changeReason: body.change_reason ?? '',
      }),
    }),
  };
}

/** Either `ids` or `state`, not both and not neither. */
function replaySelection(body: ReplayNotificationsBody): ReplaySelection {
  if (body.ids !== undefined && body.state === undefined) return { ids: body.ids };
  if (body.ids === undefined && body.state !== undefined) return { state: body.state };
  throw paramError('/ids', 'give either ids or state');
}
