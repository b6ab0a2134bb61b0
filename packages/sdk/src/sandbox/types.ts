import type { KnownStockState, StockState } from '../client/types/busifavor.js';
import type { Open, Rfc3339 } from '../client/types/common.js';

/**
 * Wire types of the sandbox's simulation API (`/sandbox/v1/…`), written by hand like the APIv3 ones:
 * field names exactly as on the wire (snake_case), times `yyyy-MM-ddTHH:mm:ss+08:00`. The server's build
 * checks them against its TypeBox contracts (`packages/server/src/contract/sdk-conformance.ts`).
 * @see docs/simulation.md, docs/busifavor-walkthrough.md
 */

/** Whom a rule or a clock setting applies to: the caller (the default) or every merchant. */
export type SandboxScope = 'merchant' | 'global';

// ─── Clock ────────────────────────────────────────────────────────────────────────────────────────────

/** What `POST /sandbox/v1/clock` does. */
export type ClockAction = 'freeze' | 'set' | 'advance' | 'resume';

/** POST /sandbox/v1/clock. */
export interface SetClockRequest {
  /** @default 'merchant' */
  scope?: SandboxScope;
  action: ClockAction;
  /** `freeze` (optional: where to stand still) and `set` (required): any RFC 3339 time with an offset. */
  time?: Rfc3339;
  /** `advance`: seconds to move (fractions allowed; negative needs `allow_backwards`). */
  seconds?: number;
  /** Allow a result earlier than the scope's current time (else 400 `INVALID_REQUEST`). */
  allow_backwards?: boolean;
}

/** One scope's own setting: time stands still, or runs `offset_seconds` away from the wall clock. */
export type SandboxClockSetting =
  | { mode: 'frozen'; now: Rfc3339 }
  | { mode: 'running'; now: Rfc3339; offset_seconds: number };

/** GET and POST /sandbox/v1/clock: the caller's business time and the settings it is made of. */
export interface SandboxClockState {
  mchid?: string;
  /** The caller's business time. */
  now: Rfc3339;
  /** The same, in milliseconds since the epoch. */
  now_ms: number;
  /** The real time, for comparison. */
  wall_time: Rfc3339;
  /** The effective mode. */
  mode: 'real' | 'frozen' | 'running';
  /** Whose setting decides. */
  source: 'merchant' | 'global' | 'real';
  /** The caller's own setting, or null. */
  merchant: SandboxClockSetting | null;
  /** The global setting, or null. */
  global: SandboxClockSetting | null;
}

// ─── Fault rules ──────────────────────────────────────────────────────────────────────────────────────

/** POST /sandbox/v1/faults: matching calls wait and/or fail with a WeChat error. */
export interface CreateFaultRequest {
  /** @default 'merchant' */
  scope?: SandboxScope;
  /** `GET`, `POST`, `PUT`, `PATCH`, `DELETE` or `*`. @default '*' */
  method?: string;
  /** A `/v3/…` path (`{name}` or `*` matches one segment) or a send endpoint `/sandbox/v1/busifavor/send/…`. */
  path: string;
  /** A catalog code (`SYSTEM_ERROR`, `FREQUENCY_LIMITED`, …) or, on a send path, `SYSTEMERROR`/`USER_GET_FAILED`. */
  code?: string;
  /** A documented alternative status of `code` (`SYSTEM_ERROR`: 500 or 400). */
  status?: number;
  /** Message instead of the catalog's. */
  message?: string;
  /** Wait this long (0–120000 ms) before answering. */
  delay_ms?: number;
  /** Fire on at most this many calls. @default unlimited */
  count?: number;
  /** Fire on this share (0 < f ≤ 1) of matching calls, by a seeded PRNG. */
  fraction?: number;
  /** 32-bit seed of that PRNG (generated when absent). */
  seed?: number;
  /** Stop firing at this instant (wall clock). */
  expire_time?: Rfc3339;
}

/** A fault rule with its counters; absent fields are omitted (no `remaining`: unlimited). */
export interface FaultRule {
  id: string;
  scope: SandboxScope;
  mchid?: string;
  /** `*` or an HTTP method. */
  method: string;
  path: string;
  /** Absent for a delay-only rule. */
  code?: string;
  status?: number;
  message?: string;
  delay_ms: number;
  remaining?: number;
  fraction?: number;
  seed: number;
  /** Matching calls seen. */
  matched: number;
  /** Calls it answered. */
  fired: number;
  expire_time?: Rfc3339;
  create_time: Rfc3339;
}

/** GET /sandbox/v1/faults: the caller's rules and the global ones. */
export interface FaultRuleList {
  total_count: number;
  data: FaultRule[];
}

// ─── Subsidy outcome rules ────────────────────────────────────────────────────────────────────────────

/** Documented `fail_reason`s a subsidy outcome rule can force. */
export type KnownSubsidyOutcomeFailReason =
  | 'PAY_RECEIPT_INSUFFICIENT_BALANCE'
  | 'PAY_RECEIPT_NOT_INCOMESPLIT_ORDER'
  | 'PAY_RECEIPT_OTHER'
  | 'PAY_RECEIPT_EXCEED_SUBSIDY_AMOUNT_QUOTA'
  | 'PAY_RECEIPT_EXCEED_SUBSIDY_COUNT_QUOTA'
  | 'RETURN_RECEIPT_INSUFFICIENT_BALANCE'
  | 'RETURN_RECEIPT_OTHER';

/** POST /sandbox/v1/busifavor/subsidy-outcomes: the next pay or return receipts end in FAIL. */
export interface CreateSubsidyOutcomeRequest {
  /** @default 'merchant' */
  scope?: SandboxScope;
  /** The prefix (`PAY_RECEIPT_`/`RETURN_RECEIPT_`) decides which receipts the rule applies to. */
  fail_reason: Open<KnownSubsidyOutcomeFailReason>;
  /** Only receipts of this stock. */
  stock_id?: string;
  /** Fail at most this many receipts (1–1000000). @default unlimited */
  count?: number;
  /** Stop at this instant (wall clock). */
  expire_time?: Rfc3339;
}

/** A subsidy outcome rule; absent fields are omitted (no `remaining`: unlimited). */
export interface SubsidyOutcomeRule {
  id: string;
  scope: SandboxScope;
  mchid?: string;
  receipt_type: 'PAY_RECEIPT' | 'RETURN_RECEIPT';
  stock_id?: string;
  fail_reason: string;
  remaining?: number;
  fired: number;
  expire_time?: Rfc3339;
  create_time: Rfc3339;
}

/** GET /sandbox/v1/busifavor/subsidy-outcomes. */
export interface SubsidyOutcomeRuleList {
  total_count: number;
  data: SubsidyOutcomeRule[];
}

// ─── Users and appids ─────────────────────────────────────────────────────────────────────────────────

/** POST /sandbox/v1/users. */
export interface CreateSandboxUserRequest {
  /** An openid is made under each (0–20). */
  appids: string[];
  /** Accounts of one ID holder share it (the natural-person cap). @default a new one */
  natural_person_id?: string;
  /** A suspicious user (refused by stocks with `prevent_api_abuse`). @default false */
  suspicious?: boolean;
}

/** A simulated WeChat user: one openid per appid. */
export interface SandboxUser {
  user_id: string;
  unionid: string;
  natural_person_id: string;
  suspicious: boolean;
  /** Openids keyed by appid. */
  openids: Record<string, string>;
}

/** POST /sandbox/v1/users/{user_id}/openids. */
export interface CreateSandboxOpenidRequest {
  appid: string;
}

/** The user's openid under an appid. */
export interface SandboxOpenid {
  appid: string;
  openid: string;
}

/** POST /sandbox/v1/appids. */
export interface BindAppidRequest {
  appid: string;
  /** The caller or one of its sub-merchants. @default the caller */
  mchid?: string;
}

/** The binding made. */
export interface AppidBinding {
  appid: string;
  mchid: string;
}

/** GET /sandbox/v1/appids: the appids bound to the caller. */
export interface AppidList {
  data: string[];
}

// ─── Front-end send channels ──────────────────────────────────────────────────────────────────────────

/** One coupon the mini-program plugin is asked to send. */
export interface PluginCouponParam {
  stock_id: string;
  out_request_no: string;
  /** MERCHANT_API stocks only. */
  coupon_code?: string;
}

/** POST /sandbox/v1/busifavor/send/miniapp: the plugin's attributes plus who the user is. */
export interface MiniappSendRequest {
  appid: string;
  openid: string;
  send_coupon_merchant: string;
  /** 1–10 coupons. */
  send_coupon_params: PluginCouponParam[];
  /** HMAC-SHA256 with the sender's APIv2 key over the flattened params (docs/protocol.md §12). */
  sign: string;
}

/** POST /sandbox/v1/busifavor/send/h5: the H5 page URL the merchant built. */
export interface H5SendRequest {
  /** `https://action.weixin.qq.com/busifavor/getcouponinfo?…#wechat_redirect`. */
  url: string;
}

/** What the sandbox client signs into an H5 URL (`send.h5Url`). */
export interface H5SendParams {
  stock_id: string;
  out_request_no: string;
  /** An openid of the user under an appid bound to the sender, the creator or the belong merchant. */
  open_id: string;
  /** @default the client's merchant */
  send_coupon_merchant?: string;
  coupon_code?: string;
}

/** POST /sandbox/v1/busifavor/send/paygift: a payment gift (支付有礼) after the payment. */
export interface PaygiftSendRequest {
  stock_id: string;
  appid: string;
  openid: string;
  transaction_id: string;
  out_request_no?: string;
}

/** The plugin's `errcode` values (268435461 is WeChat's number for an H5 URL without `#wechat_redirect`). */
export type KnownPluginErrcode =
  | 'OK'
  | 'PARAM_ERROR'
  | 'USER_NOT_EXISTS'
  | 'USER_GET_FAILED'
  | 'SIGN_ERROR'
  | 'SYSTEMERROR';

/** Per-coupon result codes. */
export type KnownPluginResultCode =
  | 'SUCCESS'
  | 'FAILED'
  | 'NOTENOUGH'
  | 'DAYLIMIT'
  | 'NATURELIMIT'
  | 'MAXQUOTA'
  | 'DUPREQUEST'
  | 'NOTRUNNING';

/** One coupon's outcome. */
export interface PluginSendItem {
  stock_id: string;
  out_request_no: string;
  /** The coupon sent (or the one a DUPREQUEST already sent). */
  coupon_code?: string;
  code: Open<KnownPluginResultCode>;
  message: string;
}

/** The plugin's `bind:sendcoupon` event detail, as every send channel answers (HTTP 200). */
export interface PluginSendResult {
  errcode: Open<KnownPluginErrcode> | 268435461;
  msg: string;
  send_coupon_result: PluginSendItem[];
}

// ─── Busifavor test hooks ─────────────────────────────────────────────────────────────────────────────

/** POST /sandbox/v1/busifavor/stocks/{stock_id}/state. */
export interface SetStockStateRequest {
  stock_state: Open<KnownStockState>;
}

/** The stock's state now. */
export interface SetStockStateResponse {
  stock_id: string;
  stock_state: StockState;
}

/** POST /sandbox/v1/busifavor/coupons/delete: the user deletes a coupon from the card bag. */
export interface SandboxDeleteCouponRequest {
  stock_id: string;
  coupon_code: string;
}

// ─── Notifications ────────────────────────────────────────────────────────────────────────────────────

/** Families whose callbacks the sandbox delivers. */
export type NotifyFamily = 'busifavor' | 'product-coupon' | 'delivery-plan';
/** Where a notification is in its delivery. */
export type NotificationState = 'pending' | 'no-target' | 'delivered' | 'dead';

/** GET /sandbox/v1/notifications (newest first). */
export interface ListNotificationsQuery {
  state?: NotificationState;
  event_type?: string;
  family?: NotifyFamily;
  /** 1–500. */
  limit?: number;
  offset?: number;
}

/** A notification in the delivery log (times are null until they happen). */
export interface NotificationSummary {
  id: string;
  /** One of {@link NotifyFamily}. */
  family: string;
  event_type: string;
  /** One of {@link NotificationState}. */
  state: string;
  /** Delivery attempts in all. */
  attempts: number;
  /** Attempts of the current round (a replay starts a new one). */
  round_attempts: number;
  next_attempt_time: Rfc3339 | null;
  last_status: number | null;
  last_error: string | null;
  delivered_time: Rfc3339 | null;
  create_time: Rfc3339;
}

/** GET /sandbox/v1/notifications. */
export interface NotificationList {
  total_count: number;
  offset: number;
  data: NotificationSummary[];
}

/** One delivery attempt. */
export interface NotificationAttempt {
  attempt_no: number;
  outcome: string;
  url: string | null;
  target_address: string | null;
  status: number | null;
  error: string | null;
  latency_ms: number;
  response_excerpt: string | null;
  request_id: string | null;
  instance_id: string | null;
  business_time: Rfc3339;
  start_time: Rfc3339;
}

/** GET /sandbox/v1/notifications/{id}: the summary, the event in plaintext and every attempt. */
export interface NotificationDetail extends NotificationSummary {
  summary: string;
  original_type: string;
  associated_data: string;
  /** The decrypted `resource` (e.g. the COUPON.SEND object). */
  plaintext: unknown;
  attempt_log: NotificationAttempt[];
}

/** POST /sandbox/v1/notifications/replay: either `ids` or `state`. */
export interface ReplayNotificationsRequest {
  ids?: string[];
  state?: NotificationState;
}

/** The ids queued again. */
export interface ReplayResult {
  replayed: string[];
}

/** Whether the caller's deliveries are paused. */
export interface DeliveryState {
  paused: boolean;
  paused_time: Rfc3339 | null;
}

/** POST /sandbox/v1/notifications-delivery/dispatch. */
export interface DispatchResult {
  /** Delivery attempts made. */
  attempts: number;
}

/** POST /sandbox/v1/notifications/probe: the family's notify URL (after forwarding) unless `url` is given. */
export interface ProbeRequest {
  family?: NotifyFamily;
  url?: string;
}

/** What the probed endpoint answered to one case. */
export interface ProbeCaseResult {
  /** e.g. `correct`, `bad-signature`. */
  case: string;
  expected: 'accept' | 'reject';
  status: number | null;
  accepted: boolean;
  passed: boolean;
  error: string | null;
  latency_ms: number;
}

/** The probe's report. */
export interface ProbeReport {
  url: string;
  passed: boolean;
  /** Forged notifications the endpoint accepted (each a security bug in the receiver). */
  accepted_forgeries: string[];
  /** The correct notification was not accepted with 200/204. */
  rejected_correct: boolean;
  results: ProbeCaseResult[];
}

/** POST /sandbox/v1/notification-forwards: deliveries to `from_url` go to `to_url`. */
export interface CreateForwardRequest {
  from_url: string;
  to_url: string;
}

/** A forwarding rule. */
export interface ForwardRule {
  id: string;
  from_url: string;
  to_url: string;
}

/** GET /sandbox/v1/notification-forwards. */
export interface ForwardRuleList {
  data: ForwardRule[];
}

/** POST /sandbox/v1/product-coupon/events. */
export interface ProductCouponEventRequest {
  event_type: 'PRODUCT_COUPON_SP.SEND' | 'PRODUCT_COUPON_SP.IMAGE_GENERATION';
  resource: Record<string, unknown>;
}

/** Delivery-plan states. */
export type DeliveryPlanState =
  | 'CREATED'
  | 'DELIVERING'
  | 'PLAN_TERMINATED'
  | 'PAUSED'
  | 'TERMINATED'
  | 'EXPIRED';

/** POST /sandbox/v1/delivery-plan/events: a DELIVERY_PLAN.CHANGE callback. */
export interface DeliveryPlanEventRequest {
  plan_id: string;
  plan_state: DeliveryPlanState;
  audit_state: 'PROCESSING' | 'PASSED' | 'REJECTED';
  change_reason?: string;
}

/** The notification an event queued. */
export interface NotificationQueued {
  notification_id: string;
}

// ─── Listen sessions ──────────────────────────────────────────────────────────────────────────────────

/** POST /sandbox/v1/listen-sessions: while the lease runs, the caller's callbacks go to `target_url`. */
export interface CreateListenSessionRequest {
  target_url: string;
  /** Only these event types (WeChat's spelling, e.g. `COUPON.SEND`). @default every event type */
  event_types?: string[];
  /** 1–300. @default 15 */
  lease_seconds?: number;
}

/** A listen session. */
export interface ListenSession {
  id: string;
  target_url: string;
  /** null: every event type. */
  event_types: string[] | null;
  lease_seconds: number;
  /** When the lease runs out unless renewed. */
  expire_time: Rfc3339;
  create_time: Rfc3339;
}

/** GET /sandbox/v1/listen-sessions: the live sessions, newest (the one that wins) first. */
export interface ListenSessionList {
  data: ListenSession[];
}

/** GET /sandbox/v1/listen-sessions/{id}/deliveries. */
export interface ListListenDeliveriesQuery {
  /** Wall-clock epoch ms: attempts started at or after it (the previous answer's `next_since`). */
  since?: number;
  /** 1–500. */
  limit?: number;
}

/** One delivery attempt made for a listen session. */
export interface ListenDelivery {
  /** The attempt's id: pages overlap, so skip ids already seen. */
  id: string;
  notification_id: string;
  event_type: string;
  attempt_no: number;
  /** `delivered`, `failed` or `refused`. */
  outcome: string;
  url: string | null;
  status: number | null;
  error: string | null;
  latency_ms: number;
  start_time: Rfc3339;
}

/** The attempts of a session, oldest first, and the `since` of the next poll. */
export interface ListenDeliveryList {
  data: ListenDelivery[];
  next_since: number;
}
