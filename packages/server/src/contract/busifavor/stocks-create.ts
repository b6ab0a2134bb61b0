import { type Static, Type } from '@sinclair/typebox';
import {
  CouponCodeMode,
  CouponUseRule,
  CustomEntrance,
  DisplayPatternInfo,
  Mchid,
  NotifyConfig,
  RequestNo,
  StockSendRule,
  StockType,
} from './common.js';

/**
 * POST /v3/marketing/busifavor/stocks — create a stock (创建商家券).
 * @see docs/busifavor.md §3.1, seed 002 §3.2.1
 */
export const CreateStockBody = Type.Object({
  stock_name: Type.String({ minLength: 1, maxLength: 21 }),
  belong_merchant: Mchid,
  comment: Type.Optional(Type.String({ minLength: 1, maxLength: 20 })),
  goods_name: Type.String({ minLength: 1, maxLength: 15 }),
  stock_type: StockType,
  coupon_use_rule: CouponUseRule,
  stock_send_rule: StockSendRule,
  out_request_no: RequestNo,
  custom_entrance: Type.Optional(CustomEntrance),
  display_pattern_info: Type.Optional(DisplayPatternInfo),
  coupon_code_mode: CouponCodeMode,
  notify_config: Type.Optional(NotifyConfig),
  subsidy: Type.Optional(Type.Boolean()),
});
export type CreateStockBody = Static<typeof CreateStockBody>;

export const CreateStockResponse = Type.Object({
  stock_id: Type.String(),
  create_time: Type.String(),
});
export type CreateStockResponse = Static<typeof CreateStockResponse>;
