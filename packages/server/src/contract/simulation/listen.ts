import { type Static, Type } from '@sinclair/typebox';
import { Nullable } from './rules.js';

/**
 * Wire contract of listen sessions under `/sandbox/v1/listen-sessions` (what `wechatpay-sandbox listen`
 * uses): while a session's lease runs, the caller's callbacks of the selected event types are delivered to
 * its URL instead of the registered notify URL.
 * @see docs/simulation.md "Listen sessions"
 */

/** Event types a session may select: WeChat's spelling (`COUPON.SEND`, `PRODUCT_COUPON_SP.SEND`). */
export const LISTEN_EVENT_TYPE_PATTERN = '^[A-Z0-9_]+(\\.[A-Z0-9_]+)+$';

/** Default lease of a session, seconds. */
export const DEFAULT_LISTEN_LEASE_SECONDS = 15;
/** Longest lease a session may ask for, seconds. */
export const MAX_LISTEN_LEASE_SECONDS = 300;

/** POST /sandbox/v1/listen-sessions */
export const ListenSessionBody = Type.Object(
  {
    target_url: Type.String({ minLength: 8, maxLength: 512 }),
    event_types: Type.Optional(
      Type.Array(Type.String({ minLength: 3, maxLength: 64, pattern: LISTEN_EVENT_TYPE_PATTERN }), {
        minItems: 1,
        maxItems: 32,
      }),
    ),
    lease_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LISTEN_LEASE_SECONDS })),
  },
  { additionalProperties: false },
);
export type ListenSessionBody = Static<typeof ListenSessionBody>;

/** A listen session. */
export const ListenSessionView = Type.Object({
  id: Type.String(),
  target_url: Type.String(),
  /** null = every event type. */
  event_types: Nullable(Type.Array(Type.String())),
  lease_seconds: Type.Integer(),
  expire_time: Type.String(),
  create_time: Type.String(),
});
export type ListenSessionView = Static<typeof ListenSessionView>;

/** GET /sandbox/v1/listen-sessions: the live sessions, newest (the one that wins) first. */
export const ListenSessionsResponse = Type.Object({ data: Type.Array(ListenSessionView) });
export type ListenSessionsResponse = Static<typeof ListenSessionsResponse>;

/** GET /sandbox/v1/listen-sessions/{id}/deliveries */
export const ListenDeliveriesQuery = Type.Object(
  {
    /** Wall-clock epoch ms: attempts started at or after it (the previous answer's `next_since`). */
    since: Type.Optional(Type.Integer({ minimum: 0, maximum: 9_000_000_000_000_000 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  },
  { additionalProperties: false },
);
export type ListenDeliveriesQuery = Static<typeof ListenDeliveriesQuery>;

/** One attempt made for a session. */
export const ListenDeliveryView = Type.Object({
  /** The attempt's id: pages overlap, a poller skips ids it has seen. */
  id: Type.String(),
  notification_id: Type.String(),
  event_type: Type.String(),
  attempt_no: Type.Integer(),
  /** 'delivered' | 'failed' | 'refused' */
  outcome: Type.String(),
  url: Nullable(Type.String()),
  status: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  latency_ms: Type.Integer(),
  start_time: Type.String(),
});
export type ListenDeliveryView = Static<typeof ListenDeliveryView>;

/** The attempts of a session, oldest first, and the `since` of the next poll. */
export const ListenDeliveriesResponse = Type.Object({
  data: Type.Array(ListenDeliveryView),
  next_since: Type.Integer(),
});
export type ListenDeliveriesResponse = Static<typeof ListenDeliveriesResponse>;
