import { type Static, Type } from '@sinclair/typebox';
import { StockId, StrictRequestNo } from './common.js';
import { SUBSIDY_RECEIPT_FIELDS, SUBSIDY_REQUEST_FIELDS, SubsidyPayReceipt } from './subsidy-pay-receipts.js';

/**
 * The lower-priority subsidy endpoints (wechatpay-go / wechatpay.im; unconfirmed against official
 * pages): POST /v3/marketing/busifavor/subsidy/return-receipts (营销补差回退), GET
 * …/return-receipts/{subsidy_return_receipt_id}, and GET …/subsidy/pay-receipts?stock_id&coupon_code
 * (查询营销补差付款单列表).
 * @see docs/busifavor.md §5.3
 */
export const CreateSubsidyReturnReceiptBody = Type.Object({
  ...SUBSIDY_REQUEST_FIELDS,
  refund_id: Type.String({ minLength: 1, maxLength: 32 }),
  out_subsidy_return_no: StrictRequestNo,
});
export type CreateSubsidyReturnReceiptBody = Static<typeof CreateSubsidyReturnReceiptBody>;

export const SubsidyReturnReceiptParams = Type.Object({
  subsidy_return_receipt_id: Type.String({ minLength: 1, maxLength: 32 }),
});

export const SubsidyReturnReceipt = Type.Object({
  subsidy_return_receipt_id: Type.Optional(Type.String()),
  ...SUBSIDY_RECEIPT_FIELDS,
  refund_id: Type.String(),
  return_done_time: Type.Optional(Type.String()),
  subsidy_receipt_id: Type.String(),
  out_subsidy_return_no: Type.String(),
  return_create_time: Type.Optional(Type.String()),
});
export type SubsidyReturnReceipt = Static<typeof SubsidyReturnReceipt>;

export const ListSubsidyPayReceiptsQuery = Type.Object({
  stock_id: StockId,
  coupon_code: Type.String({ minLength: 1, maxLength: 128 }),
  out_subsidy_no: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
});
export type ListSubsidyPayReceiptsQuery = Static<typeof ListSubsidyPayReceiptsQuery>;

export const ListSubsidyPayReceiptsResponse = Type.Object({
  pay_receipt_list: Type.Array(SubsidyPayReceipt),
});
export type ListSubsidyPayReceiptsResponse = Static<typeof ListSubsidyPayReceiptsResponse>;
