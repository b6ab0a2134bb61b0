import { AssociateBody, AssociateResponse, DisassociateResponse } from '../busifavor/coupons-associate.js';
import { DeactivateCouponBody, DeactivateCouponResponse } from '../busifavor/coupons-deactivate.js';
import { GetUserCouponParams, GetUserCouponResponse } from '../busifavor/coupons-get.js';
import { ListUserCouponsQuery, ListUserCouponsResponse, OpenidParams } from '../busifavor/coupons-list.js';
import { ReturnCouponBody, ReturnCouponResponse } from '../busifavor/coupons-return.js';
import { SendCouponBody, SendCouponResponse } from '../busifavor/coupons-send.js';
import { UseCouponBody, UseCouponResponse } from '../busifavor/coupons-use.js';
import { ImageUploadResponse } from '../busifavor/media-image-upload.js';
import { ModifyBudgetBody, ModifyBudgetResponse } from '../busifavor/stocks-budget.js';
import { UploadCodesBody, UploadCodesResponse } from '../busifavor/stocks-couponcodes.js';
import {
  DeleteCodeQuery,
  DeleteCodeResponse,
  GetCodeQuery,
  GetCodeResponse,
  ListCodesQuery,
  ListCodesResponse,
  StockCodeParams,
} from '../busifavor/stocks-couponcodes-pool.js';
import { CreateStockBody, CreateStockResponse } from '../busifavor/stocks-create.js';
import { StockIdParams, StockResponse } from '../busifavor/stocks-get.js';
import { ModifyStockBody } from '../busifavor/stocks-modify.js';
import {
  CreateSubsidyPayReceiptBody,
  SubsidyPayReceipt,
  SubsidyReceiptParams,
} from '../busifavor/subsidy-pay-receipts.js';
import {
  CreateSubsidyReturnReceiptBody,
  ListSubsidyPayReceiptsQuery,
  ListSubsidyPayReceiptsResponse,
  SubsidyReturnReceipt,
  SubsidyReturnReceiptParams,
} from '../busifavor/subsidy-return-receipts.js';
import { endpoint } from '../endpoint.js';

const BASE = '/v3/marketing/busifavor';

/**
 * The merchant-coupon (商家券) server APIs of seed 002 and the marketing image upload. Rate limits are the
 * documented per-merchant ones (docs/fidelity.md, Gateway: rate limits).
 */
export const BUSIFAVOR_ENDPOINTS = {
  createStock: endpoint({
    id: 'createStock',
    method: 'POST',
    path: `${BASE}/stocks`,
    family: 'busifavor',
    summary: 'Create a stock (创建商家券)',
    body: CreateStockBody,
    success: { status: 200, schema: CreateStockResponse },
    rateLimit: { perSecond: 1000 / 60, burst: 1000 },
  }),
  getStock: endpoint({
    id: 'getStock',
    method: 'GET',
    path: `${BASE}/stocks/{stock_id}`,
    family: 'busifavor',
    summary: 'Query a stock (查询商家券详情)',
    params: StockIdParams,
    success: { status: 200, schema: StockResponse },
  }),
  modifyStock: endpoint({
    id: 'modifyStock',
    method: 'PATCH',
    path: `${BASE}/stocks/{stock_id}`,
    family: 'busifavor',
    summary: 'Modify a stock (修改商家券基本信息)',
    params: StockIdParams,
    body: ModifyStockBody,
    success: { status: 204, schema: null },
  }),
  modifyBudget: endpoint({
    id: 'modifyBudget',
    method: 'PATCH',
    path: `${BASE}/stocks/{stock_id}/budget`,
    family: 'busifavor',
    summary: 'Modify a stock budget (修改批次预算)',
    params: StockIdParams,
    body: ModifyBudgetBody,
    success: { status: 200, schema: ModifyBudgetResponse },
  }),
  uploadCouponCodes: endpoint({
    id: 'uploadCouponCodes',
    method: 'POST',
    path: `${BASE}/stocks/{stock_id}/couponcodes`,
    family: 'busifavor',
    summary: 'Upload pre-stored coupon codes (上传预存code)',
    params: StockIdParams,
    body: UploadCodesBody,
    success: { status: 200, schema: UploadCodesResponse },
  }),
  listCouponCodes: endpoint({
    id: 'listCouponCodes',
    method: 'GET',
    path: `${BASE}/stocks/{stock_id}/couponcodes`,
    family: 'busifavor',
    summary: 'List the uploaded code pool of a stock (查询预存code列表)',
    params: StockIdParams,
    query: ListCodesQuery,
    success: { status: 200, schema: ListCodesResponse },
  }),
  getCouponCode: endpoint({
    id: 'getCouponCode',
    method: 'GET',
    path: `${BASE}/stocks/{stock_id}/couponcodes/{coupon_code}`,
    family: 'busifavor',
    summary: 'Query one uploaded code (查询预存code详情)',
    params: StockCodeParams,
    query: GetCodeQuery,
    success: { status: 200, schema: GetCodeResponse },
  }),
  deleteCouponCode: endpoint({
    id: 'deleteCouponCode',
    method: 'DELETE',
    path: `${BASE}/stocks/{stock_id}/couponcodes/{coupon_code}`,
    family: 'busifavor',
    summary: 'Delete an uploaded code not given out yet (删除预存code)',
    params: StockCodeParams,
    query: DeleteCodeQuery,
    success: { status: 200, schema: DeleteCodeResponse },
  }),
  useCoupon: endpoint({
    id: 'useCoupon',
    method: 'POST',
    path: `${BASE}/coupons/use`,
    family: 'busifavor',
    summary: 'Redeem a coupon (核销用户券)',
    body: UseCouponBody,
    success: { status: 200, schema: UseCouponResponse },
    rateLimit: { perSecond: 500, burst: 500 },
  }),
  listUserCoupons: endpoint({
    id: 'listUserCoupons',
    method: 'GET',
    path: `${BASE}/users/{openid}/coupons`,
    family: 'busifavor',
    summary: "List a user's coupons (根据过滤条件查询用户券)",
    params: OpenidParams,
    query: ListUserCouponsQuery,
    success: { status: 200, schema: ListUserCouponsResponse },
  }),
  getUserCoupon: endpoint({
    id: 'getUserCoupon',
    method: 'GET',
    path: `${BASE}/users/{openid}/coupons/{coupon_code}/appids/{appid}`,
    family: 'busifavor',
    summary: "Query a user's coupon (查询用户单张券详情)",
    params: GetUserCouponParams,
    success: { status: 200, schema: GetUserCouponResponse },
  }),
  associateCoupon: endpoint({
    id: 'associateCoupon',
    method: 'POST',
    path: `${BASE}/coupons/associate`,
    family: 'busifavor',
    summary: 'Associate a coupon with an order (关联订单信息)',
    body: AssociateBody,
    success: { status: 200, schema: AssociateResponse },
    rateLimit: { perSecond: 500, burst: 500 },
  }),
  disassociateCoupon: endpoint({
    id: 'disassociateCoupon',
    method: 'POST',
    path: `${BASE}/coupons/disassociate`,
    family: 'busifavor',
    summary: 'Remove the order association (取消关联订单信息)',
    body: AssociateBody,
    success: { status: 200, schema: DisassociateResponse },
    rateLimit: { perSecond: 500, burst: 500 },
  }),
  returnCoupon: endpoint({
    id: 'returnCoupon',
    method: 'POST',
    path: `${BASE}/coupons/return`,
    family: 'busifavor',
    summary: 'Return a used coupon (申请退券)',
    body: ReturnCouponBody,
    success: { status: 200, schema: ReturnCouponResponse },
  }),
  deactivateCoupon: endpoint({
    id: 'deactivateCoupon',
    method: 'POST',
    path: `${BASE}/coupons/deactivate`,
    family: 'busifavor',
    summary: 'Deactivate a coupon (使券失效)',
    body: DeactivateCouponBody,
    success: { status: 200, schema: DeactivateCouponResponse },
  }),
  sendCoupon: endpoint({
    id: 'sendCoupon',
    method: 'POST',
    path: `${BASE}/coupons/send`,
    family: 'busifavor',
    summary:
      'Send a coupon to a user from the merchant server (商家券发券; no official page, see docs/fidelity.md)',
    body: SendCouponBody,
    success: { status: 200, schema: SendCouponResponse },
  }),
  createSubsidyPayReceipt: endpoint({
    id: 'createSubsidyPayReceipt',
    method: 'POST',
    path: `${BASE}/subsidy/pay-receipts`,
    family: 'busifavor',
    summary: 'Report a subsidy payment (营销补差付款)',
    body: CreateSubsidyPayReceiptBody,
    success: { status: 200, schema: SubsidyPayReceipt },
  }),
  getSubsidyPayReceipt: endpoint({
    id: 'getSubsidyPayReceipt',
    method: 'GET',
    path: `${BASE}/subsidy/pay-receipts/{subsidy_receipt_id}`,
    family: 'busifavor',
    summary: 'Query a subsidy payment (查询营销补差付款单详情)',
    params: SubsidyReceiptParams,
    success: { status: 200, schema: SubsidyPayReceipt },
  }),
  listSubsidyPayReceipts: endpoint({
    id: 'listSubsidyPayReceipts',
    method: 'GET',
    path: `${BASE}/subsidy/pay-receipts`,
    family: 'busifavor',
    summary: 'List the subsidy payments of a coupon (查询营销补差付款单列表)',
    query: ListSubsidyPayReceiptsQuery,
    success: { status: 200, schema: ListSubsidyPayReceiptsResponse },
  }),
  createSubsidyReturnReceipt: endpoint({
    id: 'createSubsidyReturnReceipt',
    method: 'POST',
    path: `${BASE}/subsidy/return-receipts`,
    family: 'busifavor',
    summary: 'Return a subsidy payment (营销补差回退)',
    body: CreateSubsidyReturnReceiptBody,
    success: { status: 200, schema: SubsidyReturnReceipt },
  }),
  getSubsidyReturnReceipt: endpoint({
    id: 'getSubsidyReturnReceipt',
    method: 'GET',
    path: `${BASE}/subsidy/return-receipts/{subsidy_return_receipt_id}`,
    family: 'busifavor',
    summary: 'Query a subsidy return (查询营销补差回退单详情)',
    params: SubsidyReturnReceiptParams,
    success: { status: 200, schema: SubsidyReturnReceipt },
  }),
  uploadImage: endpoint({
    id: 'uploadImage',
    method: 'POST',
    path: '/v3/marketing/favor/media/image-upload',
    family: 'busifavor',
    summary: 'Upload a marketing image (图片上传（营销专用）): a signed JSON `meta` part and the `file`',
    body: 'multipart',
    success: { status: 200, schema: ImageUploadResponse },
  }),
} as const;
