import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type { SIM_NOTIFICATION_ENDPOINTS } from '../../contract/endpoints/simulation.js';
import {
  DEFAULT_LISTEN_LEASE_SECONDS,
  type ListenDeliveryView,
  type ListenSessionView,
} from '../../contract/simulation/listen.js';
import { errors, paramError } from '../../errors.js';
import { type ListenDelivery, type ListenSession, listenTargetIssue } from '../../outbox/listen-sessions.js';
import type { NotificationsService } from '../../services/notifications.js';
import type { EndpointHandlers } from '../endpoints.js';

/**
 * Listen sessions of the simulation API (`/sandbox/v1/listen-sessions`), what `wechatpay-sandbox listen`
 * opens, renews, polls and closes. Part of the notification operations (simNotificationHandlers).
 * @see docs/simulation.md "Listen sessions"
 */

type ListenEndpointIds =
  | 'createListenSession'
  | 'listListenSessions'
  | 'renewListenSession'
  | 'deleteListenSession'
  | 'listListenDeliveries';

/** A session as the API answers it (also the CLI's --json). */
export function listenSessionView(s: ListenSession): ListenSessionView {
  return {
    id: s.id,
    target_url: s.targetUrl,
    event_types: s.eventTypes === undefined ? null : [...s.eventTypes],
    lease_seconds: Math.round(s.leaseMs / 1000),
    expire_time: formatBeijingTime(s.expiresAt),
    create_time: formatBeijingTime(s.createdAt),
  };
}

/** One attempt of a session as the API answers it (also the CLI's --json lines). */
export function listenDeliveryView(d: ListenDelivery): ListenDeliveryView {
  return {
    id: d.id,
    notification_id: d.notificationId,
    event_type: d.eventType,
    attempt_no: d.attemptNo,
    outcome: d.outcome,
    url: d.url,
    status: d.status,
    error: d.error,
    latency_ms: d.latencyMs,
    start_time: formatBeijingTime(d.startedAt),
  };
}

const sessionNotFound = () =>
  errors.RESOURCE_NOT_EXISTS('监听会话不存在或已过期', { field: 'id', location: 'path' });

/** The listen-session operations; every one acts on the calling merchant's sessions only. */
export function listenSessionHandlers(
  notifications: NotificationsService,
): Pick<EndpointHandlers<typeof SIM_NOTIFICATION_ENDPOINTS>, ListenEndpointIds> {
  return {
    createListenSession: async ({ body }, { merchant }) => {
      const issue = listenTargetIssue(body.target_url);
      if (issue) throw paramError('/target_url', issue, 'body', body.target_url);
      const session = await notifications.openListen({
        mchid: merchant.mchid,
        targetUrl: body.target_url,
        eventTypes: body.event_types === undefined ? undefined : [...new Set(body.event_types)],
        leaseMs: (body.lease_seconds ?? DEFAULT_LISTEN_LEASE_SECONDS) * 1000,
      });
      return listenSessionView(session);
    },

    listListenSessions: async (_request, { merchant }) => ({
      data: (await notifications.listens(merchant.mchid)).map(listenSessionView),
    }),

    renewListenSession: async ({ params }, { merchant }) => {
      const session = await notifications.renewListen(merchant.mchid, params.id);
      if (!session) throw sessionNotFound();
      return listenSessionView(session);
    },

    deleteListenSession: async ({ params }, { merchant }) => {
      if (!(await notifications.closeListen(merchant.mchid, params.id))) throw sessionNotFound();
    },

    listListenDeliveries: async ({ params, query }, { merchant }) => {
      const { deliveries, nextSince } = await notifications.listenDeliveries(
        merchant.mchid,
        params.id,
        query.since ?? 0,
        query.limit ?? 100,
      );
      return { data: deliveries.map(listenDeliveryView), next_since: nextSince };
    },
  };
}
