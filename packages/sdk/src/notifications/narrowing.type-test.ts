import { createNotificationDispatcher } from './dispatcher.js';
import type {
  CouponSendResource,
  DeliveryPlanChangeResource,
  NotificationEvent,
  ProductCouponImageGenerationResource,
  ProductCouponSendResource,
} from './events.js';

/**
 * Compile-time checks of event narrowing. `npm run typecheck` (which `npm test` runs before vitest) fails
 * when `switch (event.event_type)` stops typing `resource`, e.g. if an event variant with
 * `event_type: string` comes back. Never called; nothing imports it, and the package build leaves it out.
 */

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

export function narrowingTypeTest(event: NotificationEvent): string {
  switch (event.event_type) {
    case 'COUPON.SEND': {
      const exact: Equal<typeof event.resource, CouponSendResource> = true;
      return `${exact}${event.resource.coupon_code}${event.resource.stock_id}`;
    }
    case 'PRODUCT_COUPON_SP.SEND': {
      const exact: Equal<typeof event.resource, ProductCouponSendResource> = true;
      return `${exact}${event.resource.product_coupon_id}`;
    }
    case 'PRODUCT_COUPON_SP.IMAGE_GENERATION': {
      const exact: Equal<typeof event.resource, ProductCouponImageGenerationResource> = true;
      return `${exact}${event.resource.task_state}`;
    }
    case 'DELIVERY_PLAN.CHANGE': {
      const exact: Equal<typeof event.resource, DeliveryPlanChangeResource> = true;
      return `${exact}${event.resource.plan_state}`;
    }
    // @ts-expect-error an unmodelled type is reported as 'UNKNOWN', so its own name is no case
    case 'COUPON.USE':
      return '';
    case 'UNKNOWN': {
      const exact: Equal<typeof event.resource, unknown> = true;
      // @ts-expect-error the resource of an unknown event is not typed
      const guessed: string = event.resource.coupon_code;
      return `${exact}${event.unknownEventType}${guessed}`;
    }
    default: {
      // Exhaustive: every variant has a case above.
      const none: never = event;
      return none;
    }
  }
}

export function equalityNarrowingTypeTest(event: NotificationEvent): string | undefined {
  if (event.event_type === 'DELIVERY_PLAN.CHANGE') {
    const exact: Equal<typeof event.resource, DeliveryPlanChangeResource> = true;
    return `${exact}${event.resource.audit_state}`;
  }
  return undefined;
}

export const dispatcherTypeTest = createNotificationDispatcher()
  .on('COUPON.SEND', (e) => {
    const exact: Equal<typeof e.resource, CouponSendResource> = true;
    void exact;
  })
  .on('COUPON.USE', (e) => {
    const exact: Equal<typeof e.resource, unknown> = true;
    void exact;
  });
