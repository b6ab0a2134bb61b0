import type { WechatPayClient } from './client.js';
import { encodePathSegment } from './core.js';
import { OPERATIONS, type OperationId } from './operations.generated.js';

/**
 * The client's requests are built from `OPERATIONS`, which is generated from the server's endpoint table
 * (operations.generated.ts): the client names an operation by its id and never writes a method or a path
 * itself, and every operation has a client method (`SDK_METHODS`), so an endpoint added to the table
 * fails the SDK's build until it has one.
 */

/** The names of `{name}` parameters in a path template. */
type PathParamNames<Path extends string> = Path extends `${string}{${infer Name}}${infer Rest}`
  ? Name | PathParamNames<Rest>
  : never;

/** The path parameters of operation `Id`, by their wire names (`{ stock_id: '…' }`). */
export type PathParams<Id extends OperationId> = Record<
  PathParamNames<(typeof OPERATIONS)[Id]['path']>,
  string
>;

/** `pathOf`'s arguments after the id: the parameters, or nothing for a path without any. */
type PathArgs<Id extends OperationId> = [PathParamNames<(typeof OPERATIONS)[Id]['path']>] extends [never]
  ? []
  : [params: PathParams<Id>];

/**
 * The path of operation `id` with each `{name}` replaced by its value, percent-encoded as one path segment
 * (`encodePathSegment`).
 * @example pathOf('getStock', { stock_id: '1 2' }) // '/v3/marketing/busifavor/stocks/1%202'
 */
export function pathOf<Id extends OperationId>(id: Id, ...args: PathArgs<Id>): string {
  const params: Record<string, string> = args[0] ?? {};
  // String(): a caller without types gets what it always got (`undefined` → 'undefined', answered 404).
  return OPERATIONS[id].path.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) =>
    encodePathSegment(String(params[name])),
  );
}

/** A request target: the operation's method and its filled-in path. */
export interface OperationTarget<Method extends string = string> {
  readonly method: Method;
  readonly path: string;
}

/** The method (from the table) and path (`pathOf`) of operation `id`. */
export function operation<Id extends OperationId>(
  id: Id,
  ...args: PathArgs<Id>
): OperationTarget<(typeof OPERATIONS)[Id]['method']> {
  return { method: OPERATIONS[id].method, path: pathOf(id, ...args) };
}

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
