import { paramError } from '../errors.js';
import { checkRuleCount, checkRuleExpiry } from './rule-limits.js';

/**
 * Subsidy outcome rules: make the next N subsidy pay receipts (or return receipts) of a merchant,
 * optionally of one stock, end in `*_FAIL` with a chosen documented `fail_reason`. The sandbox keeps no
 * balances and no profit-sharing orders, so these failures cannot happen otherwise (docs/busifavor.md
 * §5.1). Unlike a fault, the request succeeds: the FAIL receipt is created, stored and
 * queryable, as the real platform answers it. The domain applies a rule through its SubsidyOutcomePort
 * (domain/busifavor/model.ts); this module only describes and validates rules.
 * @see docs/simulation.md "Subsidy outcomes"
 */

/** Which receipts a rule applies to. */
export type SubsidyReceiptKind = 'pay' | 'return';

/** Documented `fail_reason`s of pay receipts (docs/busifavor.md §2.1, wechatpay-go spelling). */
export const PAY_FAIL_REASONS = [
  'PAY_RECEIPT_INSUFFICIENT_BALANCE',
  'PAY_RECEIPT_NOT_INCOMESPLIT_ORDER',
  'PAY_RECEIPT_OTHER',
  'PAY_RECEIPT_EXCEED_SUBSIDY_AMOUNT_QUOTA',
  'PAY_RECEIPT_EXCEED_SUBSIDY_COUNT_QUOTA',
] as const;

/** Documented `fail_reason`s of return receipts. */
export const RETURN_FAIL_REASONS = ['RETURN_RECEIPT_INSUFFICIENT_BALANCE', 'RETURN_RECEIPT_OTHER'] as const;

/** A stored rule. */
export interface SubsidyOutcomeRule {
  id: string;
  /** The merchant whose receipts it fails (the caller of the receipt API), or null for every merchant. */
  mchid: string | null;
  /** Derived from the fail reason's prefix. */
  kind: SubsidyReceiptKind;
  /** Only receipts of this stock; null = any. */
  stockId: string | null;
  failReason: string;
  /** Firings left, or null for unlimited. */
  remaining: number | null;
  /** FAIL receipts it made. */
  fired: number;
  /** Wall-clock expiry in epoch ms, or null. */
  expiresAtMs: number | null;
  createdAtMs: number;
}

/** A rule as the caller describes it. */
export interface SubsidyOutcomeInput {
  mchid: string | null;
  failReason: string;
  stockId?: string;
  count?: number;
  expiresAtMs?: number;
}

/** Validates a rule and fills its defaults. Throws PARAM_ERROR naming the body field. */
export function newSubsidyOutcomeRule(
  input: SubsidyOutcomeInput,
  ids: { id: string; nowMs: number },
): SubsidyOutcomeRule {
  const kind: SubsidyReceiptKind | undefined = (PAY_FAIL_REASONS as readonly string[]).includes(
    input.failReason,
  )
    ? 'pay'
    : (RETURN_FAIL_REASONS as readonly string[]).includes(input.failReason)
      ? 'return'
      : undefined;
  if (!kind) {
    throw paramError(
      '/fail_reason',
      `must be one of ${[...PAY_FAIL_REASONS, ...RETURN_FAIL_REASONS].join(', ')}`,
      'body',
      input.failReason,
    );
  }
  if (input.stockId !== undefined && !/^[\x21-\x7e]{1,20}$/.test(input.stockId)) {
    throw paramError('/stock_id', 'must be a stock id (1–20 characters)', 'body', input.stockId);
  }
  checkRuleCount(input.count);
  checkRuleExpiry(input.expiresAtMs, ids.nowMs);
  return {
    id: ids.id,
    mchid: input.mchid,
    kind,
    stockId: input.stockId ?? null,
    failReason: input.failReason,
    remaining: input.count ?? null,
    fired: 0,
    expiresAtMs: input.expiresAtMs ?? null,
    createdAtMs: ids.nowMs,
  };
}

/** Whether a live rule applies to a receipt of `mchid` for `stockId`. */
export function outcomeRuleApplies(
  rule: SubsidyOutcomeRule,
  target: { kind: SubsidyReceiptKind; mchid: string; stockId: string },
  wallMs: number,
): boolean {
  return (
    rule.kind === target.kind &&
    (rule.mchid === null || rule.mchid === target.mchid) &&
    (rule.stockId === null || rule.stockId === target.stockId) &&
    rule.remaining !== 0 &&
    (rule.expiresAtMs === null || rule.expiresAtMs > wallMs)
  );
}

/** The order rules are tried in, as fault rules: the merchant's before global ones, older first. */
export function compareOutcomeRules(a: SubsidyOutcomeRule, b: SubsidyOutcomeRule): number {
  return (
    (a.mchid === null ? 1 : 0) - (b.mchid === null ? 1 : 0) ||
    a.createdAtMs - b.createdAtMs ||
    a.id.localeCompare(b.id)
  );
}
