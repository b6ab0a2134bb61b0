import { type Static, Type } from '@sinclair/typebox';
import { Appid, CouponCode, Mchid, STOCK_STATES, StockId, StringEnum } from '../busifavor/common.js';
import { ExpireTime, RuleScope } from './rules.js';

/**
 * Wire contract of the merchant-coupon simulation API under `/sandbox/v1/`: simulated users with an
 * openid per appid, appid bindings, the three front-end send channels, and test hooks (stock state,
 * a user deleting a coupon, subsidy outcome rules).
 * @see docs/busifavor-walkthrough.md, docs/simulation.md ("Subsidy outcomes")
 */

const OpenidString = Type.String({ minLength: 1, maxLength: 128 });

/** POST /sandbox/v1/users */
export const CreateUserBody = Type.Object({
  appids: Type.Array(Appid, { minItems: 0, maxItems: 20 }),
  natural_person_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  suspicious: Type.Optional(Type.Boolean()),
});
export type CreateUserBody = Static<typeof CreateUserBody>;

/** `{user_id}` of a simulated user. */
export const UserParams = Type.Object({ user_id: Type.String({ minLength: 1, maxLength: 64 }) });

/** A simulated user: one openid per appid (keyed by appid), one unionid, one natural person. */
export const SimUserResponse = Type.Object({
  user_id: Type.String(),
  unionid: Type.String(),
  natural_person_id: Type.String(),
  suspicious: Type.Boolean(),
  openids: Type.Record(Type.String(), Type.String()),
});
export type SimUserResponse = Static<typeof SimUserResponse>;

/** POST /sandbox/v1/users/{user_id}/openids */
export const CreateOpenidBody = Type.Object({ appid: Appid });
export type CreateOpenidBody = Static<typeof CreateOpenidBody>;
/** The user's openid under the appid (made on first request). */
export const OpenidResponse = Type.Object({ appid: Type.String(), openid: Type.String() });
export type OpenidResponse = Static<typeof OpenidResponse>;

/** POST /sandbox/v1/appids: bind an appid to the caller or to one of its sub-merchants. */
export const BindAppidBody = Type.Object({ appid: Appid, mchid: Type.Optional(Mchid) });
export type BindAppidBody = Static<typeof BindAppidBody>;
export const AppidBindingResponse = Type.Object({ appid: Type.String(), mchid: Type.String() });
export type AppidBindingResponse = Static<typeof AppidBindingResponse>;
/** GET /sandbox/v1/appids: the appids bound to the caller. */
export const AppidsResponse = Type.Object({ data: Type.Array(Type.String()) });
export type AppidsResponse = Static<typeof AppidsResponse>;
/** `{appid}` of a binding. */
export const AppidParams = Type.Object({ appid: Appid });

/** POST /sandbox/v1/busifavor/send/miniapp: the plugin's attributes plus who the user is. */
export const PluginSendBody = Type.Object({
  appid: Appid,
  openid: OpenidString,
  send_coupon_merchant: Mchid,
  send_coupon_params: Type.Array(
    Type.Object({
      stock_id: StockId,
      out_request_no: Type.String({ minLength: 1, maxLength: 128 }),
      coupon_code: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    }),
  ),
  sign: Type.String({ minLength: 1, maxLength: 128 }),
});
export type PluginSendBody = Static<typeof PluginSendBody>;

/** POST /sandbox/v1/busifavor/send/h5: the H5 page URL the merchant built. */
export const H5SendBody = Type.Object({ url: Type.String({ minLength: 1, maxLength: 4096 }) });
export type H5SendBody = Static<typeof H5SendBody>;

/** POST /sandbox/v1/busifavor/send/paygift: a payment gift (支付有礼) after the payment. */
export const PayGiftSendBody = Type.Object({
  stock_id: StockId,
  appid: Appid,
  openid: OpenidString,
  transaction_id: Type.String({ minLength: 1, maxLength: 32 }),
  out_request_no: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
});
export type PayGiftSendBody = Static<typeof PayGiftSendBody>;

/** Codes of one coupon in `send_coupon_result`: `SUCCESS` or why it was refused. */
export const PLUGIN_RESULT_CODES = [
  'SUCCESS',
  'FAILED',
  'NOTENOUGH',
  'DAYLIMIT',
  'NATURELIMIT',
  'MAXQUOTA',
  'DUPREQUEST',
  'NOTRUNNING',
] as const;

/** The plugin's `errcode` (the number is WeChat's own for an unbound appid). */
export const PluginErrcode = Type.Union([
  StringEnum([
    'OK',
    'PARAM_ERROR',
    'USER_NOT_EXISTS',
    'USER_GET_FAILED',
    'SIGN_ERROR',
    'SYSTEMERROR',
  ] as const),
  Type.Literal(268435461),
]);

/** The plugin's `bind:sendcoupon` event detail, as every front-end send channel answers (200). */
export const PluginSendResponse = Type.Object({
  errcode: PluginErrcode,
  msg: Type.String(),
  send_coupon_result: Type.Array(
    Type.Object({
      stock_id: Type.String(),
      out_request_no: Type.String(),
      coupon_code: Type.Optional(Type.String()),
      code: StringEnum(PLUGIN_RESULT_CODES),
      message: Type.String(),
    }),
  ),
});
export type PluginSendResponse = Static<typeof PluginSendResponse>;

/** `{stock_id}` of the stock-state hook. */
export const SimStockParams = Type.Object({ stock_id: StockId });
/** POST /sandbox/v1/busifavor/stocks/{stock_id}/state */
export const StockStateBody = Type.Object({ stock_state: StringEnum(STOCK_STATES) });
export type StockStateBody = Static<typeof StockStateBody>;
export const StockStateResponse = Type.Object({
  stock_id: Type.String(),
  stock_state: StringEnum(STOCK_STATES),
});
export type StockStateResponse = Static<typeof StockStateResponse>;

/** POST /sandbox/v1/busifavor/coupons/delete: the user deletes a coupon from their wallet. */
export const DeleteCouponBody = Type.Object({ stock_id: StockId, coupon_code: CouponCode });
export type DeleteCouponBody = Static<typeof DeleteCouponBody>;

/** POST /sandbox/v1/busifavor/subsidy-outcomes (`fail_reason` is checked by the handler, naming the field). */
export const SubsidyOutcomeBody = Type.Object(
  {
    scope: Type.Optional(RuleScope),
    fail_reason: Type.String({ minLength: 1, maxLength: 64 }),
    stock_id: Type.Optional(StockId),
    count: Type.Optional(Type.Integer()),
    expire_time: Type.Optional(ExpireTime),
  },
  { additionalProperties: false },
);
export type SubsidyOutcomeBody = Static<typeof SubsidyOutcomeBody>;

/** A subsidy outcome rule; absent fields are omitted (no `remaining`: unlimited). */
export const SubsidyOutcomeView = Type.Object({
  id: Type.String(),
  scope: Type.Union([Type.Literal('merchant'), Type.Literal('global')]),
  mchid: Type.Optional(Type.String()),
  receipt_type: Type.Union([Type.Literal('PAY_RECEIPT'), Type.Literal('RETURN_RECEIPT')]),
  stock_id: Type.Optional(Type.String()),
  fail_reason: Type.String(),
  remaining: Type.Optional(Type.Integer()),
  fired: Type.Integer(),
  expire_time: Type.Optional(Type.String()),
  create_time: Type.String(),
});
export type SubsidyOutcomeView = Static<typeof SubsidyOutcomeView>;

/** GET /sandbox/v1/busifavor/subsidy-outcomes: the caller's rules and the global ones. */
export const SubsidyOutcomesResponse = Type.Object({
  total_count: Type.Integer(),
  data: Type.Array(SubsidyOutcomeView),
});
export type SubsidyOutcomesResponse = Static<typeof SubsidyOutcomesResponse>;
