import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  addStock,
  BASE,
  bindAppidWithUser,
  expectError,
  pluginSendOne,
  reqNo,
  signedJson,
  stockBody,
} from './busifavor-helpers.js';

/**
 * The merchant's retry/idempotency rehearsal (issue 4): a busifavor call is faulted through
 * /sandbox/v1/faults or the Wechatpay-Sandbox-Fault header, nothing changes, and a retry with the same
 * request number succeeds exactly once.
 */

const APPID = 'wxfaults000000001';
const FAULTS = '/sandbox/v1/faults';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`busifavor under injected faults over HTTP on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let mchid: string;
    let openid: string;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      mchid = sandbox.merchant.mchid;
      openid = (await bindAppidWithUser(sandbox, APPID)).openids[APPID] as string;
    });
    afterEach(async () => {
      expect((await sandbox.request({ method: 'DELETE', path: FAULTS })).status).toBe(204);
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    const post = (path: string, body: unknown, headers?: Record<string, string>) =>
      sandbox.request({ method: 'POST', path, body: body as object, ...(headers ? { headers } : {}) });
    const get = (path: string) => sandbox.request({ method: 'GET', path });
    const createStock = (overrides: Json = {}) => addStock(sandbox, overrides);
    const pluginSend = async (stockId: string) => {
      const item = await pluginSendOne(sandbox, APPID, openid, stockId);
      expect(item.code).toBe('SUCCESS');
      return item.coupon_code as string;
    };
    const coupon = async (code: string) =>
      signedJson<Json>(sandbox, await get(`${BASE}/users/${openid}/coupons/${code}/appids/${APPID}`));
    const addRule = async (rule: Json) =>
      signedJson<{ id: string; remaining?: number }>(sandbox, await post(FAULTS, rule));
    const ruleState = async (id: string) => signedJson<Json>(sandbox, await get(`${FAULTS}/${id}`));
    const expectInjected = (res: { status: number; headers: Record<string, string> }, by: string) => {
      expect(res.headers['wechatpay-sandbox-injected-fault']).toBe(by);
    };

    it('use: a SYSTEM_ERROR on the first call changes nothing; the retry with the same use_request_no succeeds, and again', async () => {
      const stockId = await createStock();
      const code = await pluginSend(stockId);
      const rule = await addRule({
        method: 'POST',
        path: `${BASE}/coupons/use`,
        code: 'SYSTEM_ERROR',
        count: 1,
      });
      expect(rule.remaining).toBe(1);
      const body = {
        coupon_code: code,
        stock_id: stockId,
        appid: APPID,
        use_time: formatBeijingTime(Date.now()),
        use_request_no: reqNo('FUSE'),
      };
      const failed = await post(`${BASE}/coupons/use`, body);
      expectError(failed, 500, 'SYSTEM_ERROR');
      expectInjected(failed, `rule=${rule.id}`);
      expect(await coupon(code)).toMatchObject({ coupon_state: 'SENDED' });
      expect((await coupon(code)).use_request_no).toBeUndefined();

      const ok = await post(`${BASE}/coupons/use`, body);
      const used = signedJson<Json>(sandbox, ok);
      expect(ok.headers['wechatpay-sandbox-injected-fault']).toBeUndefined();
      expect(used).toMatchObject({ stock_id: stockId, openid });
      expect(await coupon(code)).toMatchObject({ coupon_state: 'USED', use_request_no: body.use_request_no });
      const again = signedJson<Json>(sandbox, await post(`${BASE}/coupons/use`, body));
      expect(again).toEqual(used);
      expectError(
        await post(`${BASE}/coupons/use`, { ...body, use_request_no: reqNo('FUSE') }),
        400,
        'RESOURCE_ALREADY_EXISTS',
        /^券已被其他订单核销/,
      );
      expect(await ruleState(rule.id)).toMatchObject({ remaining: 0, fired: 1 });
    });

    it('create stock: a faulted first attempt creates nothing, the retry creates it, a third call is 400 批次已存在', async () => {
      const rule = await addRule({
        method: 'POST',
        path: `${BASE}/stocks`,
        code: 'SYSTEM_ERROR',
        count: 1,
      });
      const body = stockBody(mchid);
      const failed = await post(`${BASE}/stocks`, body);
      expectError(failed, 500, 'SYSTEM_ERROR');
      expectInjected(failed, `rule=${rule.id}`);
      // Had the faulted call stored the stock, this retry would be refused as a duplicate.
      const created = signedJson<{ stock_id: string; create_time: string }>(
        sandbox,
        await post(`${BASE}/stocks`, body),
      );
      expect(created.stock_id).toMatch(/^\d{15}$/);
      expect(signedJson<Json>(sandbox, await get(`${BASE}/stocks/${created.stock_id}`)).stock_name).toBe(
        body.stock_name,
      );
      expectError(await post(`${BASE}/stocks`, body), 400, 'RESOURCE_ALREADY_EXISTS', '批次已存在');
    });

    it('the 400 SYSTEM_ERROR variant and FREQUENCY_LIMITED on return leave the coupon USED until a retry', async () => {
      const stockId = await createStock();
      const code = await pluginSend(stockId);
      signedJson(
        sandbox,
        await post(`${BASE}/coupons/use`, {
          coupon_code: code,
          stock_id: stockId,
          appid: APPID,
          use_time: formatBeijingTime(Date.now()),
          use_request_no: reqNo('FUSE'),
        }),
      );
      const rule = await addRule({
        method: 'POST',
        path: `${BASE}/coupons/return`,
        code: 'SYSTEM_ERROR',
        status: 400,
        count: 1,
      });
      await addRule({ method: 'POST', path: `${BASE}/coupons/return`, code: 'FREQUENCY_LIMITED', count: 1 });
      const body = { coupon_code: code, stock_id: stockId, return_request_no: reqNo('FRET') };
      const first = await post(`${BASE}/coupons/return`, body);
      expectError(first, 400, 'SYSTEM_ERROR');
      expectInjected(first, `rule=${rule.id}`);
      expectError(await post(`${BASE}/coupons/return`, body), 429, 'FREQUENCY_LIMITED');
      expect((await coupon(code)).coupon_state).toBe('USED');
      const returned = signedJson<Json>(sandbox, await post(`${BASE}/coupons/return`, body));
      expect(signedJson<Json>(sandbox, await post(`${BASE}/coupons/return`, body))).toEqual(returned);
      expect((await coupon(code)).coupon_state).toBe('SENDED');
    });

    it('API send: the Wechatpay-Sandbox-Fault header delays a send, or delays then fails it without issuing a coupon', async () => {
      const stockId = await createStock({
        stock_send_rule: { max_coupons: 10, max_coupons_per_user: 2 },
      });
      const send = (outRequestNo: string, headers?: Record<string, string>) =>
        post(
          `${BASE}/coupons/send`,
          { openid, appid: APPID, stock_id: stockId, out_request_no: outRequestNo },
          headers,
        );
      const sentCount = async () =>
        (signedJson<Json>(sandbox, await get(`${BASE}/stocks/${stockId}`)).send_count_information as Json)
          .total_send_num;

      let started = performance.now();
      const delayed = await send(reqNo('FAPI'), { 'Wechatpay-Sandbox-Fault': 'delay=300' });
      expect(performance.now() - started).toBeGreaterThanOrEqual(280);
      const first = signedJson<{ coupon_code: string }>(sandbox, delayed);
      expect(first.coupon_code).toMatch(/^\d{22}$/);
      expect(await sentCount()).toBe(1);

      const outRequestNo = reqNo('FAPI');
      started = performance.now();
      const failed = await send(outRequestNo, { 'Wechatpay-Sandbox-Fault': 'delay=200; SYSTEM_ERROR' });
      expect(performance.now() - started).toBeGreaterThanOrEqual(180);
      expectError(failed, 500, 'SYSTEM_ERROR');
      expectInjected(failed, 'header');
      expect(await sentCount()).toBe(1);
      const retried = signedJson<{ stock_id: string; out_request_no: string; coupon_code: string }>(
        sandbox,
        await send(outRequestNo),
      );
      expect(retried).toMatchObject({ stock_id: stockId, out_request_no: outRequestNo });
      expect(signedJson(sandbox, await send(outRequestNo))).toEqual(retried);
      expect(await sentCount()).toBe(2);
      expect((await coupon(retried.coupon_code)).send_request_no).toBe(outRequestNo);
    });
  });
}
