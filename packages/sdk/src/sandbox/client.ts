import { createWechatPayClient, type WechatPayClient } from '../client/client.js';
import { type CallOptions, type WechatPayClientOptions, WechatPayCore } from '../client/core.js';
import { type OperationTarget, operation } from '../client/operation-target.js';
import { signParamsHmacSha256 } from '../protocol/hmac-params.js';
import { DEFAULT_SANDBOX_DIR, readSandboxCredentials, type SandboxCredentials } from './credentials.js';
import type {
  AppidBinding,
  AppidList,
  BindAppidRequest,
  CreateFaultRequest,
  CreateForwardRequest,
  CreateListenSessionRequest,
  CreateSandboxUserRequest,
  CreateSubsidyOutcomeRequest,
  DeliveryPlanEventRequest,
  DeliveryState,
  DispatchResult,
  FaultRule,
  FaultRuleList,
  ForwardRule,
  ForwardRuleList,
  H5SendParams,
  H5SendRequest,
  ListenDeliveryList,
  ListenSession,
  ListenSessionList,
  ListListenDeliveriesQuery,
  ListNotificationsQuery,
  MiniappSendRequest,
  NotificationDetail,
  NotificationList,
  NotificationQueued,
  PaygiftSendRequest,
  PluginSendResult,
  ProbeReport,
  ProbeRequest,
  ProductCouponEventRequest,
  ReplayNotificationsRequest,
  ReplayResult,
  SandboxClockState,
  SandboxDeleteCouponRequest,
  SandboxOpenid,
  SandboxScope,
  SandboxUser,
  SetClockRequest,
  SetStockStateRequest,
  SetStockStateResponse,
  SubsidyOutcomeRule,
  SubsidyOutcomeRuleList,
} from './types.js';

/**
 * The sandbox's simulation client (like Stripe's `testHelpers`): typed methods for every `/sandbox/v1`
 * operation, signed like `/v3` with the dev merchant of a credentials directory, plus the APIv3 client of
 * the same merchant. Every method builds its request from `SIMULATION_OPERATIONS` (generated from the
 * server's endpoint table); `SANDBOX_METHODS` (operations.ts) maps each operation to its method.
 * @see docs/simulation.md
 */

/** The H5 coupon page's address (the sandbox checks the URL starts with it). */
export const H5_SEND_PAGE = 'https://action.weixin.qq.com/busifavor/getcouponinfo';

/** Where `wechatpay-sandbox start` listens by default. */
export const DEFAULT_SANDBOX_URL = 'http://127.0.0.1:8080';

/** Options of createSandboxClient: where the credentials are, where the server is, and the transport. */
export interface SandboxClientOptions
  extends Pick<
    WechatPayClientOptions,
    'fetch' | 'timeoutMs' | 'retry' | 'onRetry' | 'now' | 'userAgent' | 'acceptLanguage'
  > {
  /** The credentials directory `wechatpay-sandbox init` wrote. @default '.sandbox' */
  dir?: string;
  /** Credentials already loaded (`readSandboxCredentials`); `dir` is then not read. */
  credentials?: SandboxCredentials;
  /** The sandbox's URL. @default 'http://127.0.0.1:8080' */
  baseUrl?: string;
}

/** Per-call options of a send that signs: another sender's APIv2 key (a sub-merchant's). */
export interface SignedSendOptions extends CallOptions {
  /** @default the credentials' APIv2 key */
  apiV2Key?: string;
}

/** A miniapp send: the wire body, with `send_coupon_merchant` defaulted and `sign` computed unless given. */
export type MiniappSendInput = Omit<MiniappSendRequest, 'send_coupon_merchant' | 'sign'> & {
  /** @default the client's merchant */
  send_coupon_merchant?: string;
  /** A sign of your own (e.g. a wrong one, to see `SIGN_ERROR`). @default computed with the APIv2 key */
  sign?: string;
};

/** A `scope` option. */
export interface ScopeOption {
  /** @default 'merchant' */
  scope?: SandboxScope;
}

/** The business clock (`/sandbox/v1/clock`). Wall-clock pieces (signatures, fault expiry) never move. */
export interface SandboxClockApi {
  /** GET — the caller's business time and the settings it is made of. */
  get(options?: CallOptions): Promise<SandboxClockState>;
  /** POST — any action, as on the wire. */
  set(body: SetClockRequest, options?: CallOptions): Promise<SandboxClockState>;
  /** Stand still now, or at `time`. */
  freeze(
    time?: string,
    body?: Omit<SetClockRequest, 'action' | 'time' | 'seconds'>,
    options?: CallOptions,
  ): Promise<SandboxClockState>;
  /** Move by `seconds` (a frozen clock stays frozen, a running one runs on). */
  advance(
    seconds: number,
    body?: Omit<SetClockRequest, 'action' | 'time' | 'seconds'>,
    options?: CallOptions,
  ): Promise<SandboxClockState>;
  /** Drop the scope's setting (from a fast-forwarded clock this goes back: pass `allow_backwards`). */
  resume(
    body?: Omit<SetClockRequest, 'action' | 'time' | 'seconds'>,
    options?: CallOptions,
  ): Promise<SandboxClockState>;
}

/** Rules of the simulation API (fault rules, subsidy outcome rules): the same five calls. */
export interface SandboxRulesApi<CreateRequest, Rule, RuleList> {
  /** POST — add a rule. */
  create(body: CreateRequest, options?: CallOptions): Promise<Rule>;
  /** GET — the caller's rules and the global ones. */
  list(options?: CallOptions): Promise<RuleList>;
  /** GET /{id} — one rule with its counters (404 `RESOURCE_NOT_EXISTS` for another merchant's). */
  get(id: string, options?: CallOptions): Promise<Rule>;
  /** DELETE /{id}. */
  delete(id: string, options?: CallOptions): Promise<void>;
  /** DELETE — the caller's rules, or the global ones. */
  deleteAll(query?: ScopeOption, options?: CallOptions): Promise<void>;
}

/** Fault-injection rules (`/sandbox/v1/faults`): matching calls wait and/or fail. */
export type SandboxFaultsApi = SandboxRulesApi<CreateFaultRequest, FaultRule, FaultRuleList>;

/** Subsidy outcome rules (`/sandbox/v1/busifavor/subsidy-outcomes`): the next receipts end in FAIL. */
export type SandboxSubsidyOutcomesApi = SandboxRulesApi<
  CreateSubsidyOutcomeRequest,
  SubsidyOutcomeRule,
  SubsidyOutcomeRuleList
>;

/** Appid bindings (`/sandbox/v1/appids`). */
export interface SandboxAppidsApi {
  /** POST — bind an appid to the caller or one of its sub-merchants. */
  bind(body: BindAppidRequest, options?: CallOptions): Promise<AppidBinding>;
  /** GET — the appids bound to the caller. */
  list(options?: CallOptions): Promise<AppidList>;
  /** DELETE /{appid}. */
  unbind(appid: string, options?: CallOptions): Promise<void>;
}

/** Simulated WeChat users (`/sandbox/v1/users`). */
export interface SandboxUsersApi {
  /** POST — a user with an openid under each appid. */
  create(body: CreateSandboxUserRequest, options?: CallOptions): Promise<SandboxUser>;
  /** GET /{user_id}. */
  get(userId: string, options?: CallOptions): Promise<SandboxUser>;
  /** POST /{user_id}/openids — the user's openid under `appid` (made on first request). */
  openid(userId: string, appid: string, options?: CallOptions): Promise<SandboxOpenid>;
}

/** The front-end send channels (`/sandbox/v1/busifavor/send/…`); each answers the plugin result (200). */
export interface SandboxSendApi {
  /** The mini-program plugin `sendCoupon`, signed here with the APIv2 key. */
  miniapp(input: MiniappSendInput, options?: SignedSendOptions): Promise<PluginSendResult>;
  /** The H5 page: a URL as is, or the parameters (signed into a URL by `h5Url`). */
  h5(input: H5SendRequest | H5SendParams, options?: SignedSendOptions): Promise<PluginSendResult>;
  /** The H5 page URL a merchant redirects the user to, signed (no request is made). */
  h5Url(params: H5SendParams, apiV2Key?: string): string;
  /** A payment gift (支付有礼), sent by WeChat after `transaction_id` was paid; not signed. */
  paygift(body: PaygiftSendRequest, options?: CallOptions): Promise<PluginSendResult>;
}

/** Merchant-coupon test hooks. */
export interface SandboxBusifavorApi {
  /** POST /busifavor/stocks/{stock_id}/state — set the state directly (the creator only). */
  setStockState(
    stockId: string,
    body: SetStockStateRequest,
    options?: CallOptions,
  ): Promise<SetStockStateResponse>;
  /** POST /busifavor/coupons/delete — the user deletes an available coupon (state DELETED). */
  deleteCoupon(body: SandboxDeleteCouponRequest, options?: CallOptions): Promise<void>;
}

/** The callback pipeline: the delivery log, replay, pause/resume, probe, events of API-less families. */
export interface SandboxNotificationsApi {
  /** GET /notifications — newest first. */
  list(query?: ListNotificationsQuery, options?: CallOptions): Promise<NotificationList>;
  /** GET /notifications/{id} — the event in plaintext and every attempt. */
  show(id: string, options?: CallOptions): Promise<NotificationDetail>;
  /** POST /notifications/{id}/replay — deliver again (a new round). */
  replay(id: string, options?: CallOptions): Promise<ReplayResult>;
  /** POST /notifications/replay — by ids, or every one in a state. */
  replayMany(body: ReplayNotificationsRequest, options?: CallOptions): Promise<ReplayResult>;
  /** POST /notifications/probe — a correct and several forged callbacks; which did the URL accept? */
  probe(body?: ProbeRequest, options?: CallOptions): Promise<ProbeReport>;
  /** GET /notifications-delivery. */
  deliveryState(options?: CallOptions): Promise<DeliveryState>;
  /** POST /notifications-delivery/pause. */
  pause(options?: CallOptions): Promise<DeliveryState>;
  /** POST /notifications-delivery/resume. */
  resume(options?: CallOptions): Promise<DeliveryState>;
  /** POST /notifications-delivery/dispatch — deliver what is due now; answers when done. */
  dispatch(options?: CallOptions): Promise<DispatchResult>;
  /** POST /product-coupon/events — queue a product-coupon callback. */
  productCouponEvent(body: ProductCouponEventRequest, options?: CallOptions): Promise<NotificationQueued>;
  /** POST /delivery-plan/events — queue a DELIVERY_PLAN.CHANGE callback. */
  deliveryPlanEvent(body: DeliveryPlanEventRequest, options?: CallOptions): Promise<NotificationQueued>;
}

/** Forwarding rules (`/sandbox/v1/notification-forwards`): callbacks for one URL go to another. */
export interface SandboxForwardsApi {
  /** GET. */
  list(options?: CallOptions): Promise<ForwardRuleList>;
  /** POST. */
  add(body: CreateForwardRequest, options?: CallOptions): Promise<ForwardRule>;
  /** DELETE /{id}. */
  delete(id: string, options?: CallOptions): Promise<void>;
}

/**
 * Listen sessions (`/sandbox/v1/listen-sessions`, what `wechatpay-sandbox listen` uses): while a session's
 * lease runs, the caller's callbacks (or those of the chosen event types) go to its URL instead of the
 * registered notify URL.
 */
export interface SandboxListenApi {
  /** POST — open a session. */
  open(body: CreateListenSessionRequest, options?: CallOptions): Promise<ListenSession>;
  /** GET — the live sessions, newest (the one that wins) first. */
  list(options?: CallOptions): Promise<ListenSessionList>;
  /** POST /{id}/renew — extend the lease by its length from now (404 once it ran out). */
  renew(id: string, options?: CallOptions): Promise<ListenSession>;
  /** DELETE /{id} — close it: callbacks go to the registered notify URL again. */
  close(id: string, options?: CallOptions): Promise<void>;
  /** GET /{id}/deliveries — the attempts made for it since a cursor, oldest first. */
  deliveries(
    id: string,
    query?: ListListenDeliveriesQuery,
    options?: CallOptions,
  ): Promise<ListenDeliveryList>;
}

/** The sandbox client. */
export interface SandboxClient {
  /** The merchant the client signs as. */
  readonly mchid: string;
  /** The server's URL. */
  readonly baseUrl: string;
  /** What was read from the credentials directory. */
  readonly credentials: SandboxCredentials;
  /** The APIv3 client of the same merchant, verified against the sandbox's platform keys. */
  readonly api: WechatPayClient;
  /** Generic signed request (any path), verified. */
  request: WechatPayCore['request'];
  readonly clock: SandboxClockApi;
  readonly faults: SandboxFaultsApi;
  readonly subsidyOutcomes: SandboxSubsidyOutcomesApi;
  readonly appids: SandboxAppidsApi;
  readonly users: SandboxUsersApi;
  readonly send: SandboxSendApi;
  readonly busifavor: SandboxBusifavorApi;
  readonly notifications: SandboxNotificationsApi;
  readonly forwards: SandboxForwardsApi;
  readonly listen: SandboxListenApi;
}

/**
 * Creates the sandbox client from a credentials directory (zero dependencies; fetch-based).
 * @example
 * const sandbox = createSandboxClient({ dir: '.sandbox', baseUrl: 'http://127.0.0.1:8080' });
 * await sandbox.appids.bind({ appid: 'wx1234567890abcdef' });
 * const user = await sandbox.users.create({ appids: ['wx1234567890abcdef'] });
 * await sandbox.clock.advance(86400);
 */
export function createSandboxClient(options: SandboxClientOptions = {}): SandboxClient {
  const credentials = options.credentials ?? readSandboxCredentials(options.dir ?? DEFAULT_SANDBOX_DIR);
  const { merchant, platform } = credentials;
  const { dir: _dir, credentials: _credentials, ...transport } = options;
  const clientOptions: WechatPayClientOptions = {
    ...transport,
    mchid: merchant.mchid,
    serialNo: merchant.serialNo,
    privateKey: merchant.privateKeyPem,
    apiV3Key: merchant.apiV3Key,
    // Both: answers verify whatever signing mode the merchant is in (the public key is the active one).
    verification: {
      publicKey: { keyId: platform.publicKey.keyId, key: platform.publicKey.pem },
      certificates: platform.certificatePems,
    },
    baseUrl: options.baseUrl ?? DEFAULT_SANDBOX_URL,
  };
  const core = new WechatPayCore(clientOptions);
  const api = createWechatPayClient(clientOptions);

  type Query = Record<string, string | number | undefined>;
  const get = async <T>(target: OperationTarget<'GET'>, query?: Query, o?: CallOptions) =>
    (await core.request<T>({ ...o, ...target, ...(query ? { query } : {}) })).data;
  const post = async <T>(target: OperationTarget<'POST'>, body: unknown, o?: CallOptions) =>
    (await core.request<T>({ ...o, ...target, ...(body === undefined ? {} : { body }) })).data;
  const del = async (target: OperationTarget<'DELETE'>, query?: Query, o?: CallOptions) => {
    await core.request<undefined>({ ...o, ...target, ...(query ? { query } : {}) });
  };
  const setClock = (body: SetClockRequest, o?: CallOptions) =>
    post<SandboxClockState>(operation('setClock'), body, o);

  const clock: SandboxClockApi = {
    get: (o) => get(operation('getClock'), undefined, o),
    set: setClock,
    freeze: (time, body, o) =>
      setClock({ ...body, action: 'freeze', ...(time === undefined ? {} : { time }) }, o),
    advance: (seconds, body, o) => setClock({ ...body, action: 'advance', seconds }, o),
    resume: (body, o) => setClock({ ...body, action: 'resume' }, o),
  };
  const faults: SandboxFaultsApi = {
    create: (body, o) => post(operation('createFault'), body, o),
    list: (o) => get(operation('listFaults'), undefined, o),
    get: (id, o) => get(operation('getFault', { id }), undefined, o),
    delete: (id, o) => del(operation('deleteFault', { id }), undefined, o),
    deleteAll: (query, o) => del(operation('deleteFaults'), { ...query }, o),
  };
  const subsidyOutcomes: SandboxSubsidyOutcomesApi = {
    create: (body, o) => post(operation('createSubsidyOutcome'), body, o),
    list: (o) => get(operation('listSubsidyOutcomes'), undefined, o),
    get: (id, o) => get(operation('getSubsidyOutcome', { id }), undefined, o),
    delete: (id, o) => del(operation('deleteSubsidyOutcome', { id }), undefined, o),
    deleteAll: (query, o) => del(operation('deleteSubsidyOutcomes'), { ...query }, o),
  };
  const appids: SandboxAppidsApi = {
    bind: (body, o) => post(operation('bindAppid'), body, o),
    list: (o) => get(operation('listAppids'), undefined, o),
    unbind: (appid, o) => del(operation('unbindAppid', { appid }), undefined, o),
  };
  const users: SandboxUsersApi = {
    create: (body, o) => post(operation('createUser'), body, o),
    get: (userId, o) => get(operation('getUser', { user_id: userId }), undefined, o),
    openid: (userId, appid, o) => post(operation('createUserOpenid', { user_id: userId }), { appid }, o),
  };
  const h5Url = (params: H5SendParams, apiV2Key?: string) =>
    buildH5SendUrl(
      { ...params, send_coupon_merchant: params.send_coupon_merchant ?? merchant.mchid },
      apiV2Key ?? merchant.apiV2Key,
    );
  const send: SandboxSendApi = {
    miniapp: (input, o) => {
      const { apiV2Key, ...call } = o ?? {};
      const sender = input.send_coupon_merchant ?? merchant.mchid;
      const body: MiniappSendRequest = {
        ...input,
        send_coupon_merchant: sender,
        sign: input.sign ?? signPluginSend(sender, input.send_coupon_params, apiV2Key ?? merchant.apiV2Key),
      };
      return post(operation('simSendMiniapp'), body, call);
    },
    h5: (input, o) => {
      const { apiV2Key, ...call } = o ?? {};
      const body: H5SendRequest = 'url' in input ? { url: input.url } : { url: h5Url(input, apiV2Key) };
      return post(operation('simSendH5'), body, call);
    },
    h5Url,
    paygift: (body, o) => post(operation('simSendPaygift'), body, o),
  };
  const busifavor: SandboxBusifavorApi = {
    setStockState: (stockId, body, o) => post(operation('simSetStockState', { stock_id: stockId }), body, o),
    deleteCoupon: async (body, o) => {
      await post<undefined>(operation('simDeleteCoupon'), body, o);
    },
  };
  const notifications: SandboxNotificationsApi = {
    list: (query, o) => get(operation('listNotifications'), { ...query }, o),
    show: (id, o) => get(operation('getNotification', { id }), undefined, o),
    replay: (id, o) => post(operation('replayNotification', { id }), undefined, o),
    replayMany: (body, o) => post(operation('replayNotifications'), body, o),
    probe: (body, o) => post(operation('probeNotifyUrl'), body ?? {}, o),
    deliveryState: (o) => get(operation('getDeliveryState'), undefined, o),
    pause: (o) => post(operation('pauseDeliveries'), undefined, o),
    resume: (o) => post(operation('resumeDeliveries'), undefined, o),
    dispatch: (o) => post(operation('dispatchDeliveries'), undefined, o),
    productCouponEvent: (body, o) => post(operation('simProductCouponEvent'), body, o),
    deliveryPlanEvent: (body, o) => post(operation('simDeliveryPlanEvent'), body, o),
  };
  const forwards: SandboxForwardsApi = {
    list: (o) => get(operation('listNotificationForwards'), undefined, o),
    add: (body, o) => post(operation('createNotificationForward'), body, o),
    delete: (id, o) => del(operation('deleteNotificationForward', { id }), undefined, o),
  };
  const listen: SandboxListenApi = {
    open: (body, o) => post(operation('createListenSession'), body, o),
    list: (o) => get(operation('listListenSessions'), undefined, o),
    renew: (id, o) => post(operation('renewListenSession', { id }), undefined, o),
    close: (id, o) => del(operation('deleteListenSession', { id }), undefined, o),
    deliveries: (id, query, o) => get(operation('listListenDeliveries', { id }), { ...query }, o),
  };
  return {
    mchid: merchant.mchid,
    baseUrl: core.baseUrl,
    credentials,
    api,
    request: (input) => core.request(input),
    clock,
    faults,
    subsidyOutcomes,
    appids,
    users,
    send,
    busifavor,
    notifications,
    forwards,
    listen,
  };
}

/**
 * The mini-program plugin's `sign`: HMAC-SHA256 with the sender's APIv2 key over `send_coupon_merchant`
 * and the coupon list flattened with a 0-based index (`stock_id0`, `out_request_no0`, `coupon_code0`, …).
 * @see docs/protocol.md §12
 */
export function signPluginSend(
  sendCouponMerchant: string,
  params: ReadonlyArray<{ stock_id: string; out_request_no: string; coupon_code?: string | undefined }>,
  apiV2Key: string,
): string {
  const flat: Record<string, string | undefined> = { send_coupon_merchant: sendCouponMerchant };
  params.forEach((p, i) => {
    flat[`stock_id${i}`] = p.stock_id;
    flat[`out_request_no${i}`] = p.out_request_no;
    flat[`coupon_code${i}`] = p.coupon_code;
  });
  return signParamsHmacSha256(flat, apiV2Key);
}

/**
 * The H5 coupon page URL, signed with the sender's APIv2 key over `stock_id`, `out_request_no`,
 * `send_coupon_merchant`, `open_id` and `coupon_code` when present, ending in `#wechat_redirect`.
 * @see docs/protocol.md §12
 */
export function buildH5SendUrl(
  params: H5SendParams & { send_coupon_merchant: string },
  apiV2Key: string,
): string {
  const signed: Record<string, string | undefined> = {
    stock_id: params.stock_id,
    out_request_no: params.out_request_no,
    send_coupon_merchant: params.send_coupon_merchant,
    open_id: params.open_id,
    coupon_code: params.coupon_code,
  };
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(signed)) if (v !== undefined && v !== '') query.set(k, v);
  query.set('sign', signParamsHmacSha256(signed, apiV2Key));
  return `${H5_SEND_PAGE}?${query.toString()}#wechat_redirect`;
}
