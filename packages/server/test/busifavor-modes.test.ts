import { createWechatPayClient, type WechatPayClient } from '@wechatpay-sandbox/sdk';
import { formatBeijingTime, signParamsHmacSha256 } from '@wechatpay-sandbox/sdk/protocol';
import {
  DIALECTS,
  startSandbox,
  type TestMerchant,
  type TestResponse,
  type TestSandbox,
} from '@wechatpay-sandbox/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fractionFires } from '../src/sim/faults.js';
import {
  addMerchant,
  addStock,
  addUserOpenid,
  BASE,
  bindAppid,
  expectError,
  type PluginSendItem,
  PNG,
  pluginSendRequest,
  pluginSign,
  reqNo,
  signedJson,
  stockBody,
} from './busifavor-helpers.js';

/**
 * Code modes, stock types and display settings over HTTP (docs/busifavor.md §2.2, §6.2–§6.4, §9):
 * MERCHANT_API codes at every send channel, DISCOUNT stocks end to end, custom_entrance, MINI_PROGRAMS,
 * coupon_image_url, prevent_api_abuse, and the plugin's multi-coupon and front-end error answers.
 */

const APPID = 'wxmodes0000000001';
const MINI_APPID = 'wxmodesmini000001';
const OTHER_APPID = 'wxmodesother00001';
const FAULTS = '/sandbox/v1/faults';
const CLOCK = '/sandbox/v1/clock';
const DAY_MS = 86_400_000;

type Json = Record<string, unknown>;
type CouponParam = { stock_id: string; out_request_no: string; coupon_code?: string };
interface ClockView {
  mchid: string;
  now: string;
  now_ms: number;
  mode: string;
  source: string;
  merchant: Json | null;
  global: Json | null;
}
type PluginResult = { errcode: string | number; msg: string; send_coupon_result: PluginSendItem[] };

function sdkClient(sandbox: TestSandbox, m: TestMerchant): WechatPayClient {
  const pk = sandbox.server.credentials.platform.publicKey;
  return createWechatPayClient({
    mchid: m.mchid,
    serialNo: m.serialNo,
    privateKey: m.privateKey as never,
    apiV3Key: m.apiV3Key,
    baseUrl: sandbox.url,
    verification: { publicKey: { keyId: pk.keyId, key: pk.publicKeyPem } },
    retry: false,
  });
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`busifavor code modes and stock settings on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let mchid: string;
    let apiV2Key: string;
    let sub: Awaited<ReturnType<typeof addMerchant>>;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      mchid = sandbox.merchant.mchid;
      apiV2Key = sandbox.server.credentials.merchant.apiV2Key;
      sub = await addMerchant(sandbox, '1900000811', { parent: mchid });
      for (const appid of [APPID, MINI_APPID]) await bindAppid(sandbox, appid);
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    const post = (path: string, body: unknown, merchant?: TestMerchant) =>
      sandbox.request({ method: 'POST', path, body: body as object, ...(merchant ? { merchant } : {}) });
    const get = (path: string) => sandbox.request({ method: 'GET', path });
    const createStock = (overrides: Json = {}) => addStock(sandbox, overrides);
    const newUser = (extra: Json = {}) => addUserOpenid(sandbox, APPID, extra);
    const plugin = async (
      openid: string,
      params: CouponParam[],
      options: { sign?: string; appid?: string } = {},
    ) =>
      signedJson<PluginResult>(
        sandbox,
        await pluginSendRequest(sandbox, options.appid ?? APPID, openid, params, options.sign),
      );
    const apiSend = (openid: string, stockId: string, extra: Json = {}) =>
      post(`${BASE}/coupons/send`, {
        openid,
        appid: APPID,
        stock_id: stockId,
        out_request_no: reqNo('API'),
        ...extra,
      });
    const coupon = async (openid: string, code: string) =>
      signedJson<Json>(sandbox, await get(`${BASE}/users/${openid}/coupons/${code}/appids/${APPID}`));
    const useBody = (code: string, stockId?: string) => ({
      coupon_code: code,
      ...(stockId !== undefined ? { stock_id: stockId } : {}),
      appid: APPID,
      use_time: formatBeijingTime(Date.now()),
      use_request_no: reqNo('USE'),
    });
    const window = () => ({
      available_begin_time: formatBeijingTime(Date.now() - 3600_000),
      available_end_time: formatBeijingTime(Date.now() + 30 * 86400_000),
    });
    const h5Url = (params: Record<string, string>, signed: Record<string, string> = params) =>
      `https://action.weixin.qq.com/busifavor/getcouponinfo?${new URLSearchParams({
        ...params,
        sign: signParamsHmacSha256(signed, apiV2Key),
      })}#wechat_redirect`;

    describe('MERCHANT_API codes', () => {
      it('API send: the merchant code is the coupon code, required, unique within the stock only', async () => {
        const stockId = await createStock({ coupon_code_mode: 'MERCHANT_API' });
        const openid = await newUser();
        const out = reqNo('API');
        const sent = signedJson<Json>(
          sandbox,
          await apiSend(openid, stockId, { out_request_no: out, coupon_code: 'MCH-API_0001' }),
        );
        expect(sent).toEqual({ stock_id: stockId, out_request_no: out, coupon_code: 'MCH-API_0001' });
        expect(await coupon(openid, 'MCH-API_0001')).toMatchObject({
          coupon_code: 'MCH-API_0001',
          stock_id: stockId,
          coupon_state: 'SENDED',
          send_request_no: out,
        });

        const missing = await apiSend(openid, stockId);
        expectError(missing, 400, 'INVALID_REQUEST', /必须传入coupon_code/);
        const dup = await apiSend(await newUser(), stockId, { coupon_code: 'MCH-API_0001' });
        expectError(dup, 400, 'INVALID_REQUEST', 'coupon_code 在该批次下已被使用');
        expectError(
          await apiSend(openid, stockId, { coupon_code: 'bad#code' }),
          400,
          'INVALID_REQUEST',
          /^coupon_code 不合法/,
        );
        // Another MERCHANT_API stock may reuse the code.
        const second = await createStock({ coupon_code_mode: 'MERCHANT_API' });
        const again = signedJson<Json>(
          sandbox,
          await apiSend(openid, second, { coupon_code: 'MCH-API_0001' }),
        );
        expect(again.coupon_code).toBe('MCH-API_0001');

        const stock = signedJson<{ send_count_information: Json }>(
          sandbox,
          await get(`${BASE}/stocks/${stockId}`),
        );
        expect(stock.send_count_information).toEqual({ total_send_num: 1, total_send_amount: 100 });
      });

      it('WECHATPAY_MODE and MERCHANT_UPLOAD stocks refuse a merchant-provided code', async () => {
        const plain = await createStock();
        const openid = await newUser();
        expectError(
          await apiSend(openid, plain, { coupon_code: 'MCHCODE0001' }),
          400,
          'INVALID_REQUEST',
          'WECHATPAY_MODE 模式的批次发券时不可传入coupon_code',
        );
        const [item] = (
          await plugin(openid, [{ stock_id: plain, out_request_no: reqNo('P'), coupon_code: 'MCHCODE0001' }])
        ).send_coupon_result;
        expect(item).toMatchObject({
          code: 'FAILED',
          message: 'WECHATPAY_MODE 模式的批次发券时不可传入coupon_code',
        });
        expect(item?.coupon_code).toBeUndefined();
        const upload = await createStock({ coupon_code_mode: 'MERCHANT_UPLOAD' });
        expectError(
          await apiSend(openid, upload, { coupon_code: 'MCHCODE0001' }),
          400,
          'INVALID_REQUEST',
          'MERCHANT_UPLOAD 模式的批次发券时不可传入coupon_code',
        );
      });

      it('plugin send: coupon_code0 is signed and echoed; a duplicate code is FAILED; use needs stock_id', async () => {
        const stockId = await createStock({ coupon_code_mode: 'MERCHANT_API' });
        const openid = await newUser();
        const params = [{ stock_id: stockId, out_request_no: reqNo('P'), coupon_code: 'PLUGIN0001' }];
        // A sign computed without coupon_code0 does not cover the code.
        const unsigned = pluginSign(
          mchid,
          [{ stock_id: stockId, out_request_no: params[0]?.out_request_no as string }],
          apiV2Key,
        );
        const refused = await plugin(openid, params, { sign: unsigned });
        expect(refused).toMatchObject({ errcode: 'SIGN_ERROR', send_coupon_result: [] });

        const ok = await plugin(openid, params);
        expect(ok.errcode).toBe('OK');
        expect(ok.send_coupon_result).toEqual([
          {
            stock_id: stockId,
            out_request_no: params[0]?.out_request_no,
            coupon_code: 'PLUGIN0001',
            code: 'SUCCESS',
            message: '发券成功',
          },
        ]);
        const dupOut = reqNo('P');
        const dup = await plugin(await newUser(), [
          { stock_id: stockId, out_request_no: dupOut, coupon_code: 'PLUGIN0001' },
        ]);
        expect(dup.send_coupon_result).toEqual([
          {
            stock_id: stockId,
            out_request_no: dupOut,
            code: 'FAILED',
            message: 'coupon_code 在该批次下已被使用',
          },
        ]);

        const noStock = await post(`${BASE}/coupons/use`, useBody('PLUGIN0001'));
        expectError(noStock, 400, 'PARAM_ERROR', /商户自定义code的批次核销时必须填写stock_id$/);
        expect(noStock.json<{ detail: { field: string } }>().detail.field).toBe('/stock_id');
        expect((await coupon(openid, 'PLUGIN0001')).coupon_state).toBe('SENDED');
        const used = signedJson<Json>(
          sandbox,
          await post(`${BASE}/coupons/use`, useBody('PLUGIN0001', stockId)),
        );
        expect(Object.keys(used)).toEqual(['stock_id', 'openid', 'wechatpay_use_time']);
        expect(used).toMatchObject({ stock_id: stockId, openid });
        expect((await coupon(openid, 'PLUGIN0001')).coupon_state).toBe('USED');
      });

      it('H5 send: coupon_code is part of the signed parameters', async () => {
        const stockId = await createStock({ coupon_code_mode: 'MERCHANT_API' });
        const openid = await newUser();
        const params = {
          stock_id: stockId,
          out_request_no: reqNo('H'),
          send_coupon_merchant: mchid,
          open_id: openid,
          coupon_code: 'H5CODE0001',
        };
        const { coupon_code: _code, ...withoutCode } = params;
        const badSign = signedJson<PluginResult>(
          sandbox,
          await post('/sandbox/v1/busifavor/send/h5', { url: h5Url(params, withoutCode) }),
        );
        expect(badSign).toMatchObject({ errcode: 'SIGN_ERROR', send_coupon_result: [] });
        const ok = signedJson<PluginResult>(
          sandbox,
          await post('/sandbox/v1/busifavor/send/h5', { url: h5Url(params) }),
        );
        expect(ok).toEqual({
          errcode: 'OK',
          msg: 'OK',
          send_coupon_result: [
            {
              stock_id: stockId,
              out_request_no: params.out_request_no,
              coupon_code: 'H5CODE0001',
              code: 'SUCCESS',
              message: '发券成功',
            },
          ],
        });
        expect((await coupon(openid, 'H5CODE0001')).send_request_no).toBe(params.out_request_no);
        const noCode = signedJson<PluginResult>(
          sandbox,
          await post('/sandbox/v1/busifavor/send/h5', {
            url: h5Url({ ...withoutCode, out_request_no: reqNo('H') }),
          }),
        );
        expect(noCode.send_coupon_result[0]).toMatchObject({
          code: 'FAILED',
          message: /必须传入coupon_code/,
        });
      });
    });

    describe('DISCOUNT stocks', () => {
      it('are created, queried, sent and used with discount_coupon echoed; counters carry no amounts', async () => {
        const rule = {
          coupon_available_time: window(),
          discount_coupon: { discount_percent: 88, transaction_minimum: 1000 },
          use_method: 'OFF_LINE',
        };
        const body = stockBody(mchid, {
          stock_name: '全场88折',
          stock_type: 'DISCOUNT',
          coupon_use_rule: rule,
          stock_send_rule: { max_coupons: 50, max_coupons_per_user: 2, max_coupons_by_day: 20 },
        });
        const stockId = signedJson<{ stock_id: string }>(
          sandbox,
          await post(`${BASE}/stocks`, body),
        ).stock_id;
        const stock = signedJson<Json>(sandbox, await get(`${BASE}/stocks/${stockId}`));
        expect(stock).toMatchObject({
          stock_name: '全场88折',
          stock_type: 'DISCOUNT',
          coupon_use_rule: rule,
          stock_send_rule: body.stock_send_rule,
          send_count_information: { total_send_num: 0, today_send_num: 0 },
        });

        const openid = await newUser();
        const [item] = (await plugin(openid, [{ stock_id: stockId, out_request_no: reqNo('D') }]))
          .send_coupon_result;
        expect(item?.code).toBe('SUCCESS');
        const code = item?.coupon_code as string;
        const got = await coupon(openid, code);
        expect(got).toMatchObject({ stock_type: 'DISCOUNT', stock_name: '全场88折', coupon_use_rule: rule });
        expect((got.coupon_use_rule as Json).fixed_normal_coupon).toBeUndefined();
        signedJson(sandbox, await post(`${BASE}/coupons/use`, useBody(code, stockId)));
        expect((await coupon(openid, code)).coupon_state).toBe('USED');
        // §2.2: total_send_amount and today_send_amount exist only for NORMAL stocks.
        const after = signedJson<{ send_count_information: Json }>(
          sandbox,
          await get(`${BASE}/stocks/${stockId}`),
        );
        expect(after.send_count_information).toEqual({ total_send_num: 1, today_send_num: 1 });
      });

      it('refuses discount_percent outside 1..99 and a fixed_normal_coupon beside discount_coupon', async () => {
        for (const discount_percent of [0, 100]) {
          const res = await post(
            `${BASE}/stocks`,
            stockBody(mchid, {
              stock_type: 'DISCOUNT',
              coupon_use_rule: {
                coupon_available_time: window(),
                discount_coupon: { discount_percent, transaction_minimum: 0 },
                use_method: 'OFF_LINE',
              },
            }),
          );
          expectError(res, 400, 'PARAM_ERROR');
        }
        const both = await post(
          `${BASE}/stocks`,
          stockBody(mchid, {
            stock_type: 'DISCOUNT',
            coupon_use_rule: {
              coupon_available_time: window(),
              discount_coupon: { discount_percent: 90, transaction_minimum: 0 },
              fixed_normal_coupon: { discount_amount: 1, transaction_minimum: 0 },
              use_method: 'OFF_LINE',
            },
          }),
        );
        expectError(both, 400, 'PARAM_ERROR');
        expect(both.json<{ detail: { field: string } }>().detail.field).toBe(
          '/coupon_use_rule/fixed_normal_coupon',
        );
      });
    });

    describe('entrances, use methods and images', () => {
      it('custom_entrance: mini-program info, appid and store_id are stored and shown on stock and coupon', async () => {
        const entrance = {
          mini_programs_info: {
            mini_programs_appid: MINI_APPID,
            mini_programs_path: '/pages/coupon/index',
            entrance_words: '立即使用',
            guiding_words: '去小程序',
          },
          appid: APPID,
          hall_id: '233455656',
          store_id: '233554655',
          code_display_mode: 'BARCODE',
        };
        const stockId = await createStock({ custom_entrance: entrance });
        expect(signedJson<Json>(sandbox, await get(`${BASE}/stocks/${stockId}`)).custom_entrance).toEqual(
          entrance,
        );
        const openid = await newUser();
        const [item] = (await plugin(openid, [{ stock_id: stockId, out_request_no: reqNo('E') }]))
          .send_coupon_result;
        expect((await coupon(openid, item?.coupon_code as string)).custom_entrance).toEqual(entrance);
      });

      it('custom_entrance appids must be bound to the caller or the belong merchant', async () => {
        const cases: Array<[Json, string]> = [
          [
            {
              mini_programs_info: {
                mini_programs_appid: OTHER_APPID,
                mini_programs_path: '/pages/index',
                entrance_words: '去使用',
              },
            },
            '/custom_entrance/mini_programs_info/mini_programs_appid',
          ],
          [{ appid: OTHER_APPID }, '/custom_entrance/appid'],
        ];
        for (const [entrance, field] of cases) {
          const res = await post(`${BASE}/stocks`, stockBody(mchid, { custom_entrance: entrance }));
          expectError(res, 400, 'APPID_MCHID_NOT_MATCH');
          expect(res.json<{ detail: { field: string } }>().detail.field).toBe(field);
        }
        const long = await post(
          `${BASE}/stocks`,
          stockBody(mchid, {
            custom_entrance: {
              mini_programs_info: {
                mini_programs_appid: MINI_APPID,
                mini_programs_path: '/pages/index',
                entrance_words: '六个字的入口',
              },
            },
          }),
        );
        expectError(long, 400, 'PARAM_ERROR');
        // Provider mode: an appid bound only to the belong (sub-)merchant is accepted.
        signedJson(sandbox, await post('/sandbox/v1/appids', { appid: OTHER_APPID, mchid: sub.mchid }));
        const stockId = signedJson<{ stock_id: string }>(
          sandbox,
          await post(`${BASE}/stocks`, stockBody(sub.mchid, { custom_entrance: { appid: OTHER_APPID } })),
        ).stock_id;
        expect(signedJson<Json>(sandbox, await get(`${BASE}/stocks/${stockId}`))).toMatchObject({
          belong_merchant: sub.mchid,
          custom_entrance: { appid: OTHER_APPID },
        });
      });

      it('use_method MINI_PROGRAMS needs a bound mini_programs_appid and a path', async () => {
        const rule = (extra: Json) => ({
          coupon_use_rule: {
            coupon_available_time: window(),
            fixed_normal_coupon: { discount_amount: 100, transaction_minimum: 1000 },
            use_method: 'MINI_PROGRAMS',
            ...extra,
          },
        });
        const noPath = await post(
          `${BASE}/stocks`,
          stockBody(mchid, rule({ mini_programs_appid: MINI_APPID })),
        );
        expectError(noPath, 400, 'PARAM_ERROR');
        expect(noPath.json<{ detail: { field: string } }>().detail.field).toBe(
          '/coupon_use_rule/mini_programs_path',
        );
        const noAppid = await post(
          `${BASE}/stocks`,
          stockBody(mchid, rule({ mini_programs_path: '/pages/use' })),
        );
        expect(noAppid.json<{ detail: { field: string } }>().detail.field).toBe(
          '/coupon_use_rule/mini_programs_appid',
        );
        expectError(
          await post(
            `${BASE}/stocks`,
            stockBody(
              mchid,
              rule({ mini_programs_appid: 'wxnotbound0000001', mini_programs_path: '/pages/use' }),
            ),
          ),
          400,
          'APPID_MCHID_NOT_MATCH',
        );
        const ok = rule({ mini_programs_appid: MINI_APPID, mini_programs_path: '/pages/use' });
        const stockId = await createStock(ok);
        const openid = await newUser();
        const [item] = (await plugin(openid, [{ stock_id: stockId, out_request_no: reqNo('M') }]))
          .send_coupon_result;
        const got = await coupon(openid, item?.coupon_code as string);
        expect(got.coupon_use_rule).toEqual(ok.coupon_use_rule);
        signedJson(sandbox, await post(`${BASE}/coupons/use`, useBody(item?.coupon_code as string, stockId)));
      });

      it('coupon_image_url must come from the caller’s image upload', async () => {
        const { media_url } = await sdkClient(sandbox, sandbox.merchant).media.uploadImage({
          filename: 'coupon.png',
          file: PNG,
        });
        const display = {
          coupon_image_url: media_url,
          background_color: 'Color030',
          description: '仅限门店使用',
        };
        const stockId = await createStock({ display_pattern_info: display });
        expect(
          signedJson<Json>(sandbox, await get(`${BASE}/stocks/${stockId}`)).display_pattern_info,
        ).toEqual(display);
        const openid = await newUser();
        const [item] = (await plugin(openid, [{ stock_id: stockId, out_request_no: reqNo('I') }]))
          .send_coupon_result;
        expect((await coupon(openid, item?.coupon_code as string)).display_pattern_info).toEqual(display);

        const foreign = await post(
          `${BASE}/stocks`,
          stockBody(mchid, { display_pattern_info: { coupon_image_url: 'https://example.com/c.png' } }),
        );
        expectError(foreign, 400, 'PARAM_ERROR', '非法敏感图片');
        expect(foreign.json<{ detail: { field: string } }>().detail.field).toBe(
          '/display_pattern_info/coupon_image_url',
        );
        const stranger = await addMerchant(sandbox, '1900000812');
        const theirs = await sdkClient(sandbox, stranger).media.uploadImage({ filename: 'x.png', file: PNG });
        expectError(
          await post(
            `${BASE}/stocks`,
            stockBody(mchid, { display_pattern_info: { coupon_image_url: theirs.media_url } }),
          ),
          400,
          'PARAM_ERROR',
          '非法敏感图片',
        );
      });
    });

    describe('prevent_api_abuse', () => {
      it('refuses suspicious accounts on plugin and API sends only when set, and PATCH can turn it on', async () => {
        const guarded = await createStock({
          stock_send_rule: { max_coupons: 10, max_coupons_per_user: 2, prevent_api_abuse: true },
        });
        const open = await createStock();
        const suspicious = await newUser({ suspicious: true });
        const normal = await newUser();
        const out = reqNo('G');
        const [refused] = (await plugin(suspicious, [{ stock_id: guarded, out_request_no: out }]))
          .send_coupon_result;
        expect(refused).toEqual({
          stock_id: guarded,
          out_request_no: out,
          code: 'FAILED',
          message: '用户账号存在风险，领券失败',
        });
        expectError(await apiSend(suspicious, guarded), 400, 'INVALID_REQUEST', '用户账号存在风险，领券失败');
        const [fine] = (await plugin(normal, [{ stock_id: guarded, out_request_no: reqNo('G') }]))
          .send_coupon_result;
        expect(fine?.code).toBe('SUCCESS');
        const [unguarded] = (await plugin(suspicious, [{ stock_id: open, out_request_no: reqNo('G') }]))
          .send_coupon_result;
        expect(unguarded?.code).toBe('SUCCESS');
        const stock = signedJson<{ send_count_information: Json }>(
          sandbox,
          await get(`${BASE}/stocks/${guarded}`),
        );
        expect(stock.send_count_information.total_send_num).toBe(1);

        signedJson(
          sandbox,
          await sandbox.request({
            method: 'PATCH',
            path: `${BASE}/stocks/${open}`,
            body: { out_request_no: reqNo('M'), stock_send_rule: { prevent_api_abuse: true } },
          }),
          204,
        );
        const [now] = (await plugin(suspicious, [{ stock_id: open, out_request_no: reqNo('G') }]))
          .send_coupon_result;
        expect(now?.code).toBe('FAILED');
      });
    });

    describe('plugin sends with several coupons', () => {
      it('answers one item per param, in order, each judged on its own', async () => {
        const a = await createStock({ stock_send_rule: { max_coupons: 10, max_coupons_per_user: 1 } });
        const b = await createStock({ coupon_code_mode: 'MERCHANT_API' });
        const openid = await newUser();
        const params = [
          { stock_id: a, out_request_no: reqNo('A') },
          { stock_id: b, out_request_no: reqNo('B'), coupon_code: 'MULTI0001' },
          { stock_id: a, out_request_no: reqNo('A') },
        ];
        const res = await plugin(openid, params);
        expect(res.errcode).toBe('OK');
        expect(res.send_coupon_result.map((r) => [r.stock_id, r.out_request_no, r.code])).toEqual([
          [a, params[0]?.out_request_no, 'SUCCESS'],
          [b, params[1]?.out_request_no, 'SUCCESS'],
          [a, params[2]?.out_request_no, 'MAXQUOTA'],
        ]);
        expect(res.send_coupon_result[1]?.coupon_code).toBe('MULTI0001');
        expect(res.send_coupon_result[0]?.coupon_code).toMatch(/^[1-9]\d{21}$/);
        expect(res.send_coupon_result[2]).toMatchObject({ message: '用户领券已达上限' });
        expect(res.send_coupon_result[2]?.coupon_code).toBeUndefined();
      });

      it('takes 10 coupons in one call, refuses 11 (and 0) with PARAM_ERROR and sends none of them', async () => {
        const stockId = await createStock({
          stock_send_rule: { max_coupons: 100, max_coupons_per_user: 20 },
        });
        const openid = await newUser();
        const params = (n: number) =>
          Array.from({ length: n }, () => ({ stock_id: stockId, out_request_no: reqNo('T') }));
        const eleven = await plugin(openid, params(11));
        expect(eleven).toEqual({
          errcode: 'PARAM_ERROR',
          msg: 'send_coupon_params 数量须为1-10',
          send_coupon_result: [],
        });
        expect((await plugin(openid, [])).errcode).toBe('PARAM_ERROR');
        const count = async () =>
          signedJson<{ send_count_information: Json }>(sandbox, await get(`${BASE}/stocks/${stockId}`))
            .send_count_information.total_send_num as number;
        expect(await count()).toBe(0);
        const ten = await plugin(openid, params(10));
        expect(ten.errcode).toBe('OK');
        expect(ten.send_coupon_result.map((r) => r.code)).toEqual(Array(10).fill('SUCCESS'));
        expect(new Set(ten.send_coupon_result.map((r) => r.coupon_code)).size).toBe(10);
        expect(await count()).toBe(10);
      });

      it('USER_NOT_EXISTS for an openid unknown under the appid; PARAM_ERROR for an appid not bound to the sender', async () => {
        const stockId = await createStock();
        const params = [{ stock_id: stockId, out_request_no: reqNo('U') }];
        expect(await plugin('oUnknownOpenid0001', params)).toEqual({
          errcode: 'USER_NOT_EXISTS',
          msg: '用户不存在',
          send_coupon_result: [],
        });
        // An openid of another appid is not this appid's user.
        const miniOnly = signedJson<{ openids: Record<string, string> }>(
          sandbox,
          await post('/sandbox/v1/users', { appids: [MINI_APPID] }),
        ).openids[MINI_APPID] as string;
        expect((await plugin(miniOnly, params)).errcode).toBe('USER_NOT_EXISTS');
        expect(await plugin(await newUser(), params, { appid: 'wxnotbound0000001' })).toEqual({
          errcode: 'PARAM_ERROR',
          msg: '小程序appid与发券商户号无绑定关系',
          send_coupon_result: [],
        });
        const stock = signedJson<{ send_count_information: Json }>(
          sandbox,
          await get(`${BASE}/stocks/${stockId}`),
        );
        expect(stock.send_count_information.total_send_num).toBe(0);
      });
    });
  });
}

/**
 * Sandbox modes over HTTP (docs/simulation.md): fractional fault rules, whose firings are a pure
 * function of (seed, sequence number), and the virtual clock's global scope against a merchant's own.
 */
for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(
    `busifavor under fault fractions and clock scopes on ${dialect.name}`,
    () => {
      let sandbox: TestSandbox;
      let mchid: string;
      let other: Awaited<ReturnType<typeof addMerchant>>;
      let openid: string;
      beforeAll(async () => {
        sandbox = await startSandbox({ dialect });
        mchid = sandbox.merchant.mchid;
        other = await addMerchant(sandbox, '1900000813');
        await bindAppid(sandbox, APPID);
        openid = signedJson<{ openids: Record<string, string> }>(
          sandbox,
          await post('/sandbox/v1/users', { appids: [APPID] }),
        ).openids[APPID] as string;
      });
      afterEach(async () => {
        expect((await sandbox.request({ method: 'DELETE', path: FAULTS })).status).toBe(204);
        for (const scope of ['merchant', 'global']) {
          signedJson(sandbox, await post(CLOCK, { action: 'resume', scope, allow_backwards: true }));
        }
      });
      afterAll(async () => {
        await sandbox?.close();
      });

      const post = (path: string, body: unknown, merchant?: TestMerchant) =>
        sandbox.request({ method: 'POST', path, body: body as object, ...(merchant ? { merchant } : {}) });
      const get = (path: string, merchant?: TestMerchant) =>
        sandbox.request({ method: 'GET', path, ...(merchant ? { merchant } : {}) });
      const createStock = async (merchant?: TestMerchant) =>
        signedJson<{ stock_id: string; create_time: string }>(
          sandbox,
          await post(`${BASE}/stocks`, stockBody(merchant?.mchid ?? mchid), merchant),
        );
      const clock = async (body: Json, merchant?: TestMerchant) =>
        signedJson<ClockView>(sandbox, await post(CLOCK, body, merchant));
      const clockOf = async (merchant?: TestMerchant) =>
        signedJson<ClockView>(sandbox, await get(CLOCK, merchant));
      const isFault = (res: TestResponse, ruleId: string) => {
        if (res.status === 200) return false;
        expectError(res, 500, 'SYSTEM_ERROR');
        expect(res.headers['wechatpay-sandbox-injected-fault']).toBe(`rule=${ruleId}`);
        return true;
      };

      it('a fraction rule fires exactly on the calls its seed picks, sequential and concurrent, within 6σ of n·f', async () => {
        const { stock_id } = await createStock();
        const seed = 20240601;
        const fraction = 0.25;
        const rule = signedJson<Json & { id: string }>(
          sandbox,
          await post(FAULTS, {
            method: 'GET',
            path: `${BASE}/stocks/{stock_id}`,
            code: 'SYSTEM_ERROR',
            fraction,
            seed,
          }),
        );
        expect(rule).toMatchObject({ fraction, seed, matched: 0, fired: 0 });
        expect(rule.remaining).toBeUndefined();
        const picks = Array.from({ length: 200 }, (_, i) => fractionFires(seed, i + 1, fraction));
        const stockPath = `${BASE}/stocks/${stock_id}`;
        // Calls 1..100 one after another: each one fails exactly when its sequence number is picked.
        const sequential: boolean[] = [];
        for (let i = 0; i < 100; i++) {
          const res = await get(stockPath);
          sequential.push(isFault(res, rule.id));
          if (res.status === 200) expect(signedJson<Json>(sandbox, res).stock_id).toBe(stock_id);
        }
        expect(sequential).toEqual(picks.slice(0, 100));
        // Calls 101..200 at once: which request gets which number races, how many fail does not.
        const concurrent = await Promise.all(Array.from({ length: 100 }, () => get(stockPath)));
        const failed = concurrent.filter((r) => isFault(r, rule.id)).length;
        expect(failed).toBe(picks.slice(100).filter(Boolean).length);
        const fired = picks.filter(Boolean).length;
        // The PRNG is not degenerate: 200·0.25 = 50, σ ≈ 6.1.
        expect(Math.abs(fired - 50)).toBeLessThanOrEqual(6 * Math.sqrt(200 * fraction * (1 - fraction)));
        expect(signedJson<Json>(sandbox, await get(`${FAULTS}/${rule.id}`))).toMatchObject({
          matched: 200,
          fired,
          seed,
        });
      });

      it('fraction with count fires at most count times; without a seed one is generated and shown', async () => {
        const { stock_id } = await createStock();
        const rule = signedJson<Json & { id: string; seed: number }>(
          sandbox,
          await post(FAULTS, {
            method: 'GET',
            path: `${BASE}/stocks/*`,
            code: 'SYSTEM_ERROR',
            fraction: 0.5,
            count: 3,
          }),
        );
        expect(Number.isInteger(rule.seed)).toBe(true);
        expect(rule).toMatchObject({ remaining: 3, fraction: 0.5 });
        const responses = await Promise.all(
          Array.from({ length: 40 }, () => get(`${BASE}/stocks/${stock_id}`)),
        );
        const failed = responses.filter((r) => isFault(r, rule.id)).length;
        const picked = Array.from({ length: 40 }, (_, i) => fractionFires(rule.seed, i + 1, 0.5)).filter(
          Boolean,
        ).length;
        expect(failed).toBe(Math.min(3, picked));
        expect(signedJson<Json>(sandbox, await get(`${FAULTS}/${rule.id}`))).toMatchObject({
          remaining: 3 - failed,
          fired: failed,
        });
      });

      it('a global clock moves every merchant without a setting of its own; a merchant setting wins for that merchant only', async () => {
        const t = Math.floor(Date.now() / 1000) * 1000 + 10 * DAY_MS;
        const global = await clock({ action: 'freeze', time: formatBeijingTime(t), scope: 'global' });
        expect(global).toMatchObject({
          now: formatBeijingTime(t),
          now_ms: t,
          mode: 'frozen',
          source: 'global',
        });
        expect(await clockOf(other)).toMatchObject({
          mchid: other.mchid,
          now_ms: t,
          source: 'global',
          merchant: null,
        });
        expect((await createStock(other)).create_time).toBe(formatBeijingTime(t));

        const mine = await clock({ action: 'freeze', time: formatBeijingTime(t + DAY_MS) });
        expect(mine).toMatchObject({
          now_ms: t + DAY_MS,
          source: 'merchant',
          merchant: { mode: 'frozen', now: formatBeijingTime(t + DAY_MS) },
          global: { mode: 'frozen', now: formatBeijingTime(t) },
        });
        expect((await clockOf(other)).now_ms).toBe(t);
        const { stock_id } = await createStock();
        const sent = signedJson<{ coupon_code: string }>(
          sandbox,
          await post(`${BASE}/coupons/send`, {
            openid,
            appid: APPID,
            stock_id,
            out_request_no: reqNo('CLK'),
          }),
        );
        const got = signedJson<Json>(
          sandbox,
          await get(`${BASE}/users/${openid}/coupons/${sent.coupon_code}/appids/${APPID}`),
        );
        expect(got.receive_time).toBe(formatBeijingTime(t + DAY_MS));
        expect((await createStock(other)).create_time).toBe(formatBeijingTime(t));

        // Back to the global instant is a step backwards for this merchant.
        const back = await post(CLOCK, { action: 'resume' });
        expectError(back, 400, 'INVALID_REQUEST');
        expect(back.json<{ detail: { field: string } }>().detail.field).toBe('/allow_backwards');
        expect(await clock({ action: 'resume', allow_backwards: true })).toMatchObject({
          now_ms: t,
          source: 'global',
          merchant: null,
        });
      });

      it('set forward: the clock runs on from the new time and a coupon’s *_time fields follow it', async () => {
        const s = Math.floor(Date.now() / 1000) * 1000 + 3 * DAY_MS;
        const set = await clock({ action: 'set', time: formatBeijingTime(s) });
        expect(set).toMatchObject({ mode: 'running', source: 'merchant', merchant: { mode: 'running' } });
        expect(set.now_ms).toBeGreaterThanOrEqual(s);
        expect(set.now_ms - s).toBeLessThan(60_000);
        const { stock_id, create_time } = await createStock();
        const near = (time: unknown) => {
          const ms = Date.parse(time as string);
          expect(ms).toBeGreaterThanOrEqual(s);
          expect(ms - s).toBeLessThan(60_000);
        };
        near(create_time);
        const sent = signedJson<{ coupon_code: string }>(
          sandbox,
          await post(`${BASE}/coupons/send`, {
            openid,
            appid: APPID,
            stock_id,
            out_request_no: reqNo('SET'),
          }),
        );
        const couponPath = `${BASE}/users/${openid}/coupons/${sent.coupon_code}/appids/${APPID}`;
        const got = signedJson<Json>(sandbox, await get(couponPath));
        near(got.receive_time);
        expect(got.available_start_time).toBe(got.receive_time);
        const use = (useTime: number) =>
          post(`${BASE}/coupons/use`, {
            coupon_code: sent.coupon_code,
            stock_id,
            appid: APPID,
            use_time: formatBeijingTime(useTime),
            use_request_no: reqNo('SETUSE'),
          });
        // Wall-clock "now" is three business days ago.
        expectError(await use(Date.now()), 400, 'PARAM_ERROR', /24小时/);
        const used = signedJson<{ wechatpay_use_time: string }>(sandbox, await use(s));
        near(used.wechatpay_use_time);
        const after = signedJson<Json>(sandbox, await get(couponPath));
        expect(after).toMatchObject({ coupon_state: 'USED', use_time: used.wechatpay_use_time });
        // The running clock keeps moving (not frozen).
        expect((await clockOf()).now_ms).toBeGreaterThanOrEqual(set.now_ms);
      });
    },
  );
}
