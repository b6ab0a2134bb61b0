import { type Static, Type } from '@sinclair/typebox';
import { RequestNo } from './common.js';

/**
 * PATCH /v3/marketing/busifavor/stocks/{stock_id}/budget — modify budget (修改批次预算).
 * @see docs/busifavor.md §3.4, seed 002 §3.2.11
 */
const Count = Type.Integer({ minimum: 0, maximum: 1000000000 });
export const ModifyBudgetBody = Type.Object({
  target_max_coupons: Type.Optional(Count),
  current_max_coupons: Type.Optional(Count),
  target_max_coupons_by_day: Type.Optional(Count),
  current_max_coupons_by_day: Type.Optional(Count),
  modify_budget_request_no: RequestNo,
});
export type ModifyBudgetBody = Static<typeof ModifyBudgetBody>;

export const ModifyBudgetResponse = Type.Object({
  max_coupons: Type.Integer(),
  max_coupons_by_day: Type.Optional(Type.Integer()),
});
export type ModifyBudgetResponse = Static<typeof ModifyBudgetResponse>;
