import { type Static, Type } from '@sinclair/typebox';
import {
  CouponCodeMode,
  CouponUseRule,
  CustomEntrance,
  DisplayPatternInfo,
  NotifyConfig,
  SendCountInformation,
  STOCK_STATES,
  StockId,
  StockSendRule,
  StockType,
  StringEnum,
} from './common.js';

/**
 * GET /v3/marketing/busifavor/stocks/{stock_id} — query a stock (查询商家券详情).
 * @see docs/busifavor.md §3.2, seed 002 §3.2.2
 */
export const StockIdParams = Type.Object({ stock_id: StockId });
export type StockIdParams = Static<typeof StockIdParams>;

export const StockResponse = Type.Object({
  stock_name: Type.String(),
  belong_merchant: Type.String(),
  comment: Type.Optional(Type.String()),
  goods_name: Type.String(),
  stock_type: StockType,
  coupon_use_rule: CouponUseRule,
  stock_send_rule: StockSendRule,
  custom_entrance: Type.Optional(CustomEntrance),
  display_pattern_info: Type.Optional(DisplayPatternInfo),
  stock_state: StringEnum(STOCK_STATES),
  coupon_code_mode: CouponCodeMode,
  stock_id: Type.String(),
  coupon_code_count: Type.Optional(
    Type.Object({ total_count: Type.Integer(), available_count: Type.Integer() }),
  ),
  notify_config: Type.Optional(NotifyConfig),
  send_count_information: Type.Optional(SendCountInformation),
  subsidy: Type.Optional(Type.Boolean()),
});
export type StockResponse = Static<typeof StockResponse>;
