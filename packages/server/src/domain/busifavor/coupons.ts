import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import { type CouponEntity, type CouponState, RFC3339_ISSUE } from '../../contract/busifavor/common.js';
import type {
  AssociateBody,
  AssociateResponse,
  DisassociateResponse,
} from '../../contract/busifavor/coupons-associate.js';
import type {
  DeactivateCouponBody,
  DeactivateCouponResponse,
} from '../../contract/busifavor/coupons-deactivate.js';
import type { ListUserCouponsQuery, ListUserCouponsResponse } from '../../contract/busifavor/coupons-list.js';
import type { ReturnCouponBody, ReturnCouponResponse } from '../../contract/busifavor/coupons-return.js';
import type { UseCouponBody, UseCouponResponse } from '../../contract/busifavor/coupons-use.js';
import { errors, type WechatError } from '../../errors.js';
import {
  canManageStock,
  paramError,
  type RequestKey,
  requireCallerAppid,
  runOnce,
  stockNotFound,
} from './common.js';
import type { Coupon, CouponPatch, SimUser, Stock } from './model.js';
import type { BusifavorDeps, BusifavorUnitOfWork } from './ports.js';
import { isPastExpiry, isUsableAt, parseInputTimeMs, wireCouponUseRule } from './validity.js';

/**
 * User-coupon rules: use (核销), list and get, associate/disassociate an order, return, deactivate.
 * Every request number is idempotent per caller: the same request gets the first answer, another
 * request under the same number gets 400 RESOURCE_ALREADY_EXISTS. EXPIRED is derived lazily.
 * @see docs/busifavor.md §4, §8.1
 */

const DAY_MS = 86_400_000;

/** The state a coupon is in at `nowMs` (a SENDED coupon past its expiry is EXPIRED). */
export function effectiveCouponState(coupon: Coupon, nowMs: number): Coupon['state'] {
  return coupon.state === 'SENDED' && isPastExpiry(coupon.expireMs, nowMs) ? 'EXPIRED' : coupon.state;
}

function couponNotFound(): WechatError {
  return errors.RESOURCE_NOT_EXISTS('券不存在', { field: '/coupon_code', location: 'body' });
}

/**
 * Loads a coupon with its stock outside any transaction and checks the caller may operate it. Checks
 * that read merchants, appids or users run here, never inside a unit of work (SQLite has one
 * connection; the owner, holder and belong merchant of a coupon never change).
 */
async function loadCouponFor(
  deps: BusifavorDeps,
  caller: string,
  stockId: string,
  couponCode: string,
): Promise<{ stock: Stock; coupon: Coupon }> {
  const stock = await deps.store.read.stocks.find(stockId);
  if (!stock) throw stockNotFound(stockId);
  const coupon = await deps.store.read.coupons.find(stockId, couponCode);
  if (!coupon) throw couponNotFound();
  if (!(await canManageStock(deps, stock, caller))) throw errors.NO_AUTH('商户无权限操作该券');
  return { stock, coupon };
}

/** Re-reads a coupon under its row lock inside a unit of work. */
async function lockCoupon(tx: BusifavorUnitOfWork, stockId: string, couponCode: string): Promise<Coupon> {
  const coupon = await tx.coupons.find(stockId, couponCode, { lock: true });
  if (!coupon) throw couponNotFound();
  return coupon;
}

/**
 * One idempotent change of one coupon (use, associate, return, …): re-reads the coupon under its row
 * lock, lets `decide` check it and name the change and the answer, then writes the change.
 */
async function changeCoupon<R>(
  deps: BusifavorDeps,
  key: RequestKey,
  nowMs: number,
  stockId: string,
  couponCode: string,
  decide: (coupon: Coupon, state: CouponState) => { patch: CouponPatch; response: R },
): Promise<R> {
  return runOnce(deps, key, nowMs, async (tx) => {
    const coupon = await lockCoupon(tx, stockId, couponCode);
    const { patch, response } = decide(coupon, effectiveCouponState(coupon, nowMs));
    await tx.coupons.update(stockId, couponCode, { ...patch, updatedAt: nowMs });
    return response;
  });
}

/** Redeems a coupon. */
export async function useCoupon(
  deps: BusifavorDeps,
  caller: string,
  body: UseCouponBody,
): Promise<UseCouponResponse> {
  const now = deps.clock.now(caller);
  const useTimeMs = parseInputTimeMs(body.use_time);
  if (useTimeMs === undefined) throw paramError('/use_time', RFC3339_ISSUE);
  if (Math.abs(useTimeMs - now) > DAY_MS)
    throw paramError('/use_time', '核销时间与当前时间相差不能超过24小时');
  let stockId = body.stock_id;
  if (stockId === undefined) {
    const matches = await deps.store.read.coupons.findByCode(body.coupon_code);
    if (matches.length === 0) throw couponNotFound();
    const owner = await deps.store.read.stocks.find((matches[0] as Coupon).stockId);
    if (matches.length > 1 || owner?.codeMode !== 'WECHATPAY_MODE') {
      throw paramError('/stock_id', '商户自定义code的批次核销时必须填写stock_id');
    }
    stockId = owner.stockId;
  }
  const { stock, coupon: peek } = await loadCouponFor(deps, caller, stockId, body.coupon_code);
  await requireCallerAppid(deps, body.appid, caller, '/appid', 'body');
  const openid = await deps.directory.openidOf(peek.userId, body.appid);
  if (openid === undefined || (body.openid !== undefined && body.openid !== openid)) {
    throw errors.USER_NOT_EXISTS('openid不正确', { field: '/openid', value: body.openid, location: 'body' });
  }
  // The instant, not its notation: the same use_time in another offset is the same request.
  const request = { ...body, use_time: formatBeijingTime(useTimeMs) };
  const key = { caller, op: 'use', requestNo: body.use_request_no, request, field: '/use_request_no' };
  return changeCoupon(deps, key, now, stock.stockId, body.coupon_code, (coupon, state) => {
    if (state === 'USED') {
      throw errors.RESOURCE_ALREADY_EXISTS('券已被其他订单核销，请通过查询券API确认券的状态', {
        field: '/coupon_code',
        value: body.coupon_code,
        location: 'body',
      });
    }
    if (state === 'EXPIRED') throw errors.RULE_LIMIT('券不在有效期内，请确认券当前是否可以核销');
    if (state === 'DEACTIVATED') throw errors.INVALID_REQUEST('券已失效，不可核销');
    if (state === 'DELETED') throw errors.INVALID_REQUEST('券已被用户删除，不可核销');
    const period = { availableStartMs: coupon.availableStartMs, expireMs: coupon.expireMs };
    if (!isUsableAt(stock.definition.coupon_use_rule.coupon_available_time, period, now)) {
      throw errors.RULE_LIMIT('券不在有效期内，请确认券当前是否可以核销');
    }
    const response: UseCouponResponse = {
      stock_id: stock.stockId,
      openid,
      wechatpay_use_time: formatBeijingTime(now),
    };
    return {
      patch: { state: 'USED', useRequestNo: body.use_request_no, useTimeMs, wechatpayUseMs: now },
      response,
    };
  });
}

/** Resolves a user from an openid under an appid the caller may use; 404 USER_NOT_EXISTS otherwise. */
async function userOf(
  deps: BusifavorDeps,
  caller: string,
  appid: string,
  openid: string,
  appidLocation: 'query' | 'path',
): Promise<SimUser> {
  await requireCallerAppid(deps, appid, caller, 'appid', appidLocation);
  const user = await deps.directory.userByOpenid(appid, openid);
  if (!user)
    throw errors.USER_NOT_EXISTS('openid不正确', { field: 'openid', value: openid, location: 'path' });
  return user;
}

/** Lists a user's coupons by filter. `offset` is a 0-based item offset. */
export async function listUserCoupons(
  deps: BusifavorDeps,
  caller: string,
  openid: string,
  query: ListUserCouponsQuery,
): Promise<ListUserCouponsResponse> {
  const roles = [query.creator_merchant, query.belong_merchant, query.sender_merchant];
  if (roles.every((r) => r === undefined)) {
    throw errors.PARAM_ERROR('creator_merchant、belong_merchant、sender_merchant 至少填写一个', {
      field: 'creator_merchant',
      location: 'query',
      issue: 'give the merchant filter that matches your role',
    });
  }
  if (
    !(await Promise.all(roles.map((r) => r !== undefined && isCallerOrChild(deps, caller, r)))).some(Boolean)
  ) {
    throw errors.NO_AUTH('无权限查询其他商户的券', { location: 'query' });
  }
  const user = await userOf(deps, caller, query.appid, openid, 'query');
  const now = deps.clock.now(caller);
  const offset = query.offset ?? 0;
  const limit = query.limit ?? 20;
  const { coupons, total } = await deps.store.read.coupons.list({
    userId: user.userId,
    ...(query.stock_id !== undefined ? { stockId: query.stock_id } : {}),
    ...(query.coupon_state !== undefined ? { state: query.coupon_state } : {}),
    ...(query.creator_merchant !== undefined ? { creatorMchid: query.creator_merchant } : {}),
    ...(query.belong_merchant !== undefined ? { belongMerchant: query.belong_merchant } : {}),
    ...(query.sender_merchant !== undefined ? { senderMerchant: query.sender_merchant } : {}),
    nowMs: now,
    offset,
    limit,
  });
  const stocks = new Map<string, Stock>();
  const data: CouponEntity[] = [];
  for (const coupon of coupons) {
    let stock = stocks.get(coupon.stockId);
    if (!stock) {
      stock = await deps.store.read.stocks.find(coupon.stockId);
      if (!stock) continue;
      stocks.set(coupon.stockId, stock);
    }
    data.push(renderCoupon(stock, coupon, now, { withDescription: false }));
  }
  return { data, total_count: total, limit, offset };
}

async function isCallerOrChild(deps: BusifavorDeps, caller: string, mchid: string): Promise<boolean> {
  return mchid === caller || (await deps.directory.merchantParent(mchid)) === caller;
}

/** One coupon of a user. */
export async function getUserCoupon(
  deps: BusifavorDeps,
  caller: string,
  openid: string,
  couponCode: string,
  appid: string,
): Promise<CouponEntity> {
  const user = await userOf(deps, caller, appid, openid, 'path');
  const now = deps.clock.now(caller);
  const candidates = (await deps.store.read.coupons.findByCode(couponCode)).filter(
    (c) => c.userId === user.userId,
  );
  candidates.sort((a, b) => b.receiveMs - a.receiveMs);
  let forbidden = false;
  for (const coupon of candidates) {
    const stock = await deps.store.read.stocks.find(coupon.stockId);
    if (!stock) continue;
    if (coupon.sendMerchant === caller || (await canManageStock(deps, stock, caller))) {
      return renderCoupon(stock, coupon, now, { withDescription: true });
    }
    forbidden = true;
  }
  if (forbidden) throw errors.NO_AUTH('无权限查询该券');
  throw errors.RESOURCE_NOT_EXISTS('券不存在', { field: 'coupon_code', value: couponCode, location: 'path' });
}

/** The wire form of a coupon (CouponEntity). */
export function renderCoupon(
  stock: Stock,
  coupon: Coupon,
  nowMs: number,
  options: { withDescription: boolean },
): CouponEntity {
  const d = stock.definition;
  const out: CouponEntity = {
    belong_merchant: stock.belongMerchant,
    stock_name: d.stock_name,
    goods_name: d.goods_name,
    stock_type: stock.stockType,
    coupon_state: effectiveCouponState(coupon, nowMs),
    // Rows written before times were stored in wire form may hold a time as the caller sent it.
    coupon_use_rule: wireCouponUseRule(d.coupon_use_rule),
    coupon_code: coupon.couponCode,
    stock_id: coupon.stockId,
    available_start_time: formatBeijingTime(coupon.availableStartMs),
    expire_time: formatBeijingTime(coupon.expireMs),
    receive_time: formatBeijingTime(coupon.receiveMs),
    send_request_no: coupon.sendRequestNo,
  };
  if (d.comment !== undefined) out.comment = d.comment;
  out.transferable = d.stock_send_rule.transferable ?? false;
  out.shareable = d.stock_send_rule.shareable ?? false;
  if (d.display_pattern_info !== undefined) {
    const { description, ...rest } = d.display_pattern_info;
    out.display_pattern_info =
      options.withDescription && description !== undefined ? { description, ...rest } : rest;
  }
  if (d.custom_entrance !== undefined) out.custom_entrance = d.custom_entrance;
  if (coupon.useRequestNo !== null) out.use_request_no = coupon.useRequestNo;
  if (coupon.wechatpayUseMs !== null) out.use_time = formatBeijingTime(coupon.wechatpayUseMs);
  if (coupon.associateOutTradeNo !== null) out.associate_out_trade_no = coupon.associateOutTradeNo;
  if (coupon.returnRequestNo !== null) out.return_request_no = coupon.returnRequestNo;
  if (coupon.returnMs !== null) out.return_time = formatBeijingTime(coupon.returnMs);
  if (coupon.deactivateRequestNo !== null) out.deactivate_request_no = coupon.deactivateRequestNo;
  if (coupon.deactivateMs !== null) out.deactivate_time = formatBeijingTime(coupon.deactivateMs);
  if (coupon.deactivateReason !== null) out.deactivate_reason = coupon.deactivateReason;
  return out;
}

/** Links a SENDED coupon to a merchant order. */
export async function associateCoupon(
  deps: BusifavorDeps,
  caller: string,
  body: AssociateBody,
): Promise<AssociateResponse> {
  const now = deps.clock.now(caller);
  const { stock } = await loadCouponFor(deps, caller, body.stock_id, body.coupon_code);
  const key = {
    caller,
    op: 'associate',
    requestNo: body.out_request_no,
    request: body,
    field: '/out_request_no',
  };
  return changeCoupon(deps, key, now, stock.stockId, body.coupon_code, (coupon, state) => {
    if (state !== 'SENDED') throw errors.INVALID_REQUEST(`券状态为${state}，仅未核销的有效券可关联订单`);
    if (coupon.associateOutTradeNo !== null && coupon.associateOutTradeNo !== body.out_trade_no) {
      throw errors.RESOURCE_ALREADY_EXISTS('券已关联其他订单，请先取消关联', {
        field: '/out_trade_no',
        value: body.out_trade_no,
        location: 'body',
      });
    }
    const response: AssociateResponse = { wechatpay_associate_time: formatBeijingTime(now) };
    return { patch: { associateOutTradeNo: body.out_trade_no, associateMs: now }, response };
  });
}

/** Removes a coupon's order link; the order number must be the linked one. */
export async function disassociateCoupon(
  deps: BusifavorDeps,
  caller: string,
  body: AssociateBody,
): Promise<DisassociateResponse> {
  const now = deps.clock.now(caller);
  const { stock } = await loadCouponFor(deps, caller, body.stock_id, body.coupon_code);
  const key = {
    caller,
    op: 'disassociate',
    requestNo: body.out_request_no,
    request: body,
    field: '/out_request_no',
  };
  return changeCoupon(deps, key, now, stock.stockId, body.coupon_code, (coupon) => {
    if (coupon.associateOutTradeNo === null || coupon.associateOutTradeNo !== body.out_trade_no) {
      throw errors.RESOURCE_NOT_EXISTS('券未关联该订单', {
        field: '/out_trade_no',
        value: body.out_trade_no,
        location: 'body',
      });
    }
    const response: DisassociateResponse = { wechatpay_disassociate_time: formatBeijingTime(now) };
    return { patch: { associateOutTradeNo: null, associateMs: null }, response };
  });
}

/** Returns a USED coupon to the user (USED → SENDED, or EXPIRED when its period has passed). */
export async function returnCoupon(
  deps: BusifavorDeps,
  caller: string,
  body: ReturnCouponBody,
): Promise<ReturnCouponResponse> {
  const now = deps.clock.now(caller);
  const stock = await deps.store.read.stocks.find(body.stock_id);
  if (!stock || !(await deps.store.read.coupons.find(body.stock_id, body.coupon_code)))
    throw couponNotFound();
  if (!(await canManageStock(deps, stock, caller))) throw errors.NO_AUTH('商户无权限操作该券');
  const key = {
    caller,
    op: 'return',
    requestNo: body.return_request_no,
    request: body,
    field: '/return_request_no',
  };
  return changeCoupon(deps, key, now, stock.stockId, body.coupon_code, (_coupon, state) => {
    if (state === 'DELETED') throw errors.RESOURCE_NOT_EXISTS('券已被删除，请先查询券详情');
    if (state !== 'USED') throw errors.INVALID_REQUEST(`券状态为${state}，仅已核销的券可退券`);
    const response: ReturnCouponResponse = { wechatpay_return_time: formatBeijingTime(now) };
    return { patch: { state: 'SENDED', returnRequestNo: body.return_request_no, returnMs: now }, response };
  });
}

/** Deactivates a SENDED coupon for good. */
export async function deactivateCoupon(
  deps: BusifavorDeps,
  caller: string,
  body: DeactivateCouponBody,
): Promise<DeactivateCouponResponse> {
  const now = deps.clock.now(caller);
  const { stock } = await loadCouponFor(deps, caller, body.stock_id, body.coupon_code);
  const key = {
    caller,
    op: 'deactivate',
    requestNo: body.deactivate_request_no,
    request: body,
    field: '/deactivate_request_no',
  };
  return changeCoupon(deps, key, now, stock.stockId, body.coupon_code, (_coupon, state) => {
    if (state !== 'SENDED') throw errors.INVALID_REQUEST(`券状态为${state}，仅可用状态的券可失效`);
    const response: DeactivateCouponResponse = { wechatpay_deactivate_time: formatBeijingTime(now) };
    return {
      patch: {
        state: 'DEACTIVATED',
        deactivateRequestNo: body.deactivate_request_no,
        deactivateMs: now,
        deactivateReason: body.deactivate_reason ?? null,
      },
      response,
    };
  });
}

/** Marks a coupon as deleted by its user (the card-bag action; simulation only). */
export async function deleteCouponByUser(
  deps: BusifavorDeps,
  caller: string,
  stockId: string,
  couponCode: string,
): Promise<void> {
  const now = deps.clock.now(caller);
  await loadCouponFor(deps, caller, stockId, couponCode);
  await deps.store.transaction(async (tx) => {
    const coupon = await lockCoupon(tx, stockId, couponCode);
    if (effectiveCouponState(coupon, now) !== 'SENDED') {
      throw errors.INVALID_REQUEST('仅可用状态的券可被用户删除');
    }
    await tx.coupons.update(stockId, couponCode, { state: 'DELETED', updatedAt: now });
  });
}
