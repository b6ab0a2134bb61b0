import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseRfc3339 } from '@wechatpay-sandbox/sdk/protocol';
import { Rfc3339, StringEnum } from '../contract/busifavor/common.js';
import type { ProductCouponEventType } from './events.js';

/**
 * The plaintexts of the product-coupon (商品券) callbacks, as the simulation API accepts them: the fields
 * docs/busifavor.md §7.3 lists, required ones required, enumerations closed, no unknown field, times RFC 3339.
 * A resource that a real WeChat callback could not carry is refused before anything is enqueued, so a
 * receiver is never tested against a notification WeChat would never send.
 * @see docs/busifavor.md §7.3
 */

const Id = Type.String({ minLength: 1, maxLength: 64 });
const Text = Type.String({ maxLength: 1024 });
const ImageResult = Type.Object(
  { image_url: Type.String({ minLength: 8, maxLength: 1024, pattern: '^https?://' }) },
  { additionalProperties: false },
);

/** `send_channel` of PRODUCT_COUPON_SP.SEND. */
export const PRODUCT_COUPON_SEND_CHANNELS = ['API', 'BRAND_MANAGE', 'RECEIVE_COMPONENT', 'MEMBER'] as const;

/** PRODUCT_COUPON_SP.SEND plaintext (fires for every channel; the brand then calls `/confirm`). */
export const ProductCouponSendResource = Type.Object(
  {
    brand_id: Id,
    coupon_code: Id,
    product_coupon_id: Id,
    stock_id: Id,
    stock_bundle_id: Type.Optional(Id),
    user_coupon_bundle_id: Type.Optional(Id),
    appid: Type.String({ minLength: 1, maxLength: 32 }),
    openid: Type.String({ minLength: 1, maxLength: 128 }),
    unionid: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    receive_time: Rfc3339,
    send_request_no: Type.String({ minLength: 1, maxLength: 128 }),
    send_channel: StringEnum(PRODUCT_COUPON_SEND_CHANNELS),
    valid_begin_time: Rfc3339,
    valid_end_time: Rfc3339,
    phone_number: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    country_code: Type.Optional(Type.String({ minLength: 1, maxLength: 8 })),
    attach: Type.Optional(Text),
    channel_custom_info: Type.Optional(Text),
  },
  { additionalProperties: false },
);
export type ProductCouponSendResource = Static<typeof ProductCouponSendResource>;

/** `image_generation_type` of PRODUCT_COUPON_SP.IMAGE_GENERATION. */
export const IMAGE_GENERATION_TYPES = ['COMBINE_IMAGE', 'CUT_OUT'] as const;
/** `task_state` of PRODUCT_COUPON_SP.IMAGE_GENERATION. */
export const IMAGE_TASK_STATES = ['PROCESSING', 'FAIL', 'SUCCESS'] as const;

/** PRODUCT_COUPON_SP.IMAGE_GENERATION plaintext. */
export const ProductCouponImageGenerationResource = Type.Object(
  {
    brand_id: Id,
    task_id: Id,
    image_generation_type: StringEnum(IMAGE_GENERATION_TYPES),
    task_state: StringEnum(IMAGE_TASK_STATES),
    combine_image_result: Type.Optional(ImageResult),
    cut_out_result: Type.Optional(ImageResult),
  },
  { additionalProperties: false },
);
export type ProductCouponImageGenerationResource = Static<typeof ProductCouponImageGenerationResource>;

const SCHEMAS: Record<ProductCouponEventType, TSchema> = {
  'PRODUCT_COUPON_SP.SEND': ProductCouponSendResource,
  'PRODUCT_COUPON_SP.IMAGE_GENERATION': ProductCouponImageGenerationResource,
};

/** Why a resource was refused: a JSON Pointer into the resource, and what is wrong. */
export interface ResourceIssue {
  /** e.g. `/send_channel`. */
  pointer: string;
  issue: string;
  value?: unknown;
}

/** The first problem of a product-coupon resource, or undefined when WeChat could have sent it. */
export function productCouponResourceIssue(
  eventType: ProductCouponEventType,
  resource: Record<string, unknown>,
): ResourceIssue | undefined {
  const schema = SCHEMAS[eventType];
  const first = [...Value.Errors(schema, resource)][0];
  if (first) {
    const value = first.value === undefined ? {} : { value: first.value };
    // "Expected union value" does not say what would do; an enumeration names its members.
    const members = (first.schema.anyOf as Array<{ const?: unknown }> | undefined)?.map((m) => m.const) ?? [];
    const issue =
      members.length > 0 && members.every((m) => typeof m === 'string')
        ? `must be one of ${members.join(', ')}`
        : first.message;
    return { pointer: first.path || '/', issue, ...value };
  }
  if (eventType === 'PRODUCT_COUPON_SP.SEND') {
    const r = resource as ProductCouponSendResource;
    const times: Record<string, number | undefined> = {};
    for (const field of ['receive_time', 'valid_begin_time', 'valid_end_time'] as const) {
      times[field] = parseRfc3339(r[field])?.getTime();
      if (times[field] === undefined) {
        return { pointer: `/${field}`, issue: 'must be an RFC 3339 time with offset', value: r[field] };
      }
    }
    if ((times.valid_end_time as number) <= (times.valid_begin_time as number)) {
      return { pointer: '/valid_end_time', issue: 'must be after valid_begin_time', value: r.valid_end_time };
    }
  } else {
    const r = resource as ProductCouponImageGenerationResource;
    // Each task type has its own result object; the other one cannot appear.
    const foreign = r.image_generation_type === 'CUT_OUT' ? 'combine_image_result' : 'cut_out_result';
    if (r[foreign] !== undefined) {
      return { pointer: `/${foreign}`, issue: `is not a result of a ${r.image_generation_type} task` };
    }
  }
  return undefined;
}
