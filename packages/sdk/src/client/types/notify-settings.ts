import type { Rfc3339 } from './common.js';

/**
 * Notify-URL settings of the busifavor, product-coupon and delivery-plan families.
 * @see docs/busifavor.md §7
 */

/** POST /v3/marketing/busifavor/callbacks */
export interface SetBusifavorCallbackRequest {
  /** Defaults to the caller. */
  mchid?: string;
  /** HTTPS, 10–256 characters, no query string. */
  notify_url: string;
}
/** Response of POST /v3/marketing/busifavor/callbacks */
export interface SetBusifavorCallbackResponse {
  update_time: Rfc3339;
  notify_url: string;
  mchid: string;
}
/** Query of GET /v3/marketing/busifavor/callbacks */
export interface GetBusifavorCallbackQuery {
  mchid?: string;
}
/** Response of GET /v3/marketing/busifavor/callbacks */
export interface GetBusifavorCallbackResponse {
  mchid: string;
  notify_url: string;
}

/** POST /v3/marketing/partner/product-coupon/notify-configs */
export interface SetProductCouponNotifyConfigRequest {
  notify_url: string;
}
/** Response of GET and POST /v3/marketing/partner/product-coupon/notify-configs */
export interface ProductCouponNotifyConfigResponse {
  notify_url: string;
  update_time: Rfc3339;
}

/** POST /v3/marketing/partner/delivery-plan/{sp_mchid}/notify-url (body) */
export interface SetDeliveryPlanNotifyUrlRequest {
  notify_url: string;
}
/** Response of POST /v3/marketing/partner/delivery-plan/{sp_mchid}/notify-url */
export interface SetDeliveryPlanNotifyUrlResponse {
  notify_url: string;
}
