import { type Static, Type } from '@sinclair/typebox';

/**
 * Wire contracts of the notify-URL endpoints (seeds 000, 001, 003, 004): the single source for
 * validation, types and the SDK's checks.
 */

const NotifyUrl = Type.String({ minLength: 1, maxLength: 256, description: 'https URL without query' });
const Mchid = Type.String({ minLength: 8, maxLength: 15, pattern: '^[0-9]+$' });

/** POST /v3/marketing/busifavor/callbacks */
export const SetBusifavorCallbackBody = Type.Object({
  mchid: Type.Optional(Mchid),
  notify_url: Type.String({ minLength: 10, maxLength: 256 }),
});
export type SetBusifavorCallbackBody = Static<typeof SetBusifavorCallbackBody>;
export const SetBusifavorCallbackResponse = Type.Object({
  update_time: Type.String(),
  notify_url: Type.String(),
  mchid: Type.String(),
});
export type SetBusifavorCallbackResponse = Static<typeof SetBusifavorCallbackResponse>;

/** GET /v3/marketing/busifavor/callbacks?mchid= */
export const GetBusifavorCallbackQuery = Type.Object({ mchid: Type.Optional(Mchid) });
export type GetBusifavorCallbackQuery = Static<typeof GetBusifavorCallbackQuery>;
export const GetBusifavorCallbackResponse = Type.Object({ mchid: Type.String(), notify_url: Type.String() });
export type GetBusifavorCallbackResponse = Static<typeof GetBusifavorCallbackResponse>;

/** POST /v3/marketing/partner/product-coupon/notify-configs */
export const SetProductCouponNotifyConfigBody = Type.Object({ notify_url: NotifyUrl });
export type SetProductCouponNotifyConfigBody = Static<typeof SetProductCouponNotifyConfigBody>;
/** Response of both POST and GET product-coupon notify-configs. */
export const ProductCouponNotifyConfigResponse = Type.Object({
  notify_url: Type.String(),
  update_time: Type.String(),
});
export type ProductCouponNotifyConfigResponse = Static<typeof ProductCouponNotifyConfigResponse>;

/** POST /v3/marketing/partner/delivery-plan/{sp_mchid}/notify-url */
export const SetDeliveryPlanNotifyUrlParams = Type.Object({
  sp_mchid: Type.String({ minLength: 1, maxLength: 32 }),
});
export const SetDeliveryPlanNotifyUrlBody = Type.Object({ notify_url: NotifyUrl });
export type SetDeliveryPlanNotifyUrlBody = Static<typeof SetDeliveryPlanNotifyUrlBody>;
export const SetDeliveryPlanNotifyUrlResponse = Type.Object({ notify_url: Type.String() });
export type SetDeliveryPlanNotifyUrlResponse = Static<typeof SetDeliveryPlanNotifyUrlResponse>;

/** GET /v3/certificates */
export const CertificatesQuery = Type.Object({
  algorithm_type: Type.Optional(Type.Union([Type.Literal('RSA'), Type.Literal('SM2'), Type.Literal('ALL')])),
});
export const CertificatesResponse = Type.Object({
  data: Type.Array(
    Type.Object({
      serial_no: Type.String(),
      effective_time: Type.String(),
      expire_time: Type.String(),
      encrypt_certificate: Type.Object({
        algorithm: Type.Literal('AEAD_AES_256_GCM'),
        nonce: Type.String(),
        associated_data: Type.String(),
        ciphertext: Type.String(),
      }),
    }),
  ),
});
export type CertificatesResponse = Static<typeof CertificatesResponse>;
