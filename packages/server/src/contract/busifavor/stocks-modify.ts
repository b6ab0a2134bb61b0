import { type Static, Type } from '@sinclair/typebox';
import {
  Appid,
  CODE_DISPLAY_MODES,
  DisplayPatternInfo,
  MiniProgramsInfo,
  NotifyConfig,
  RequestNo,
  StringEnum,
  USE_METHODS,
} from './common.js';

/**
 * PATCH /v3/marketing/busifavor/stocks/{stock_id} — modify basic info (修改商家券基本信息); 204.
 * `stock_id` belongs in the path only (seed 002 FAQ).
 * @see docs/busifavor.md §3.3, seed 002 §3.2.12
 */
export const ModifyStockBody = Type.Object({
  out_request_no: RequestNo,
  custom_entrance: Type.Optional(
    Type.Object({
      mini_programs_info: Type.Optional(MiniProgramsInfo),
      appid: Type.Optional(Appid),
      hall_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      code_display_mode: Type.Optional(StringEnum(CODE_DISPLAY_MODES)),
    }),
  ),
  stock_name: Type.Optional(Type.String({ minLength: 1, maxLength: 21 })),
  comment: Type.Optional(Type.String({ minLength: 1, maxLength: 20 })),
  goods_name: Type.Optional(Type.String({ minLength: 1, maxLength: 15 })),
  display_pattern_info: Type.Optional(DisplayPatternInfo),
  coupon_use_rule: Type.Optional(
    Type.Object({
      use_method: Type.Optional(StringEnum(USE_METHODS)),
      mini_programs_appid: Type.Optional(Appid),
      mini_programs_path: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    }),
  ),
  stock_send_rule: Type.Optional(
    Type.Object({
      natural_person_limit: Type.Optional(Type.Boolean()),
      prevent_api_abuse: Type.Optional(Type.Boolean()),
    }),
  ),
  notify_config: Type.Optional(NotifyConfig),
  subsidy: Type.Optional(Type.Boolean()),
});
export type ModifyStockBody = Static<typeof ModifyStockBody>;
