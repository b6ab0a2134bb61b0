import { type Static, Type } from '@sinclair/typebox';
import { Appid, CouponCode, CouponEntity } from './common.js';

/**
 * GET /v3/marketing/busifavor/users/{openid}/coupons/{coupon_code}/appids/{appid} — one coupon
 * (查询用户单张券详情).
 * @see docs/busifavor.md §4.3, seed 002 §3.2.5
 */
export const GetUserCouponParams = Type.Object({
  openid: Type.String({ minLength: 1, maxLength: 128 }),
  coupon_code: CouponCode,
  appid: Appid,
});
export type GetUserCouponParams = Static<typeof GetUserCouponParams>;
export const GetUserCouponResponse = CouponEntity;
export type GetUserCouponResponse = Static<typeof GetUserCouponResponse>;
