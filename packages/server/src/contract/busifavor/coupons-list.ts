import { type Static, Type } from '@sinclair/typebox';
import { Appid, CouponEntity, CouponState, Mchid, StockId } from './common.js';

/**
 * GET /v3/marketing/busifavor/users/{openid}/coupons — a user's coupons by filter (根据过滤条件查询用户券).
 * `offset` is a 0-based item offset; `limit` 1–50, default 20.
 * @see docs/busifavor.md §4.2, seed 002 §3.2.4
 */
export const OpenidParams = Type.Object({ openid: Type.String({ minLength: 1, maxLength: 128 }) });
export const ListUserCouponsQuery = Type.Object({
  appid: Appid,
  stock_id: Type.Optional(StockId),
  coupon_state: Type.Optional(CouponState),
  creator_merchant: Type.Optional(Mchid),
  belong_merchant: Type.Optional(Mchid),
  sender_merchant: Type.Optional(Mchid),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000000 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
});
export type ListUserCouponsQuery = Static<typeof ListUserCouponsQuery>;

export const ListUserCouponsResponse = Type.Object({
  data: Type.Array(CouponEntity),
  total_count: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
});
export type ListUserCouponsResponse = Static<typeof ListUserCouponsResponse>;
