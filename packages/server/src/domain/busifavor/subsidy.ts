import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type {
  CreateSubsidyPayReceiptBody,
  SubsidyPayReceipt,
} from '../../contract/busifavor/subsidy-pay-receipts.js';
import type {
  CreateSubsidyReturnReceiptBody,
  ListSubsidyPayReceiptsQuery,
  ListSubsidyPayReceiptsResponse,
  SubsidyReturnReceipt,
} from '../../contract/busifavor/subsidy-return-receipts.js';
import { errors } from '../../errors.js';
import { paramError, runOnce, stockNotFound } from './common.js';
import { effectiveCouponState } from './coupons.js';
import {
  PAID_RECEIPT_STATES,
  type SubsidyMovement,
  type SubsidyReceipt,
  type SubsidyReturn,
} from './model.js';
import type { BusifavorDeps, InjectedSubsidyFailure } from './ports.js';

/**
 * Subsidy pay receipts (营销补差付款): the payer (creator or belong merchant) moves money to the merchant
 * that redeemed a coupon. Idempotent on `out_subsidy_no`. The sandbox settles at once: the receipt is
 * PAY_RECEIPT_SUCCESS, or PAY_RECEIPT_FAIL with a reason when a quota is exceeded. A receipt that would
 * succeed may instead fail with a reason a simulation rule injected (`deps.subsidyOutcomes`): it is
 * stored like any FAIL receipt and moves no money.
 * @see docs/busifavor.md §5
 */

/**
 * Runs a receipt's unit of work with a simulated failure taken beforehand (outside it: on SQLite the
 * unit of work holds the only connection). `work` calls `use(receiptId)` when it writes a receipt with
 * the injected reason. The failure is given back unless the answer is that receipt: a refusal, a replay
 * (the stored receipt), a receipt failing for its own reason, or a rerun attempt uses none.
 */
async function withInjectedFailure<T>(
  deps: BusifavorDeps,
  target: { kind: 'pay' | 'return'; mchid: string; stockId: string },
  receiptIdOf: (answer: T) => string | undefined,
  work: (injected: InjectedSubsidyFailure | undefined, use: (receiptId: string) => void) => Promise<T>,
): Promise<T> {
  const port = deps.subsidyOutcomes;
  const taken = port ? await port.take(target) : undefined;
  if (!port || !taken) return work(undefined, () => {});
  let usedBy: string | undefined;
  let answer: T | undefined;
  let answered = false;
  try {
    answer = await work(taken, (receiptId) => {
      usedBy = receiptId;
    });
    answered = true;
    return answer;
  } finally {
    if (!(answered && usedBy !== undefined && receiptIdOf(answer as T) === usedBy))
      await port.giveBack(taken);
  }
}

/** The most one receipt may move: 5000 CNY. */
export const MAX_SUBSIDY_FEN = 500000;

/**
 * Payer and payee must be known merchants (400 MCH_NOT_EXISTS), and the caller must be the payer
 * (403 NO_AUTH).
 */
async function checkPayerPayee(
  deps: BusifavorDeps,
  caller: string,
  body: { payer_merchant: string; payee_merchant: string },
): Promise<void> {
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
}

/** Whether the caller may read a receipt: its payer, its payee, or the merchant that created it. */
function canSeeReceipt(r: { mchid: string; payerMerchant: string; payeeMerchant: string }, caller: string) {
  return r.payerMerchant === caller || r.payeeMerchant === caller || r.mchid === caller;
}

/** What a pay or return receipt copies from its request (the fields both requests share). */
function movementOf(
  caller: string,
  body: Omit<CreateSubsidyPayReceiptBody, 'out_subsidy_no'>,
  status: string,
  failReason: string | null,
): SubsidyMovement {
  return {
    mchid: caller,
    stockId: body.stock_id,
    couponCode: body.coupon_code,
    transactionId: body.transaction_id,
    payerMerchant: body.payer_merchant,
    payeeMerchant: body.payee_merchant,
    amount: body.amount,
    description: body.description,
    status,
    failReason,
  };
}

/** Creates (or replays) a subsidy pay receipt. */
export async function createSubsidyPayReceipt(
  deps: BusifavorDeps,
  caller: string,
  body: CreateSubsidyPayReceiptBody,
): Promise<SubsidyPayReceipt> {
  const now = deps.clock.now(caller);
  await checkPayerPayee(deps, caller, body);
  const key = {
    caller,
    op: 'subsidy-pay',
    requestNo: body.out_subsidy_no,
    request: body,
    field: '/out_subsidy_no',
  };
  const target = { kind: 'pay', mchid: caller, stockId: body.stock_id } as const;
  return withInjectedFailure(
    deps,
    target,
    (r) => r.subsidy_receipt_id,
    (injected, use) =>
      runOnce(deps, key, now, async (tx) => {
        const stock = await tx.stocks.find(body.stock_id);
        if (!stock) throw stockNotFound(body.stock_id);
        if (stock.stockType === 'EXCHANGE') throw paramError('/stock_id', '换购券批次不支持营销补差');
        const coupon = await tx.coupons.find(body.stock_id, body.coupon_code, { lock: true });
        if (!coupon)
          throw errors.RESOURCE_NOT_EXISTS('券不存在', { field: '/coupon_code', location: 'body' });
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
        const already = await tx.subsidies.paidTotal(stock.stockId, coupon.couponCode);
        const discount =
          stock.definition.coupon_use_rule.fixed_normal_coupon?.discount_amount ?? MAX_SUBSIDY_FEN;
        const subsidyReceiptId = deps.ids.digits(28);
        let failReason: string | null = null;
        if (already > 0) failReason = 'PAY_RECEIPT_EXCEED_SUBSIDY_COUNT_QUOTA';
        else if (body.amount > Math.min(discount, MAX_SUBSIDY_FEN))
          failReason = 'PAY_RECEIPT_EXCEED_SUBSIDY_AMOUNT_QUOTA';
        else if (injected) {
          failReason = injected.failReason;
          use(subsidyReceiptId);
        }
        const receipt: SubsidyReceipt = {
          ...movementOf(caller, body, failReason ? 'PAY_RECEIPT_FAIL' : 'PAY_RECEIPT_SUCCESS', failReason),
          subsidyReceiptId,
          outSubsidyNo: body.out_subsidy_no,
          successMs: failReason ? null : now,
          createMs: now,
        };
        await tx.subsidies.insertReceipt(receipt);
        return renderSubsidyReceipt(receipt);
      }),
  );
}

/** GET a receipt; only its payer or payee sees it. */
export async function getSubsidyPayReceipt(
  deps: BusifavorDeps,
  caller: string,
  subsidyReceiptId: string,
): Promise<SubsidyPayReceipt> {
  const receipt = await deps.store.read.subsidies.findReceipt(subsidyReceiptId);
  if (!receipt || !canSeeReceipt(receipt, caller)) {
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

/** The coupon's pay receipts the caller may see, optionally one `out_subsidy_no` (查询营销补差付款单列表). */
export async function listSubsidyPayReceipts(
  deps: BusifavorDeps,
  caller: string,
  query: ListSubsidyPayReceiptsQuery,
): Promise<ListSubsidyPayReceiptsResponse> {
  if (!(await deps.store.read.stocks.find(query.stock_id))) throw stockNotFound(query.stock_id);
  const receipts = (await deps.store.read.subsidies.listReceipts(query.stock_id, query.coupon_code)).filter(
    (r) =>
      canSeeReceipt(r, caller) &&
      (query.out_subsidy_no === undefined || r.outSubsidyNo === query.out_subsidy_no),
  );
  return { pay_receipt_list: receipts.map(renderSubsidyReceipt) };
}

/**
 * Returns subsidy money (营销补差回退) of a paid receipt for the same coupon, order, payer and payee.
 * Settles at once: RETURN_RECEIPT_SUCCESS, and the pay receipt becomes PAY_RECEIPT_PARTIAL_RETURN or
 * PAY_RECEIPT_FULL_RETURN; a return beyond what is left of the paid amount is RETURN_RECEIPT_FAIL with
 * RETURN_RECEIPT_OTHER. Idempotent on `out_subsidy_return_no`.
 */
export async function createSubsidyReturnReceipt(
  deps: BusifavorDeps,
  caller: string,
  body: CreateSubsidyReturnReceiptBody,
): Promise<SubsidyReturnReceipt> {
  const now = deps.clock.now(caller);
  await checkPayerPayee(deps, caller, body);
  const key = {
    caller,
    op: 'subsidy-return',
    requestNo: body.out_subsidy_return_no,
    request: body,
    field: '/out_subsidy_return_no',
  };
  const target = { kind: 'return', mchid: caller, stockId: body.stock_id } as const;
  return withInjectedFailure(
    deps,
    target,
    (r) => r.subsidy_return_receipt_id,
    (injected, use) =>
      runOnce(deps, key, now, async (tx) => {
        if (!(await tx.stocks.find(body.stock_id))) throw stockNotFound(body.stock_id);
        // The coupon's row lock serialises the returns (and payments) of one coupon.
        if (!(await tx.coupons.find(body.stock_id, body.coupon_code, { lock: true }))) {
          throw errors.RESOURCE_NOT_EXISTS('券不存在', { field: '/coupon_code', location: 'body' });
        }
        const paid = (await tx.subsidies.listReceipts(body.stock_id, body.coupon_code)).find(
          (r) =>
            (PAID_RECEIPT_STATES as readonly string[]).includes(r.status) &&
            r.transactionId === body.transaction_id &&
            r.payerMerchant === body.payer_merchant &&
            r.payeeMerchant === body.payee_merchant,
        );
        if (!paid) {
          throw errors.RESOURCE_NOT_EXISTS('补差付款单不存在', {
            field: '/transaction_id',
            value: body.transaction_id,
            location: 'body',
            issue: 'no paid subsidy receipt for this coupon, order, payer and payee',
          });
        }
        const returned = await tx.subsidies.returnedTotal(paid.subsidyReceiptId);
        const subsidyReturnReceiptId = deps.ids.digits(28);
        let failReason: string | null = returned + body.amount <= paid.amount ? null : 'RETURN_RECEIPT_OTHER';
        if (failReason === null && injected) {
          failReason = injected.failReason;
          use(subsidyReturnReceiptId);
        }
        const ok = failReason === null;
        const receipt: SubsidyReturn = {
          ...movementOf(caller, body, ok ? 'RETURN_RECEIPT_SUCCESS' : 'RETURN_RECEIPT_FAIL', failReason),
          subsidyReturnReceiptId,
          outSubsidyReturnNo: body.out_subsidy_return_no,
          subsidyReceiptId: paid.subsidyReceiptId,
          refundId: body.refund_id,
          returnDoneMs: ok ? now : null,
          returnCreateMs: now,
        };
        await tx.subsidies.insertReturn(receipt);
        if (ok) {
          const full = returned + body.amount === paid.amount;
          await tx.subsidies.setReceiptStatus(
            paid.subsidyReceiptId,
            full ? 'PAY_RECEIPT_FULL_RETURN' : 'PAY_RECEIPT_PARTIAL_RETURN',
          );
        }
        return renderSubsidyReturn(receipt);
      }),
  );
}

/** GET a return receipt; only its payer, payee or creator sees it. */
export async function getSubsidyReturnReceipt(
  deps: BusifavorDeps,
  caller: string,
  subsidyReturnReceiptId: string,
): Promise<SubsidyReturnReceipt> {
  const receipt = await deps.store.read.subsidies.findReturn(subsidyReturnReceiptId);
  if (!receipt || !canSeeReceipt(receipt, caller)) {
    throw errors.RESOURCE_NOT_EXISTS('补差回退单不存在', {
      field: 'subsidy_return_receipt_id',
      value: subsidyReturnReceiptId,
      location: 'path',
    });
  }
  return renderSubsidyReturn(receipt);
}

/** The wire form of a return receipt (field order of wechatpay.im). */
export function renderSubsidyReturn(r: SubsidyReturn): SubsidyReturnReceipt {
  const out: Partial<SubsidyReturnReceipt> = {
    subsidy_return_receipt_id: r.subsidyReturnReceiptId,
    stock_id: r.stockId,
    coupon_code: r.couponCode,
    transaction_id: r.transactionId,
    refund_id: r.refundId,
    payer_merchant: r.payerMerchant,
    payee_merchant: r.payeeMerchant,
    amount: r.amount,
    description: r.description,
    status: r.status,
  };
  if (r.failReason !== null) out.fail_reason = r.failReason;
  if (r.returnDoneMs !== null) out.return_done_time = formatBeijingTime(r.returnDoneMs);
  out.subsidy_receipt_id = r.subsidyReceiptId;
  out.out_subsidy_return_no = r.outSubsidyReturnNo;
  out.return_create_time = formatBeijingTime(r.returnCreateMs);
  return out as SubsidyReturnReceipt;
}
