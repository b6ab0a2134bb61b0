import { type Static, type TLiteral, type TSchema, type TUnion, Type } from '@sinclair/typebox';

/**
 * Shared wire objects of the merchant-coupon (busifavor) family: enums and the nested objects that
 * stock creation, stock query and the coupon views share. Lengths count characters.
 * @see docs/busifavor.md §2
 */

/** A closed enum of string literals. */
export function StringEnum<T extends string>(
  values: readonly T[],
  description?: string,
): TUnion<TLiteral<T>[]> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    description ? { description } : {},
  );
}

/** Optional member. */
const Opt = <T extends TSchema>(s: T) => Type.Optional(s);

export const STOCK_TYPES = ['NORMAL', 'DISCOUNT', 'EXCHANGE'] as const;
export const STOCK_STATES = ['UNAUDIT', 'RUNNING', 'STOPED', 'PAUSED'] as const;
export const COUPON_STATES = ['SENDED', 'USED', 'EXPIRED', 'DELETED', 'DEACTIVATED'] as const;
export const COUPON_CODE_MODES = ['WECHATPAY_MODE', 'MERCHANT_API', 'MERCHANT_UPLOAD'] as const;
export const USE_METHODS = ['OFF_LINE', 'MINI_PROGRAMS', 'SELF_CONSUME', 'PAYMENT_CODE'] as const;
export const CODE_DISPLAY_MODES = ['NOT_SHOW', 'BARCODE', 'QRCODE'] as const;
export const BACKGROUND_COLORS = [
  'Color010',
  'Color020',
  'Color030',
  'Color040',
  'Color050',
  'Color060',
  'Color070',
  'Color080',
  'Color090',
  'Color100',
] as const;

export const StockType = StringEnum(STOCK_TYPES);
export type StockType = (typeof STOCK_TYPES)[number];
export type StockState = (typeof STOCK_STATES)[number];
export const CouponState = StringEnum(COUPON_STATES);
export type CouponState = (typeof COUPON_STATES)[number];
export const CouponCodeMode = StringEnum(COUPON_CODE_MODES);
export type CouponCodeMode = (typeof COUPON_CODE_MODES)[number];

/**
 * The shape of a time a caller sends: `yyyy-MM-DDTHH:mm:ss+TIMEZONE` (seeds 000/004), seconds
 * required, an optional fraction of 1–9 digits, the offset `Z` or `±hh:mm`. Capture groups: year,
 * month, day, hour, minute, second, fraction, offset sign, offset hours, offset minutes.
 * @see docs/fidelity.md (Busifavor: times a caller sends)
 */
export const RFC3339_PATTERN =
  '^(\\d{4})-(\\d{2})-(\\d{2})T(\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,9}))?(?:Z|([+-])(\\d{2}):(\\d{2}))$';
/** What a body whose time does not match {@link RFC3339_PATTERN} is told (`detail.issue`). */
export const RFC3339_ISSUE =
  '时间格式不正确，应为RFC3339格式 yyyy-MM-DDTHH:mm:ss+TIMEZONE，如 2015-05-20T13:29:35+08:00';
/**
 * RFC 3339 time with seconds and an explicit offset; calendar ranges are checked by the domain. The
 * pattern alone bounds the length, so every malformed time gets the same {@link RFC3339_ISSUE}.
 */
export const Rfc3339 = Type.String({ pattern: RFC3339_PATTERN });
/** Money in fen. */
const Fen = (minimum: number, maximum = 10000000) => Type.Integer({ minimum, maximum });
/** Merchant id: 8–15 digits. */
export const Mchid = Type.String({ minLength: 8, maxLength: 15, pattern: '^[0-9]+$' });
/** Stock id: 1–20 characters. */
export const StockId = Type.String({ minLength: 1, maxLength: 20 });
/** Coupon code: 1–32 characters. */
export const CouponCode = Type.String({ minLength: 1, maxLength: 32 });
/** Appid: 1–32 characters. */
export const Appid = Type.String({ minLength: 1, maxLength: 32 });
/** A merchant request number of 1–128 characters. */
export const RequestNo = Type.String({ minLength: 1, maxLength: 128 });
/** A request number restricted to letters, digits and `|_*-` (associate, send, subsidy). */
export const StrictRequestNo = Type.String({ minLength: 1, maxLength: 128, pattern: '^[0-9A-Za-z|_*-]+$' });

export const AvailableDayTime = Type.Object({
  begin_time: Type.Integer({ minimum: 0, maximum: 86399 }),
  end_time: Type.Integer({ minimum: 0, maximum: 86399 }),
});
export const AvailableWeek = Type.Object({
  week_day: Opt(Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), { minItems: 1, maxItems: 7 })),
  available_day_time: Opt(Type.Array(AvailableDayTime, { minItems: 1, maxItems: 2 })),
});
export const IrregularTime = Type.Object({ begin_time: Rfc3339, end_time: Rfc3339 });

/** coupon_use_rule.coupon_available_time */
export const CouponAvailableTime = Type.Object({
  available_begin_time: Rfc3339,
  available_end_time: Rfc3339,
  available_day_after_receive: Opt(Type.Integer({ minimum: 1, maximum: 365 })),
  wait_days_after_receive: Opt(Type.Integer({ minimum: 0, maximum: 30 })),
  available_week: Opt(AvailableWeek),
  irregulary_avaliable_time: Opt(Type.Array(IrregularTime, { minItems: 1, maxItems: 100 })),
  available_second_after_receive: Opt(Type.Integer({ minimum: 1, maximum: 31536000 })),
});
export type CouponAvailableTime = Static<typeof CouponAvailableTime>;

export const FixedNormalCoupon = Type.Object({
  discount_amount: Fen(1),
  transaction_minimum: Fen(0),
});
export const DiscountCoupon = Type.Object({
  discount_percent: Type.Integer({ minimum: 1, maximum: 99 }),
  transaction_minimum: Fen(0),
});
export const ExchangeCoupon = Type.Object({
  exchange_price: Fen(0),
  transaction_minimum: Fen(0),
});

/** coupon_use_rule (create form). */
export const CouponUseRule = Type.Object({
  coupon_available_time: CouponAvailableTime,
  fixed_normal_coupon: Opt(FixedNormalCoupon),
  discount_coupon: Opt(DiscountCoupon),
  exchange_coupon: Opt(ExchangeCoupon),
  use_method: StringEnum(USE_METHODS),
  mini_programs_appid: Opt(Appid),
  mini_programs_path: Opt(Type.String({ minLength: 1, maxLength: 128 })),
});
export type CouponUseRule = Static<typeof CouponUseRule>;

/** stock_send_rule (create form). */
export const StockSendRule = Type.Object({
  max_amount: Opt(Type.Integer({ minimum: 1, maximum: 100000000000 })),
  max_coupons: Type.Integer({ minimum: 1, maximum: 1000000000 }),
  max_coupons_per_user: Type.Integer({ minimum: 1, maximum: 100 }),
  max_amount_by_day: Opt(Type.Integer({ minimum: 1, maximum: 100000000000 })),
  max_coupons_by_day: Opt(Type.Integer({ minimum: 1, maximum: 1000000000 })),
  natural_person_limit: Opt(Type.Boolean()),
  prevent_api_abuse: Opt(Type.Boolean()),
  transferable: Opt(Type.Boolean()),
  shareable: Opt(Type.Boolean()),
});
export type StockSendRule = Static<typeof StockSendRule>;

export const MiniProgramsInfo = Type.Object({
  mini_programs_appid: Appid,
  mini_programs_path: Type.String({ minLength: 1, maxLength: 128 }),
  entrance_words: Type.String({ minLength: 1, maxLength: 5 }),
  guiding_words: Opt(Type.String({ minLength: 1, maxLength: 6 })),
});

/** custom_entrance (create form, with store_id). */
export const CustomEntrance = Type.Object({
  mini_programs_info: Opt(MiniProgramsInfo),
  appid: Opt(Appid),
  hall_id: Opt(Type.String({ minLength: 1, maxLength: 64 })),
  store_id: Opt(Type.String({ minLength: 1, maxLength: 64 })),
  code_display_mode: Opt(StringEnum(CODE_DISPLAY_MODES)),
});
export type CustomEntrance = Static<typeof CustomEntrance>;

export const FinderInfo = Type.Object({
  finder_id: Type.String({ minLength: 1, maxLength: 64 }),
  finder_video_id: Type.String({ minLength: 1, maxLength: 256 }),
  finder_video_cover_image_url: Type.String({ minLength: 1, maxLength: 256 }),
});

/** display_pattern_info */
export const DisplayPatternInfo = Type.Object({
  description: Opt(Type.String({ minLength: 1, maxLength: 1000 })),
  merchant_logo_url: Opt(Type.String({ minLength: 1, maxLength: 256 })),
  merchant_name: Opt(Type.String({ minLength: 1, maxLength: 16 })),
  background_color: Opt(StringEnum(BACKGROUND_COLORS)),
  coupon_image_url: Opt(Type.String({ minLength: 1, maxLength: 256 })),
  finder_info: Opt(FinderInfo),
});
export type DisplayPatternInfo = Static<typeof DisplayPatternInfo>;

/** notify_config */
export const NotifyConfig = Type.Object({ notify_appid: Opt(Appid) });
export type NotifyConfig = Static<typeof NotifyConfig>;

/** send_count_information (response only). */
export const SendCountInformation = Type.Object({
  total_send_num: Opt(Type.Integer()),
  total_send_amount: Opt(Type.Integer()),
  today_send_num: Opt(Type.Integer()),
  today_send_amount: Opt(Type.Integer()),
});
export type SendCountInformation = Static<typeof SendCountInformation>;

/** A user coupon as the single-coupon GET and the filter list return it (CouponEntity). */
export const CouponEntity = Type.Object({
  belong_merchant: Type.String(),
  stock_name: Type.String(),
  comment: Opt(Type.String()),
  goods_name: Type.String(),
  stock_type: StockType,
  transferable: Opt(Type.Boolean()),
  shareable: Opt(Type.Boolean()),
  coupon_state: CouponState,
  display_pattern_info: Opt(DisplayPatternInfo),
  coupon_use_rule: CouponUseRule,
  custom_entrance: Opt(CustomEntrance),
  coupon_code: Type.String(),
  stock_id: Type.String(),
  available_start_time: Type.String(),
  expire_time: Type.String(),
  receive_time: Type.String(),
  send_request_no: Type.String(),
  use_request_no: Opt(Type.String()),
  use_time: Opt(Type.String()),
  associate_out_trade_no: Opt(Type.String()),
  return_request_no: Opt(Type.String()),
  return_time: Opt(Type.String()),
  deactivate_request_no: Opt(Type.String()),
  deactivate_time: Opt(Type.String()),
  deactivate_reason: Opt(Type.String()),
});
export type CouponEntity = Static<typeof CouponEntity>;
