import { type CallOptions, type WechatPayClientOptions, WechatPayCore } from './core.js';
import { buildImageUploadBody } from './multipart.js';
import { type OperationTarget, operation } from './operation-target.js';
import { decryptCertificateList, type PlatformCertificateEntry } from './platform-keys.js';
import type {
  AssociateCouponRequest,
  AssociateCouponResponse,
  CreateStockRequest,
  CreateStockResponse,
  CreateSubsidyPayReceiptRequest,
  CreateSubsidyReturnReceiptRequest,
  DeactivateCouponRequest,
  DeactivateCouponResponse,
  DeleteCouponCodeQuery,
  DeleteCouponCodeResponse,
  DisassociateCouponResponse,
  GetCouponCodeQuery,
  GetCouponCodeResponse,
  GetUserCouponParams,
  ListCouponCodesQuery,
  ListCouponCodesResponse,
  ListSubsidyPayReceiptsQuery,
  ListSubsidyPayReceiptsResponse,
  ListUserCouponsQuery,
  ListUserCouponsResponse,
  ModifyBudgetRequest,
  ModifyBudgetResponse,
  ModifyStockRequest,
  ReturnCouponRequest,
  ReturnCouponResponse,
  SendCouponRequest,
  SendCouponResponse,
  Stock,
  SubsidyPayReceipt,
  SubsidyReturnReceipt,
  UploadCouponCodesRequest,
  UploadCouponCodesResponse,
  UseCouponRequest,
  UseCouponResponse,
  UserCoupon,
} from './types/busifavor.js';
import type { CertificatesQuery, CertificatesResponse } from './types/certificates.js';
import type { ImageUploadResponse } from './types/media.js';
import type {
  GetBusifavorCallbackQuery,
  GetBusifavorCallbackResponse,
  ProductCouponNotifyConfigResponse,
  SetBusifavorCallbackRequest,
  SetBusifavorCallbackResponse,
  SetDeliveryPlanNotifyUrlRequest,
  SetDeliveryPlanNotifyUrlResponse,
  SetProductCouponNotifyConfigRequest,
} from './types/notify-settings.js';

/** Merchant-coupon (商家券) endpoints. @see docs/busifavor.md §3–§5, §7.1–§7.2 */
export interface BusifavorApi {
  /** POST /stocks — create a stock. Retried safely: carries `out_request_no`. */
  createStock(body: CreateStockRequest, options?: CallOptions): Promise<CreateStockResponse>;
  /** GET /stocks/{stock_id}. */
  getStock(stockId: string, options?: CallOptions): Promise<Stock>;
  /** PATCH /stocks/{stock_id} — answers 204 (verified), resolves to undefined. */
  modifyStock(stockId: string, body: ModifyStockRequest, options?: CallOptions): Promise<void>;
  /** PATCH /stocks/{stock_id}/budget. */
  modifyBudget(
    stockId: string,
    body: ModifyBudgetRequest,
    options?: CallOptions,
  ): Promise<ModifyBudgetResponse>;
  /** POST /stocks/{stock_id}/couponcodes — upload codes to a MERCHANT_UPLOAD stock. */
  uploadCouponCodes(
    stockId: string,
    body: UploadCouponCodesRequest,
    options?: CallOptions,
  ): Promise<UploadCouponCodesResponse>;
  /** GET /stocks/{stock_id}/couponcodes — page through the uploaded code pool of a MERCHANT_UPLOAD stock. */
  listCouponCodes(
    stockId: string,
    query?: ListCouponCodesQuery,
    options?: CallOptions,
  ): Promise<ListCouponCodesResponse>;
  /** GET /stocks/{stock_id}/couponcodes/{coupon_code} — one uploaded code, with the user's coupon once dispatched. */
  getCouponCode(
    stockId: string,
    couponCode: string,
    query?: GetCouponCodeQuery,
    options?: CallOptions,
  ): Promise<GetCouponCodeResponse>;
  /**
   * DELETE /stocks/{stock_id}/couponcodes/{coupon_code} — remove a code not given out yet. Retried
   * safely: carries `delete_request_no` (in the query).
   */
  deleteCouponCode(
    stockId: string,
    couponCode: string,
    query: DeleteCouponCodeQuery,
    options?: CallOptions,
  ): Promise<DeleteCouponCodeResponse>;
  /**
   * POST /coupons/send — send a coupon to a user from the merchant's server. Retried safely: carries
   * `out_request_no`. Accepts both the flat answer and one wrapped in `send_coupon_result`.
   * @see docs/busifavor.md §6.2 (no official page: unconfirmed endpoint)
   */
  sendCoupon(body: SendCouponRequest, options?: CallOptions): Promise<SendCouponResponse>;
  /** POST /coupons/use — redeem. */
  useCoupon(body: UseCouponRequest, options?: CallOptions): Promise<UseCouponResponse>;
  /** GET /users/{openid}/coupons — list a user's coupons. */
  listUserCoupons(
    openid: string,
    query: ListUserCouponsQuery,
    options?: CallOptions,
  ): Promise<ListUserCouponsResponse>;
  /** GET /users/{openid}/coupons/{coupon_code}/appids/{appid}. */
  getUserCoupon(params: GetUserCouponParams, options?: CallOptions): Promise<UserCoupon>;
  /** POST /coupons/associate — link an unredeemed coupon to an order. */
  associateCoupon(body: AssociateCouponRequest, options?: CallOptions): Promise<AssociateCouponResponse>;
  /** POST /coupons/disassociate. */
  disassociateCoupon(
    body: AssociateCouponRequest,
    options?: CallOptions,
  ): Promise<DisassociateCouponResponse>;
  /** POST /coupons/return — un-redeem after a refund. */
  returnCoupon(body: ReturnCouponRequest, options?: CallOptions): Promise<ReturnCouponResponse>;
  /** POST /coupons/deactivate. */
  deactivateCoupon(body: DeactivateCouponRequest, options?: CallOptions): Promise<DeactivateCouponResponse>;
  /** POST /subsidy/pay-receipts. */
  createSubsidyPayReceipt(
    body: CreateSubsidyPayReceiptRequest,
    options?: CallOptions,
  ): Promise<SubsidyPayReceipt>;
  /** GET /subsidy/pay-receipts/{subsidy_receipt_id}. */
  getSubsidyPayReceipt(subsidyReceiptId: string, options?: CallOptions): Promise<SubsidyPayReceipt>;
  /** GET /subsidy/pay-receipts?stock_id&coupon_code — the pay receipts of one coupon. */
  listSubsidyPayReceipts(
    query: ListSubsidyPayReceiptsQuery,
    options?: CallOptions,
  ): Promise<ListSubsidyPayReceiptsResponse>;
  /**
   * POST /subsidy/return-receipts — return (part of) a subsidy after a refund. Retried safely: carries
   * `out_subsidy_return_no`.
   * @see docs/busifavor.md §5.3
   */
  createSubsidyReturnReceipt(
    body: CreateSubsidyReturnReceiptRequest,
    options?: CallOptions,
  ): Promise<SubsidyReturnReceipt>;
  /** GET /subsidy/return-receipts/{subsidy_return_receipt_id}. */
  getSubsidyReturnReceipt(
    subsidyReturnReceiptId: string,
    options?: CallOptions,
  ): Promise<SubsidyReturnReceipt>;
  /** POST /callbacks — set the COUPON.SEND notify URL. */
  setCallback(
    body: SetBusifavorCallbackRequest,
    options?: CallOptions,
  ): Promise<SetBusifavorCallbackResponse>;
  /** GET /callbacks. */
  getCallback(
    query?: GetBusifavorCallbackQuery,
    options?: CallOptions,
  ): Promise<GetBusifavorCallbackResponse>;
}

/** Product-coupon (商品券) notify config. */
export interface ProductCouponApi {
  /** POST /v3/marketing/partner/product-coupon/notify-configs. */
  setNotifyConfig(
    body: SetProductCouponNotifyConfigRequest,
    options?: CallOptions,
  ): Promise<ProductCouponNotifyConfigResponse>;
  /** GET /v3/marketing/partner/product-coupon/notify-configs. */
  getNotifyConfig(options?: CallOptions): Promise<ProductCouponNotifyConfigResponse>;
}

/** Delivery-plan (投放计划) notify URL. */
export interface DeliveryPlanApi {
  /** POST /v3/marketing/partner/delivery-plan/{sp_mchid}/notify-url. */
  setNotifyUrl(
    spMchid: string,
    body: SetDeliveryPlanNotifyUrlRequest,
    options?: CallOptions,
  ): Promise<SetDeliveryPlanNotifyUrlResponse>;
}

/** A downloaded, decrypted platform certificate. */
export interface DownloadedCertificate extends PlatformCertificateEntry {}

/** GET /v3/certificates. */
export interface CertificatesApi {
  /** Downloads the list as sent (still encrypted), verified. */
  list(query?: CertificatesQuery, options?: CallOptions): Promise<CertificatesResponse>;
  /** Downloads and decrypts with the APIv3 key. */
  download(options?: CallOptions): Promise<DownloadedCertificate[]>;
}

/** Marketing image upload. */
export interface MediaApi {
  /**
   * POST /v3/marketing/favor/media/image-upload: multipart, signed over the meta JSON. The URL is what
   * `merchant_logo_url` / `coupon_image_url` accept.
   */
  uploadImage(
    input: { filename: string; file: Uint8Array; contentType?: string },
    options?: CallOptions,
  ): Promise<ImageUploadResponse>;
}

/** The client: a generic signed `request` plus typed families. */
export interface WechatPayClient {
  /** The merchant number the client signs as. */
  readonly mchid: string;
  /** Generic signed request with verification, retries and typed errors. */
  request: WechatPayCore['request'];
  /** RSA-OAEP encryption of a sensitive field with the active platform key (its serial goes in `Wechatpay-Serial`). */
  encryptSensitive(plaintext: string): Promise<string>;
  /** The verification keys (refresh, active key, resolve by serial); pass to `parseNotification`. */
  readonly platformKeys: WechatPayCore['keys'];
  readonly busifavor: BusifavorApi;
  readonly productCoupon: ProductCouponApi;
  readonly deliveryPlan: DeliveryPlanApi;
  readonly certificates: CertificatesApi;
  readonly media: MediaApi;
}

/**
 * Creates a WeChat Pay APIv3 client (fetch-based, zero dependencies). Keys are parsed once; every 2xx is
 * verified; safe requests are retried with fresh signatures.
 * @example
 * const client = createWechatPayClient({
 *   mchid: '1900000001', serialNo: '5E3F…', privateKey: fs.readFileSync('apiclient_key.pem', 'utf8'),
 *   apiV3Key, verification: { publicKey: { keyId: 'PUB_KEY_ID_…', key: fs.readFileSync('pub_key.pem') } },
 * });
 * const { stock_id } = await client.busifavor.createStock({ … });
 */
export function createWechatPayClient(options: WechatPayClientOptions): WechatPayClient {
  const core = new WechatPayCore(options);
  type Query = Record<string, string | number | undefined>;
  const get = async <T>(target: OperationTarget<'GET'>, query?: Query, o?: CallOptions) =>
    (await core.request<T>({ ...o, ...target, ...(query ? { query } : {}) })).data;
  const send = async <T>(target: OperationTarget<'POST' | 'PATCH'>, body: unknown, o?: CallOptions) =>
    (await core.request<T>({ ...o, ...target, body })).data;
  const del = async <T>(target: OperationTarget<'DELETE'>, query: Query, o?: CallOptions) =>
    (await core.request<T>({ ...o, ...target, query })).data;

  const busifavor: BusifavorApi = {
    createStock: (body, o) => send(operation('createStock'), body, o),
    getStock: (stockId, o) => get(operation('getStock', { stock_id: stockId }), undefined, o),
    modifyStock: async (stockId, body, o) => {
      await send<undefined>(operation('modifyStock', { stock_id: stockId }), body, o);
    },
    modifyBudget: (stockId, body, o) => send(operation('modifyBudget', { stock_id: stockId }), body, o),
    uploadCouponCodes: (stockId, body, o) =>
      send(operation('uploadCouponCodes', { stock_id: stockId }), body, o),
    listCouponCodes: (stockId, query, o) =>
      get(operation('listCouponCodes', { stock_id: stockId }), { ...query }, o),
    getCouponCode: (stockId, couponCode, query, o) =>
      get(operation('getCouponCode', { stock_id: stockId, coupon_code: couponCode }), { ...query }, o),
    deleteCouponCode: (stockId, couponCode, query, o) =>
      del(operation('deleteCouponCode', { stock_id: stockId, coupon_code: couponCode }), { ...query }, o),
    sendCoupon: async (body, o) => {
      const data = await send<SendCouponResponse | { send_coupon_result: SendCouponResponse }>(
        operation('sendCoupon'),
        body,
        o,
      );
      // wechatpay-go documents the result wrapped, wechatpay.im flat (docs/busifavor.md §6.2).
      return 'send_coupon_result' in data ? data.send_coupon_result : data;
    },
    useCoupon: (body, o) => send(operation('useCoupon'), body, o),
    listUserCoupons: (openid, query, o) => get(operation('listUserCoupons', { openid }), { ...query }, o),
    getUserCoupon: (p, o) =>
      get(
        operation('getUserCoupon', { openid: p.openid, coupon_code: p.coupon_code, appid: p.appid }),
        undefined,
        o,
      ),
    associateCoupon: (body, o) => send(operation('associateCoupon'), body, o),
    disassociateCoupon: (body, o) => send(operation('disassociateCoupon'), body, o),
    returnCoupon: (body, o) => send(operation('returnCoupon'), body, o),
    deactivateCoupon: (body, o) => send(operation('deactivateCoupon'), body, o),
    createSubsidyPayReceipt: (body, o) => send(operation('createSubsidyPayReceipt'), body, o),
    getSubsidyPayReceipt: (id, o) =>
      get(operation('getSubsidyPayReceipt', { subsidy_receipt_id: id }), undefined, o),
    listSubsidyPayReceipts: (query, o) => get(operation('listSubsidyPayReceipts'), { ...query }, o),
    createSubsidyReturnReceipt: (body, o) => send(operation('createSubsidyReturnReceipt'), body, o),
    getSubsidyReturnReceipt: (id, o) =>
      get(operation('getSubsidyReturnReceipt', { subsidy_return_receipt_id: id }), undefined, o),
    setCallback: (body, o) => send(operation('setBusifavorCallback'), body, { idempotent: true, ...o }),
    getCallback: (query, o) => get(operation('getBusifavorCallback'), { ...query }, o),
  };
  const productCoupon: ProductCouponApi = {
    setNotifyConfig: (body, o) =>
      send(operation('setProductCouponNotifyConfig'), body, { idempotent: true, ...o }),
    getNotifyConfig: (o) => get(operation('getProductCouponNotifyConfig'), undefined, o),
  };
  const deliveryPlan: DeliveryPlanApi = {
    setNotifyUrl: (spMchid, body, o) =>
      send(operation('setDeliveryPlanNotifyUrl', { sp_mchid: spMchid }), body, { idempotent: true, ...o }),
  };
  const certificates: CertificatesApi = {
    list: (query, o) => get(operation('listCertificates'), { ...query }, o),
    download: async (o) => {
      if (!options.apiV3Key) throw new TypeError('certificates.download needs apiV3Key');
      return decryptCertificateList(await certificates.list(undefined, o), options.apiV3Key);
    },
  };
  const media: MediaApi = {
    uploadImage: async (input, o) => {
      const built = buildImageUploadBody(input.filename, input.file, input.contentType);
      const res = await core.requestRaw<ImageUploadResponse>(
        { ...o, ...operation('uploadImage') },
        { bytes: built.body, signed: built.meta, contentType: built.contentType },
      );
      return res.data;
    },
  };
  return {
    mchid: core.mchid,
    request: (input) => core.request(input),
    encryptSensitive: (plaintext) => core.encryptSensitive(plaintext),
    platformKeys: core.keys,
    busifavor,
    productCoupon,
    deliveryPlan,
    certificates,
    media,
  };
}
