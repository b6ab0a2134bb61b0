import { randomBytes } from 'node:crypto';
import { formatBeijingTime, signParamsHmacSha256 } from '@wechatpay-sandbox/sdk/protocol';
import type { WireClient } from './client.js';

/**
 * The real state a fuzz run starts from (and re-reads to prove rejected requests changed nothing):
 * every id a fuzzed request may name, so that valid-ish requests reach the handlers' business rules.
 */
export interface FuzzWorld {
  mchid: string;
  /** Business time the merchant's virtual clock is frozen at (ms). */
  nowMs: number;
  appid: string;
  userId: string;
  openid: string;
  unionid: string;
  /** A running WECHATPAY_MODE stock with coupons sent to {@link FuzzWorld.openid}. */
  stockId: string;
  /** A MERCHANT_UPLOAD stock with codes in its pool. */
  uploadStockId: string;
  /** A MERCHANT_API stock. */
  apiStockId: string;
  /** Coupons of {@link FuzzWorld.stockId} in state SENDED (as seeded). */
  couponCodes: string[];
  /** A coupon of {@link FuzzWorld.stockId} that was used, paid a subsidy for, and partly returned. */
  usedCouponCode: string;
  uploadCodes: string[];
  payReceiptId: string;
  returnReceiptId: string;
  outSubsidyNo: string;
  faultRuleId: string;
  outcomeRuleId: string;
  forwardId: string;
  notificationIds: string[];
  /** The notify URLs the seed set (loopback port 9: nothing listens, nothing leaves the machine). */
  notifyUrl: string;
}

/** A transaction id the subsidy receipts name. */
export const FUZZ_TRANSACTION_ID = '4200000913202101152566792388';
/** The never-matching path of the seeded fault rule (rules only count matching calls). */
export const NEVER_FAULTED_PATH = '/v3/marketing/busifavor/fuzz-never-matches';

/** A fresh request number (letters and digits: valid for every request-number field). */
export function requestNo(prefix: string): string {
  return `${prefix}${Date.now()}${randomBytes(5).toString('hex')}`;
}

async function ok(
  client: WireClient,
  method: string,
  target: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await client.call(method, target, body);
  if (res.status < 200 || res.status >= 300) {
    throw new Error(`seeding: ${method} ${target} answered ${res.status} ${res.text.slice(0, 500)}`);
  }
  return (res.json ?? {}) as Record<string, unknown>;
}

const BASE = '/v3/marketing/busifavor';

/** A create-stock body valid at `nowMs` (window: an hour ago to 30 days ahead). */
export function stockBody(world: Pick<FuzzWorld, 'mchid' | 'nowMs'>, extra: Record<string, unknown> = {}) {
  return {
    stock_name: '满10减1',
    belong_merchant: world.mchid,
    comment: 'fuzz',
    goods_name: '全场通用',
    stock_type: 'NORMAL',
    coupon_use_rule: {
      coupon_available_time: {
        available_begin_time: formatBeijingTime(world.nowMs - 3_600_000),
        available_end_time: formatBeijingTime(world.nowMs + 30 * 86_400_000),
      },
      fixed_normal_coupon: { discount_amount: 100, transaction_minimum: 1000 },
      use_method: 'OFF_LINE',
    },
    stock_send_rule: { max_coupons: 100_000, max_coupons_per_user: 100 },
    out_request_no: requestNo('STOCK'),
    coupon_code_mode: 'WECHATPAY_MODE',
    ...extra,
  };
}

/** Sends `count` coupons of `stockId` to the user through the mini-program plugin simulation. */
export async function pluginSend(
  client: WireClient,
  world: Pick<FuzzWorld, 'mchid' | 'appid' | 'openid'>,
  stockId: string,
  count: number,
): Promise<string[]> {
  const params = Array.from({ length: count }, () => ({
    stock_id: stockId,
    out_request_no: requestNo('SEND'),
  }));
  const flat: Record<string, string> = { send_coupon_merchant: world.mchid };
  params.forEach((p, i) => {
    flat[`stock_id${i}`] = p.stock_id;
    flat[`out_request_no${i}`] = p.out_request_no;
  });
  const sent = await ok(client, 'POST', '/sandbox/v1/busifavor/send/miniapp', {
    appid: world.appid,
    openid: world.openid,
    send_coupon_merchant: world.mchid,
    send_coupon_params: params,
    sign: signParamsHmacSha256(flat, client.target.apiV2Key),
  });
  const results = sent.send_coupon_result as Array<{ coupon_code?: string; code: string }>;
  const codes = results.map((r) => r.coupon_code).filter((c): c is string => typeof c === 'string');
  if (codes.length !== count) throw new Error(`seeding: plugin send answered ${JSON.stringify(sent)}`);
  return codes;
}

/** Creates the fuzz world through the API, as a merchant would (README's worked example and more). */
export async function seedWorld(client: WireClient): Promise<FuzzWorld> {
  const mchid = client.target.mchid;
  const clock = await ok(client, 'POST', '/sandbox/v1/clock', { action: 'freeze' });
  const nowMs = clock.now_ms as number;
  const appid = `wx${randomBytes(8).toString('hex')}`;
  await ok(client, 'POST', '/sandbox/v1/appids', { appid });
  const user = await ok(client, 'POST', '/sandbox/v1/users', { appids: [appid] });
  const openid = (user.openids as Record<string, string>)[appid] as string;
  const notifyUrl = 'https://127.0.0.1:9/fuzz/notify';
  await ok(client, 'POST', `${BASE}/callbacks`, { mchid, notify_url: notifyUrl });
  await ok(client, 'POST', '/v3/marketing/partner/product-coupon/notify-configs', { notify_url: notifyUrl });
  await ok(client, 'POST', `/v3/marketing/partner/delivery-plan/${mchid}/notify-url`, {
    notify_url: notifyUrl,
  });

  const base = { mchid, nowMs };
  const stockId = (
    await ok(client, 'POST', `${BASE}/stocks`, stockBody(base, { notify_config: { notify_appid: appid } }))
  ).stock_id as string;
  const uploadStockId = (
    await ok(client, 'POST', `${BASE}/stocks`, stockBody(base, { coupon_code_mode: 'MERCHANT_UPLOAD' }))
  ).stock_id as string;
  const apiStockId = (
    await ok(client, 'POST', `${BASE}/stocks`, stockBody(base, { coupon_code_mode: 'MERCHANT_API' }))
  ).stock_id as string;
  const uploadCodes = Array.from(
    { length: 4 },
    (_, i) => `FUZZ${i}${randomBytes(4).toString('hex').toUpperCase()}`,
  );
  await ok(client, 'POST', `${BASE}/stocks/${uploadStockId}/couponcodes`, {
    coupon_code_list: uploadCodes,
    upload_request_no: requestNo('UP'),
  });

  const world0 = { mchid, appid, openid };
  const [usedCouponCode, ...couponCodes] = await pluginSend(client, world0, stockId, 4);
  await ok(client, 'POST', `${BASE}/coupons/use`, {
    coupon_code: usedCouponCode,
    stock_id: stockId,
    appid,
    use_time: formatBeijingTime(nowMs),
    use_request_no: requestNo('USE'),
  });
  const parties = {
    stock_id: stockId,
    coupon_code: usedCouponCode,
    transaction_id: FUZZ_TRANSACTION_ID,
    payer_merchant: mchid,
    payee_merchant: mchid,
  };
  const outSubsidyNo = requestNo('SUB');
  const pay = await ok(client, 'POST', `${BASE}/subsidy/pay-receipts`, {
    ...parties,
    amount: 100,
    description: 'fuzz',
    out_subsidy_no: outSubsidyNo,
  });
  const ret = await ok(client, 'POST', `${BASE}/subsidy/return-receipts`, {
    ...parties,
    refund_id: '50100506732021010105138718375',
    amount: 10,
    description: 'fuzz',
    out_subsidy_return_no: requestNo('RET'),
  });

  const fault = await ok(client, 'POST', '/sandbox/v1/faults', {
    method: 'PUT',
    path: NEVER_FAULTED_PATH,
    code: 'RULE_LIMIT',
  });
  const outcome = await ok(client, 'POST', '/sandbox/v1/busifavor/subsidy-outcomes', {
    fail_reason: 'PAY_RECEIPT_OTHER',
    stock_id: uploadStockId,
    count: 1,
  });
  const forward = await ok(client, 'POST', '/sandbox/v1/notification-forwards', {
    from_url: notifyUrl,
    to_url: 'http://127.0.0.1:9/fuzz/forwarded',
  });
  await ok(client, 'POST', '/sandbox/v1/delivery-plan/events', {
    plan_id: 'PLAN0001',
    plan_state: 'DELIVERING',
    audit_state: 'PASSED',
  });
  const listed = await ok(client, 'GET', '/sandbox/v1/notifications?limit=20');
  const notificationIds = (listed.data as Array<{ id: string }>).map((n) => n.id);
  return {
    mchid,
    nowMs,
    appid,
    userId: user.user_id as string,
    openid,
    unionid: user.unionid as string,
    stockId,
    uploadStockId,
    apiStockId,
    couponCodes,
    usedCouponCode: usedCouponCode as string,
    uploadCodes,
    payReceiptId: pay.subsidy_receipt_id as string,
    returnReceiptId: ret.subsidy_return_receipt_id as string,
    outSubsidyNo,
    faultRuleId: fault.id as string,
    outcomeRuleId: outcome.id as string,
    forwardId: forward.id as string,
    notificationIds,
    notifyUrl,
  };
}

/** The values worth reusing in fuzzed fields: every seeded id, the merchant, the clock's time. */
export function worldDictionary(world: FuzzWorld): string[] {
  return [
    world.mchid,
    world.appid,
    world.userId,
    world.openid,
    world.unionid,
    world.stockId,
    world.uploadStockId,
    world.apiStockId,
    ...world.couponCodes,
    world.usedCouponCode,
    ...world.uploadCodes,
    world.payReceiptId,
    world.returnReceiptId,
    world.outSubsidyNo,
    world.faultRuleId,
    world.outcomeRuleId,
    world.forwardId,
    ...world.notificationIds,
    formatBeijingTime(world.nowMs),
    FUZZ_TRANSACTION_ID,
  ];
}
