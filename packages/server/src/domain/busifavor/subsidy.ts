import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type {
  CreateSubsidyPayReceiptBody,
  SubsidyPayReceipt,
} from '../../contract/busifavor/subsidy-pay-receipts.js';
import { errors } from '../../errors.js';
import { paramError, runOnce, stockNotFound } from './common.js';
import { effectiveCouponState } from './coupons.js';
import type { BusifavorDeps, SubsidyReceipt } from './model.js';

/**
 * Subsidy pay receipts (营销补差付款): the payer (creator or belong merchant) moves money to the merchant
 * that redeemed a coupon. Idempotent on `out_subsidy_no`. The sandbox settles at once: the receipt is
 * PAY_RECEIPT_SUCCESS, or PAY_RECEIPT_FAIL with a reason when a quota is exceeded.
 * @see ../../../../../shared/docs/busifavor.md §5
 */

/** The most one receipt may move: 5000 CNY. */
export const MAX_SUBSIDY_FEN = 500000;

/** Creates (or replays) a subsidy pay receipt. */
export async function createSubsidyPayReceipt(
  deps: BusifavorDeps,
  caller: string,
  body: CreateSubsidyPayReceiptBody,
): Promise<SubsidyPayReceipt> {
  const now = deps.clock.now(caller);
  for (const [field, mchid] of [
    ['/payer_merchant', body.payer_merchant],
    ['/payee_merchant', body.payee_merchant],
  ] as const) {
    if ((await deps.directory.merchantParent(mchid)) === undefined) {
      throw errors.MCH_NOT_EXISTS(`${field.slice(1)} 商户号不存在`, {
        field,
        value: mchid,
        location: 'body',
      });
    }
  }
  if (body.payer_merchant !== caller) {
    throw errors.NO_AUTH('payer_merchant 必须为请求方商户号', { field: '/payer_merchant', location: 'body' });
  }
  const key = {
    caller,
    op: 'subsidy-pay',
    requestNo: body.out_subsidy_no,
    request: body,
    field: '/out_subsidy_no',
  };
  return runOnce(deps, key, now, async (tx) => {
    const stock = await tx.findStock(body.stock_id);
    if (!stock) throw stockNotFound(body.stock_id);
    if (stock.stockType === 'EXCHANGE') throw paramError('/stock_id', '换购券批次不支持营销补差');
    const coupon = await tx.findCoupon(body.stock_id, body.coupon_code, { lock: true });
    if (!coupon) throw errors.RESOURCE_NOT_EXISTS('券不存在', { field: '/coupon_code', location: 'body' });
    if (body.payer_merchant !== stock.creatorMchid && body.payer_merchant !== stock.belongMerchant) {
      throw errors.NO_AUTH('payer_merchant 须为批次的创建商户或归属商户', {
        field: '/payer_merchant',
        location: 'body',
      });
    }
    if (body.payee_merchant !== stock.belongMerchant) {
      throw errors.NO_AUTH('payee_merchant 须为批次的归属商户', {
        field: '/payee_merchant',
        location: 'body',
      });
    }
    if (effectiveCouponState(coupon, now) !== 'USED') {
      throw errors.INVALID_REQUEST('券未核销，不可营销补差', { field: '/coupon_code', location: 'body' });
    }
    const already = await tx.subsidyTotal(stock.stockId, coupon.couponCode);
    const discount = stock.definition.coupon_use_rule.fixed_normal_coupon?.discount_amount ?? MAX_SUBSIDY_FEN;
    let failReason: string | null = null;
    if (already > 0) failReason = 'PAY_RECEIPT_EXCEED_SUBSIDY_COUNT_QUOTA';
    else if (body.amount > Math.min(discount, MAX_SUBSIDY_FEN))
      failReason = 'PAY_RECEIPT_EXCEED_SUBSIDY_AMOUNT_QUOTA';
    const receipt: SubsidyReceipt = {
      subsidyReceiptId: deps.ids.digits(28),
      mchid: caller,
      outSubsidyNo: body.out_subsidy_no,
      stockId: body.stock_id,
      couponCode: body.coupon_code,
      transactionId: body.transaction_id,
      payerMerchant: body.payer_merchant,
      payeeMerchant: body.payee_merchant,
      amount: body.amount,
      description: body.description,
      status: failReason ? 'PAY_RECEIPT_FAIL' : 'PAY_RECEIPT_SUCCESS',
      failReason,
      successMs: failReason ? null : now,
      createMs: now,
    };
    await tx.insertSubsidyReceipt(receipt);
    return renderSubsidyReceipt(receipt);
  });
}

/** GET a receipt; only its payer or payee sees it. */
export async function getSubsidyPayReceipt(
  deps: BusifavorDeps,
  caller: string,
  subsidyReceiptId: string,
): Promise<SubsidyPayReceipt> {
  const receipt = await deps.store.findSubsidyReceipt(subsidyReceiptId);
  if (
    !receipt ||
    (receipt.payerMerchant !== caller && receipt.payeeMerchant !== caller && receipt.mchid !== caller)
  ) {
    throw errors.RESOURCE_NOT_EXISTS('补差付款单不存在', {
      field: 'subsidy_receipt_id',
      value: subsidyReceiptId,
      location: 'path',
    });
  }
  return renderSubsidyReceipt(receipt);
}

/** The wire form of a receipt. */
export function renderSubsidyReceipt(r: SubsidyReceipt): SubsidyPayReceipt {
  const out: Omit<SubsidyPayReceipt, 'out_subsidy_no'> & { out_subsidy_no?: string } = {
    subsidy_receipt_id: r.subsidyReceiptId,
    stock_id: r.stockId,
    coupon_code: r.couponCode,
    transaction_id: r.transactionId,
    payer_merchant: r.payerMerchant,
    payee_merchant: r.payeeMerchant,
    amount: r.amount,
    description: r.description,
    status: r.status,
  };
  if (r.failReason !== null) out.fail_reason = r.failReason;
  if (r.successMs !== null) out.success_time = formatBeijingTime(r.successMs);
  out.out_subsidy_no = r.outSubsidyNo;
  out.create_time = formatBeijingTime(r.createMs);
  return out as SubsidyPayReceipt;
}
