import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type {
  DELIVERY_PLAN_AUDIT_STATES,
  DELIVERY_PLAN_STATES,
  PRODUCT_COUPON_EVENT_TYPES,
} from '../contract/simulation/notifications.js';
import type { NotificationEvent, NotifyFamily } from '../domain/ports.js';

/**
 * Notification events of the families that have no business API here yet (product coupons, delivery
 * plans), triggered through the simulation API, and sample events for the conformance probe.
 * @see docs/busifavor.md §7.3, §7.4
 */

/** A product-coupon event type. */
export type ProductCouponEventType = (typeof PRODUCT_COUPON_EVENT_TYPES)[number];

const PRODUCT_COUPON_SUMMARIES: Record<ProductCouponEventType, string> = {
  'PRODUCT_COUPON_SP.SEND': '商品券发放通知',
  'PRODUCT_COUPON_SP.IMAGE_GENERATION': '商品券图片生成通知',
};

/** A 商品券 event to the service provider's product-coupon notify URL. */
export function productCouponEvent(
  mchid: string,
  eventType: ProductCouponEventType,
  plaintext: Record<string, unknown>,
): NotificationEvent {
  return {
    mchid,
    family: 'product-coupon',
    eventType,
    summary: PRODUCT_COUPON_SUMMARIES[eventType],
    originalType: 'product_coupon',
    associatedData: 'product_coupon',
    plaintext,
  };
}

/** A plan change as the simulation API receives it. */
export interface DeliveryPlanChange {
  planId: string;
  planState: (typeof DELIVERY_PLAN_STATES)[number];
  auditState: (typeof DELIVERY_PLAN_AUDIT_STATES)[number];
  changeReason: string;
}

/** A 投放计划 DELIVERY_PLAN.CHANGE event (current form, docs/busifavor.md §7.4). */
export function deliveryPlanChangeEvent(
  mchid: string,
  change: DeliveryPlanChange,
  businessMs: number,
): NotificationEvent {
  return {
    mchid,
    family: 'delivery-plan',
    eventType: 'DELIVERY_PLAN.CHANGE',
    summary: '投放计划状态变更通知',
    originalType: 'delivery_plan',
    associatedData: 'delivery_plan',
    plaintext: {
      plan_id: change.planId,
      plan_state: change.planState,
      audit_state: change.auditState,
      change_reason: change.changeReason,
      modify_time: formatBeijingTime(businessMs),
    },
  };
}

/** A plausible event of a family, for the conformance probe (its content is never acted on). */
export function sampleEvent(family: NotifyFamily, mchid: string, businessMs: number): NotificationEvent {
  const time = formatBeijingTime(businessMs);
  switch (family) {
    case 'busifavor':
      return {
        mchid,
        family,
        eventType: 'COUPON.SEND',
        summary: '商家券领券通知',
        originalType: 'coupon',
        associatedData: 'coupon',
        plaintext: {
          event_type: 'EVENT_TYPE_BUSICOUPON_SEND',
          coupon_code: 'PROBE0000000001',
          stock_id: '1000000000',
          send_time: time,
          send_channel: 'BUSICOUPON_SEND_CHANNEL_API',
          send_merchant: mchid,
        },
      };
    case 'product-coupon':
      return productCouponEvent(mchid, 'PRODUCT_COUPON_SP.IMAGE_GENERATION', {
        brand_id: '120344',
        task_id: 'PROBE0000000001',
        image_generation_type: 'CUT_OUT',
        task_state: 'FAIL',
      });
    case 'delivery-plan':
      return deliveryPlanChangeEvent(
        mchid,
        { planId: 'PROBE0000000001', planState: 'PAUSED', auditState: 'PASSED', changeReason: 'probe' },
        businessMs,
      );
  }
}
