import type { WechatPayClient } from './client.js';
import type { OperationId } from './operations.generated.js';

/**
 * Every operation of `OPERATIONS` (generated from the server's endpoint table) has a client method
 * (`SDK_METHODS`), so an endpoint added to the table fails the SDK's build until it has one. The requests
 * themselves are built by operation-target.ts.
 */

type Families = Pick<
  WechatPayClient,
  'busifavor' | 'productCoupon' | 'deliveryPlan' | 'certificates' | 'media'
>;

/** A typed client method, as `family.method` (`'busifavor.createStock'`). */
export type SdkMethodName = {
  [F in keyof Families]: `${F}.${keyof Families[F] & string}`;
}[keyof Families];

/**
 * The client method that calls each operation. A compile error here ("Property 'x' is missing") means
 * the endpoint table has an operation the SDK does not call yet: add a method for it (client.ts) and an
 * entry here.
 */
export const SDK_METHODS = {
  associateCoupon: 'busifavor.associateCoupon',
  createStock: 'busifavor.createStock',
  createSubsidyPayReceipt: 'busifavor.createSubsidyPayReceipt',
  createSubsidyReturnReceipt: 'busifavor.createSubsidyReturnReceipt',
  deactivateCoupon: 'busifavor.deactivateCoupon',
  deleteCouponCode: 'busifavor.deleteCouponCode',
  disassociateCoupon: 'busifavor.disassociateCoupon',
  getBusifavorCallback: 'busifavor.getCallback',
  getCouponCode: 'busifavor.getCouponCode',
  getProductCouponNotifyConfig: 'productCoupon.getNotifyConfig',
  getStock: 'busifavor.getStock',
  getSubsidyPayReceipt: 'busifavor.getSubsidyPayReceipt',
  getSubsidyReturnReceipt: 'busifavor.getSubsidyReturnReceipt',
  getUserCoupon: 'busifavor.getUserCoupon',
  listCertificates: 'certificates.list',
  listCouponCodes: 'busifavor.listCouponCodes',
  listSubsidyPayReceipts: 'busifavor.listSubsidyPayReceipts',
  listUserCoupons: 'busifavor.listUserCoupons',
  modifyBudget: 'busifavor.modifyBudget',
  modifyStock: 'busifavor.modifyStock',
  returnCoupon: 'busifavor.returnCoupon',
  sendCoupon: 'busifavor.sendCoupon',
  setBusifavorCallback: 'busifavor.setCallback',
  setDeliveryPlanNotifyUrl: 'deliveryPlan.setNotifyUrl',
  setProductCouponNotifyConfig: 'productCoupon.setNotifyConfig',
  uploadCouponCodes: 'busifavor.uploadCouponCodes',
  uploadImage: 'media.uploadImage',
  useCoupon: 'busifavor.useCoupon',
} as const satisfies Record<OperationId, SdkMethodName>;

/**
 * Client methods that call no operation of their own: `certificates.download` is `certificates.list`
 * and a decryption.
 */
type CompositeMethods = 'certificates.download';

type Unmapped = Exclude<SdkMethodName, (typeof SDK_METHODS)[keyof typeof SDK_METHODS] | CompositeMethods>;

/**
 * Compiles only when every typed client method is in `SDK_METHODS` (or is composite), so the mapping
 * stays complete both ways; otherwise the error shows the unmapped methods.
 */
export type EveryMethodMapped = Assert<
  [Unmapped] extends [never] ? true : ['client methods missing from SDK_METHODS:', Unmapped]
>;
type Assert<T extends true> = T;
