import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type { NotificationEvent } from '../ports.js';
import { merchantCodeProblem } from './codes.js';
import { canManageStock } from './common.js';
import type { Coupon, SimUser, Stock } from './model.js';
import type { BusifavorDeps } from './ports.js';
import { beijingDay, couponPeriod, isPastExpiry } from './validity.js';

/**
 * Sending a coupon to a user, shared by every send channel (mini-program plugin, H5, payment gift, API).
 * Budget and limits are checked and consumed inside one transaction that holds the stock's row lock,
 * so counts are exact under any concurrency; the COUPON.SEND notification is written in the same
 * transaction.
 * @see docs/busifavor.md §6.5, §8.4
 */

/** COUPON.SEND `send_channel` values the simulator produces. */
export type SendChannel =
  | 'BUSICOUPON_SEND_CHANNEL_MINIAPP'
  | 'BUSICOUPON_SEND_CHANNEL_H5'
  | 'BUSICOUPON_SEND_CHANNEL_API'
  | 'BUSICOUPON_SEND_CHANNEL_PAYGIFT';

/** Plugin result item codes for a refused send. */
export type SendFailureCode =
  | 'FAILED'
  | 'NOTENOUGH'
  | 'DAYLIMIT'
  | 'NATURELIMIT'
  | 'MAXQUOTA'
  | 'DUPREQUEST'
  | 'NOTRUNNING';

/** One send. */
export interface SendCouponInput {
  stockId: string;
  outRequestNo: string;
  /** Only for MERCHANT_API stocks. */
  couponCode?: string;
  user: SimUser;
  sendMerchant: string;
  channel: SendChannel;
  /** COUPON.SEND attach_info (payment gift: transaction_id). */
  attachInfo?: Record<string, unknown>;
}

/** The result of one send. */
export type SendOutcome =
  | { ok: true; coupon: Coupon }
  | { ok: false; code: SendFailureCode; message: string; existing?: Coupon };

const fail = (code: SendFailureCode, message: string, existing?: Coupon): SendOutcome =>
  existing ? { ok: false, code, message, existing } : { ok: false, code, message };

/** Sends one coupon. Never throws for a business refusal; returns the plugin item code instead. */
export async function sendCoupon(deps: BusifavorDeps, input: SendCouponInput): Promise<SendOutcome> {
  const peek = await deps.store.read.stocks.find(input.stockId);
  if (!peek) return fail('FAILED', '批次不存在');
  if (!(await canManageStock(deps, peek, input.sendMerchant))) return fail('FAILED', '商户无权发放该批次');
  const now = deps.clock.now(peek.creatorMchid);
  if (peek.codeMode === 'MERCHANT_API') {
    if (input.couponCode === undefined || input.couponCode === '') {
      return fail('FAILED', 'MERCHANT_API 模式的批次发券时必须传入coupon_code');
    }
    const problem = merchantCodeProblem(input.couponCode);
    if (problem) return fail('FAILED', `coupon_code 不合法：${problem.message}`);
  } else if (input.couponCode !== undefined && input.couponCode !== '') {
    return fail('FAILED', `${peek.codeMode} 模式的批次发券时不可传入coupon_code`);
  }
  const user = input.user;
  const notifyAppid = peek.definition.notify_config?.notify_appid;
  const notifyOpenid = notifyAppid ? await deps.directory.openidOf(user.userId, notifyAppid) : undefined;

  return deps.store.transaction(async (tx): Promise<SendOutcome> => {
    const stock = (await tx.stocks.find(input.stockId, { lock: true })) as Stock;
    const duplicate = await tx.coupons.findBySend(stock.stockId, user.userId, input.outRequestNo);
    if (duplicate) return fail('DUPREQUEST', '重复请求，该out_request_no已发放过券', duplicate);
    if (stock.state !== 'RUNNING' || isPastExpiry(stock.availableEndMs, now)) {
      return fail('NOTRUNNING', '批次不在发放状态');
    }
    if (stock.totalSendNum >= stock.maxCoupons) return fail('NOTENOUGH', '批次已发完');
    const day = beijingDay(now);
    if (
      stock.maxCouponsByDay !== null &&
      (await tx.coupons.countOnDay(stock.stockId, day)) >= stock.maxCouponsByDay
    ) {
      return fail('DAYLIMIT', '批次今日发放已达上限');
    }
    if ((await tx.coupons.countForUser(stock.stockId, user.userId)) >= stock.maxCouponsPerUser) {
      return fail('MAXQUOTA', '用户领券已达上限');
    }
    if (
      stock.naturalPersonLimit &&
      (await tx.coupons.countForPerson(stock.stockId, user.personId)) >= stock.maxCouponsPerUser
    ) {
      return fail('NATURELIMIT', '用户（自然人）领券已达上限');
    }
    if (stock.definition.stock_send_rule.prevent_api_abuse && user.suspicious) {
      return fail('FAILED', '用户账号存在风险，领券失败');
    }
    const period = couponPeriod(stock.definition.coupon_use_rule.coupon_available_time, now);
    if (period.availableStartMs > period.expireMs) return fail('FAILED', '券的可用时间已超出批次有效期');
    let code: string;
    let codeAvailable = stock.codeAvailableCount;
    if (stock.codeMode === 'WECHATPAY_MODE') {
      code = deps.ids.digits(22);
    } else if (stock.codeMode === 'MERCHANT_API') {
      code = input.couponCode as string;
      if (await tx.coupons.find(stock.stockId, code)) return fail('FAILED', 'coupon_code 在该批次下已被使用');
    } else {
      const picked = await tx.codes.dispatchRandom(stock.stockId, now);
      if (picked === undefined) return fail('NOTENOUGH', '批次预存code已用完');
      code = picked;
      codeAvailable -= 1;
    }
    const coupon = sentCoupon(stock, user, {
      couponCode: code,
      sendRequestNo: input.outRequestNo,
      channel: input.channel,
      sendMerchant: input.sendMerchant,
      nowMs: now,
    });
    await tx.coupons.insert(coupon);
    await tx.stocks.update(stock.stockId, {
      totalSendNum: stock.totalSendNum + 1,
      totalSendAmount: stock.totalSendAmount + sendAmount(stock),
      codeAvailableCount: codeAvailable,
      updatedAt: now,
    });
    await tx.outbox.enqueue(couponSendEvent(stock, coupon, user, notifyOpenid, input.attachInfo), now);
    return { ok: true, coupon };
  });
}

/** What one send adds to a stock's `total_send_amount`: the face value of a NORMAL coupon, else 0. */
function sendAmount(stock: Stock): number {
  const amount = stock.definition.coupon_use_rule.fixed_normal_coupon?.discount_amount ?? 0;
  return stock.stockType === 'NORMAL' ? amount : 0;
}

/** The coupon a send of `stock` to `user` at `nowMs` puts in the user's card bag (state SENDED). */
export function sentCoupon(
  stock: Stock,
  user: Pick<SimUser, 'userId' | 'personId'>,
  send: {
    couponCode: string;
    sendRequestNo: string;
    channel: SendChannel;
    sendMerchant: string;
    nowMs: number;
  },
): Coupon {
  const { nowMs } = send;
  const period = couponPeriod(stock.definition.coupon_use_rule.coupon_available_time, nowMs);
  return {
    stockId: stock.stockId,
    couponCode: send.couponCode,
    userId: user.userId,
    personId: user.personId,
    state: 'SENDED',
    sendRequestNo: send.sendRequestNo,
    sendChannel: send.channel,
    sendMerchant: send.sendMerchant,
    receiveMs: nowMs,
    receiveDay: beijingDay(nowMs),
    availableStartMs: period.availableStartMs,
    expireMs: period.expireMs,
    useRequestNo: null,
    useTimeMs: null,
    wechatpayUseMs: null,
    associateOutTradeNo: null,
    associateMs: null,
    returnRequestNo: null,
    returnMs: null,
    deactivateRequestNo: null,
    deactivateMs: null,
    deactivateReason: null,
    updatedAt: nowMs,
  };
}

/** One coupon of a bulk record: its stock, who holds it and under which request number it was sent. */
export interface BulkSend {
  stockId: string;
  user: Pick<SimUser, 'userId' | 'personId'>;
  sendRequestNo: string;
}

/** Why a bulk record was refused (nothing was written). */
export class BulkSendRefusedError extends Error {
  override name = 'BulkSendRefusedError';
}

/**
 * Records coupons of WECHATPAY_MODE stocks as sent (the bulk path of `wechatpay-sandbox seed`), in one
 * unit of work: takes each stock's row lock (in stock id order), checks it is running and its budget
 * covers its coupons, writes the coupons a send would write (same periods and states, in the order
 * given) with multi-row inserts, and adds them to each stock's send counters. Per-user and daily limits
 * are the caller's to respect (the seed spreads coupons so they hold), and no COUPON.SEND is queued: the
 * coupons are data, not events. Returns the coupons written.
 */
export async function recordSentCoupons(
  deps: BusifavorDeps,
  input: { sendMerchant: string; channel: SendChannel; sends: readonly BulkSend[] },
): Promise<Coupon[]> {
  const counts = new Map<string, number>();
  for (const s of input.sends) counts.set(s.stockId, (counts.get(s.stockId) ?? 0) + 1);
  return deps.store.transaction(async (tx) => {
    const stocks = new Map<string, Stock>();
    for (const stockId of [...counts.keys()].sort()) {
      const stock = await tx.stocks.find(stockId, { lock: true });
      if (!stock) throw new BulkSendRefusedError(`stock ${stockId} does not exist`);
      const now = deps.clock.now(stock.creatorMchid);
      if (stock.codeMode !== 'WECHATPAY_MODE') {
        throw new BulkSendRefusedError(`stock ${stockId} is ${stock.codeMode}; only WECHATPAY_MODE`);
      }
      if (stock.state !== 'RUNNING' || isPastExpiry(stock.availableEndMs, now)) {
        throw new BulkSendRefusedError(`stock ${stockId} is not running`);
      }
      const n = counts.get(stockId) as number;
      if (stock.totalSendNum + n > stock.maxCoupons) {
        throw new BulkSendRefusedError(
          `stock ${stockId} has ${stock.maxCoupons - stock.totalSendNum} coupons left, ${n} asked`,
        );
      }
      stocks.set(stockId, stock);
    }
    // 22 digits like a send's codes: 12 random digits per call and a 10-digit sequence, so one call's
    // codes sit together in the code indexes (random codes would scatter a bulk load over every index
    // page). Two calls drawing the same prefix for one stock collide on its primary key, and the store
    // reruns the unit of work, which draws another.
    const prefix = deps.ids.digits(12);
    const coupons = input.sends.map((s, i) => {
      const stock = stocks.get(s.stockId) as Stock;
      return sentCoupon(stock, s.user, {
        couponCode: `${prefix}${String(i).padStart(10, '0')}`,
        sendRequestNo: s.sendRequestNo,
        channel: input.channel,
        sendMerchant: input.sendMerchant,
        nowMs: deps.clock.now(stock.creatorMchid),
      });
    });
    await tx.coupons.insertMany(coupons);
    for (const stock of stocks.values()) {
      const n = counts.get(stock.stockId) as number;
      await tx.stocks.update(stock.stockId, {
        totalSendNum: stock.totalSendNum + n,
        totalSendAmount: stock.totalSendAmount + n * sendAmount(stock),
        updatedAt: deps.clock.now(stock.creatorMchid),
      });
    }
    return coupons;
  });
}

/**
 * The COUPON.SEND notification for the stock creator. openid/unionid only when the stock has a
 * notify_appid (seed 002: without it both are empty).
 */
export function couponSendEvent(
  stock: Stock,
  coupon: Coupon,
  user: SimUser,
  notifyOpenid: string | undefined,
  attachInfo: Record<string, unknown> | undefined,
): NotificationEvent {
  const plaintext: Record<string, unknown> = {
    event_type: 'EVENT_TYPE_BUSICOUPON_SEND',
    coupon_code: coupon.couponCode,
    stock_id: coupon.stockId,
    send_time: formatBeijingTime(coupon.receiveMs),
  };
  if (notifyOpenid !== undefined) {
    plaintext.openid = notifyOpenid;
    plaintext.unionid = user.unionid;
  }
  plaintext.send_channel = coupon.sendChannel;
  plaintext.send_merchant = coupon.sendMerchant;
  if (attachInfo !== undefined) plaintext.attach_info = attachInfo;
  return {
    mchid: stock.creatorMchid,
    family: 'busifavor',
    eventType: 'COUPON.SEND',
    summary: '商家券领券通知',
    originalType: 'coupon',
    associatedData: 'coupon',
    plaintext,
  };
}
