import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import {
  buildAuthorization,
  buildRequestSigningString,
  formatBeijingTime,
  signMessage,
  signParamsHmacSha256,
} from '@wechatpay-sandbox/sdk/protocol';
import {
  imageUploadBody,
  rawRequest,
  type TestMerchant,
  type TestResponse,
  type TestSandbox,
  verifyTestResponse,
} from '@wechatpay-sandbox/test-kit';
import { expect } from 'vitest';
import { openDatabase } from '../src/db/connect.js';
import { MerchantRepo } from '../src/db/merchant-repo.js';

/** Shared fixtures of the busifavor HTTP tests. */

export const BASE = '/v3/marketing/busifavor';
/** The first bytes of a PNG: enough for the image-upload checks (signature over the meta, size, extension). */
export const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

/** Registers another merchant (optionally a sub-merchant) straight in the sandbox database. */
export async function addMerchant(
  sandbox: TestSandbox,
  mchid: string,
  options: { parent?: string; apiV2Key?: string } = {},
): Promise<TestMerchant & { apiV2Key: string }> {
  trustPlatformKeys(sandbox);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const serialNo = randomBytes(20).toString('hex').toUpperCase();
  const apiV3Key = randomBytes(16).toString('hex');
  const apiV2Key = options.apiV2Key ?? randomBytes(16).toString('hex');
  const handle = openDatabase(sandbox.dbUrl);
  try {
    const repo = new MerchantRepo(handle.db);
    await repo.upsertMerchant({
      mchid,
      name: `merchant ${mchid}`,
      apiV3Key,
      apiV2Key,
      signingMode: 'pubkey',
      parentMchid: options.parent ?? null,
    });
    await repo.addMerchantKey(
      mchid,
      serialNo,
      publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      null,
    );
  } finally {
    await handle.close();
  }
  return { mchid, serialNo, privateKey, apiV3Key, apiV2Key };
}

/** Asserts a 2xx response is signed by the platform key, and returns its JSON. */
export function signedJson<T = Record<string, unknown>>(
  sandbox: TestSandbox,
  res: TestResponse,
  status = 200,
): T {
  trustPlatformKeys(sandbox);
  expect(res.status, res.text).toBe(status);
  expect(verifyTestResponse(res, sandbox.server.credentials.platform.publicKey.publicKey).ok).toBe(true);
  return (res.text ? res.json<T>() : undefined) as T;
}

/**
 * Platform verification keys by `Wechatpay-Serial` (public key id or certificate serial) of every
 * sandbox a helper has seen, so that {@link expectError} can verify without a sandbox argument.
 */
const platformKeys = new Map<string, KeyObject>();

/** Registers a sandbox's platform keys for {@link expectError}; every helper taking a sandbox calls it. */
export function trustPlatformKeys(sandbox: TestSandbox): void {
  const platform = sandbox.server.credentials.platform;
  platformKeys.set(platform.publicKey.keyId, platform.publicKey.publicKey);
  for (const cert of platform.certificates) platformKeys.set(cert.serialNo, cert.publicKey);
}

/**
 * Asserts a WeChat error body, and that the error is signed by the platform like a success (errors to
 * an identified merchant are signed; a 401 from failed authentication never is: docs/protocol.md §2.3).
 */
export function expectError(
  res: TestResponse,
  status: number,
  code: string,
  message?: string | RegExp,
): void {
  expect(res.status, res.text).toBe(status);
  const body = res.json<{ code: string; message: string }>();
  expect(body.code).toBe(code);
  expect(typeof body.message).toBe('string');
  if (typeof message === 'string') expect(body.message).toBe(message);
  else if (message) expect(body.message).toMatch(message);
  if (status === 401) {
    expect(res.headers['wechatpay-signature'], 'a 401 must not be signed').toBeUndefined();
    return;
  }
  const serial = res.headers['wechatpay-serial'];
  expect(serial, `error ${status} ${code} is not signed`).toBeDefined();
  const key = platformKeys.get(serial as string);
  if (!key) {
    throw new Error(
      `expectError: Wechatpay-Serial ${serial} is no key of a known sandbox; call trustPlatformKeys(sandbox) (or any helper taking the sandbox) first`,
    );
  }
  const verified = verifyTestResponse(res, key);
  expect(verified.ok, `error ${status} ${code} signature: ${JSON.stringify(verified)}`).toBe(true);
}

let counter = 0;
/** A fresh request number. */
export function reqNo(prefix = 'REQ'): string {
  counter += 1;
  return `${prefix}${Date.now()}${counter}${randomBytes(3).toString('hex')}`;
}

/** A create-stock body valid now (window: one hour ago → 30 days ahead). */
export function stockBody(belong: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Date.now();
  return {
    stock_name: '满10减1活动券',
    belong_merchant: belong,
    comment: '测试批次',
    goods_name: '全场通用',
    stock_type: 'NORMAL',
    coupon_use_rule: {
      coupon_available_time: {
        available_begin_time: formatBeijingTime(now - 3600_000),
        available_end_time: formatBeijingTime(now + 30 * 86400_000),
      },
      fixed_normal_coupon: { discount_amount: 100, transaction_minimum: 1000 },
      use_method: 'OFF_LINE',
    },
    stock_send_rule: { max_coupons: 100, max_coupons_per_user: 5 },
    out_request_no: reqNo('STOCK'),
    coupon_code_mode: 'WECHATPAY_MODE',
    ...overrides,
  };
}

/** Creates a stock from {@link stockBody} as the dev merchant (belonging to `belong`); returns its id. */
export async function addStock(
  sandbox: TestSandbox,
  overrides: Record<string, unknown> = {},
  belong = sandbox.merchant.mchid,
): Promise<string> {
  const res = await sandbox.request({
    method: 'POST',
    path: `${BASE}/stocks`,
    body: stockBody(belong, overrides),
  });
  return signedJson<{ stock_id: string }>(sandbox, res).stock_id;
}

/** Creates a simulated user with an openid under `appid` (and `extra` create fields); returns that openid. */
export async function addUserOpenid(
  sandbox: TestSandbox,
  appid: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await sandbox.request({
    method: 'POST',
    path: '/sandbox/v1/users',
    body: { appids: [appid], ...extra },
  });
  return signedJson<{ openids: Record<string, string> }>(sandbox, res).openids[appid] as string;
}

/** Redeems a coupon now under `appid` (POST coupons/use) and asserts it is accepted. */
export async function useCouponNow(sandbox: TestSandbox, appid: string, stockId: string, couponCode: string) {
  signedJson(
    sandbox,
    await sandbox.request({
      method: 'POST',
      path: `${BASE}/coupons/use`,
      body: {
        coupon_code: couponCode,
        stock_id: stockId,
        appid,
        use_time: formatBeijingTime(Date.now()),
        use_request_no: reqNo('USE'),
      },
    }),
  );
}

/** The order and refund the subsidy tests pay and return against. */
export const TRANSACTION_ID = '4200000913202101152566792388';
export const REFUND_ID = '50100506732021010105138718375';

/** What a subsidy pay and return body share: the coupon, the order, the dev merchant paying itself. */
function subsidyParties(sandbox: TestSandbox, coupon: { stockId: string; code: string }) {
  const mchid = sandbox.merchant.mchid;
  return {
    stock_id: coupon.stockId,
    coupon_code: coupon.code,
    transaction_id: TRANSACTION_ID,
    payer_merchant: mchid,
    payee_merchant: mchid,
  };
}

/** A subsidy pay-receipt body for a used coupon: 100 fen unless `extra` says. */
export function subsidyPayBody(
  sandbox: TestSandbox,
  coupon: { stockId: string; code: string },
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    ...subsidyParties(sandbox, coupon),
    amount: 100,
    description: '补差付款',
    out_subsidy_no: reqNo('SUB'),
    ...extra,
  };
}

/** A subsidy return-receipt body returning `amount` of a coupon {@link subsidyPayBody} paid. */
export function subsidyReturnBody(
  sandbox: TestSandbox,
  coupon: { stockId: string; code: string },
  amount: number,
): Record<string, unknown> {
  return {
    ...subsidyParties(sandbox, coupon),
    refund_id: REFUND_ID,
    amount,
    description: '补差回退',
    out_subsidy_return_no: reqNo('RET'),
  };
}

/** The plugin sign over flattened send params (docs/protocol.md §12). */
export function pluginSign(
  sender: string,
  params: Array<{ stock_id: string; out_request_no: string; coupon_code?: string }>,
  apiV2Key: string,
): string {
  const flat: Record<string, string | undefined> = { send_coupon_merchant: sender };
  params.forEach((p, i) => {
    flat[`stock_id${i}`] = p.stock_id;
    flat[`out_request_no${i}`] = p.out_request_no;
    flat[`coupon_code${i}`] = p.coupon_code;
  });
  return signParamsHmacSha256(flat, apiV2Key);
}

/** A simulated user as the simulation API answers it. */
export interface SimUserView {
  user_id: string;
  unionid: string;
  openids: Record<string, string>;
}

/** Binds `appid` to `merchant` (default: the sandbox's dev merchant), signed as that merchant. */
export async function bindAppid(sandbox: TestSandbox, appid: string, merchant?: TestMerchant): Promise<void> {
  signedJson(
    sandbox,
    await sandbox.request({
      method: 'POST',
      path: '/sandbox/v1/appids',
      body: { appid },
      ...(merchant ? { merchant } : {}),
    }),
  );
}

/** Binds `appid` to the sandbox's dev merchant and creates a simulated user with an openid under it. */
export async function bindAppidWithUser(sandbox: TestSandbox, appid: string): Promise<SimUserView> {
  await bindAppid(sandbox, appid);
  return signedJson<SimUserView>(
    sandbox,
    await sandbox.request({ method: 'POST', path: '/sandbox/v1/users', body: { appids: [appid] } }),
  );
}

/** One result item of a plugin send. */
export interface PluginSendItem {
  stock_id: string;
  out_request_no: string;
  coupon_code?: string;
  code: string;
  message: string;
}

/**
 * POSTs a mini-program plugin send of `params` as the dev merchant (`send_coupon_merchant`), signed with its
 * APIv2 key unless `sign` is given; the raw response.
 */
export function pluginSendRequest(
  sandbox: TestSandbox,
  appid: string,
  openid: string,
  params: Array<{ stock_id: string; out_request_no: string; coupon_code?: string }>,
  sign?: string,
): Promise<TestResponse> {
  const mchid = sandbox.merchant.mchid;
  return sandbox.request({
    method: 'POST',
    path: '/sandbox/v1/busifavor/send/miniapp',
    body: {
      appid,
      openid,
      send_coupon_merchant: mchid,
      send_coupon_params: params,
      sign: sign ?? pluginSign(mchid, params, sandbox.server.credentials.merchant.apiV2Key),
    },
  });
}

/** Sends one coupon of `stockId` as the dev merchant's mini-program plugin would (signed with its APIv2 key). */
export async function pluginSendOne(
  sandbox: TestSandbox,
  appid: string,
  openid: string,
  stockId: string,
  outRequestNo = reqNo('SEND'),
): Promise<PluginSendItem> {
  const params = [{ stock_id: stockId, out_request_no: outRequestNo }];
  const res = signedJson<{ errcode: string; send_coupon_result: PluginSendItem[] }>(
    sandbox,
    await pluginSendRequest(sandbox, appid, openid, params),
  );
  expect(res.errcode).toBe('OK');
  return res.send_coupon_result[0] as PluginSendItem;
}

/**
 * POSTs a multipart marketing image upload signed over the meta JSON, as WeChat's SDKs do.
 * `signOver: 'body'` signs the whole multipart body instead (the common client mistake); `sentMeta`
 * is put on the wire in place of the signed meta (a tampered upload).
 */
export async function multipartUpload(
  sandbox: TestSandbox,
  meta: string,
  file: Buffer,
  options: { signOver?: 'meta' | 'body'; parts?: Array<'meta' | 'file'>; sentMeta?: string } = {},
): Promise<TestResponse> {
  const path = '/v3/marketing/favor/media/image-upload';
  const { body, contentType } = imageUploadBody(options.sentMeta ?? meta, file, options.parts);
  const timestamp = Math.floor(Date.now() / 1000);
  const nonce = randomBytes(16).toString('hex').toUpperCase();
  const m = sandbox.merchant;
  const signed = options.signOver === 'body' ? body.toString('latin1') : meta;
  const signature = signMessage(
    buildRequestSigningString({ method: 'POST', canonicalUrl: path, timestamp, nonce, body: signed }),
    m.privateKey,
  );
  return rawRequest(sandbox.url, {
    method: 'POST',
    path,
    headers: {
      Accept: 'application/json',
      'User-Agent': 'busifavor-tests',
      'Content-Type': contentType,
      Authorization: buildAuthorization({
        mchid: m.mchid,
        serialNo: m.serialNo,
        timestamp: String(timestamp),
        nonce,
        signature,
      }),
    },
    body,
  });
}

/** Sends one coupon of `stockId` to `openid` as the mini-program plugin would (signed with the APIv2 key). */
export function sendViaMiniapp(
  sandbox: TestSandbox,
  input: { appid: string; openid: string; stockId: string },
): Promise<TestResponse> {
  const mchid = sandbox.merchant.mchid;
  const params = [{ stock_id: input.stockId, out_request_no: reqNo('SEND') }];
  return sandbox.request({
    method: 'POST',
    path: '/sandbox/v1/busifavor/send/miniapp',
    body: {
      appid: input.appid,
      openid: input.openid,
      send_coupon_merchant: mchid,
      send_coupon_params: params,
      sign: pluginSign(mchid, params, sandbox.server.credentials.merchant.apiV2Key),
    },
  });
}
