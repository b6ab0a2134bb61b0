import { verifyParamsHmacSha256 } from '@wechatpay-sandbox/sdk/protocol';
import type { SimUserRepo } from '../db/sim-users-repo.js';
import { canManageStock, requireAppidBound } from '../domain/busifavor/common.js';
import type { SimUser } from '../domain/busifavor/model.js';
import type { BusifavorDeps } from '../domain/busifavor/ports.js';
import {
  type SendChannel,
  type SendFailureCode,
  type SendOutcome,
  sendCoupon,
} from '../domain/busifavor/send.js';
import { errors } from '../errors.js';

/**
 * The send channels as WeChat runs them, for simulated users: the mini-program plugin `sendCoupon`
 * (HMAC-SHA256 sign with the APIv2 key over the flattened params), the H5 page
 * (`https://action.weixin.qq.com/busifavor/getcouponinfo?…#wechat_redirect`, same sign), the payment
 * gift (支付有礼, run by WeChat). They go through the one domain send, as the server API does
 * (domain/busifavor/api-send.ts).
 * @see docs/busifavor.md §6, docs/protocol.md §12
 */

/** Adapters the channels need. */
export interface SendAdapters {
  deps: BusifavorDeps;
  users: SimUserRepo;
}

/** One coupon of a plugin send. */
export interface PluginCouponParam {
  stock_id: string;
  out_request_no: string;
  coupon_code?: string;
}

/** What the plugin component receives (attributes) plus who the user is. */
export interface PluginSendInput {
  appid: string;
  openid: string;
  send_coupon_merchant: string;
  send_coupon_params: PluginCouponParam[];
  sign: string;
}

/** One item of the plugin's `send_coupon_result`. */
export interface PluginResultItem {
  stock_id: string;
  out_request_no: string;
  coupon_code?: string;
  code: 'SUCCESS' | SendFailureCode;
  message: string;
}

/** The plugin's `bind:sendcoupon` event detail. */
export interface PluginSendResult {
  errcode:
    | 'OK'
    | 'PARAM_ERROR'
    | 'USER_NOT_EXISTS'
    | 'USER_GET_FAILED'
    | 'SIGN_ERROR'
    | 'SYSTEMERROR'
    | 268435461;
  msg: string;
  send_coupon_result: PluginResultItem[];
}

const failure = (errcode: PluginSendResult['errcode'], msg: string): PluginSendResult => ({
  errcode,
  msg,
  send_coupon_result: [],
});

/** The merchant behind a sim call must be the sender or its service provider. */
async function requireSender(adapters: SendAdapters, caller: string, sender: string): Promise<void> {
  if (caller === sender) return;
  const parent = await adapters.deps.directory.merchantParent(sender);
  if (parent === undefined) {
    throw errors.MCH_NOT_EXISTS('send_coupon_merchant 商户号不存在', { field: '/send_coupon_merchant' });
  }
  if (parent !== caller)
    throw errors.NO_AUTH('只能以自己或子商户的身份发券', { field: '/send_coupon_merchant' });
}

/** Checks the APIv2 sign; returns an error result, or undefined when it verifies. */
async function checkSign(
  adapters: SendAdapters,
  sender: string,
  params: Record<string, string | undefined>,
  sign: string,
): Promise<PluginSendResult | undefined> {
  const key = await adapters.deps.directory.merchantApiV2Key(sender);
  if (!key) return failure('SIGN_ERROR', '发券商户未设置APIv2密钥');
  if (!/^[0-9A-Fa-f]{64}$/.test(sign) || !verifyParamsHmacSha256(params, sign, key)) {
    return failure('SIGN_ERROR', '签名错误，请使用商户APIv2密钥按HMAC-SHA256重新签名');
  }
  return undefined;
}

function item(param: PluginCouponParam, outcome: SendOutcome): PluginResultItem {
  if (outcome.ok) {
    return {
      stock_id: param.stock_id,
      out_request_no: param.out_request_no,
      coupon_code: outcome.coupon.couponCode,
      code: 'SUCCESS',
      message: '发券成功',
    };
  }
  const out: PluginResultItem = {
    stock_id: param.stock_id,
    out_request_no: param.out_request_no,
    code: outcome.code,
    message: outcome.message,
  };
  if (outcome.existing) out.coupon_code = outcome.existing.couponCode;
  return out;
}

/** A plugin send: sign check, user check, then one domain send per coupon param. */
export async function pluginSend(
  adapters: SendAdapters,
  caller: string,
  input: PluginSendInput,
): Promise<PluginSendResult> {
  await requireSender(adapters, caller, input.send_coupon_merchant);
  const params = input.send_coupon_params;
  if (params.length < 1 || params.length > 10)
    return failure('PARAM_ERROR', 'send_coupon_params 数量须为1-10');
  const signed: Record<string, string | undefined> = { send_coupon_merchant: input.send_coupon_merchant };
  params.forEach((p, i) => {
    signed[`stock_id${i}`] = p.stock_id;
    signed[`out_request_no${i}`] = p.out_request_no;
    signed[`coupon_code${i}`] = p.coupon_code;
  });
  const signError = await checkSign(adapters, input.send_coupon_merchant, signed, input.sign);
  if (signError) return signError;
  if (!(await adapters.deps.directory.isAppidBound(input.appid, input.send_coupon_merchant))) {
    return failure('PARAM_ERROR', '小程序appid与发券商户号无绑定关系');
  }
  const user = await adapters.deps.directory.userByOpenid(input.appid, input.openid);
  if (!user) return failure('USER_NOT_EXISTS', '用户不存在');
  const results: PluginResultItem[] = [];
  for (const p of params) {
    results.push(
      item(p, await send(adapters, p, user, input.send_coupon_merchant, 'BUSICOUPON_SEND_CHANNEL_MINIAPP')),
    );
  }
  return { errcode: 'OK', msg: 'OK', send_coupon_result: results };
}

function send(
  adapters: SendAdapters,
  p: PluginCouponParam,
  user: SimUser,
  sender: string,
  channel: SendChannel,
  attachInfo?: Record<string, unknown>,
): Promise<SendOutcome> {
  return sendCoupon(adapters.deps, {
    stockId: p.stock_id,
    outRequestNo: p.out_request_no,
    ...(p.coupon_code !== undefined ? { couponCode: p.coupon_code } : {}),
    user,
    sendMerchant: sender,
    channel,
    ...(attachInfo ? { attachInfo } : {}),
  });
}

/** The H5 send page's address. */
export const H5_SEND_URL = 'https://action.weixin.qq.com/busifavor/getcouponinfo';

/** An H5 send: the merchant's redirect URL exactly as it would send the user there. */
export async function h5Send(adapters: SendAdapters, caller: string, url: string): Promise<PluginSendResult> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return failure('PARAM_ERROR', 'url 不是合法的地址');
  }
  if (`${parsed.origin}${parsed.pathname}` !== H5_SEND_URL) {
    return failure('PARAM_ERROR', `url 必须以 ${H5_SEND_URL} 开头`);
  }
  if (!parsed.hash.endsWith('wechat_redirect')) {
    // What WeChat shows when the fragment is missing.
    return failure(268435461, '系统错误，请稍后重试（URL缺少#wechat_redirect）');
  }
  const q = parsed.searchParams;
  const get = (k: string) => q.get(k) ?? undefined;
  const stockId = get('stock_id');
  const outRequestNo = get('out_request_no');
  const sender = get('send_coupon_merchant');
  const openid = get('open_id');
  const sign = get('sign');
  if (!stockId || !outRequestNo || !sender || !openid || !sign) {
    return failure('PARAM_ERROR', 'stock_id、out_request_no、send_coupon_merchant、open_id、sign 均为必填');
  }
  await requireSender(adapters, caller, sender);
  const couponCode = get('coupon_code');
  const signError = await checkSign(
    adapters,
    sender,
    {
      stock_id: stockId,
      out_request_no: outRequestNo,
      send_coupon_merchant: sender,
      open_id: openid,
      coupon_code: couponCode,
    },
    sign,
  );
  if (signError) return signError;
  const found = await adapters.users.userByAnyOpenid(openid);
  const stock = await adapters.deps.store.read.stocks.find(stockId);
  const owners = stock ? [sender, stock.creatorMchid, stock.belongMerchant] : [sender];
  let bound = false;
  for (const m of owners)
    if (found && (await adapters.deps.directory.isAppidBound(found.appid, m))) bound = true;
  if (!found || !bound) return failure('USER_NOT_EXISTS', 'open_id 不是发券商户绑定的appid下的用户');
  const param: PluginCouponParam = { stock_id: stockId, out_request_no: outRequestNo };
  if (couponCode !== undefined) param.coupon_code = couponCode;
  const outcome = await send(adapters, param, found.user, sender, 'BUSICOUPON_SEND_CHANNEL_H5');
  return { errcode: 'OK', msg: 'OK', send_coupon_result: [item(param, outcome)] };
}

/** A payment-gift send (支付有礼): WeChat sends after the user paid `transaction_id`. */
export async function payGiftSend(
  adapters: SendAdapters,
  caller: string,
  input: { stock_id: string; appid: string; openid: string; transaction_id: string; out_request_no?: string },
): Promise<PluginSendResult> {
  const stock = await adapters.deps.store.read.stocks.find(input.stock_id);
  if (!stock) throw errors.RESOURCE_NOT_EXISTS('批次不存在', { field: '/stock_id' });
  if (!(await canManageStock(adapters.deps, stock, caller))) throw errors.NO_AUTH('无权限操作该批次');
  await requireAppidBound(adapters.deps, input.appid, [caller, stock.belongMerchant], '/appid');
  const user = await adapters.deps.directory.userByOpenid(input.appid, input.openid);
  if (!user) return failure('USER_NOT_EXISTS', '用户不存在');
  const param: PluginCouponParam = {
    stock_id: input.stock_id,
    out_request_no: input.out_request_no ?? `PAYGIFT_${input.transaction_id}`,
  };
  const outcome = await send(adapters, param, user, caller, 'BUSICOUPON_SEND_CHANNEL_PAYGIFT', {
    transaction_id: input.transaction_id,
  });
  return { errcode: 'OK', msg: 'OK', send_coupon_result: [item(param, outcome)] };
}
