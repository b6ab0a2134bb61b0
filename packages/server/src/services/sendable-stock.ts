import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type { CreateStockBody } from '../contract/busifavor/stocks-create.js';

/** What differs between the stocks the CLI makes (`trigger`, `seed`). */
export interface SendableStock {
  mchid: string;
  /** Callbacks carry the user's openid under it (notify_config.notify_appid). */
  appid: string;
  nowMs: number;
  /** Names the command that made it, in stock_name and comment. */
  madeBy: string;
  /** Days the coupons can be used, from an hour before `nowMs`. */
  days: number;
  maxCoupons: number;
  maxCouponsPerUser: number;
  outRequestNo: string;
}

/**
 * A 满10减1 stock that can send at once: usable from an hour before now, WeChat Pay generated codes,
 * notify_appid set, so its sends queue COUPON.SEND callbacks with the user's openid.
 */
export function sendableStockBody(s: SendableStock): CreateStockBody {
  return {
    stock_name: `${s.madeBy} 满10减1`,
    belong_merchant: s.mchid,
    comment: `wechatpay-sandbox ${s.madeBy}`,
    goods_name: '全场通用',
    stock_type: 'NORMAL',
    coupon_use_rule: {
      coupon_available_time: {
        available_begin_time: formatBeijingTime(s.nowMs - 3_600_000),
        available_end_time: formatBeijingTime(s.nowMs + s.days * 86_400_000),
      },
      fixed_normal_coupon: { discount_amount: 100, transaction_minimum: 1000 },
      use_method: 'OFF_LINE',
    },
    stock_send_rule: { max_coupons: s.maxCoupons, max_coupons_per_user: s.maxCouponsPerUser },
    out_request_no: s.outRequestNo,
    coupon_code_mode: 'WECHATPAY_MODE',
    notify_config: { notify_appid: s.appid },
  };
}
