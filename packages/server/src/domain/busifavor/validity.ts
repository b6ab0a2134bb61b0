import { formatBeijingTime, parseRfc3339 } from '@wechatpay-sandbox/sdk/protocol';
import {
  type CouponAvailableTime,
  type CouponUseRule,
  RFC3339_PATTERN,
} from '../../contract/busifavor/common.js';

/**
 * Coupon validity: when a coupon sent at a given instant becomes usable and expires, and whether an
 * instant falls inside its weekday / time-of-day / irregular slots. All calendar maths in Beijing time.
 * @see docs/busifavor.md §8.3
 */

const DAY_MS = 86_400_000;
const BEIJING_OFFSET_MS = 8 * 3_600_000;

/** The Beijing calendar day of an instant, `yyyy-mm-dd`. */
export function beijingDay(ms: number): string {
  return new Date(ms + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

/** 00:00:00 Beijing time of the day containing `ms`. */
export function startOfBeijingDay(ms: number): number {
  return Math.floor((ms + BEIJING_OFFSET_MS) / DAY_MS) * DAY_MS - BEIJING_OFFSET_MS;
}

/** Weekday in Beijing, 0 = Sunday … 6 = Saturday (the `week_day` numbering). */
export function beijingWeekday(ms: number): number {
  return new Date(ms + BEIJING_OFFSET_MS).getUTCDay();
}

/** Seconds since Beijing midnight. */
export function beijingSecondOfDay(ms: number): number {
  return Math.floor((ms - startOfBeijingDay(ms)) / 1000);
}

/** The start of the second containing `ms`: WeChat's times have whole seconds. */
function wholeSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/**
 * Parses a stored RFC 3339 time to epoch ms truncated to the whole second, or undefined. Lenient
 * (seconds may be missing), as rows written before input times needed seconds may hold such times.
 */
export function parseTimeMs(value: string): number | undefined {
  const date = parseRfc3339(value);
  return date === undefined ? undefined : wholeSecond(date.getTime());
}

const INPUT_TIME = new RegExp(RFC3339_PATTERN);

/**
 * Parses a time a caller sends (`yyyy-MM-DDTHH:mm:ss+TIMEZONE`, seconds required, any offset, an
 * optional fraction) to epoch ms truncated to the whole second; undefined when it is not one or names no
 * calendar instant (month 13, 30 February, 24:00:00, a leap second, an offset past ±23:59).
 */
export function parseInputTimeMs(value: string): number | undefined {
  const m = INPUT_TIME.exec(value);
  if (!m) return undefined;
  const part = (group: number) => Number(m[group] ?? 0);
  const year = part(1);
  const month = part(2);
  const day = part(3);
  const offsetHours = part(9);
  const offsetMinutes = part(10);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (part(4) > 23 || part(5) > 59 || part(6) > 59 || offsetHours > 23 || offsetMinutes > 59)
    return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(part(4), part(5), part(6), 0);
  const offsetMs = (m[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  return date.getTime() - offsetMs;
}

function daysInMonth(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
}

/**
 * A time as WeChat answers it, `yyyy-MM-DDTHH:mm:ss+08:00` (Beijing time, whole seconds), for a time a
 * caller sent in another offset or with a fraction; a value that is no time is returned unchanged.
 */
export function toWireTime(value: string): string {
  const ms = parseTimeMs(value);
  return ms === undefined ? value : formatBeijingTime(ms);
}

/** `coupon_available_time` with every time in its wire form ({@link toWireTime}). */
export function wireAvailableTime(time: CouponAvailableTime): CouponAvailableTime {
  const out: CouponAvailableTime = {
    ...time,
    available_begin_time: toWireTime(time.available_begin_time),
    available_end_time: toWireTime(time.available_end_time),
  };
  if (time.irregulary_avaliable_time !== undefined) {
    out.irregulary_avaliable_time = time.irregulary_avaliable_time.map((p) => ({
      ...p,
      begin_time: toWireTime(p.begin_time),
      end_time: toWireTime(p.end_time),
    }));
  }
  return out;
}

/** `coupon_use_rule` with the times of its `coupon_available_time` in their wire form. */
export function wireCouponUseRule(rule: CouponUseRule): CouponUseRule {
  return { ...rule, coupon_available_time: wireAvailableTime(rule.coupon_available_time) };
}

/** The usable period of one coupon. */
export interface CouponPeriod {
  availableStartMs: number;
  expireMs: number;
}

/**
 * Computes a coupon's usable period from the stock's availability and the receipt time.
 * `expireMs` is the last usable second (inclusive).
 */
export function couponPeriod(time: CouponAvailableTime, receiveMs: number): CouponPeriod {
  const begin = parseTimeMs(time.available_begin_time) ?? receiveMs;
  const end = parseTimeMs(time.available_end_time) ?? receiveMs;
  const base = Math.max(receiveMs, begin);
  const days = time.available_day_after_receive;
  const wait = time.wait_days_after_receive ?? 0;
  const seconds = time.available_second_after_receive;
  if (seconds !== undefined) {
    return { availableStartMs: base, expireMs: Math.min(end, base + seconds * 1000 - 1000) };
  }
  if (days === undefined) return { availableStartMs: base, expireMs: end };
  if (wait > 0) {
    const start = startOfBeijingDay(base) + wait * DAY_MS;
    return { availableStartMs: start, expireMs: Math.min(end, start + days * DAY_MS - 1000) };
  }
  return { availableStartMs: base, expireMs: Math.min(end, startOfBeijingDay(base) + days * DAY_MS - 1000) };
}

/** Whether the coupon's period has passed at `nowMs` (the last second is still usable). */
export function isPastExpiry(expireMs: number, nowMs: number): boolean {
  return nowMs >= expireMs + 1000;
}

/**
 * Whether `nowMs` is a usable instant: inside the period, and inside the weekday / time-of-day slots and
 * irregular periods when the stock sets them.
 */
export function isUsableAt(time: CouponAvailableTime, period: CouponPeriod, nowMs: number): boolean {
  if (nowMs < period.availableStartMs || isPastExpiry(period.expireMs, nowMs)) return false;
  const week = time.available_week;
  if (week?.week_day && !week.week_day.includes(beijingWeekday(nowMs))) return false;
  if (week?.available_day_time) {
    const second = beijingSecondOfDay(nowMs);
    if (!week.available_day_time.some((slot) => second >= slot.begin_time && second <= slot.end_time)) {
      return false;
    }
  }
  const irregular = time.irregulary_avaliable_time;
  if (irregular && irregular.length > 0) {
    const inside = irregular.some((p) => {
      const b = parseTimeMs(p.begin_time);
      const e = parseTimeMs(p.end_time);
      return b !== undefined && e !== undefined && nowMs >= b && nowMs < e + 1000;
    });
    if (!inside) return false;
  }
  return true;
}

/** One calendar year after `ms` (the longest stock window, 商家券有效期最长为1年). */
export function oneYearAfter(ms: number): number {
  const d = new Date(ms);
  d.setUTCFullYear(d.getUTCFullYear() + 1);
  return d.getTime();
}
