import type { Static, TSchema } from '@sinclair/typebox';
import type * as Sdk from '@wechatpay-sandbox/sdk';
import type * as common from './busifavor/common.js';
import type * as Associate from './busifavor/coupons-associate.js';
import type * as Deactivate from './busifavor/coupons-deactivate.js';
import type * as GetCoupon from './busifavor/coupons-get.js';
import type * as ListCoupons from './busifavor/coupons-list.js';
import type * as Return from './busifavor/coupons-return.js';
import type * as Send from './busifavor/coupons-send.js';
import type * as Use from './busifavor/coupons-use.js';
import type * as Media from './busifavor/media-image-upload.js';
import type * as Budget from './busifavor/stocks-budget.js';
import type * as Upload from './busifavor/stocks-couponcodes.js';
import type * as Pool from './busifavor/stocks-couponcodes-pool.js';
import type * as Create from './busifavor/stocks-create.js';
import type * as GetStock from './busifavor/stocks-get.js';
import type * as Modify from './busifavor/stocks-modify.js';
import type * as Pay from './busifavor/subsidy-pay-receipts.js';
import type * as ReturnReceipts from './busifavor/subsidy-return-receipts.js';
import type { ENDPOINTS } from './endpoints/index.js';
import type * as Notify from './notify-settings.js';
import type * as SimBusifavor from './simulation/busifavor.js';
import type * as SimClock from './simulation/clock.js';
import type * as SimFaults from './simulation/faults.js';
import type * as SimListen from './simulation/listen.js';
import type * as SimNotifications from './simulation/notifications.js';

/**
 * Compile-time drift check between the SDK's hand-written wire types and these TypeBox contracts. It is
 * part of the server build (`tsc -b packages/sdk packages/server`, the first step of `npm test`), so a
 * field added, removed, renamed, retyped or made (non-)optional on one side and not the other fails the
 * build at the line naming the endpoint. Emits nothing at run time.
 *
 * For every endpoint, request and response alike:
 * - `SameShape`: the same keys at every depth, each optional on both sides or on neither, and the same
 *   primitive type per leaf (string-like / number / boolean), arrays element-wise;
 * - requests: every request the SDK's types admit (its open enums narrowed to the known values) is one
 *   the server's schema admits; responses: every response the server's schema admits is assignable to the
 *   SDK's type;
 * - the SDK's known enum values equal the server's enum lists;
 * - the SDK's `OPERATIONS` and `SIMULATION_OPERATIONS` (generated from the endpoint table by
 *   `npm run generate`) have the table's APIv3 and `/sandbox/v1` operations, with the same methods and
 *   paths; the sandbox client's wire types (`createSandboxClient`) are checked like the APIv3 ones.
 */

/** Exact type identity (the `<T>() => T extends X` trick: distinguishes optional from required). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** The wire skeleton: literal and open enums widened to their primitive, objects and arrays kept. */
type Shape<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends readonly (infer E)[]
        ? Shape<E>[]
        : T extends object
          ? { [K in keyof T]: Shape<T[K]> }
          : T;

/** `Open<'A' | 'B'>` → `'A' | 'B'`: the open branch is `string & {}`, which a plain literal never is. */
type Known<T> = T extends string ? (Equal<T, string> extends true ? T : string extends T ? never : T) : T;
type Closed<T> = T extends string
  ? Known<T>
  : T extends readonly (infer E)[]
    ? Closed<E>[]
    : T extends object
      ? { [K in keyof T]: Closed<T[K]> }
      : T;

/** Fails to compile unless `T` is `true`; otherwise the error message shows `T`, the differences. */
type Assert<T extends true> = T;

type OptionalKeys<T> = { [K in keyof T]-?: Record<never, never> extends Pick<T, K> ? K : never }[keyof T];
type IsOptional<T, K> = K extends OptionalKeys<T> ? 'optional' : 'required';

/** Where two types' shapes differ, as `path: what` strings (never when they are the same shape). */
type ShapeDiff<A, B, P extends string = ''> =
  Equal<Shape<A>, Shape<B>> extends true
    ? never
    : [NonNullable<A>, NonNullable<B>] extends [readonly (infer EA)[], readonly (infer EB)[]]
      ? ShapeDiff<EA, EB, `${P}[]`>
      : [NonNullable<A>, NonNullable<B>] extends [object, object]
        ? [NonNullable<A>, NonNullable<B>] extends
            | [readonly unknown[], unknown]
            | [unknown, readonly unknown[]]
          ? `${P}: array on one side only`
          : ObjectDiff<NonNullable<A>, NonNullable<B>, P>
        : `${P}: leaf types differ`;
type ObjectDiff<A, B, P extends string> =
  | { [K in Exclude<keyof A, keyof B> & string]: `${P}.${K}: only in the SDK` }[Exclude<keyof A, keyof B> &
      string]
  | { [K in Exclude<keyof B, keyof A> & string]: `${P}.${K}: only on the server` }[Exclude<keyof B, keyof A> &
      string]
  | {
      [K in keyof A & keyof B & string]: IsOptional<A, K> extends IsOptional<B, K>
        ? ShapeDiff<A[K], B[K], `${P}.${K}`>
        : `${P}.${K}: ${IsOptional<A, K>} in the SDK, ${IsOptional<B, K>} on the server`;
    }[keyof A & keyof B & string];

/** The SDK request type against the server's request schema (a TypeBox schema's `typeof`). */
type Request<SdkType, Schema extends TSchema> = RequestCheck<SdkType, Static<Schema>>;
type RequestCheck<SdkType, ServerType> = [ShapeDiff<SdkType, ServerType>] extends [never]
  ? [Closed<SdkType>] extends [ServerType]
    ? true
    : 'the SDK admits a request value the server rejects'
  : ShapeDiff<SdkType, ServerType>;

/** The server's response schema (a TypeBox schema's `typeof`) against the SDK response type. */
type Response<SdkType, Schema extends TSchema> = ResponseCheck<SdkType, Static<Schema>>;
type ResponseCheck<SdkType, ServerType> = [ShapeDiff<SdkType, ServerType>] extends [never]
  ? [ServerType] extends [SdkType]
    ? true
    : 'a server response is not assignable to the SDK type'
  : ShapeDiff<SdkType, ServerType>;

/** Two enum unions with the same members; otherwise the members on one side only. */
type SameEnum<SdkKnown, Server> =
  Equal<SdkKnown, Server> extends true
    ? true
    : ['only in the SDK:', Exclude<SdkKnown, Server>, 'only on the server:', Exclude<Server, SdkKnown>];

// Enums.
export type EnumChecks = [
  Assert<SameEnum<Sdk.KnownStockType, (typeof common.STOCK_TYPES)[number]>>,
  Assert<SameEnum<Sdk.KnownStockState, (typeof common.STOCK_STATES)[number]>>,
  Assert<SameEnum<Sdk.KnownCouponState, (typeof common.COUPON_STATES)[number]>>,
  Assert<SameEnum<Sdk.KnownCouponCodeMode, (typeof common.COUPON_CODE_MODES)[number]>>,
  Assert<SameEnum<Sdk.KnownUseMethod, (typeof common.USE_METHODS)[number]>>,
  Assert<SameEnum<Sdk.KnownCodeDisplayMode, (typeof common.CODE_DISPLAY_MODES)[number]>>,
  Assert<SameEnum<Sdk.KnownBackgroundColor, (typeof common.BACKGROUND_COLORS)[number]>>,
  Assert<SameEnum<Sdk.KnownCouponCodeStatus, (typeof Pool.CODE_STATUSES)[number]>>,
];

// Stocks.
export type StockChecks = [
  Assert<Request<Sdk.CreateStockRequest, typeof Create.CreateStockBody>>,
  Assert<Response<Sdk.CreateStockResponse, typeof Create.CreateStockResponse>>,
  Assert<Response<Sdk.Stock, typeof GetStock.StockResponse>>,
  Assert<Request<Sdk.ModifyStockRequest, typeof Modify.ModifyStockBody>>,
  Assert<Request<Sdk.ModifyBudgetRequest, typeof Budget.ModifyBudgetBody>>,
  Assert<Response<Sdk.ModifyBudgetResponse, typeof Budget.ModifyBudgetResponse>>,
];

// The code pool of MERCHANT_UPLOAD stocks.
export type CodePoolChecks = [
  Assert<Request<Sdk.UploadCouponCodesRequest, typeof Upload.UploadCodesBody>>,
  Assert<Response<Sdk.UploadCouponCodesResponse, typeof Upload.UploadCodesResponse>>,
  Assert<Request<Sdk.ListCouponCodesQuery, typeof Pool.ListCodesQuery>>,
  Assert<Response<Sdk.ListCouponCodesResponse, typeof Pool.ListCodesResponse>>,
  Assert<Request<Sdk.GetCouponCodeQuery, typeof Pool.GetCodeQuery>>,
  Assert<Response<Sdk.GetCouponCodeResponse, typeof Pool.GetCodeResponse>>,
  Assert<Request<Sdk.DeleteCouponCodeQuery, typeof Pool.DeleteCodeQuery>>,
  Assert<Response<Sdk.DeleteCouponCodeResponse, typeof Pool.DeleteCodeResponse>>,
];

// User coupons.
export type CouponChecks = [
  Assert<Request<Sdk.SendCouponRequest, typeof Send.SendCouponBody>>,
  Assert<Response<Sdk.SendCouponResponse, typeof Send.SendCouponResponse>>,
  Assert<Request<Sdk.UseCouponRequest, typeof Use.UseCouponBody>>,
  Assert<Response<Sdk.UseCouponResponse, typeof Use.UseCouponResponse>>,
  Assert<Request<Sdk.ListUserCouponsQuery, typeof ListCoupons.ListUserCouponsQuery>>,
  Assert<Response<Sdk.ListUserCouponsResponse, typeof ListCoupons.ListUserCouponsResponse>>,
  Assert<Request<Sdk.GetUserCouponParams, typeof GetCoupon.GetUserCouponParams>>,
  Assert<Response<Sdk.UserCoupon, typeof GetCoupon.GetUserCouponResponse>>,
  Assert<Request<Sdk.AssociateCouponRequest, typeof Associate.AssociateBody>>,
  Assert<Response<Sdk.AssociateCouponResponse, typeof Associate.AssociateResponse>>,
  Assert<Response<Sdk.DisassociateCouponResponse, typeof Associate.DisassociateResponse>>,
  Assert<Request<Sdk.ReturnCouponRequest, typeof Return.ReturnCouponBody>>,
  Assert<Response<Sdk.ReturnCouponResponse, typeof Return.ReturnCouponResponse>>,
  Assert<Request<Sdk.DeactivateCouponRequest, typeof Deactivate.DeactivateCouponBody>>,
  Assert<Response<Sdk.DeactivateCouponResponse, typeof Deactivate.DeactivateCouponResponse>>,
];

// Subsidy (营销补差) pay and return receipts.
export type SubsidyChecks = [
  Assert<Request<Sdk.CreateSubsidyPayReceiptRequest, typeof Pay.CreateSubsidyPayReceiptBody>>,
  Assert<Response<Sdk.SubsidyPayReceipt, typeof Pay.SubsidyPayReceipt>>,
  Assert<Request<Sdk.ListSubsidyPayReceiptsQuery, typeof ReturnReceipts.ListSubsidyPayReceiptsQuery>>,
  Assert<Response<Sdk.ListSubsidyPayReceiptsResponse, typeof ReturnReceipts.ListSubsidyPayReceiptsResponse>>,
  Assert<
    Request<Sdk.CreateSubsidyReturnReceiptRequest, typeof ReturnReceipts.CreateSubsidyReturnReceiptBody>
  >,
  Assert<Response<Sdk.SubsidyReturnReceipt, typeof ReturnReceipts.SubsidyReturnReceipt>>,
];

// Notify settings of the three families, image upload, platform certificates.
export type OtherChecks = [
  Assert<Request<Sdk.SetBusifavorCallbackRequest, typeof Notify.SetBusifavorCallbackBody>>,
  Assert<Response<Sdk.SetBusifavorCallbackResponse, typeof Notify.SetBusifavorCallbackResponse>>,
  Assert<Request<Sdk.GetBusifavorCallbackQuery, typeof Notify.GetBusifavorCallbackQuery>>,
  Assert<Response<Sdk.GetBusifavorCallbackResponse, typeof Notify.GetBusifavorCallbackResponse>>,
  Assert<Request<Sdk.SetProductCouponNotifyConfigRequest, typeof Notify.SetProductCouponNotifyConfigBody>>,
  Assert<Response<Sdk.ProductCouponNotifyConfigResponse, typeof Notify.ProductCouponNotifyConfigResponse>>,
  Assert<Request<Sdk.SetDeliveryPlanNotifyUrlRequest, typeof Notify.SetDeliveryPlanNotifyUrlBody>>,
  Assert<Response<Sdk.SetDeliveryPlanNotifyUrlResponse, typeof Notify.SetDeliveryPlanNotifyUrlResponse>>,
  Assert<Request<Sdk.ImageUploadMeta, typeof Media.ImageUploadMeta>>,
  Assert<Response<Sdk.ImageUploadResponse, typeof Media.ImageUploadResponse>>,
  Assert<Request<Sdk.CertificatesQuery, typeof Notify.CertificatesQuery>>,
  Assert<Response<Sdk.CertificatesResponse, typeof Notify.CertificatesResponse>>,
];

// The simulation API (`/sandbox/v1`), as the sandbox client (`createSandboxClient`) sends and reads it.
export type SimulationChecks = [
  Assert<Request<Sdk.SetClockRequest, typeof SimClock.SetClockBody>>,
  Assert<Response<Sdk.SandboxClockState, typeof SimClock.ClockStateResponse>>,
  Assert<Request<Sdk.CreateFaultRequest, typeof SimFaults.CreateFaultBody>>,
  Assert<Response<Sdk.FaultRule, typeof SimFaults.FaultRuleView>>,
  Assert<Response<Sdk.FaultRuleList, typeof SimFaults.FaultRulesResponse>>,
  Assert<Request<Sdk.CreateSubsidyOutcomeRequest, typeof SimBusifavor.SubsidyOutcomeBody>>,
  Assert<Response<Sdk.SubsidyOutcomeRule, typeof SimBusifavor.SubsidyOutcomeView>>,
  Assert<Response<Sdk.SubsidyOutcomeRuleList, typeof SimBusifavor.SubsidyOutcomesResponse>>,
  Assert<Request<Sdk.CreateSandboxUserRequest, typeof SimBusifavor.CreateUserBody>>,
  Assert<Response<Sdk.SandboxUser, typeof SimBusifavor.SimUserResponse>>,
  Assert<Request<Sdk.CreateSandboxOpenidRequest, typeof SimBusifavor.CreateOpenidBody>>,
  Assert<Response<Sdk.SandboxOpenid, typeof SimBusifavor.OpenidResponse>>,
  Assert<Request<Sdk.BindAppidRequest, typeof SimBusifavor.BindAppidBody>>,
  Assert<Response<Sdk.AppidBinding, typeof SimBusifavor.AppidBindingResponse>>,
  Assert<Response<Sdk.AppidList, typeof SimBusifavor.AppidsResponse>>,
  Assert<Request<Sdk.MiniappSendRequest, typeof SimBusifavor.PluginSendBody>>,
  Assert<Request<Sdk.H5SendRequest, typeof SimBusifavor.H5SendBody>>,
  Assert<Request<Sdk.PaygiftSendRequest, typeof SimBusifavor.PayGiftSendBody>>,
  Assert<Response<Sdk.PluginSendResult, typeof SimBusifavor.PluginSendResponse>>,
  Assert<Request<Sdk.SetStockStateRequest, typeof SimBusifavor.StockStateBody>>,
  Assert<Response<Sdk.SetStockStateResponse, typeof SimBusifavor.StockStateResponse>>,
  Assert<Request<Sdk.SandboxDeleteCouponRequest, typeof SimBusifavor.DeleteCouponBody>>,
  Assert<Request<Sdk.ListNotificationsQuery, typeof SimNotifications.ListNotificationsQuery>>,
  Assert<Response<Sdk.NotificationList, typeof SimNotifications.NotificationListResponse>>,
  Assert<Response<Sdk.NotificationDetail, typeof SimNotifications.NotificationDetailResponse>>,
  Assert<Request<Sdk.ReplayNotificationsRequest, typeof SimNotifications.ReplayNotificationsBody>>,
  Assert<Response<Sdk.ReplayResult, typeof SimNotifications.ReplayResponse>>,
  Assert<Response<Sdk.DeliveryState, typeof SimNotifications.DeliveryStateResponse>>,
  Assert<Response<Sdk.DispatchResult, typeof SimNotifications.DispatchResponse>>,
  Assert<Request<Sdk.ProbeRequest, typeof SimNotifications.ProbeBody>>,
  Assert<Response<Sdk.ProbeReport, typeof SimNotifications.ProbeResponse>>,
  Assert<Request<Sdk.CreateForwardRequest, typeof SimNotifications.ForwardBody>>,
  Assert<Response<Sdk.ForwardRule, typeof SimNotifications.ForwardRuleView>>,
  Assert<Response<Sdk.ForwardRuleList, typeof SimNotifications.ForwardRulesResponse>>,
  Assert<Request<Sdk.ProductCouponEventRequest, typeof SimNotifications.ProductCouponEventBody>>,
  Assert<Request<Sdk.DeliveryPlanEventRequest, typeof SimNotifications.DeliveryPlanEventBody>>,
  Assert<Response<Sdk.NotificationQueued, typeof SimNotifications.NotificationQueuedResponse>>,
  Assert<SameEnum<Sdk.KnownPluginErrcode, Exclude<Static<typeof SimBusifavor.PluginErrcode>, number>>>,
  Assert<SameEnum<Sdk.KnownPluginResultCode, (typeof SimBusifavor.PLUGIN_RESULT_CODES)[number]>>,
  Assert<SameEnum<Sdk.NotificationState, (typeof SimNotifications.NOTIFICATION_STATES)[number]>>,
  Assert<SameEnum<Sdk.NotifyFamily, (typeof SimNotifications.NOTIFY_FAMILIES)[number]>>,
  Assert<SameEnum<Sdk.DeliveryPlanState, (typeof SimNotifications.DELIVERY_PLAN_STATES)[number]>>,
  Assert<Request<Sdk.CreateListenSessionRequest, typeof SimListen.ListenSessionBody>>,
  Assert<Response<Sdk.ListenSession, typeof SimListen.ListenSessionView>>,
  Assert<Response<Sdk.ListenSessionList, typeof SimListen.ListenSessionsResponse>>,
  Assert<Request<Sdk.ListListenDeliveriesQuery, typeof SimListen.ListenDeliveriesQuery>>,
  Assert<Response<Sdk.ListenDeliveryList, typeof SimListen.ListenDeliveriesResponse>>,
];

// The operations the SDK builds its requests from, against the endpoint table (a stale
// packages/sdk/src/client/operations.generated.ts: run npm run generate).
type Table = typeof ENDPOINTS;
/** The table's operations whose family is (`In`) or is not (`Out`) `Family`, as `{ method, path }`. */
type ServerOperations<Family extends string, Match extends boolean> = {
  [K in keyof Table as (Table[K]['family'] extends Family ? true : false) extends Match ? K : never]: {
    method: Table[K]['method'];
    path: Table[K]['path'];
  };
};
/** A generated operations table, as `{ method, path }`. */
type SdkOperations<T extends Record<string, { method: string; path: string }>> = {
  [K in keyof T]: { method: T[K]['method']; path: T[K]['path'] };
};
type SameOperations<S, T> =
  Equal<S, T> extends true
    ? true
    : [
        'operations.generated.ts is stale, run npm run generate. Only on the server:',
        Exclude<keyof T, keyof S>,
        'only in the SDK:',
        Exclude<keyof S, keyof T>,
        'method or path differs:',
        { [K in keyof S & keyof T]: Equal<S[K], T[K]> extends true ? never : K }[keyof S & keyof T],
      ];
export type OperationChecks = [
  Assert<
    SameOperations<SdkOperations<typeof Sdk.OPERATIONS>, ServerOperations<'simulation' | 'operations', false>>
  >,
  Assert<
    SameOperations<SdkOperations<typeof Sdk.SIMULATION_OPERATIONS>, ServerOperations<'simulation', true>>
  >,
];
