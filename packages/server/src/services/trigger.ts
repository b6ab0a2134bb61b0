import { formatBeijingTime, signParamsHmacSha256 } from '@wechatpay-sandbox/sdk/protocol';
import { createStock } from '../domain/busifavor/stocks.js';
import type { IdGen } from '../domain/ports.js';
import { pluginSend } from '../sim/send.js';
import type { BusifavorAdapters } from './busifavor.js';
import type { NotificationsService } from './notifications.js';
import { sendableStockBody } from './sendable-stock.js';

/**
 * `wechatpay-sandbox trigger EVENT` (like `stripe trigger`): makes one callback of a merchant happen,
 * creating what it needs through the same paths the APIs use, and says what it created.
 * - `coupon.send`: binds a new appid to the merchant, creates a simulated user with an openid under it,
 *   creates a stock by the domain's create-stock rules, and sends one coupon through the mini-program
 *   plugin channel (signed with the merchant's APIv2 key), whose send queues COUPON.SEND.
 * - `product-coupon.send`, `product-coupon.image-generation`: a plausible resource queued through the
 *   product-coupon event path of the simulation API (same resource checks).
 * - `delivery-plan.change`: a DELIVERY_PLAN.CHANGE through the delivery-plan event path.
 */

/** The events `trigger` knows, by their CLI name. */
export const TRIGGER_EVENTS = [
  'coupon.send',
  'product-coupon.send',
  'product-coupon.image-generation',
  'delivery-plan.change',
] as const;
export type TriggerEvent = (typeof TRIGGER_EVENTS)[number];

/** What a trigger created (name → id, in creation order) and the notification it queued. */
export interface Triggered {
  event: TriggerEvent;
  /** The callback's event type on the wire (`COUPON.SEND`…). */
  eventType: string;
  created: Array<{ what: string; id: string }>;
  notificationId: string;
}

/** The merchant cannot do what the trigger needs (unknown merchant, no APIv2 key, a refused send). */
export class TriggerFailedError extends Error {
  override name = 'TriggerFailedError';
}

/** What the trigger service works with. */
export interface TriggerServiceDeps {
  busifavor: BusifavorAdapters;
  notifications: NotificationsService;
  ids: Pick<IdGen, 'token' | 'digits'>;
}

export class TriggerService {
  constructor(private readonly deps: TriggerServiceDeps) {}

  /** Makes `event` happen for `mchid`. Throws TriggerFailedError (or a WechatError from a domain rule). */
  trigger(event: TriggerEvent, mchid: string): Promise<Triggered> {
    switch (event) {
      case 'coupon.send':
        return this.couponSend(mchid);
      case 'product-coupon.send':
        return this.productCouponSend(mchid);
      case 'product-coupon.image-generation':
        return this.productCouponImage(mchid);
      case 'delivery-plan.change':
        return this.deliveryPlanChange(mchid);
    }
  }

  private async couponSend(mchid: string): Promise<Triggered> {
    const { busifavor, notifications, ids } = this.deps;
    const { users, deps } = busifavor;
    const apiV2Key = await deps.directory.merchantApiV2Key(mchid);
    if (apiV2Key === undefined) throw new TriggerFailedError(`merchant ${mchid} is not registered`);
    if (!apiV2Key) {
      throw new TriggerFailedError(
        `merchant ${mchid} has no APIv2 key, which the mini-program plugin send is signed with; register it with one (wechatpay-sandbox merchant add … --api-v2-key K) or trigger for the dev merchant`,
      );
    }
    const appid = `wx${ids.token(16).toLowerCase()}`;
    await users.bindAppid(appid, mchid);
    const user = await users.createUser({ appids: [appid] });
    const openid = user.openids[appid] as string;
    const now = notifications.businessNow(mchid);
    const body = sendableStockBody({
      mchid,
      appid,
      nowMs: now,
      madeBy: 'trigger',
      days: 30,
      maxCoupons: 100,
      maxCouponsPerUser: 5,
      outRequestNo: `TRIGGER${ids.digits(12)}`,
    });
    const stock = await createStock(deps, mchid, body);
    const outRequestNo = `TRIGGER${ids.digits(18)}`;
    const params = [{ stock_id: stock.stock_id, out_request_no: outRequestNo }];
    const sign = signParamsHmacSha256(
      { send_coupon_merchant: mchid, stock_id0: stock.stock_id, out_request_no0: outRequestNo },
      apiV2Key,
    );
    const sent = await pluginSend(busifavor, mchid, {
      appid,
      openid,
      send_coupon_merchant: mchid,
      send_coupon_params: params,
      sign,
    });
    const item = sent.send_coupon_result[0];
    if (sent.errcode !== 'OK' || item?.code !== 'SUCCESS' || item.coupon_code === undefined) {
      throw new TriggerFailedError(
        `the plugin send was refused: ${item ? `${item.code} ${item.message}` : `${sent.errcode} ${sent.msg}`}`,
      );
    }
    const couponCode = item.coupon_code;
    return {
      event: 'coupon.send',
      eventType: 'COUPON.SEND',
      created: [
        { what: 'appid', id: appid },
        { what: 'user', id: user.user_id },
        { what: 'openid', id: openid },
        { what: 'stock', id: stock.stock_id },
        { what: 'coupon', id: couponCode },
      ],
      notificationId: await this.couponSendNotification(mchid, stock.stock_id, couponCode),
    };
  }

  /** The COUPON.SEND the send queued in its transaction (found by its stock and coupon code). */
  private async couponSendNotification(mchid: string, stockId: string, couponCode: string): Promise<string> {
    const { notifications } = this.deps;
    const { items } = await notifications.list(mchid, { eventType: 'COUPON.SEND', limit: 20 });
    for (const summary of items) {
      const detail = await notifications.get(mchid, summary.id);
      const plaintext = detail?.plaintext as { stock_id?: unknown; coupon_code?: unknown } | undefined;
      if (plaintext?.stock_id === stockId && plaintext.coupon_code === couponCode) return summary.id;
    }
    throw new TriggerFailedError(`the send of coupon ${couponCode} queued no COUPON.SEND notification`);
  }

  private async productCouponSend(mchid: string): Promise<Triggered> {
    const { notifications, ids } = this.deps;
    const now = notifications.businessNow(mchid);
    const rfc3339 = (ms: number) => formatBeijingTime(ms);
    const resource = {
      brand_id: ids.digits(6),
      coupon_code: ids.digits(16),
      product_coupon_id: ids.digits(12),
      stock_id: ids.digits(10),
      appid: `wx${ids.token(16).toLowerCase()}`,
      openid: `o${ids.token(27)}`,
      receive_time: rfc3339(now),
      send_request_no: `TRIGGER${ids.digits(18)}`,
      send_channel: 'API',
      valid_begin_time: rfc3339(now),
      valid_end_time: rfc3339(now + 30 * 86_400_000),
    };
    const notificationId = await notifications.enqueueProductCouponEvent(
      mchid,
      'PRODUCT_COUPON_SP.SEND',
      resource,
    );
    return {
      event: 'product-coupon.send',
      eventType: 'PRODUCT_COUPON_SP.SEND',
      created: [
        { what: 'brand', id: resource.brand_id },
        { what: 'product coupon', id: resource.product_coupon_id },
        { what: 'stock', id: resource.stock_id },
        { what: 'coupon', id: resource.coupon_code },
      ],
      notificationId,
    };
  }

  private async productCouponImage(mchid: string): Promise<Triggered> {
    const { notifications, ids } = this.deps;
    const resource = {
      brand_id: ids.digits(6),
      task_id: `TASK${ids.digits(16)}`,
      image_generation_type: 'CUT_OUT',
      task_state: 'SUCCESS',
      cut_out_result: { image_url: `https://wxpaylogo.qpic.cn/sandbox/${ids.token(16)}.png` },
    };
    const notificationId = await notifications.enqueueProductCouponEvent(
      mchid,
      'PRODUCT_COUPON_SP.IMAGE_GENERATION',
      resource,
    );
    return {
      event: 'product-coupon.image-generation',
      eventType: 'PRODUCT_COUPON_SP.IMAGE_GENERATION',
      created: [
        { what: 'brand', id: resource.brand_id },
        { what: 'image task', id: resource.task_id },
      ],
      notificationId,
    };
  }

  private async deliveryPlanChange(mchid: string): Promise<Triggered> {
    const { notifications, ids } = this.deps;
    const planId = ids.digits(12);
    const notificationId = await notifications.enqueueDeliveryPlanChange(mchid, {
      planId,
      planState: 'DELIVERING',
      auditState: 'PASSED',
      changeReason: 'wechatpay-sandbox trigger',
    });
    return {
      event: 'delivery-plan.change',
      eventType: 'DELIVERY_PLAN.CHANGE',
      created: [{ what: 'delivery plan', id: planId }],
      notificationId,
    };
  }
}
