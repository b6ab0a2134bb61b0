import { createHash } from 'node:crypto';
import { formatBeijingTime, signParamsHmacSha256 } from '@wechatpay-sandbox/sdk/protocol';
import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addMerchant,
  addStock,
  addUserOpenid,
  BASE,
  bindAppid,
  expectError,
  multipartUpload,
  PNG,
  pluginSendRequest,
  reqNo,
  signedJson,
  stockBody,
} from './busifavor-helpers.js';

const APPID = 'wxerrors000000001';

type Sent = {
  errcode: string | number;
  send_coupon_result: Array<{ code: string; coupon_code?: string; message: string }>;
};

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`busifavor rules and error codes over HTTP on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let mchid: string;
    let apiV2Key: string;
    let other: Awaited<ReturnType<typeof addMerchant>>;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      mchid = sandbox.merchant.mchid;
      apiV2Key = sandbox.server.credentials.merchant.apiV2Key;
      other = await addMerchant(sandbox, '1900000999');
      await bindAppid(sandbox, APPID);
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    const post = (path: string, body: unknown) =>
      sandbox.request({ method: 'POST', path, body: body as object });
    const createStock = (overrides: Record<string, unknown> = {}) => addStock(sandbox, overrides);
    const newUser = (extra: Record<string, unknown> = {}) => addUserOpenid(sandbox, APPID, extra);
    const send = async (stockId: string, openid: string, out = reqNo('S'), couponCode?: string) => {
      const params = [
        { stock_id: stockId, out_request_no: out, ...(couponCode ? { coupon_code: couponCode } : {}) },
      ];
      return signedJson<Sent>(sandbox, await pluginSendRequest(sandbox, APPID, openid, params))
        .send_coupon_result[0];
    };
    const sentCoupon = async (overrides: Record<string, unknown> = {}) => {
      const stockId = await createStock(overrides);
      const openid = await newUser();
      const item = await send(stockId, openid);
      expect(item?.code).toBe('SUCCESS');
      return { stockId, openid, code: item?.coupon_code as string };
    };
    // A replay must send the same body: one use_time per request number, even across a second boundary.
    const useTimes = new Map<string, string>();
    const use = (
      c: { stockId: string; code: string },
      useNo = reqNo('U'),
      extra: Record<string, unknown> = {},
    ) => {
      if (!useTimes.has(useNo)) useTimes.set(useNo, formatBeijingTime(Date.now()));
      return post(`${BASE}/coupons/use`, {
        coupon_code: c.code,
        stock_id: c.stockId,
        appid: APPID,
        use_time: useTimes.get(useNo),
        use_request_no: useNo,
        ...extra,
      });
    };

    describe('create stock', () => {
      it.each([
        [
          'a rule object that does not match stock_type',
          { stock_type: 'DISCOUNT' },
          '/coupon_use_rule/discount_coupon',
        ],
        [
          'wait_days_after_receive without available_day_after_receive',
          {
            coupon_use_rule: {
              coupon_available_time: {
                available_begin_time: formatBeijingTime(Date.now()),
                available_end_time: formatBeijingTime(Date.now() + 86400_000),
                wait_days_after_receive: 1,
              },
              fixed_normal_coupon: { discount_amount: 1, transaction_minimum: 0 },
              use_method: 'OFF_LINE',
            },
          },
          '/coupon_use_rule/coupon_available_time/wait_days_after_receive',
        ],
        [
          'a window longer than one year',
          {
            coupon_use_rule: {
              coupon_available_time: {
                available_begin_time: formatBeijingTime(Date.now()),
                available_end_time: formatBeijingTime(Date.now() + 367 * 86400_000),
              },
              fixed_normal_coupon: { discount_amount: 1, transaction_minimum: 0 },
              use_method: 'OFF_LINE',
            },
          },
          '/coupon_use_rule/coupon_available_time/available_end_time',
        ],
        [
          'max_coupons_per_user above 100',
          { stock_send_rule: { max_coupons: 1000, max_coupons_per_user: 101 } },
          '/stock_send_rule/max_coupons_per_user',
        ],
        [
          'a missing transaction_minimum',
          {
            coupon_use_rule: {
              coupon_available_time: {
                available_begin_time: formatBeijingTime(Date.now()),
                available_end_time: formatBeijingTime(Date.now() + 86400_000),
              },
              fixed_normal_coupon: { discount_amount: 1 },
              use_method: 'OFF_LINE',
            },
          },
          '/coupon_use_rule/fixed_normal_coupon/transaction_minimum',
        ],
      ])('refuses %s with 400 PARAM_ERROR', async (_name, overrides, field) => {
        const res = await post(`${BASE}/stocks`, stockBody(mchid, overrides));
        expectError(res, 400, 'PARAM_ERROR');
        expect(res.json<{ detail: { field: string } }>().detail.field).toBe(field);
      });

      it('accepts transaction_minimum 0 (seed 002 FAQ)', async () => {
        const t = {
          available_begin_time: formatBeijingTime(Date.now()),
          available_end_time: formatBeijingTime(Date.now() + 86400_000),
        };
        await createStock({
          coupon_use_rule: {
            coupon_available_time: t,
            fixed_normal_coupon: { discount_amount: 1, transaction_minimum: 0 },
            use_method: 'OFF_LINE',
          },
        });
      });

      it('refuses an unknown belong_merchant (MCH_NOT_EXISTS), another merchant (NO_AUTH), an unbound appid', async () => {
        expectError(await post(`${BASE}/stocks`, stockBody('1999999999')), 400, 'MCH_NOT_EXISTS');
        expectError(await post(`${BASE}/stocks`, stockBody(other.mchid)), 403, 'NO_AUTH');
        expectError(
          await post(
            `${BASE}/stocks`,
            stockBody(mchid, { notify_config: { notify_appid: 'wxnotbound0000001' } }),
          ),
          400,
          'APPID_MCHID_NOT_MATCH',
        );
      });

      it('refuses a logo not from the image upload (非法敏感图片) and accepts an uploaded one', async () => {
        const bad = await post(
          `${BASE}/stocks`,
          stockBody(mchid, { display_pattern_info: { merchant_logo_url: 'https://example.com/logo.png' } }),
        );
        expectError(bad, 400, 'PARAM_ERROR', '非法敏感图片');
        const meta = JSON.stringify({
          filename: 'logo.png',
          sha256: createHash('sha256').update(PNG).digest('hex'),
        });
        const upload = await multipartUpload(sandbox, meta, PNG);
        const { media_url } = signedJson<{ media_url: string }>(sandbox, upload);
        expect(media_url).toMatch(/^https:\/\/wxpaylogo\.qpic\.cn\/wxpaylogo\/[0-9A-Za-z]{46}\/0$/);
        await createStock({
          display_pattern_info: { merchant_logo_url: media_url, background_color: 'Color020' },
        });
        const mismatch = await multipartUpload(
          sandbox,
          JSON.stringify({ filename: 'logo.png', sha256: '0'.repeat(64) }),
          PNG,
        );
        expectError(mismatch, 400, 'PARAM_ERROR');
      });
    });

    describe('query, modify, budget, codes', () => {
      it('answers 404 for an unknown stock and 403 NO_AUTH to another merchant', async () => {
        expectError(
          await sandbox.request({ method: 'GET', path: `${BASE}/stocks/123456789012345` }),
          404,
          'RESOURCE_NOT_EXISTS',
        );
        const stockId = await createStock();
        expectError(
          await sandbox.request({ method: 'GET', path: `${BASE}/stocks/${stockId}`, merchant: other }),
          403,
          'NO_AUTH',
        );
      });

      it('PATCH: refuses stock_id in the body, answers 204, replays, and refuses a reused number', async () => {
        const stockId = await createStock();
        const path = `${BASE}/stocks/${stockId}`;
        const faq = await sandbox.request({
          method: 'PATCH',
          path,
          body: { stock_id: stockId, out_request_no: reqNo('M') },
        });
        expectError(faq, 400, 'PARAM_ERROR', /\/uri_template\/stock_id/);
        const body = { out_request_no: reqNo('M'), goods_name: 'xxx商品使用', comment: '活动使用' };
        const ok = await sandbox.request({ method: 'PATCH', path, body });
        signedJson(sandbox, ok, 204);
        expect(ok.text).toBe('');
        signedJson(sandbox, await sandbox.request({ method: 'PATCH', path, body }), 204);
        expectError(
          await sandbox.request({ method: 'PATCH', path, body: { ...body, comment: '别的' } }),
          400,
          'RESOURCE_ALREADY_EXISTS',
        );
        expectError(
          await sandbox.request({
            method: 'PATCH',
            path,
            body: { out_request_no: reqNo('M'), stock_name: '新名字' },
          }),
          400,
          'PARAM_ERROR',
        );
        const got = signedJson<{ goods_name: string; comment: string }>(
          sandbox,
          await sandbox.request({ method: 'GET', path }),
        );
        expect(got).toMatchObject({ goods_name: 'xxx商品使用', comment: '活动使用' });
      });

      it('PATCH budget: checks current values and exactly one target; replays', async () => {
        const stockId = await createStock();
        const path = `${BASE}/stocks/${stockId}/budget`;
        const body = {
          target_max_coupons: 3000,
          current_max_coupons: 100,
          modify_budget_request_no: reqNo('B'),
        };
        const res = signedJson(sandbox, await sandbox.request({ method: 'PATCH', path, body }));
        expect(res).toEqual({ max_coupons: 3000 });
        expect(signedJson(sandbox, await sandbox.request({ method: 'PATCH', path, body }))).toEqual({
          max_coupons: 3000,
        });
        expectError(
          await sandbox.request({
            method: 'PATCH',
            path,
            body: { target_max_coupons: 10, current_max_coupons: 100, modify_budget_request_no: reqNo('B') },
          }),
          400,
          'INVALID_REQUEST',
        );
        expectError(
          await sandbox.request({
            method: 'PATCH',
            path,
            body: {
              target_max_coupons: 10,
              current_max_coupons: 3000,
              target_max_coupons_by_day: 5,
              current_max_coupons_by_day: 0,
              modify_budget_request_no: reqNo('B'),
            },
          }),
          400,
          'PARAM_ERROR',
        );
        const daily = {
          target_max_coupons_by_day: 50,
          current_max_coupons_by_day: 0,
          modify_budget_request_no: reqNo('B'),
        };
        expect(signedJson(sandbox, await sandbox.request({ method: 'PATCH', path, body: daily }))).toEqual({
          max_coupons: 3000,
          max_coupons_by_day: 50,
        });
      });

      it('uploads codes with per-code failures, duplicates and existing codes; sends pick from the pool', async () => {
        const plain = await createStock();
        expectError(
          await post(`${BASE}/stocks/${plain}/couponcodes`, {
            coupon_code_list: ['A1'],
            upload_request_no: reqNo('C'),
          }),
          400,
          'INVALID_REQUEST',
          /发券模式不合法/,
        );
        const stockId = await createStock({
          coupon_code_mode: 'MERCHANT_UPLOAD',
          stock_send_rule: { max_coupons: 3, max_coupons_per_user: 1 },
        });
        const first = signedJson<Record<string, unknown>>(
          sandbox,
          await post(`${BASE}/stocks/${stockId}/couponcodes`, {
            coupon_code_list: ['ABC9588200', 'ABC9588200', 'X'.repeat(33), 'bad#code'],
            upload_request_no: reqNo('C'),
          }),
        );
        expect(first).toMatchObject({
          stock_id: stockId,
          total_count: 3,
          success_count: 1,
          success_codes: ['ABC9588200'],
          fail_count: 2,
          duplicate_codes: ['ABC9588200'],
        });
        expect(first.fail_codes).toEqual([
          { coupon_code: 'X'.repeat(33), code: 'LENGTH_LIMIT', message: '长度超过最大值32位' },
          { coupon_code: 'bad#code', code: 'CHARSET_INVALID', message: expect.any(String) },
        ]);
        const second = signedJson<Record<string, unknown>>(
          sandbox,
          await post(`${BASE}/stocks/${stockId}/couponcodes`, {
            coupon_code_list: ['ABC9588200', 'ABC9588201'],
            upload_request_no: reqNo('C'),
          }),
        );
        expect(second).toMatchObject({ success_codes: ['ABC9588201'], exist_codes: ['ABC9588200'] });
        expectError(
          await post(`${BASE}/stocks/${stockId}/couponcodes`, {
            coupon_code_list: ['C1', 'C2'],
            upload_request_no: reqNo('C'),
          }),
          400,
          'INVALID_REQUEST',
          /已达上限/,
        );
        const item = await send(stockId, await newUser());
        expect(['ABC9588200', 'ABC9588201']).toContain(item?.coupon_code);
        const got = signedJson<{ coupon_code_count: unknown }>(
          sandbox,
          await sandbox.request({ method: 'GET', path: `${BASE}/stocks/${stockId}` }),
        );
        expect(got.coupon_code_count).toEqual({ total_count: 2, available_count: 1 });
      });
    });

    describe('coupon state transitions', () => {
      it('use: idempotent replay, RESOURCE_ALREADY_EXISTS, USER_NOT_EXISTS, APPID_MCHID_NOT_MATCH, 404, NO_AUTH', async () => {
        const c = await sentCoupon();
        expectError(await use(c, reqNo('U'), { openid: 'oNotTheHolder' }), 404, 'USER_NOT_EXISTS');
        expectError(await use(c, reqNo('U'), { appid: 'wxnotbound0000001' }), 400, 'APPID_MCHID_NOT_MATCH');
        expectError(await use({ ...c, code: '1234567890123456789012' }), 404, 'RESOURCE_NOT_EXISTS');
        expectError(
          await sandbox.request({
            method: 'POST',
            path: `${BASE}/coupons/use`,
            merchant: other,
            body: {
              coupon_code: c.code,
              stock_id: c.stockId,
              appid: APPID,
              use_time: formatBeijingTime(Date.now()),
              use_request_no: reqNo('U'),
            },
          }),
          403,
          'NO_AUTH',
        );
        const no = reqNo('U');
        const first = signedJson(sandbox, await use(c, no));
        expect(signedJson(sandbox, await use(c, no))).toEqual(first);
        expectError(await use(c, reqNo('U')), 400, 'RESOURCE_ALREADY_EXISTS', /核销/);
      });

      it('use outside the irregular usable periods of the stock is 403 RULE_LIMIT 券不在有效期内', async () => {
        const now = Date.now();
        const c = await sentCoupon({
          coupon_use_rule: {
            coupon_available_time: {
              available_begin_time: formatBeijingTime(now - 3600_000),
              available_end_time: formatBeijingTime(now + 10 * 86400_000),
              irregulary_avaliable_time: [
                {
                  begin_time: formatBeijingTime(now + 2 * 86400_000),
                  end_time: formatBeijingTime(now + 3 * 86400_000),
                },
              ],
            },
            fixed_normal_coupon: { discount_amount: 100, transaction_minimum: 1000 },
            use_method: 'OFF_LINE',
          },
        });
        expectError(await use(c), 403, 'RULE_LIMIT', /有效期/);
      });

      it('deactivate: SENDED → DEACTIVATED, replay, wrong state, 批次不存在; use on it is INVALID_REQUEST', async () => {
        const c = await sentCoupon();
        const body = {
          coupon_code: c.code,
          stock_id: c.stockId,
          deactivate_request_no: reqNo('D'),
          deactivate_reason: '此券使用时间设置错误',
        };
        const first = signedJson(sandbox, await post(`${BASE}/coupons/deactivate`, body));
        expect(Object.keys(first)).toEqual(['wechatpay_deactivate_time']);
        expect(signedJson(sandbox, await post(`${BASE}/coupons/deactivate`, body))).toEqual(first);
        expectError(
          await post(`${BASE}/coupons/deactivate`, { ...body, deactivate_request_no: reqNo('D') }),
          400,
          'INVALID_REQUEST',
        );
        expectError(
          await post(`${BASE}/coupons/deactivate`, {
            ...body,
            stock_id: '123456789012345',
            deactivate_request_no: reqNo('D'),
          }),
          404,
          'RESOURCE_NOT_EXISTS',
          '批次不存在',
        );
        expectError(await use(c), 400, 'INVALID_REQUEST');
        const one = signedJson<Record<string, unknown>>(
          sandbox,
          await sandbox.request({
            method: 'GET',
            path: `${BASE}/users/${c.openid}/coupons/${c.code}/appids/${APPID}`,
          }),
        );
        expect(one).toMatchObject({
          coupon_state: 'DEACTIVATED',
          deactivate_request_no: body.deactivate_request_no,
          deactivate_reason: '此券使用时间设置错误',
        });
      });

      it('return: only USED coupons; 券不存在, 商户无权限操作该券, 券已被删除', async () => {
        const c = await sentCoupon();
        const body = { coupon_code: c.code, stock_id: c.stockId, return_request_no: reqNo('R') };
        expectError(await post(`${BASE}/coupons/return`, body), 400, 'INVALID_REQUEST');
        expectError(
          await post(`${BASE}/coupons/return`, { ...body, coupon_code: 'nosuchcode' }),
          404,
          'RESOURCE_NOT_EXISTS',
          '券不存在',
        );
        expectError(
          await sandbox.request({ method: 'POST', path: `${BASE}/coupons/return`, merchant: other, body }),
          403,
          'NO_AUTH',
          '商户无权限操作该券',
        );
        signedJson(
          sandbox,
          await post('/sandbox/v1/busifavor/coupons/delete', { stock_id: c.stockId, coupon_code: c.code }),
          204,
        );
        expectError(
          await post(`${BASE}/coupons/return`, { ...body, return_request_no: reqNo('R') }),
          404,
          'RESOURCE_NOT_EXISTS',
          /券已被删除/,
        );
      });

      it('associate and disassociate an order', async () => {
        const c = await sentCoupon();
        const a = {
          stock_id: c.stockId,
          coupon_code: c.code,
          out_trade_no: 'MCH_102233445',
          out_request_no: reqNo('A'),
        };
        const assoc = signedJson(sandbox, await post(`${BASE}/coupons/associate`, a));
        expect(Object.keys(assoc)).toEqual(['wechatpay_associate_time']);
        expectError(
          await post(`${BASE}/coupons/associate`, {
            ...a,
            out_trade_no: 'OTHER',
            out_request_no: reqNo('A'),
          }),
          400,
          'RESOURCE_ALREADY_EXISTS',
        );
        expectError(
          await post(`${BASE}/coupons/disassociate`, {
            ...a,
            out_trade_no: 'OTHER',
            out_request_no: reqNo('A'),
          }),
          404,
          'RESOURCE_NOT_EXISTS',
        );
        const dis = signedJson(
          sandbox,
          await post(`${BASE}/coupons/disassociate`, { ...a, out_request_no: reqNo('A') }),
        );
        expect(Object.keys(dis)).toEqual(['wechatpay_disassociate_time']);
        signedJson(sandbox, await use(c));
        expectError(
          await post(`${BASE}/coupons/associate`, { ...a, out_request_no: reqNo('A') }),
          400,
          'INVALID_REQUEST',
        );
      });
    });

    describe('user coupon list', () => {
      it('filters by state and pages with offset/limit; checks merchant filters, appid and openid', async () => {
        const stockId = await createStock({ stock_send_rule: { max_coupons: 100, max_coupons_per_user: 5 } });
        const openid = await newUser();
        const codes: string[] = [];
        for (let i = 0; i < 3; i++) codes.push((await send(stockId, openid))?.coupon_code as string);
        signedJson(sandbox, await use({ stockId, code: codes[0] as string }));
        const list = (q: string) =>
          sandbox.request({ method: 'GET', path: `${BASE}/users/${openid}/coupons?appid=${APPID}&${q}` });
        const all = signedJson<{
          total_count: number;
          data: Array<{ coupon_code: string; display_pattern_info?: unknown }>;
        }>(sandbox, await list(`creator_merchant=${mchid}&stock_id=${stockId}`));
        expect(all.total_count).toBe(3);
        const page = signedJson<{ total_count: number; data: unknown[]; offset: number; limit: number }>(
          sandbox,
          await list(`belong_merchant=${mchid}&stock_id=${stockId}&offset=1&limit=1`),
        );
        expect(page).toMatchObject({ total_count: 3, offset: 1, limit: 1 });
        expect(page.data).toHaveLength(1);
        const usedOnly = signedJson<{ total_count: number; data: Array<{ coupon_code: string }> }>(
          sandbox,
          await list(`sender_merchant=${mchid}&coupon_state=USED`),
        );
        expect(usedOnly.data.map((d) => d.coupon_code)).toEqual([codes[0]]);
        expectError(await list(`stock_id=${stockId}`), 400, 'PARAM_ERROR');
        expectError(await list(`creator_merchant=${other.mchid}`), 403, 'NO_AUTH');
        expectError(await list(`creator_merchant=${mchid}&limit=51`), 400, 'PARAM_ERROR');
        expectError(
          await sandbox.request({
            method: 'GET',
            path: `${BASE}/users/oUnknownOpenid/coupons?appid=${APPID}&creator_merchant=${mchid}`,
          }),
          404,
          'USER_NOT_EXISTS',
        );
        expectError(
          await sandbox.request({
            method: 'GET',
            path: `${BASE}/users/${openid}/coupons?appid=wxnotbound0000001&creator_merchant=${mchid}`,
          }),
          400,
          'APPID_MCHID_NOT_MATCH',
        );
        expectError(
          await sandbox.request({
            method: 'GET',
            path: `${BASE}/users/${openid}/coupons/nosuchcode/appids/${APPID}`,
          }),
          404,
          'RESOURCE_NOT_EXISTS',
        );
      });
    });

    describe('send limits', () => {
      it('NOTRUNNING, DUPREQUEST, MAXQUOTA, NATURELIMIT, DAYLIMIT, NOTENOUGH', async () => {
        const stockId = await createStock({
          stock_send_rule: {
            max_coupons: 4,
            max_coupons_per_user: 1,
            max_coupons_by_day: 3,
            natural_person_limit: true,
          },
        });
        const a = await newUser({ natural_person_id: 'person-1' });
        const a2 = await newUser({ natural_person_id: 'person-1' });
        const out = reqNo('S');
        expect((await send(stockId, a, out))?.code).toBe('SUCCESS');
        expect((await send(stockId, a, out))?.code).toBe('DUPREQUEST');
        expect((await send(stockId, a))?.code).toBe('MAXQUOTA');
        expect((await send(stockId, a2))?.code).toBe('NATURELIMIT');
        expect((await send(stockId, await newUser()))?.code).toBe('SUCCESS');
        expect((await send(stockId, await newUser()))?.code).toBe('SUCCESS');
        expect((await send(stockId, await newUser()))?.code).toBe('DAYLIMIT');
        signedJson(
          sandbox,
          await sandbox.request({
            method: 'PATCH',
            path: `${BASE}/stocks/${stockId}/budget`,
            body: {
              target_max_coupons_by_day: 4,
              current_max_coupons_by_day: 3,
              modify_budget_request_no: reqNo('B'),
            },
          }),
        );
        expect((await send(stockId, await newUser()))?.code).toBe('SUCCESS');
        expect((await send(stockId, await newUser()))?.code).toBe('NOTENOUGH');
        const paused = await createStock();
        signedJson(
          sandbox,
          await post(`/sandbox/v1/busifavor/stocks/${paused}/state`, { stock_state: 'PAUSED' }),
        );
        expect((await send(paused, await newUser()))?.code).toBe('NOTRUNNING');
      });

      it('the stock-state hook: 404 for an unknown stock, 403 NO_AUTH for another merchant, else the state the query shows', async () => {
        const stockId = await createStock();
        const statePath = (id: string) => `/sandbox/v1/busifavor/stocks/${id}/state`;
        const state = async () =>
          signedJson<{ stock_state: string }>(
            sandbox,
            await sandbox.request({ method: 'GET', path: `${BASE}/stocks/${stockId}` }),
          ).stock_state;
        expectError(
          await post(statePath('9999999999'), { stock_state: 'PAUSED' }),
          404,
          'RESOURCE_NOT_EXISTS',
          '批次不存在',
        );
        expectError(
          await sandbox.request({
            method: 'POST',
            path: statePath(stockId),
            body: { stock_state: 'PAUSED' },
            merchant: other,
          }),
          403,
          'NO_AUTH',
          '只有批次创建商户可以修改批次状态',
        );
        expect(await state()).toBe('RUNNING');
        expect(signedJson(sandbox, await post(statePath(stockId), { stock_state: 'PAUSED' }))).toEqual({
          stock_id: stockId,
          stock_state: 'PAUSED',
        });
        expect(await state()).toBe('PAUSED');
      });

      it('H5 send verifies the sign and the #wechat_redirect fragment; pay gift and API send work', async () => {
        const stockId = await createStock();
        const openid = await newUser();
        const params = {
          stock_id: stockId,
          out_request_no: reqNo('H'),
          send_coupon_merchant: mchid,
          open_id: openid,
        };
        const sign = signParamsHmacSha256(params, apiV2Key);
        const url = `https://action.weixin.qq.com/busifavor/getcouponinfo?${new URLSearchParams({ ...params, sign })}`;
        const noFragment = signedJson<Sent>(sandbox, await post('/sandbox/v1/busifavor/send/h5', { url }));
        expect(noFragment.errcode).toBe(268435461);
        const ok = signedJson<Sent>(
          sandbox,
          await post('/sandbox/v1/busifavor/send/h5', { url: `${url}#wechat_redirect` }),
        );
        expect(ok.send_coupon_result[0]?.code).toBe('SUCCESS');
        const badSign = signedJson<Sent>(
          sandbox,
          await post('/sandbox/v1/busifavor/send/h5', {
            url: `${url.replace(sign, '0'.repeat(64))}#wechat_redirect`,
          }),
        );
        expect(badSign.errcode).toBe('SIGN_ERROR');
        const gift = signedJson<Sent>(
          sandbox,
          await post('/sandbox/v1/busifavor/send/paygift', {
            stock_id: stockId,
            appid: APPID,
            openid,
            transaction_id: '4200000913202101152566792388',
          }),
        );
        expect(gift.send_coupon_result[0]?.code).toBe('SUCCESS');
        const apiBody = { openid, appid: APPID, stock_id: stockId, out_request_no: reqNo('API') };
        const apiSent = signedJson<Record<string, string>>(
          sandbox,
          await post(`${BASE}/coupons/send`, apiBody),
        );
        expect(apiSent).toMatchObject({ stock_id: stockId, out_request_no: apiBody.out_request_no });
        expect(signedJson(sandbox, await post(`${BASE}/coupons/send`, apiBody))).toEqual(apiSent);
        expectError(
          await post(`${BASE}/coupons/send`, { ...apiBody, openid: 'oNobody', out_request_no: reqNo('API') }),
          404,
          'USER_NOT_EXISTS',
        );
      });
    });

    describe('subsidy pay receipts', () => {
      it('creates, replays and reads a receipt; refuses unused coupons, EXCHANGE stocks, unknown payees', async () => {
        const c = await sentCoupon();
        const body = {
          stock_id: c.stockId,
          coupon_code: c.code,
          transaction_id: '4200000913202101152566792388',
          payer_merchant: mchid,
          payee_merchant: mchid,
          amount: 100,
          description: '20210115DESCRIPTION',
          out_subsidy_no: reqNo('SUB'),
        };
        expectError(await post(`${BASE}/subsidy/pay-receipts`, body), 400, 'INVALID_REQUEST');
        signedJson(sandbox, await use(c));
        const receipt = signedJson<Record<string, unknown>>(
          sandbox,
          await post(`${BASE}/subsidy/pay-receipts`, body),
        );
        expect(receipt).toMatchObject({
          stock_id: c.stockId,
          coupon_code: c.code,
          amount: 100,
          status: 'PAY_RECEIPT_SUCCESS',
          out_subsidy_no: body.out_subsidy_no,
        });
        expect(receipt.subsidy_receipt_id).toMatch(/^\d{28}$/);
        expect(signedJson(sandbox, await post(`${BASE}/subsidy/pay-receipts`, body))).toEqual(receipt);
        const got = signedJson(
          sandbox,
          await sandbox.request({
            method: 'GET',
            path: `${BASE}/subsidy/pay-receipts/${receipt.subsidy_receipt_id}`,
          }),
        );
        expect(got).toEqual(receipt);
        expectError(
          await sandbox.request({
            method: 'GET',
            path: `${BASE}/subsidy/pay-receipts/1120200119165100000000000001`,
          }),
          404,
          'RESOURCE_NOT_EXISTS',
        );
        expectError(
          await post(`${BASE}/subsidy/pay-receipts`, {
            ...body,
            payee_merchant: '1999999998',
            out_subsidy_no: reqNo('SUB'),
          }),
          400,
          'MCH_NOT_EXISTS',
        );
        const second = signedJson<Record<string, unknown>>(
          sandbox,
          await post(`${BASE}/subsidy/pay-receipts`, { ...body, out_subsidy_no: reqNo('SUB') }),
        );
        expect(second).toMatchObject({
          status: 'PAY_RECEIPT_FAIL',
          fail_reason: 'PAY_RECEIPT_EXCEED_SUBSIDY_COUNT_QUOTA',
        });
        const t = {
          available_begin_time: formatBeijingTime(Date.now() - 3600_000),
          available_end_time: formatBeijingTime(Date.now() + 86400_000),
        };
        const ex = await sentCoupon({
          stock_type: 'EXCHANGE',
          coupon_use_rule: {
            coupon_available_time: t,
            exchange_coupon: { exchange_price: 100, transaction_minimum: 100 },
            use_method: 'OFF_LINE',
          },
        });
        expectError(
          await post(`${BASE}/subsidy/pay-receipts`, {
            ...body,
            stock_id: ex.stockId,
            coupon_code: ex.code,
            out_subsidy_no: reqNo('SUB'),
          }),
          400,
          'PARAM_ERROR',
        );
      });
    });
  });
}
