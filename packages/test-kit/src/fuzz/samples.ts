import { createHash } from 'node:crypto';
import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type { Json, JsonObject } from './json.js';
import type { FuzzRoute } from './paths.js';
import { FUZZ_TRANSACTION_ID, type FuzzWorld, NEVER_FAULTED_PATH, stockBody } from './world.js';

/** A valid-ish request to a route, before fuzzing: raw (unencoded) parameter and query values, a body. */
export interface Sample {
  params: Record<string, string>;
  query: Record<string, string>;
  body?: Json;
  /** The image upload: a multipart body whose signed text is the meta part. */
  multipart?: { meta: Json; file: Buffer };
}

/** What varies between two samples of one route: fresh request numbers and a choice among variants. */
export interface SampleChoice {
  /** A token of letters and digits, unique enough to be a fresh request number. */
  token: string;
  /** Picks among a route's variants (and among the seeded values of a kind). */
  pick: number;
}

/** A PNG signature and header: what the upload sniffs. */
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

/** `list[pick % length]`. */
function one<T>(list: readonly T[], pick: number): T {
  return list[pick % list.length] as T;
}

type SampleBuilder = (w: FuzzWorld, c: SampleChoice) => Partial<Sample>;

/**
 * Valid-ish requests per route (`METHOD pattern`; HEAD uses GET's). A route missing here is still
 * fuzzed, with parameters from the world and generic bodies, and listed by the fuzz report so that a
 * sample can be added.
 */
const SAMPLES: Record<string, SampleBuilder> = {
  'GET /sandbox/v1/clock': () => ({}),
  'POST /sandbox/v1/clock': (w, c) => ({
    body: one<Json>(
      [
        { action: 'freeze' },
        { action: 'freeze', time: formatBeijingTime(w.nowMs) },
        { action: 'advance', seconds: 1 },
        { action: 'set', time: formatBeijingTime(w.nowMs + 1000), scope: 'merchant' },
        { action: 'resume', scope: 'global' },
        { action: 'set', time: formatBeijingTime(w.nowMs - 86_400_000), allow_backwards: false },
      ],
      c.pick,
    ),
  }),
  'POST /sandbox/v1/faults': (_w, c) => ({
    body: {
      method: one(['PUT', 'POST', '*'], c.pick),
      path: `${NEVER_FAULTED_PATH}/${c.token}`,
      code: one(['RULE_LIMIT', 'PARAM_ERROR', 'FREQUENCY_LIMITED'], c.pick),
      count: 1,
      fraction: 0.5,
      seed: 42,
      delay_ms: 0,
      expire_time: '2099-01-01T00:00:00+08:00',
    },
  }),
  'GET /sandbox/v1/faults': () => ({}),
  'GET /sandbox/v1/faults/:id': (w) => ({ params: { id: w.faultRuleId } }),
  'DELETE /sandbox/v1/faults/:id': (w) => ({ params: { id: w.faultRuleId } }),
  'DELETE /sandbox/v1/faults': (_w, c) => ({
    query: one<Record<string, string>>([{}, { scope: 'merchant' }, { scope: 'global' }], c.pick),
  }),
  'GET /metrics': () => ({}),
  'GET /healthz': () => ({}),
  'GET /readyz': () => ({}),
  'POST /v3/marketing/busifavor/callbacks': (w) => ({ body: { mchid: w.mchid, notify_url: w.notifyUrl } }),
  'GET /v3/marketing/busifavor/callbacks': (w, c) => ({
    query: one<Record<string, string>>([{}, { mchid: w.mchid }], c.pick),
  }),
  'POST /v3/marketing/partner/product-coupon/notify-configs': (w) => ({ body: { notify_url: w.notifyUrl } }),
  'GET /v3/marketing/partner/product-coupon/notify-configs': () => ({}),
  'POST /v3/marketing/partner/delivery-plan/:sp_mchid/notify-url': (w) => ({
    params: { sp_mchid: w.mchid },
    body: { notify_url: w.notifyUrl },
  }),
  'GET /v3/certificates': (_w, c) => ({
    query: one<Record<string, string>>([{}, { algorithm_type: 'RSA' }, { algorithm_type: 'SM2' }], c.pick),
  }),
  'GET /sandbox/v1/notifications': (_w, c) => ({
    query: one<Record<string, string>>(
      [{}, { state: 'pending', limit: '5', offset: '0' }, { family: 'busifavor', event_type: 'COUPON.SEND' }],
      c.pick,
    ),
  }),
  'GET /sandbox/v1/notifications/:id': (w, c) => ({ params: { id: one(w.notificationIds, c.pick) } }),
  'POST /sandbox/v1/notifications/:id/replay': (w, c) => ({ params: { id: one(w.notificationIds, c.pick) } }),
  'POST /sandbox/v1/notifications/replay': (w, c) => ({
    body: one<Json>(
      [{ ids: w.notificationIds.slice(0, 2) }, { state: 'dead' }, { state: 'pending' }],
      c.pick,
    ),
  }),
  'GET /sandbox/v1/notifications-delivery': () => ({}),
  'POST /sandbox/v1/notifications-delivery/pause': () => ({}),
  'POST /sandbox/v1/notifications-delivery/resume': () => ({}),
  'POST /sandbox/v1/notifications-delivery/dispatch': () => ({}),
  'GET /sandbox/v1/notification-forwards': () => ({}),
  'POST /sandbox/v1/notification-forwards': (w, c) => ({
    body: { from_url: w.notifyUrl, to_url: `http://127.0.0.1:9/fuzz/${c.token}` },
  }),
  'DELETE /sandbox/v1/notification-forwards/:id': (w) => ({ params: { id: w.forwardId } }),
  'POST /sandbox/v1/notifications/probe': (_w, c) => ({
    body: one<Json>(
      [
        {},
        { family: 'busifavor' },
        { family: 'delivery-plan', url: 'https://127.0.0.1:9/probe' },
        { url: 'http://127.0.0.1:9/p' },
      ],
      c.pick,
    ),
  }),
  'POST /sandbox/v1/product-coupon/events': (w, c) => ({
    body: {
      event_type: 'PRODUCT_COUPON_SP.SEND',
      resource: {
        brand_id: '120344',
        coupon_code: `PC${c.token}`.slice(0, 32),
        product_coupon_id: '1000000013',
        stock_id: '1000000013001',
        stock_bundle_id: '1000000013000',
        user_coupon_bundle_id: 'UB0001',
        appid: w.appid,
        openid: w.openid,
        receive_time: formatBeijingTime(w.nowMs),
        send_request_no: c.token,
        send_channel: 'API',
        valid_begin_time: formatBeijingTime(w.nowMs),
        valid_end_time: formatBeijingTime(w.nowMs + 86_400_000),
      },
    },
  }),
  'POST /sandbox/v1/delivery-plan/events': (_w, c) => ({
    body: {
      plan_id: `PLAN${c.token}`.slice(0, 64),
      plan_state: 'PAUSED',
      audit_state: 'PASSED',
      change_reason: '暂停',
    },
  }),
  'POST /v3/marketing/busifavor/stocks': (w, c) => ({
    body: stockBody(w, {
      out_request_no: c.token,
      coupon_code_mode: one(['WECHATPAY_MODE', 'MERCHANT_UPLOAD', 'MERCHANT_API'], c.pick),
      notify_config: { notify_appid: w.appid },
      custom_entrance: { appid: w.appid, code_display_mode: 'QRCODE' },
      display_pattern_info: { description: '说明', background_color: 'Color010' },
    }) as JsonObject,
  }),
  'GET /v3/marketing/busifavor/stocks/:stock_id': (w, c) => ({ params: { stock_id: stockOf(w, c) } }),
  'PATCH /v3/marketing/busifavor/stocks/:stock_id': (w, c) => ({
    params: { stock_id: stockOf(w, c) },
    body: {
      out_request_no: c.token,
      comment: '改',
      goods_name: '全场',
      custom_entrance: { code_display_mode: 'BARCODE', appid: w.appid },
      coupon_use_rule: { use_method: 'OFF_LINE' },
      stock_send_rule: { prevent_api_abuse: false },
      notify_config: { notify_appid: w.appid },
      subsidy: false,
    },
  }),
  'PATCH /v3/marketing/busifavor/stocks/:stock_id/budget': (w, c) => ({
    params: { stock_id: stockOf(w, c) },
    body: one<Json>(
      [
        { target_max_coupons: 100_001, current_max_coupons: 100_000, modify_budget_request_no: c.token },
        { target_max_coupons_by_day: 500, modify_budget_request_no: c.token },
      ],
      c.pick,
    ),
  }),
  'POST /v3/marketing/busifavor/stocks/:stock_id/couponcodes': (w, c) => ({
    params: { stock_id: w.uploadStockId },
    body: {
      coupon_code_list: [`C${c.token}`.slice(0, 32), ...w.uploadCodes.slice(0, 1)],
      upload_request_no: c.token,
    },
  }),
  'GET /v3/marketing/busifavor/stocks/:stock_id/couponcodes': (w, c) => ({
    params: { stock_id: w.uploadStockId },
    query: one<Record<string, string>>(
      [{}, { status: 'AVAILABLE', limit: '10', offset: '1' }, { appid: w.appid, status: 'DISPATCHED' }],
      c.pick,
    ),
  }),
  'GET /v3/marketing/busifavor/stocks/:stock_id/couponcodes/:coupon_code': (w, c) => ({
    params: { stock_id: w.uploadStockId, coupon_code: one(w.uploadCodes, c.pick) },
    query: one<Record<string, string>>([{}, { appid: w.appid }], c.pick),
  }),
  'DELETE /v3/marketing/busifavor/stocks/:stock_id/couponcodes/:coupon_code': (w, c) => ({
    params: { stock_id: w.uploadStockId, coupon_code: one(w.uploadCodes, c.pick) },
    query: { delete_request_no: c.token },
  }),
  'POST /v3/marketing/busifavor/coupons/use': (w, c) => ({
    body: {
      coupon_code: couponOf(w, c),
      stock_id: w.stockId,
      appid: w.appid,
      use_time: formatBeijingTime(w.nowMs),
      use_request_no: c.token,
      openid: w.openid,
      out_trade_no: `T${c.token}`,
    },
  }),
  'GET /v3/marketing/busifavor/users/:openid/coupons': (w, c) => ({
    params: { openid: w.openid },
    query: one<Record<string, string>>(
      [
        { appid: w.appid },
        { appid: w.appid, stock_id: w.stockId, coupon_state: 'SENDED', limit: '2', offset: '1' },
        { appid: w.appid, creator_merchant: w.mchid, belong_merchant: w.mchid, sender_merchant: w.mchid },
      ],
      c.pick,
    ),
  }),
  'GET /v3/marketing/busifavor/users/:openid/coupons/:coupon_code/appids/:appid': (w, c) => ({
    params: { openid: w.openid, coupon_code: couponOf(w, c), appid: w.appid },
  }),
  'POST /v3/marketing/busifavor/coupons/associate': (w, c) => ({
    body: {
      stock_id: w.stockId,
      coupon_code: couponOf(w, c),
      out_trade_no: `T${c.token}`,
      out_request_no: c.token,
    },
  }),
  'POST /v3/marketing/busifavor/coupons/disassociate': (w, c) => ({
    body: {
      stock_id: w.stockId,
      coupon_code: couponOf(w, c),
      out_trade_no: `T${c.token}`,
      out_request_no: c.token,
    },
  }),
  'POST /v3/marketing/busifavor/coupons/return': (w, c) => ({
    body: { stock_id: w.stockId, coupon_code: couponOf(w, c), return_request_no: c.token },
  }),
  'POST /v3/marketing/busifavor/coupons/deactivate': (w, c) => ({
    body: {
      stock_id: w.stockId,
      coupon_code: couponOf(w, c),
      deactivate_request_no: c.token,
      deactivate_reason: '停用',
    },
  }),
  'POST /v3/marketing/busifavor/coupons/send': (w, c) => ({
    body: {
      openid: w.openid,
      appid: w.appid,
      stock_id: one([w.apiStockId, w.stockId], c.pick),
      out_request_no: c.token,
      coupon_code: `API${c.token}`.slice(0, 32),
    },
  }),
  'POST /v3/marketing/busifavor/subsidy/pay-receipts': (w, c) => ({
    body: { ...parties(w), amount: 1, description: '补差', out_subsidy_no: c.token },
  }),
  'GET /v3/marketing/busifavor/subsidy/pay-receipts/:subsidy_receipt_id': (w) => ({
    params: { subsidy_receipt_id: w.payReceiptId },
  }),
  'GET /v3/marketing/busifavor/subsidy/pay-receipts': (w, c) => ({
    query: one<Record<string, string>>(
      [
        { stock_id: w.stockId, coupon_code: w.usedCouponCode },
        { stock_id: w.stockId, coupon_code: w.usedCouponCode, out_subsidy_no: w.outSubsidyNo },
      ],
      c.pick,
    ),
  }),
  'POST /v3/marketing/busifavor/subsidy/return-receipts': (w, c) => ({
    body: {
      ...parties(w),
      refund_id: '50100506732021010105138718375',
      amount: 1,
      description: '回退',
      out_subsidy_return_no: c.token,
    },
  }),
  'GET /v3/marketing/busifavor/subsidy/return-receipts/:subsidy_return_receipt_id': (w) => ({
    params: { subsidy_return_receipt_id: w.returnReceiptId },
  }),
  'POST /v3/marketing/favor/media/image-upload': () => ({
    multipart: {
      meta: { filename: 'logo.png', sha256: createHash('sha256').update(PNG).digest('hex') },
      file: PNG,
    },
  }),
  'POST /sandbox/v1/users': (w, c) => ({
    body: one<Json>(
      [{ appids: [w.appid] }, { appids: [], natural_person_id: c.token, suspicious: true }],
      c.pick,
    ),
  }),
  'GET /sandbox/v1/users/:user_id': (w) => ({ params: { user_id: w.userId } }),
  'POST /sandbox/v1/users/:user_id/openids': (w) => ({
    params: { user_id: w.userId },
    body: { appid: w.appid },
  }),
  'POST /sandbox/v1/appids': (w, c) => ({
    body: one<Json>([{ appid: w.appid }, { appid: w.appid, mchid: w.mchid }], c.pick),
  }),
  'GET /sandbox/v1/appids': () => ({}),
  'DELETE /sandbox/v1/appids/:appid': (w) => ({ params: { appid: w.appid } }),
  'POST /sandbox/v1/busifavor/send/miniapp': (w, c) => ({
    body: {
      appid: w.appid,
      openid: w.openid,
      send_coupon_merchant: w.mchid,
      send_coupon_params: [{ stock_id: w.stockId, out_request_no: c.token }],
      // Not the right HMAC: reaching the sign check is enough, and the seeding tests the right one.
      sign: 'F'.repeat(64),
    },
  }),
  'POST /sandbox/v1/busifavor/send/h5': (w, c) => ({
    body: {
      url: `https://action.weixin.qq.com/busifavor/getcouponinfo?stock_id=${w.stockId}&out_request_no=${c.token}&send_coupon_merchant=${w.mchid}&open_id=${w.openid}&sign=00#wechat_redirect`,
    },
  }),
  'POST /sandbox/v1/busifavor/send/paygift': (w, c) => ({
    body: {
      stock_id: w.stockId,
      appid: w.appid,
      openid: w.openid,
      transaction_id: FUZZ_TRANSACTION_ID,
      out_request_no: c.token,
    },
  }),
  'POST /sandbox/v1/busifavor/stocks/:stock_id/state': (w, c) => ({
    params: { stock_id: stockOf(w, c) },
    body: { stock_state: 'RUNNING' },
  }),
  'POST /sandbox/v1/busifavor/coupons/delete': (w, c) => ({
    body: { stock_id: w.stockId, coupon_code: couponOf(w, c) },
  }),
  'POST /sandbox/v1/busifavor/subsidy-outcomes': (w, c) => ({
    body: {
      fail_reason: one(['PAY_RECEIPT_INSUFFICIENT_BALANCE', 'RETURN_RECEIPT_OTHER'], c.pick),
      stock_id: w.uploadStockId,
      count: 1,
      expire_time: '2099-01-01T00:00:00+08:00',
    },
  }),
  'GET /sandbox/v1/busifavor/subsidy-outcomes': () => ({}),
  'GET /sandbox/v1/busifavor/subsidy-outcomes/:id': (w) => ({ params: { id: w.outcomeRuleId } }),
  'DELETE /sandbox/v1/busifavor/subsidy-outcomes/:id': (w) => ({ params: { id: w.outcomeRuleId } }),
  'DELETE /sandbox/v1/busifavor/subsidy-outcomes': (_w, c) => ({
    query: one<Record<string, string>>([{}, { scope: 'global' }], c.pick),
  }),
};

function stockOf(w: FuzzWorld, c: SampleChoice): string {
  return one([w.stockId, w.uploadStockId, w.apiStockId], c.pick);
}

function couponOf(w: FuzzWorld, c: SampleChoice): string {
  return one([...w.couponCodes, w.usedCouponCode], c.pick);
}

function parties(w: FuzzWorld) {
  return {
    stock_id: w.stockId,
    coupon_code: w.usedCouponCode,
    transaction_id: FUZZ_TRANSACTION_ID,
    payer_merchant: w.mchid,
    payee_merchant: w.mchid,
  };
}

/** The sample table's key for a route (HEAD shares GET's). */
function sampleKey(route: FuzzRoute): string {
  return `${route.method === 'HEAD' ? 'GET' : route.method} ${route.url}`;
}

/** Whether the sample table has a valid-ish request for the route. */
export function hasSample(route: FuzzRoute): boolean {
  return sampleKey(route) in SAMPLES;
}

/**
 * Seeded values for a path parameter: by its name, and for the rule and notification `:id`s by the
 * collection it names.
 */
export function knownParameterValues(w: FuzzWorld, route: FuzzRoute, name: string): string[] {
  switch (name) {
    case 'stock_id':
      return [w.stockId, w.uploadStockId, w.apiStockId];
    case 'coupon_code':
      return [...w.couponCodes, w.usedCouponCode, ...w.uploadCodes];
    case 'openid':
      return [w.openid];
    case 'appid':
      return [w.appid];
    case 'sp_mchid':
      return [w.mchid];
    case 'user_id':
      return [w.userId];
    case 'subsidy_receipt_id':
      return [w.payReceiptId];
    case 'subsidy_return_receipt_id':
      return [w.returnReceiptId];
    case 'id':
      if (route.url.includes('/faults')) return [w.faultRuleId];
      if (route.url.includes('/subsidy-outcomes')) return [w.outcomeRuleId];
      if (route.url.includes('/notification-forwards')) return [w.forwardId];
      return w.notificationIds;
    default:
      return [w.mchid, w.stockId];
  }
}

/**
 * A valid-ish request to `route` in `world`. Without a table entry: the seeded value of each
 * parameter and, for a method with a body, an object of the world's ids.
 */
export function sampleRequest(route: FuzzRoute, world: FuzzWorld, choice: SampleChoice): Sample {
  const build = SAMPLES[sampleKey(route)];
  const names = route.url
    .split('/')
    .filter((s) => s.startsWith(':'))
    .map((s) => s.slice(1));
  const params: Record<string, string> = {};
  for (const name of names) params[name] = one(knownParameterValues(world, route, name), choice.pick);
  if (!build) {
    const withBody = !['GET', 'HEAD', 'DELETE'].includes(route.method);
    return withBody
      ? { params, query: {}, body: { stock_id: world.stockId, appid: world.appid, mchid: world.mchid } }
      : { params, query: {} };
  }
  const sample = build(world, choice);
  return { ...sample, params: { ...params, ...sample.params }, query: sample.query ?? {} };
}
