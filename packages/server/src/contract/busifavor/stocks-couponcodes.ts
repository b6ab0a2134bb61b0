import { type Static, Type } from '@sinclair/typebox';
import { RequestNo } from './common.js';

/**
 * POST /v3/marketing/busifavor/stocks/{stock_id}/couponcodes — upload pre-stored codes (上传预存code).
 * Codes are judged one by one; bad ones come back in `fail_codes` instead of failing the request.
 * @see docs/busifavor.md §3.5, seed 002 §3.2.6
 */
export const UploadCodesBody = Type.Object({
  coupon_code_list: Type.Array(Type.String({ maxLength: 1024 }), { minItems: 1, maxItems: 200 }),
  upload_request_no: RequestNo,
});
export type UploadCodesBody = Static<typeof UploadCodesBody>;

export const UploadCodesResponse = Type.Object({
  stock_id: Type.String(),
  total_count: Type.Integer(),
  success_time: Type.String(),
  success_count: Type.Optional(Type.Integer()),
  success_codes: Type.Optional(Type.Array(Type.String())),
  fail_count: Type.Optional(Type.Integer()),
  fail_codes: Type.Optional(
    Type.Array(Type.Object({ coupon_code: Type.String(), code: Type.String(), message: Type.String() })),
  ),
  exist_codes: Type.Optional(Type.Array(Type.String())),
  duplicate_codes: Type.Optional(Type.Array(Type.String())),
});
export type UploadCodesResponse = Static<typeof UploadCodesResponse>;
