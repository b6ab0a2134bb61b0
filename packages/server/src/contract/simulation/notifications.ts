import { type Static, Type } from '@sinclair/typebox';
import { StringEnum } from '../busifavor/common.js';
import { Nullable } from './rules.js';

/**
 * Wire contract of the notification pipeline's simulation API under `/sandbox/v1/`: the delivery log
 * (list, inspect, replay), pause/resume of the caller's deliveries, forwarding rules, the conformance
 * probe, and the events of the families that have no business API here (product coupons, delivery plans).
 * @see docs/fidelity.md "Notifications"
 */

/** The families whose callbacks the sandbox delivers. */
export const NOTIFY_FAMILIES = ['busifavor', 'product-coupon', 'delivery-plan'] as const;
/** Where a notification is in its delivery. */
export const NOTIFICATION_STATES = ['pending', 'no-target', 'delivered', 'dead'] as const;

/** Product-coupon event types (商品券). */
export const PRODUCT_COUPON_EVENT_TYPES = [
  'PRODUCT_COUPON_SP.SEND',
  'PRODUCT_COUPON_SP.IMAGE_GENERATION',
] as const;

/** Plan states a DELIVERY_PLAN.CHANGE callback carries. */
export const DELIVERY_PLAN_STATES = [
  'CREATED',
  'DELIVERING',
  'PLAN_TERMINATED',
  'PAUSED',
  'TERMINATED',
  'EXPIRED',
] as const;

/** Audit states a DELIVERY_PLAN.CHANGE callback carries. */
export const DELIVERY_PLAN_AUDIT_STATES = ['PROCESSING', 'PASSED', 'REJECTED'] as const;

/** GET /sandbox/v1/notifications */
export const ListNotificationsQuery = Type.Object(
  {
    state: Type.Optional(StringEnum(NOTIFICATION_STATES)),
    event_type: Type.Optional(Type.String({ maxLength: 64 })),
    family: Type.Optional(StringEnum(NOTIFY_FAMILIES)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 })),
  },
  { additionalProperties: false },
);
export type ListNotificationsQuery = Static<typeof ListNotificationsQuery>;

/** `{id}` of a notification or of a forwarding rule. */
export const SimIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 40 }) });

/** POST /sandbox/v1/notifications/replay: either `ids` or `state`. */
export const ReplayNotificationsBody = Type.Object(
  {
    ids: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { minItems: 1, maxItems: 1000 }),
    ),
    state: Type.Optional(StringEnum(NOTIFICATION_STATES)),
  },
  { additionalProperties: false },
);
export type ReplayNotificationsBody = Static<typeof ReplayNotificationsBody>;

/** POST /sandbox/v1/notifications/probe: the family's notify URL (after forwarding) unless `url` is given. */
export const ProbeBody = Type.Object(
  {
    family: Type.Optional(StringEnum(NOTIFY_FAMILIES)),
    url: Type.Optional(Type.String({ minLength: 8, maxLength: 512 })),
  },
  { additionalProperties: false },
);
export type ProbeBody = Static<typeof ProbeBody>;

/** POST /sandbox/v1/notification-forwards */
export const ForwardBody = Type.Object(
  {
    from_url: Type.String({ minLength: 8, maxLength: 256 }),
    to_url: Type.String({ minLength: 8, maxLength: 512 }),
  },
  { additionalProperties: false },
);
export type ForwardBody = Static<typeof ForwardBody>;

/** POST /sandbox/v1/product-coupon/events */
export const ProductCouponEventBody = Type.Object(
  {
    event_type: StringEnum(PRODUCT_COUPON_EVENT_TYPES),
    resource: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);
export type ProductCouponEventBody = Static<typeof ProductCouponEventBody>;

/** POST /sandbox/v1/delivery-plan/events */
export const DeliveryPlanEventBody = Type.Object(
  {
    plan_id: Type.String({ minLength: 1, maxLength: 64 }),
    plan_state: StringEnum(DELIVERY_PLAN_STATES),
    audit_state: StringEnum(DELIVERY_PLAN_AUDIT_STATES),
    change_reason: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type DeliveryPlanEventBody = Static<typeof DeliveryPlanEventBody>;

/** A notification in the delivery log (times are null until they happen). */
export const NotificationSummaryView = Type.Object({
  id: Type.String(),
  /** One of {@link NOTIFY_FAMILIES}. */
  family: Type.String(),
  event_type: Type.String(),
  /** One of {@link NOTIFICATION_STATES}. */
  state: Type.String(),
  attempts: Type.Integer(),
  round_attempts: Type.Integer(),
  next_attempt_time: Nullable(Type.String()),
  last_status: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  delivered_time: Nullable(Type.String()),
  create_time: Type.String(),
});
export type NotificationSummaryView = Static<typeof NotificationSummaryView>;

/** GET /sandbox/v1/notifications */
export const NotificationListResponse = Type.Object({
  total_count: Type.Integer(),
  offset: Type.Integer(),
  data: Type.Array(NotificationSummaryView),
});
export type NotificationListResponse = Static<typeof NotificationListResponse>;

/** One delivery attempt of a notification. */
export const NotificationAttemptView = Type.Object({
  attempt_no: Type.Integer(),
  outcome: Type.String(),
  url: Nullable(Type.String()),
  target_address: Nullable(Type.String()),
  status: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  latency_ms: Type.Number(),
  response_excerpt: Nullable(Type.String()),
  request_id: Nullable(Type.String()),
  instance_id: Nullable(Type.String()),
  business_time: Type.String(),
  start_time: Type.String(),
});
export type NotificationAttemptView = Static<typeof NotificationAttemptView>;

/** GET /sandbox/v1/notifications/{id}: the summary, the event in plaintext and every attempt. */
export const NotificationDetailResponse = Type.Object({
  ...NotificationSummaryView.properties,
  summary: Type.String(),
  original_type: Type.String(),
  associated_data: Type.String(),
  plaintext: Type.Unknown(),
  attempt_log: Type.Array(NotificationAttemptView),
});
export type NotificationDetailResponse = Static<typeof NotificationDetailResponse>;

/** The ids a replay queued again. */
export const ReplayResponse = Type.Object({ replayed: Type.Array(Type.String()) });
export type ReplayResponse = Static<typeof ReplayResponse>;

/** Whether the caller's deliveries are paused, and since when. */
export const DeliveryStateResponse = Type.Object({
  paused: Type.Boolean(),
  paused_time: Nullable(Type.String()),
});
export type DeliveryStateResponse = Static<typeof DeliveryStateResponse>;

/** POST /sandbox/v1/notifications-delivery/dispatch: the delivery attempts it made. */
export const DispatchResponse = Type.Object({ attempts: Type.Integer() });
export type DispatchResponse = Static<typeof DispatchResponse>;

/** A forwarding rule: deliveries to `from_url` go to `to_url`. */
export const ForwardRuleView = Type.Object({
  id: Type.String(),
  from_url: Type.String(),
  to_url: Type.String(),
});
export type ForwardRuleView = Static<typeof ForwardRuleView>;

/** GET /sandbox/v1/notification-forwards */
export const ForwardRulesResponse = Type.Object({ data: Type.Array(ForwardRuleView) });
export type ForwardRulesResponse = Static<typeof ForwardRulesResponse>;

/** What the probed endpoint answered to one case. */
export const ProbeCaseResultView = Type.Object({
  /** The case, e.g. `bad-signature` or `correct`. */
  case: Type.String(),
  /** `accept` only for the correct notification. */
  expected: Type.Union([Type.Literal('accept'), Type.Literal('reject')]),
  status: Nullable(Type.Integer()),
  accepted: Type.Boolean(),
  passed: Type.Boolean(),
  error: Nullable(Type.String()),
  latency_ms: Type.Number(),
});
export type ProbeCaseResultView = Static<typeof ProbeCaseResultView>;

/** POST /sandbox/v1/notifications/probe: the report. */
export const ProbeResponse = Type.Object({
  url: Type.String(),
  passed: Type.Boolean(),
  /** Wrong notifications the endpoint accepted (each one a security bug in the receiver). */
  accepted_forgeries: Type.Array(Type.String()),
  /** The correct notification was not accepted with 200/204. */
  rejected_correct: Type.Boolean(),
  results: Type.Array(ProbeCaseResultView),
});
export type ProbeResponse = Static<typeof ProbeResponse>;

/** The notification an event queued. */
export const NotificationQueuedResponse = Type.Object({ notification_id: Type.String() });
export type NotificationQueuedResponse = Static<typeof NotificationQueuedResponse>;
