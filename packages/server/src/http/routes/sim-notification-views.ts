import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type {
  DeliveryStateResponse,
  ForwardRuleView,
  NotificationAttemptView,
  NotificationDetailResponse,
  NotificationListResponse,
  NotificationSummaryView,
  ProbeResponse,
} from '../../contract/simulation/notifications.js';
import type { NotificationAttempt, NotificationDetail, NotificationSummary } from '../../outbox/admin.js';
import type { ForwardRule } from '../../outbox/forwarding.js';
import type { ProbeReport } from '../../outbox/probe.js';

/**
 * The wire shapes of the notification simulation API (`/sandbox/v1/notifications…`): snake_case, times
 * as RFC 3339 +08:00 strings. The routes answer with them and `wechatpay-sandbox notifications … --json`
 * prints them, so both say the same thing in the same words.
 */

const time = (ms: number | null) => (ms === null ? null : formatBeijingTime(ms));

export function notificationSummaryView(n: NotificationSummary): NotificationSummaryView {
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

/** A page of the delivery log (`GET /sandbox/v1/notifications`). */
export function notificationListView(
  page: { total: number; items: readonly NotificationSummary[] },
  offset: number | undefined,
): NotificationListResponse {
  return { total_count: page.total, offset: offset ?? 0, data: page.items.map(notificationSummaryView) };
}

/** One notification with every attempt (`GET /sandbox/v1/notifications/{id}`). */
export function notificationDetailView(n: NotificationDetail): NotificationDetailResponse {
  return {
    ...notificationSummaryView(n),
    summary: n.summary,
    original_type: n.originalType,
    associated_data: n.associatedData,
    plaintext: n.plaintext,
    attempt_log: n.attemptLog.map(attemptView),
  };
}

/** Whether a merchant's deliveries are paused, and since when (wall-clock ms). */
export function deliveryStateView(pausedSince: number | undefined): DeliveryStateResponse {
  return {
    paused: pausedSince !== undefined,
    paused_time: pausedSince === undefined ? null : formatBeijingTime(pausedSince),
  };
}

export function forwardRuleView(r: ForwardRule): ForwardRuleView {
  return { id: r.id, from_url: r.fromUrl, to_url: r.toUrl };
}

/** The conformance probe's report (`POST /sandbox/v1/notifications/probe`). */
export function probeReportView(report: ProbeReport): ProbeResponse {
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
}
