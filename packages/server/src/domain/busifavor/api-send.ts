import type { SendCouponBody, SendCouponResponse } from '../../contract/busifavor/coupons-send.js';
import { errors } from '../../errors.js';
import { canManageStock, requireAppidBound } from './common.js';
import type { BusifavorDeps } from './ports.js';
import { sendCoupon } from './send.js';

/**
 * The merchant's server sending a coupon (`POST /v3/marketing/busifavor/coupons/send`): the caller's
 * rights on the stock, the appid binding and the user are checked with API errors, then the one
 * domain send runs on the API channel. The front-end channels (mini-program plugin, H5, payment gift)
 * are simulated in sim/send.ts.
 * @see docs/busifavor.md §6
 */

/**
 * POST /v3/marketing/busifavor/coupons/send. A refused send is 403 RULE_LIMIT (NOTRUNNING, limits)
 * or 400 PARAM_ERROR/INVALID_REQUEST; a replayed out_request_no answers the first coupon.
 */
export async function apiSend(
  deps: BusifavorDeps,
  caller: string,
  body: SendCouponBody,
): Promise<SendCouponResponse> {
  const stock = await deps.store.read.stocks.find(body.stock_id);
  if (!stock) throw errors.RESOURCE_NOT_EXISTS('批次不存在', { field: '/stock_id', location: 'body' });
  if (!(await canManageStock(deps, stock, caller))) throw errors.NO_AUTH('无权限发放该批次');
  await requireAppidBound(deps, body.appid, [caller, stock.belongMerchant], '/appid');
  const user = await deps.directory.userByOpenid(body.appid, body.openid);
  if (!user)
    throw errors.USER_NOT_EXISTS('openid不正确', { field: '/openid', value: body.openid, location: 'body' });
  const outcome = await sendCoupon(deps, {
    stockId: body.stock_id,
    outRequestNo: body.out_request_no,
    ...(body.coupon_code !== undefined ? { couponCode: body.coupon_code } : {}),
    user,
    sendMerchant: caller,
    channel: 'BUSICOUPON_SEND_CHANNEL_API',
  });
  if (outcome.ok || outcome.existing) {
    const coupon = outcome.ok ? outcome.coupon : outcome.existing;
    return {
      stock_id: body.stock_id,
      out_request_no: body.out_request_no,
      coupon_code: coupon?.couponCode ?? '',
    };
  }
  if (outcome.code === 'FAILED') throw errors.INVALID_REQUEST(outcome.message, { issue: outcome.code });
  throw errors.RULE_LIMIT(outcome.message, { issue: outcome.code });
}
