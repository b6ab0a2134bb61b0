import { type Static, Type } from '@sinclair/typebox';
import { CouponCode, StockId, StrictRequestNo } from './common.js';

/**
 * POST /v3/marketing/busifavor/coupons/associate and /disassociate — link or unlink a merchant order
 * (关联/取消关联订单信息).
 * @see docs/busifavor.md §4.4–4.5, seed 002 §3.2.9–3.2.10
 */
export const AssociateBody = Type.Object({
  stock_id: StockId,
  coupon_code: CouponCode,
  out_trade_no: Type.String({ minLength: 1, maxLength: 128 }),
  out_request_no: StrictRequestNo,
});
export type AssociateBody = Static<typeof AssociateBody>;

export const AssociateResponse = Type.Object({ wechatpay_associate_time: Type.String() });
export type AssociateResponse = Static<typeof AssociateResponse>;
export const DisassociateResponse = Type.Object({ wechatpay_disassociate_time: Type.String() });
export type DisassociateResponse = Static<typeof DisassociateResponse>;
