import { type Static, Type } from '@sinclair/typebox';
import { StockId, StrictRequestNo } from './common.js';

/**
 * POST /v3/marketing/busifavor/subsidy/pay-receipts and GET …/pay-receipts/{subsidy_receipt_id}
 * (营销补差付款 / 查询营销补差付款单详情).
 * @see docs/busifavor.md §5, seed 002 §3.2.15–3.2.16
 */

/** Request fields that pay and return receipts share: the coupon, the order, who pays whom, how much. */
export const SUBSIDY_REQUEST_FIELDS = {
  stock_id: StockId,
  coupon_code: Type.String({ minLength: 1, maxLength: 128 }),
  transaction_id: Type.String({ minLength: 28, maxLength: 32 }),
  payer_merchant: Type.String({ minLength: 1, maxLength: 32 }),
  payee_merchant: Type.String({ minLength: 1, maxLength: 32 }),
  amount: Type.Integer({ minimum: 1, maximum: 500000 }),
  description: Type.String({ minLength: 1, maxLength: 1024 }),
};

/** Response fields that pay and return receipts share. */
export const SUBSIDY_RECEIPT_FIELDS = {
  stock_id: Type.String(),
  coupon_code: Type.String(),
  transaction_id: Type.String(),
  payer_merchant: Type.String(),
  payee_merchant: Type.String(),
  amount: Type.Integer(),
  description: Type.String(),
  status: Type.String(),
  fail_reason: Type.Optional(Type.String()),
};

export const CreateSubsidyPayReceiptBody = Type.Object({
  ...SUBSIDY_REQUEST_FIELDS,
  out_subsidy_no: StrictRequestNo,
});
export type CreateSubsidyPayReceiptBody = Static<typeof CreateSubsidyPayReceiptBody>;

export const SubsidyReceiptParams = Type.Object({
  subsidy_receipt_id: Type.String({ minLength: 28, maxLength: 32 }),
});

export const SubsidyPayReceipt = Type.Object({
  subsidy_receipt_id: Type.String(),
  ...SUBSIDY_RECEIPT_FIELDS,
  success_time: Type.Optional(Type.String()),
  out_subsidy_no: Type.String(),
  create_time: Type.Optional(Type.String()),
});
export type SubsidyPayReceipt = Static<typeof SubsidyPayReceipt>;
