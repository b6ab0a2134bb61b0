import type { NotifyFamily } from '../domain/ports.js';

/**
 * WeChat's callback retry schedules, as data. A schedule lists the delays (seconds of the merchant's
 * business time) before each retry; its length is the number of retries after the first attempt.
 * @see docs/protocol.md §6.5
 */

/** A retry schedule. */
export interface RetrySchedule {
  /** Delay before retry 1, 2, …; after the last one fails the notification is dead. */
  readonly retryDelaysSeconds: readonly number[];
}

/**
 * 商家券 COUPON.SEND: "every 60 s, 11 times in total" (seed 002 §3.2.17), read as 1 first attempt plus
 * 10 retries 60 s apart (unconfirmed interpretation, docs/fidelity.md "Notifications").
 */
export const BUSIFAVOR_RETRY_DELAYS_S: readonly number[] = Object.freeze(
  Array.from({ length: 10 }, () => 60),
);

/** 商品券 PRODUCT_COUPON_SP.*: 60 s × 11 as for busifavor (asserted only by a third party, unconfirmed). */
export const PRODUCT_COUPON_RETRY_DELAYS_S: readonly number[] = BUSIFAVOR_RETRY_DELAYS_S;

/** 投放计划 DELIVERY_PLAN.CHANGE: undocumented; defaults to the busifavor schedule. */
export const DELIVERY_PLAN_RETRY_DELAYS_S: readonly number[] = BUSIFAVOR_RETRY_DELAYS_S;

/** Default schedule per family; override any of them through the dispatcher options. */
export const DEFAULT_RETRY_SCHEDULES: Readonly<Record<NotifyFamily, RetrySchedule>> = Object.freeze({
  busifavor: { retryDelaysSeconds: BUSIFAVOR_RETRY_DELAYS_S },
  'product-coupon': { retryDelaysSeconds: PRODUCT_COUPON_RETRY_DELAYS_S },
  'delivery-plan': { retryDelaysSeconds: DELIVERY_PLAN_RETRY_DELAYS_S },
});

/**
 * When the next attempt is due after a failed one, or undefined when the schedule is exhausted.
 * @param failedAttemptsInRound attempts made in this round so far, including the one that just failed (≥ 1).
 * @param nowMs the merchant's business time when the attempt finished.
 */
export function nextRetryAt(
  schedule: RetrySchedule,
  failedAttemptsInRound: number,
  nowMs: number,
): number | undefined {
  const delay = schedule.retryDelaysSeconds[failedAttemptsInRound - 1];
  return delay === undefined ? undefined : nowMs + delay * 1000;
}

/** Total attempts a schedule allows in one round (first attempt + retries). */
export function maxAttempts(schedule: RetrySchedule): number {
  return schedule.retryDelaysSeconds.length + 1;
}
