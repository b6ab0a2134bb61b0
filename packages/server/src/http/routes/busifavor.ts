import type { BUSIFAVOR_ENDPOINTS } from '../../contract/endpoints/busifavor.js';
import { apiSend } from '../../domain/busifavor/api-send.js';
import { deleteCode, getCode, listCodes, uploadCodes } from '../../domain/busifavor/codes.js';
import {
  associateCoupon,
  deactivateCoupon,
  disassociateCoupon,
  getUserCoupon,
  listUserCoupons,
  returnCoupon,
  useCoupon,
} from '../../domain/busifavor/coupons.js';
import { uploadImage } from '../../domain/busifavor/media.js';
import { createStock, getStock, modifyBudget, modifyStock } from '../../domain/busifavor/stocks.js';
import {
  createSubsidyPayReceipt,
  createSubsidyReturnReceipt,
  getSubsidyPayReceipt,
  getSubsidyReturnReceipt,
  listSubsidyPayReceipts,
} from '../../domain/busifavor/subsidy.js';
import { errors } from '../../errors.js';
import type { BusifavorAdapters } from '../../services/busifavor.js';
import type { EndpointHandlers } from '../endpoints.js';

/**
 * The merchant-coupon (busifavor) APIs of seed 002 under `/v3/marketing/busifavor/…` and the marketing
 * image upload. Handlers only map wire ↔ domain; the rules live in domain/busifavor.
 * @see docs/busifavor.md
 */

/** The busifavor operations, by table key: each maps the validated request onto a domain function. */
export function busifavorHandlers(adapters: BusifavorAdapters): EndpointHandlers<typeof BUSIFAVOR_ENDPOINTS> {
  const { deps } = adapters;
  return {
    createStock: async ({ body }, { merchant }) => createStock(deps, merchant.mchid, body),
    getStock: async ({ params }, { merchant }) => getStock(deps, merchant.mchid, params.stock_id),
    modifyStock: async ({ params, body }, { merchant }) => {
      await modifyStock(deps, merchant.mchid, params.stock_id, body);
      return undefined;
    },
    modifyBudget: async ({ params, body }, { merchant }) =>
      modifyBudget(deps, merchant.mchid, params.stock_id, body),
    uploadCouponCodes: async ({ params, body }, { merchant }) =>
      uploadCodes(deps, merchant.mchid, params.stock_id, body),
    listCouponCodes: async ({ params, query }, { merchant }) =>
      listCodes(deps, merchant.mchid, params.stock_id, query),
    getCouponCode: async ({ params, query }, { merchant }) =>
      getCode(deps, merchant.mchid, params.stock_id, params.coupon_code, query.appid),
    deleteCouponCode: async ({ params, query }, { merchant }) =>
      deleteCode(deps, merchant.mchid, params.stock_id, params.coupon_code, query),
    useCoupon: async ({ body }, { merchant }) => useCoupon(deps, merchant.mchid, body),
    listUserCoupons: async ({ params, query }, { merchant }) =>
      listUserCoupons(deps, merchant.mchid, params.openid, query),
    getUserCoupon: async ({ params }, { merchant }) =>
      getUserCoupon(deps, merchant.mchid, params.openid, params.coupon_code, params.appid),
    associateCoupon: async ({ body }, { merchant }) => associateCoupon(deps, merchant.mchid, body),
    disassociateCoupon: async ({ body }, { merchant }) => disassociateCoupon(deps, merchant.mchid, body),
    returnCoupon: async ({ body }, { merchant }) => returnCoupon(deps, merchant.mchid, body),
    deactivateCoupon: async ({ body }, { merchant }) => deactivateCoupon(deps, merchant.mchid, body),
    sendCoupon: async ({ body }, { merchant }) => apiSend(deps, merchant.mchid, body),
    createSubsidyPayReceipt: async ({ body }, { merchant }) =>
      createSubsidyPayReceipt(deps, merchant.mchid, body),
    getSubsidyPayReceipt: async ({ params }, { merchant }) =>
      getSubsidyPayReceipt(deps, merchant.mchid, params.subsidy_receipt_id),
    listSubsidyPayReceipts: async ({ query }, { merchant }) =>
      listSubsidyPayReceipts(deps, merchant.mchid, query),
    createSubsidyReturnReceipt: async ({ body }, { merchant }) =>
      createSubsidyReturnReceipt(deps, merchant.mchid, body),
    getSubsidyReturnReceipt: async ({ params }, { merchant }) =>
      getSubsidyReturnReceipt(deps, merchant.mchid, params.subsidy_return_receipt_id),
    uploadImage: async (_request, { merchant, parts }) => {
      if (!parts) {
        throw errors.INVALID_REQUEST('Content-Type 必须为 multipart/form-data', {
          location: 'header',
          field: 'Content-Type',
        });
      }
      return { media_url: await uploadImage(deps, merchant.mchid, parts) };
    },
  };
}
