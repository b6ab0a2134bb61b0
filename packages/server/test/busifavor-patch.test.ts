import { createHash } from 'node:crypto';
import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import { DIALECTS, startSandbox, type TestResponse, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ENDPOINT_RATE_LIMITS } from '../src/config.js';
import {
  addMerchant,
  addStock,
  BASE,
  bindAppid,
  bindAppidWithUser,
  expectError,
  multipartUpload,
  PNG,
  pluginSendOne,
  reqNo,
  signedJson,
  stockBody,
  trustPlatformKeys,
} from './busifavor-helpers.js';

/**
 * Stock bodies over HTTP: unknown request fields are ignored (never stored, echoed or merged), PATCH
 * basic info changes nothing outside seed 002 §3.2.12's modifiable set, the seed's own PATCH example
 * replays, the documented rate limits answer 429 FREQUENCY_LIMITED, and error answers are signed.
 */

const APPID = 'wxpatchtests00001';
/** The appids of seed 002 §3.2.12's example, bound to the dev merchant so the example can replay. */
const SEED_APPIDS = ['wx234545656765876', 'wx324345hgfhfghfg', 'wx23232232323'];

type Json = Record<string, unknown>;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Every object key anywhere in a JSON value. */
function keysDeep(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) keysDeep(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.add(k);
      keysDeep(v, out);
    }
  }
  return out;
}

/** Asserts two stock views are equal member by member (so a failure names the member). */
function expectSameStock(after: Json, before: Json): void {
  expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
  for (const key of Object.keys(before)) expect(after[key], key).toEqual(before[key]);
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`busifavor stock bodies over HTTP on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let mchid: string;
    let openid: string;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      mchid = sandbox.merchant.mchid;
      openid = (await bindAppidWithUser(sandbox, APPID)).openids[APPID] as string;
      for (const appid of SEED_APPIDS) {
        await bindAppid(sandbox, appid);
      }
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    const createStock = (overrides: Json = {}) => addStock(sandbox, overrides);
    const readStock = async (stockId: string) =>
      signedJson<Json>(sandbox, await sandbox.request({ method: 'GET', path: `${BASE}/stocks/${stockId}` }));
    const patch = (stockId: string, body: Json) =>
      sandbox.request({ method: 'PATCH', path: `${BASE}/stocks/${stockId}`, body });
    const upload = async (file: Buffer) =>
      signedJson<{ media_url: string }>(
        sandbox,
        await multipartUpload(sandbox, JSON.stringify({ filename: 'logo.png', sha256: sha256(file) }), file),
      ).media_url;
    const readCoupon = async (code: string) =>
      signedJson<Json>(
        sandbox,
        await sandbox.request({
          method: 'GET',
          path: `${BASE}/users/${openid}/coupons/${code}/appids/${APPID}`,
        }),
      );

    it('PATCH with fields outside the modifiable set answers 204 and changes none of them', async () => {
      const now = Date.now();
      const begin = formatBeijingTime(now - 3600_000);
      const end = formatBeijingTime(now + 10 * 86400_000);
      const stockId = await createStock({
        coupon_use_rule: {
          coupon_available_time: { available_begin_time: begin, available_end_time: end },
          fixed_normal_coupon: { discount_amount: 100, transaction_minimum: 1000 },
          use_method: 'OFF_LINE',
        },
        stock_send_rule: { max_coupons: 100, max_coupons_per_user: 5 },
      });
      const before = await readStock(stockId);
      const res = await patch(stockId, {
        out_request_no: reqNo('M'),
        stock_type: 'DISCOUNT',
        belong_merchant: '1900000888',
        coupon_code_mode: 'MERCHANT_API',
        stock_state: 'PAUSED',
        coupon_use_rule: {
          // Two years long and in the far future: neither the 1-year check nor the window may be bypassed.
          coupon_available_time: {
            available_begin_time: formatBeijingTime(now + 400 * 86400_000),
            available_end_time: formatBeijingTime(now + 1200 * 86400_000),
            available_day_after_receive: 1,
          },
          fixed_normal_coupon: { discount_amount: 99999, transaction_minimum: 0 },
          discount_coupon: { discount_percent: 10, transaction_minimum: 0 },
        },
        stock_send_rule: {
          max_coupons: 1,
          max_coupons_per_user: 1,
          max_coupons_by_day: 1,
          transferable: true,
          shareable: true,
        },
        custom_entrance: { store_id: 'S1', x_extra: 1 },
        display_pattern_info: { x_extra: 'z' },
        notify_config: { x_extra: true },
        x_extra: { deep: 1 },
      });
      signedJson(sandbox, res, 204);
      expect(res.text).toBe('');
      const after = await readStock(stockId);
      expectSameStock(after, before);
      // Explicit ones too, in case the view and the stored columns ever disagree.
      expect(after.stock_type).toBe('NORMAL');
      expect(after.coupon_code_mode).toBe('WECHATPAY_MODE');
      expect(after.stock_state).toBe('RUNNING');
      expect(after.coupon_use_rule).toEqual({
        coupon_available_time: { available_begin_time: begin, available_end_time: end },
        fixed_normal_coupon: { discount_amount: 100, transaction_minimum: 1000 },
        use_method: 'OFF_LINE',
      });
      expect(after.stock_send_rule).toEqual({ max_coupons: 100, max_coupons_per_user: 5 });
      expect(after.custom_entrance ?? {}).toEqual({});
      expect([...keysDeep(after)].filter((k) => k === 'x_extra' || k === 'store_id')).toEqual([]);

      // Later sends and uses follow the stored rules: max_coupons is still 100 (not 1), one user may
      // still get 5 (not 1), and the coupon carries the original window and discount.
      const first = await pluginSendOne(sandbox, APPID, openid, stockId);
      const second = await pluginSendOne(sandbox, APPID, openid, stockId);
      expect([first.code, second.code]).toEqual(['SUCCESS', 'SUCCESS']);
      const coupon = await readCoupon(first.coupon_code as string);
      expect(coupon.coupon_use_rule).toEqual(after.coupon_use_rule);
      expect(coupon.stock_type).toBe('NORMAL');
      expect(coupon.expire_time).toBe(end);
      expect(coupon.transferable).toBe(false);
      const used = await sandbox.request({
        method: 'POST',
        path: `${BASE}/coupons/use`,
        body: {
          coupon_code: first.coupon_code,
          stock_id: stockId,
          appid: APPID,
          use_time: formatBeijingTime(Date.now()),
          use_request_no: reqNo('U'),
        },
      });
      expect(signedJson<Json>(sandbox, used).stock_id).toBe(stockId);
    });

    it('a PATCH replayed with an extra unknown field is the same request (204, no change)', async () => {
      const stockId = await createStock();
      const body = { out_request_no: reqNo('M'), comment: '改过的备注' };
      signedJson(sandbox, await patch(stockId, body), 204);
      const changed = await readStock(stockId);
      expect(changed.comment).toBe('改过的备注');
      signedJson(sandbox, await patch(stockId, { ...body, x_extra: 'ignored' }), 204);
      expectSameStock(await readStock(stockId), changed);
    });

    it('create ignores unknown fields at every depth: they are neither stored nor echoed', async () => {
      const now = Date.now();
      const body = stockBody(mchid, {
        x_extra: 'top',
        coupon_use_rule: {
          coupon_available_time: {
            available_begin_time: formatBeijingTime(now - 3600_000),
            available_end_time: formatBeijingTime(now + 30 * 86400_000),
            available_week: { week_day: [1, 2, 3, 4, 5, 6, 0], x_extra: 1 },
            x_extra: 2,
          },
          fixed_normal_coupon: { discount_amount: 100, transaction_minimum: 1000, x_extra: 3 },
          use_method: 'OFF_LINE',
          x_extra: 4,
        },
        stock_send_rule: { max_coupons: 10, max_coupons_per_user: 2, x_extra: 5 },
        custom_entrance: { hall_id: 'H1', x_extra: 6 },
        display_pattern_info: { description: '说明', x_extra: 7 },
        notify_config: { notify_appid: APPID, x_extra: 8 },
      });
      const created = signedJson<Json>(
        sandbox,
        await sandbox.request({ method: 'POST', path: `${BASE}/stocks`, body }),
      );
      expect(Object.keys(created).sort()).toEqual(['create_time', 'stock_id']);
      const stockId = created.stock_id as string;
      const view = await readStock(stockId);
      expect(keysDeep(view).has('x_extra')).toBe(false);
      expect(view.coupon_use_rule).toMatchObject({
        coupon_available_time: { available_week: { week_day: [1, 2, 3, 4, 5, 6, 0] } },
        fixed_normal_coupon: { discount_amount: 100, transaction_minimum: 1000 },
      });
      expect(view.custom_entrance).toEqual({ hall_id: 'H1' });
      expect(view.notify_config).toEqual({ notify_appid: APPID });
      const sent = await pluginSendOne(sandbox, APPID, openid, stockId);
      expect(keysDeep(await readCoupon(sent.coupon_code as string)).has('x_extra')).toBe(false);
    });

    it("replays seed 002 §3.2.12's example with the unchangeable fields at their current values; a different value is 400 PARAM_ERROR", async () => {
      const logo = await upload(PNG);
      const image = await upload(Buffer.concat([PNG, Buffer.from('01', 'hex')]));
      const stockId = await createStock({
        stock_name: '8月1日活动券',
        comment: '旧备注',
        goods_name: '旧商品',
        display_pattern_info: {
          description: '旧说明',
          merchant_logo_url: logo,
          merchant_name: '微信支付',
          background_color: 'Color010',
        },
      });
      // The seed's body verbatim, except its placeholders: "https://xxx", "xxxxx" and "图片cdn地址"
      // stand for an uploaded logo, a background colour and an uploaded image.
      const seedExample = {
        custom_entrance: {
          mini_programs_info: {
            mini_programs_appid: 'wx234545656765876',
            mini_programs_path: '/path/index/index',
            entrance_words: '欢迎选购',
            guiding_words: '获取更多优惠',
          },
          appid: 'wx324345hgfhfghfg',
          hall_id: '233455656',
          code_display_mode: 'BARCODE',
        },
        stock_name: '8月1日活动券',
        comment: '活动使用',
        goods_name: 'xxx商品使用',
        out_request_no: '6122352020010133287985742',
        display_pattern_info: {
          description: 'xxx门店可用',
          merchant_logo_url: logo,
          merchant_name: '微信支付',
          background_color: 'Color020',
          coupon_image_url: image,
        },
        coupon_use_rule: {
          use_method: 'OFF_LINE',
          mini_programs_appid: 'wx23232232323',
          mini_programs_path: '/path/index/index',
        },
        stock_send_rule: { prevent_api_abuse: false },
        notify_config: { notify_appid: 'wx23232232323' },
      };
      const before = await readStock(stockId);
      signedJson(sandbox, await patch(stockId, seedExample), 204);
      const after = await readStock(stockId);
      expect(after).toMatchObject({
        stock_name: '8月1日活动券',
        comment: '活动使用',
        goods_name: 'xxx商品使用',
        custom_entrance: seedExample.custom_entrance,
        display_pattern_info: seedExample.display_pattern_info,
        notify_config: { notify_appid: 'wx23232232323' },
      });
      expect(after.coupon_use_rule).toEqual({
        ...(before.coupon_use_rule as Json),
        ...seedExample.coupon_use_rule,
      });
      expect(after.stock_send_rule).toEqual({
        ...(before.stock_send_rule as Json),
        prevent_api_abuse: false,
      });
      // The identical replay is 204 again.
      signedJson(sandbox, await patch(stockId, seedExample), 204);

      const refusals: Array<[string, Json, string]> = [
        ['stock_name', { stock_name: '8月2日活动券' }, '参数错误：/stock_name 暂不支持修改'],
        [
          'merchant_logo_url',
          { display_pattern_info: { merchant_logo_url: 'https://xxx' } },
          '参数错误：/display_pattern_info/merchant_logo_url 不支持修改',
        ],
        [
          'merchant_name',
          { display_pattern_info: { merchant_name: '微信支付二' } },
          '参数错误：/display_pattern_info/merchant_name 不支持修改',
        ],
      ];
      for (const [field, change, message] of refusals) {
        const res = await patch(stockId, {
          ...seedExample,
          ...change,
          display_pattern_info: {
            ...seedExample.display_pattern_info,
            ...((change.display_pattern_info as Json | undefined) ?? {}),
          },
          comment: `改${field}`.slice(0, 20),
          out_request_no: reqNo('M'),
        });
        expectError(res, 400, 'PARAM_ERROR', message);
        expectSameStock(await readStock(stockId), after);
      }
      // The seed's literal placeholders are not valid values: "xxxxx" is no background colour.
      expectError(
        await patch(stockId, {
          ...seedExample,
          out_request_no: reqNo('M'),
          display_pattern_info: { ...seedExample.display_pattern_info, background_color: 'xxxxx' },
        }),
        400,
        'PARAM_ERROR',
      );
      expectSameStock(await readStock(stockId), after);
    });

    it('the list and single-coupon GET take only an appid bound to the caller, not one bound to the belong merchant (seed 002 §3.2.4/§3.2.5)', async () => {
      const sub = await addMerchant(sandbox, `19${String(Date.now()).slice(-8)}`, { parent: mchid });
      const subAppid = `wxsub${String(Date.now()).slice(-12)}`;
      await bindAppid(sandbox, subAppid, sub);
      // One user with an openid under each appid.
      const user = signedJson<{ openids: Record<string, string> }>(
        sandbox,
        await sandbox.request({
          method: 'POST',
          path: '/sandbox/v1/users',
          body: { appids: [APPID, subAppid] },
        }),
      );
      const stockId = await createStock({ belong_merchant: sub.mchid });
      const sent = await pluginSendOne(sandbox, APPID, user.openids[APPID] as string, stockId);
      expect(sent.code).toBe('SUCCESS');
      const subOpenid = user.openids[subAppid] as string;
      const list = `${BASE}/users/${subOpenid}/coupons?appid=${subAppid}&creator_merchant=${mchid}`;
      expectError(await sandbox.request({ method: 'GET', path: list }), 400, 'APPID_MCHID_NOT_MATCH');
      const one = `${BASE}/users/${subOpenid}/coupons/${sent.coupon_code}/appids/${subAppid}`;
      expectError(await sandbox.request({ method: 'GET', path: one }), 400, 'APPID_MCHID_NOT_MATCH');
      // The belong merchant, to which the appid is bound, may read the coupon under it.
      const own = signedJson<{ data: Array<{ coupon_code: string }>; total_count: number }>(
        sandbox,
        await sandbox.request({
          method: 'GET',
          path: `${BASE}/users/${subOpenid}/coupons?appid=${subAppid}&belong_merchant=${sub.mchid}`,
          merchant: sub,
        }),
      );
      expect(own.data.map((c) => c.coupon_code)).toEqual([sent.coupon_code]);
    });

    it('expectError fails on an unsigned or tampered error answer', async () => {
      const res = await sandbox.request({ method: 'GET', path: `${BASE}/stocks/123456789012345` });
      expectError(res, 404, 'RESOURCE_NOT_EXISTS');
      const tampered: TestResponse = { ...res, text: res.text.replace('批次', '批  次') };
      expect(tampered.text).not.toBe(res.text);
      expect(() => expectError(tampered, 404, 'RESOURCE_NOT_EXISTS')).toThrow();
      const { 'wechatpay-signature': _dropped, ...unsigned } = res.headers;
      expect(() => expectError({ ...res, headers: unsigned }, 404, 'RESOURCE_NOT_EXISTS')).toThrow();
    });
  });
}

describe('documented rate limits', () => {
  it('the default table has busifavor.md §1.4 numbers (create 1000/min, use/associate/disassociate 500 QPS)', () => {
    expect(DEFAULT_ENDPOINT_RATE_LIMITS).toEqual({
      'GET /v3/marketing/partner/product-coupon/notify-configs': { perSecond: 20, burst: 20 },
      'POST /v3/marketing/busifavor/stocks': { perSecond: 1000 / 60, burst: 1000 },
      'POST /v3/marketing/busifavor/coupons/use': { perSecond: 500, burst: 500 },
      'POST /v3/marketing/busifavor/coupons/associate': { perSecond: 500, burst: 500 },
      'POST /v3/marketing/busifavor/coupons/disassociate': { perSecond: 500, burst: 500 },
    });
  });

  const sqlite = DIALECTS.find((d) => d.name === 'sqlite' && d.available);
  describe.skipIf(!sqlite)('over HTTP', () => {
    let sandbox: TestSandbox;
    const USE = 'POST /v3/marketing/busifavor/coupons/use';
    beforeAll(async () => {
      // The real 500 QPS cannot be outrun reliably on a shared machine: same route key, tiny bucket.
      sandbox = await startSandbox({
        dialect: sqlite as NonNullable<typeof sqlite>,
        config: {
          endpointRateLimits: { ...DEFAULT_ENDPOINT_RATE_LIMITS, [USE]: { perSecond: 0.001, burst: 3 } },
        },
      });
      trustPlatformKeys(sandbox);
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    it('a burst above the use limit gets 429 FREQUENCY_LIMITED (signed), below it does not; other endpoints and merchants keep their own buckets', async () => {
      const useBody = () => ({
        coupon_code: '1234567890123456789012',
        appid: 'wxratelimit000001',
        use_time: formatBeijingTime(Date.now()),
        use_request_no: reqNo('U'),
      });
      const burst = await Promise.all(
        Array.from({ length: 5 }, () =>
          sandbox.request({ method: 'POST', path: `${BASE}/coupons/use`, body: useBody() }),
        ),
      );
      const limited = burst.filter((r) => r.status === 429);
      const passed = burst.filter((r) => r.status !== 429);
      expect(passed).toHaveLength(3);
      expect(limited).toHaveLength(2);
      for (const r of limited) expectError(r, 429, 'FREQUENCY_LIMITED');
      // Under the limit the request reached the handler (the coupon is unknown).
      for (const r of passed) expect(r.json<{ code: string }>().code).not.toBe('FREQUENCY_LIMITED');
      // Associate has its own 500 QPS bucket; another merchant has its own use bucket.
      const associate = await sandbox.request({
        method: 'POST',
        path: `${BASE}/coupons/associate`,
        body: { coupon_code: 'C1', stock_id: '123', out_trade_no: 'T1', out_request_no: reqNo('A') },
      });
      expect(associate.status).not.toBe(429);
      const other = await addMerchant(sandbox, '1900000432');
      const otherUse = await sandbox.request({
        method: 'POST',
        path: `${BASE}/coupons/use`,
        body: useBody(),
        merchant: other,
      });
      expect(otherUse.status).not.toBe(429);
      const again = await sandbox.request({ method: 'POST', path: `${BASE}/coupons/use`, body: useBody() });
      expectError(again, 429, 'FREQUENCY_LIMITED');
    });
  });
});
