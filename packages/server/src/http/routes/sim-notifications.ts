import type { SIM_NOTIFICATION_ENDPOINTS } from '../../contract/endpoints/simulation.js';
import type {
  DeliveryStateResponse,
  ReplayNotificationsBody,
} from '../../contract/simulation/notifications.js';
import type { NotifyFamily } from '../../domain/ports.js';
import { errors, paramError } from '../../errors.js';
import { NotificationsInFlightError, type ReplaySelection } from '../../outbox/admin.js';
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
import {
  deliveryStateView,
  forwardRuleView,
  notificationDetailView,
  notificationListView,
  probeReportView,
} from './sim-notification-views.js';

/**
 * Simulation API of the notification pipeline under `/sandbox/v1/`: the delivery log (list, inspect,
 * replay), pause/resume of a merchant's deliveries, forwarding rules, the conformance probe, and the
 * events of the families that have no business API here (product coupons, delivery plans).
 * Every operation acts on the calling merchant only; the schemas are in contract/simulation/notifications.ts.
 * @see docs/fidelity.md "Notifications"
 */

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

  const deliveryState = async (mchid: string): Promise<DeliveryStateResponse> =>
    deliveryStateView(await notifications.pausedSince(mchid));

  const setPaused = async (mchid: string, paused: boolean): Promise<DeliveryStateResponse> => {
    await notifications.setPaused(mchid, paused);
    return deliveryState(mchid);
  };

  return {
    ...listenSessionHandlers(notifications),

    listNotifications: async ({ query: q }, { merchant }) => {
      const page = await notifications.list(merchant.mchid, {
        state: q.state,
        eventType: q.event_type,
        family: q.family,
        limit: q.limit,
        offset: q.offset,
      });
      return notificationListView(page, q.offset);
    },

    getNotification: async ({ params }, { merchant }) => {
      const n = await notifications.get(merchant.mchid, params.id);
      if (!n) throw errors.RESOURCE_NOT_EXISTS('通知不存在');
      return notificationDetailView(n);
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
      return { data: rules.map(forwardRuleView) };
    },

    createNotificationForward: async ({ body }, { merchant }) => {
      for (const [field, value] of [
        ['/from_url', body.from_url],
        ['/to_url', body.to_url],
      ] as const) {
        if (!/^https?:\/\/[^/?#]+/.test(value))
          throw paramError(field, 'must be an absolute http(s) URL', 'body', value);
      }
      return forwardRuleView(
        await notifications.putForward({ mchid: merchant.mchid, fromUrl: body.from_url, toUrl: body.to_url }),
      );
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
      return probeReportView(report);
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
