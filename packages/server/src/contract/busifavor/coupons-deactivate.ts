import { type Static, Type } from '@sinclair/typebox';
import { CouponCode, RequestNo, StockId } from './common.js';

/**
 * POST /v3/marketing/busifavor/coupons/deactivate — deactivate an unused coupon (使券失效).
 * @see docs/busifavor.md §4.7, seed 002 §3.2.14
 */
export const DeactivateCouponBody = Type.Object({
  coupon_code: CouponCode,
  stock_id: StockId,
  deactivate_request_no: RequestNo,
  deactivate_reason: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
});
export type DeactivateCouponBody = Static<typeof DeactivateCouponBody>;
export const DeactivateCouponResponse = Type.Object({ wechatpay_deactivate_time: Type.String() });
export type DeactivateCouponResponse = Static<typeof DeactivateCouponResponse>;
