import type { Open, Rfc3339 } from '../client/types/common.js';
import type { NotificationEnvelope } from '../protocol/notification.js';

/**
 * Decrypted notification payloads, keyed by the envelope's `event_type`.
 * @see docs/busifavor.md §6.6, §7.3 and §7.4
 */

/** `attach_info` of COUPON.SEND (支付有礼, 营销馆, 会员有礼 channels only). */
export interface CouponSendAttachInfo {
  transaction_id?: string;
  act_code?: string;
  hall_code?: string;
  hall_belong_mch_id?: number;
  card_id?: string;
  code?: string;
  activity_id?: string;
  phone_number?: string;
  country_code?: string;
}

/** COUPON.SEND plaintext (商家券 received by a user). */
export interface CouponSendResource {
  event_type?: Open<'EVENT_TYPE_BUSICOUPON_SEND'>;
  coupon_code: string;
  stock_id: string;
  send_time: Rfc3339;
  openid?: string;
  unionid?: string;
  send_channel: Open<
    | 'BUSICOUPON_SEND_CHANNEL_MINIAPP'
    | 'BUSICOUPON_SEND_CHANNEL_API'
    | 'BUSICOUPON_SEND_CHANNEL_PAYGIFT'
    | 'BUSICOUPON_SEND_CHANNEL_H5'
    | 'BUSICOUPON_SEND_CHANNEL_FTOF'
    | 'BUSICOUPON_SEND_CHANNEL_MEMBERCARD_ACT'
    | 'BUSICOUPON_SEND_CHANNEL_HALL'
    | 'BUSICOUPON_SEND_CHANNEL_JSAPI'
  >;
  send_merchant: string;
  act_id?: string;
  attach_info?: CouponSendAttachInfo;
  phone_number?: string;
  country_code?: string;
}

/** PRODUCT_COUPON_SP.SEND plaintext. */
export interface ProductCouponSendResource {
  brand_id: string;
  coupon_code: string;
  product_coupon_id: string;
  stock_id: string;
  stock_bundle_id?: string;
  user_coupon_bundle_id?: string;
  appid: string;
  openid: string;
  unionid?: string;
  receive_time: Rfc3339;
  send_request_no: string;
  send_channel: Open<'API' | 'BRAND_MANAGE' | 'RECEIVE_COMPONENT' | 'MEMBER'>;
  valid_begin_time: Rfc3339;
  valid_end_time: Rfc3339;
  phone_number?: string;
  country_code?: string;
  attach?: string;
  channel_custom_info?: string;
}

/** PRODUCT_COUPON_SP.IMAGE_GENERATION plaintext. */
export interface ProductCouponImageGenerationResource {
  brand_id: string;
  task_id: string;
  image_generation_type: Open<'COMBINE_IMAGE' | 'CUT_OUT'>;
  task_state: Open<'PROCESSING' | 'FAIL' | 'SUCCESS'>;
  combine_image_result?: { image_url: string };
  cut_out_result?: { image_url: string };
}

/** DELIVERY_PLAN.CHANGE plaintext. */
export interface DeliveryPlanChangeResource {
  plan_id: string;
  plan_state: Open<'CREATED' | 'DELIVERING' | 'PLAN_TERMINATED' | 'PAUSED' | 'TERMINATED' | 'EXPIRED'>;
  audit_state: Open<'PROCESSING' | 'PASSED' | 'REJECTED'>;
  change_reason?: string;
  modify_time?: Rfc3339;
}

/** Known event types and their decrypted resources. */
export interface NotificationResourceMap {
  'COUPON.SEND': CouponSendResource;
  'PRODUCT_COUPON_SP.SEND': ProductCouponSendResource;
  'PRODUCT_COUPON_SP.IMAGE_GENERATION': ProductCouponImageGenerationResource;
  'DELIVERY_PLAN.CHANGE': DeliveryPlanChangeResource;
}

/** A known event type. */
export type KnownEventType = keyof NotificationResourceMap;

/** Fields every verified, decrypted event has. */
interface EventBase {
  /** Notification id; redeliveries reuse it, so deduplicate on it. */
  id: string;
  create_time: Rfc3339;
  summary: string;
  /** `resource.original_type`. */
  original_type: string;
  /** The decrypted plaintext exactly as it came out of AES-GCM. */
  plaintext: string;
  /** The envelope as received (resource still encrypted). */
  envelope: NotificationEnvelope;
  /** The `Wechatpay-Serial` whose key verified the signature. */
  verifiedBy: string;
}

/** A verified event of a known type. */
export type NotificationEventOf<T extends KnownEventType> = EventBase & {
  event_type: T;
  resource: NotificationResourceMap[T];
};

/**
 * What `event_type` says on an event whose type this SDK does not model. A known type is never reported
 * this way, so `switch (event.event_type)` narrows `resource` in every `case` of a known type (a plain
 * `string` member would swallow every case). The type WeChat sent is in `unknownEventType`.
 */
export const UNKNOWN_EVENT_TYPE = 'UNKNOWN';

/** A verified event whose type this SDK does not model; `resource` is the parsed plaintext. */
export type UnknownNotificationEvent = EventBase & {
  event_type: typeof UNKNOWN_EVENT_TYPE;
  /** The `event_type` WeChat sent (also `envelope.event_type`). */
  unknownEventType: string;
  resource: unknown;
};

/**
 * Any verified, decrypted notification, discriminated by `event_type`: `switch (event.event_type)` or
 * `if (event.event_type === 'COUPON.SEND')` types `resource`; events of other types have
 * `event_type: 'UNKNOWN'`.
 */
export type NotificationEvent =
  | { [K in KnownEventType]: NotificationEventOf<K> }[KnownEventType]
  | UnknownNotificationEvent;

// A record over KnownEventType, so adding a type to the map without listing it here does not compile.
const KNOWN: { readonly [K in KnownEventType]: true } = {
  'COUPON.SEND': true,
  'PRODUCT_COUPON_SP.SEND': true,
  'PRODUCT_COUPON_SP.IMAGE_GENERATION': true,
  'DELIVERY_PLAN.CHANGE': true,
};

/** Whether this SDK models (types the resource of) an `event_type` as sent by WeChat. */
export function isKnownEventType(type: string): type is KnownEventType {
  return Object.hasOwn(KNOWN, type);
}

/** Type guard narrowing an event to a known type. */
export function isEventType<T extends KnownEventType>(
  event: NotificationEvent,
  type: T,
): event is Extract<NotificationEvent, { event_type: T }> {
  return event.event_type === type;
}
