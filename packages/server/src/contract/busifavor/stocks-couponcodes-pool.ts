import { type Static, Type } from '@sinclair/typebox';
import { Appid, CouponCode, CouponEntity, RequestNo, StockId, StringEnum } from './common.js';

/**
 * The code-pool helpers of MERCHANT_UPLOAD stocks: GET …/stocks/{stock_id}/couponcodes (查询预存code列表),
 * GET and DELETE …/stocks/{stock_id}/couponcodes/{coupon_code} (查询 / 删除预存code). Present in
 * wechatpay-go and wechatpay.im; no official page was found (unconfirmed).
 * @see docs/busifavor.md §3.6
 */

/** `AVAILABLE` (not given out yet) | `DISPATCHED` (assigned to a user), as wechatpay-go spells them. */
export const CODE_STATUSES = ['AVAILABLE', 'DISPATCHED'] as const;
export const CouponCodeStatus = StringEnum(CODE_STATUSES);
export type CouponCodeStatus = Static<typeof CouponCodeStatus>;

export const ListCodesQuery = Type.Object({
  /** Page size, 1–50 (default 20). */
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
  /** 0-based item offset (default 0). */
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000000 })),
  /** The appid under which `openid` is shown; without it no openid/unionid is returned. */
  appid: Type.Optional(Appid),
  /** Omitted: every code. */
  status: Type.Optional(CouponCodeStatus),
});
export type ListCodesQuery = Static<typeof ListCodesQuery>;

/** One pre-uploaded code (CouponCodeEntity). */
export const CouponCodeEntity = Type.Object({
  code: Type.String(),
  code_status: CouponCodeStatus,
  upload_time: Type.String(),
  dispatched_time: Type.Optional(Type.String()),
  openid: Type.Optional(Type.String()),
  unionid: Type.Optional(Type.String()),
  coupon_code: Type.Optional(Type.String()),
});
export type CouponCodeEntity = Static<typeof CouponCodeEntity>;

export const ListCodesResponse = Type.Object({
  stock_id: Type.String(),
  total_count: Type.Integer(),
  data: Type.Array(CouponCodeEntity),
  offset: Type.Integer(),
  limit: Type.Integer(),
});
export type ListCodesResponse = Static<typeof ListCodesResponse>;

export const StockCodeParams = Type.Object({ stock_id: StockId, coupon_code: CouponCode });
export type StockCodeParams = Static<typeof StockCodeParams>;

export const GetCodeQuery = Type.Object({ appid: Type.Optional(Appid) });
export type GetCodeQuery = Static<typeof GetCodeQuery>;

export const GetCodeResponse = Type.Object({
  code_information: CouponCodeEntity,
  /** Only for a DISPATCHED code: the user's coupon. */
  coupon_information: Type.Optional(CouponEntity),
});
export type GetCodeResponse = Static<typeof GetCodeResponse>;

export const DeleteCodeQuery = Type.Object({ delete_request_no: RequestNo });
export type DeleteCodeQuery = Static<typeof DeleteCodeQuery>;

export const DeleteCodeResponse = Type.Object({ stock_id: Type.String(), delete_time: Type.String() });
export type DeleteCodeResponse = Static<typeof DeleteCodeResponse>;
