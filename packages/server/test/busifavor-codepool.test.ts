import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addMerchant,
  BASE,
  bindAppidWithUser,
  expectError,
  pluginSendOne,
  reqNo,
  type SimUserView,
  signedJson,
  stockBody,
} from './busifavor-helpers.js';

/**
 * The code-pool helpers of MERCHANT_UPLOAD stocks (docs/busifavor.md §3.6): list, get and delete
 * pre-uploaded codes.
 */

const APPID = 'wxcodepool0000001';
const UNBOUND = 'wxcodepool0000999';

type Json = Record<string, unknown>;
type CodeList = { stock_id: string; total_count: number; data: Json[]; offset: number; limit: number };

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`busifavor code pool over HTTP on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let mchid: string;
    let user: SimUserView;
    let other: Awaited<ReturnType<typeof addMerchant>>;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      mchid = sandbox.merchant.mchid;
      other = await addMerchant(sandbox, '1900000888');
      user = await bindAppidWithUser(sandbox, APPID);
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    const post = (path: string, body: unknown) =>
      sandbox.request({ method: 'POST', path, body: body as object });
    const get = (path: string) => sandbox.request({ method: 'GET', path });
    const del = (path: string) => sandbox.request({ method: 'DELETE', path });
    const uploadStock = async (codes: string[]) => {
      const stockId = signedJson<{ stock_id: string }>(
        sandbox,
        await post(
          `${BASE}/stocks`,
          stockBody(mchid, {
            coupon_code_mode: 'MERCHANT_UPLOAD',
            stock_send_rule: { max_coupons: 10, max_coupons_per_user: 5 },
          }),
        ),
      ).stock_id;
      signedJson(
        sandbox,
        await post(`${BASE}/stocks/${stockId}/couponcodes`, {
          coupon_code_list: codes,
          upload_request_no: reqNo('UP'),
        }),
      );
      return stockId;
    };
    const sendOne = async (stockId: string) => {
      const item = await pluginSendOne(sandbox, APPID, user.openids[APPID] as string, stockId);
      expect(item.code).toBe('SUCCESS');
      return item.coupon_code as string;
    };
    const codes = (stockId: string, query = '') =>
      get(`${BASE}/stocks/${stockId}/couponcodes${query ? `?${query}` : ''}`);

    it('lists codes with status, paging and the holder under appid; gets one with its coupon', async () => {
      const stockId = await uploadStock(['A1', 'B 2', 'C3']);
      const all = signedJson<CodeList>(sandbox, await codes(stockId));
      expect(all).toMatchObject({ stock_id: stockId, total_count: 3, offset: 0, limit: 20 });
      expect(all.data.map((c) => c.code)).toEqual(['A1', 'B 2', 'C3']);
      for (const c of all.data) {
        expect(Object.keys(c)).toEqual(['code', 'code_status', 'upload_time']);
        expect(c.code_status).toBe('AVAILABLE');
        expect(c.upload_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
      }

      const dispatched = await sendOne(stockId);
      const openid = user.openids[APPID] as string;
      const withHolder = signedJson<CodeList>(
        sandbox,
        await codes(stockId, `status=DISPATCHED&appid=${APPID}`),
      );
      expect(withHolder.total_count).toBe(1);
      expect(withHolder.data).toEqual([
        {
          code: dispatched,
          code_status: 'DISPATCHED',
          upload_time: expect.stringMatching(/\+08:00$/),
          dispatched_time: expect.stringMatching(/\+08:00$/),
          openid,
          unionid: user.unionid,
          coupon_code: dispatched,
        },
      ]);
      const noAppid = signedJson<CodeList>(sandbox, await codes(stockId, 'status=DISPATCHED'));
      expect(noAppid.data[0]).not.toHaveProperty('openid');
      expect(noAppid.data[0]).not.toHaveProperty('unionid');
      expect(noAppid.data[0]?.coupon_code).toBe(dispatched);
      expect(signedJson<CodeList>(sandbox, await codes(stockId, 'status=AVAILABLE')).total_count).toBe(2);
      const page = signedJson<CodeList>(sandbox, await codes(stockId, 'offset=1&limit=1'));
      expect(page).toMatchObject({ total_count: 3, offset: 1, limit: 1 });
      expect(page.data.map((c) => c.code)).toEqual(['B 2']);

      const one = signedJson<Json>(
        sandbox,
        await get(`${BASE}/stocks/${stockId}/couponcodes/${encodeURIComponent(dispatched)}?appid=${APPID}`),
      );
      expect(one.code_information).toEqual(withHolder.data[0]);
      expect(one.coupon_information).toMatchObject({
        coupon_code: dispatched,
        stock_id: stockId,
        coupon_state: 'SENDED',
        belong_merchant: mchid,
      });
      const available = all.data.map((c) => c.code as string).find((c) => c !== dispatched) as string;
      const free = signedJson<Json>(
        sandbox,
        await get(`${BASE}/stocks/${stockId}/couponcodes/${encodeURIComponent(available)}`),
      );
      expect(Object.keys(free)).toEqual(['code_information']);
      expect(free.code_information).toMatchObject({ code: available, code_status: 'AVAILABLE' });
      expectError(await get(`${BASE}/stocks/${stockId}/couponcodes/NOPE`), 404, 'RESOURCE_NOT_EXISTS');
    });

    it('deletes only AVAILABLE codes, idempotently on delete_request_no, and shrinks the pool', async () => {
      const stockId = await uploadStock(['D1', 'D2', 'D3']);
      const dispatched = await sendOne(stockId);
      const available = ['D1', 'D2', 'D3'].filter((c) => c !== dispatched) as [string, string];
      const path = (code: string, no: string) =>
        `${BASE}/stocks/${stockId}/couponcodes/${code}?delete_request_no=${no}`;

      expectError(await del(path(dispatched, reqNo('DEL'))), 400, 'INVALID_REQUEST');
      const no = reqNo('DEL');
      const deleted = signedJson<Json>(sandbox, await del(path(available[0], no)));
      expect(Object.keys(deleted)).toEqual(['stock_id', 'delete_time']);
      expect(deleted.stock_id).toBe(stockId);
      expect(signedJson(sandbox, await del(path(available[0], no)))).toEqual(deleted);
      expectError(await del(path(available[1], no)), 400, 'RESOURCE_ALREADY_EXISTS');
      expectError(
        await get(`${BASE}/stocks/${stockId}/couponcodes/${available[0]}`),
        404,
        'RESOURCE_NOT_EXISTS',
      );
      expectError(await del(path(available[0], reqNo('DEL'))), 404, 'RESOURCE_NOT_EXISTS');
      expect(signedJson<Json>(sandbox, await get(`${BASE}/stocks/${stockId}`)).coupon_code_count).toEqual({
        total_count: 2,
        available_count: 1,
      });
      expect(
        signedJson<CodeList>(sandbox, await codes(stockId))
          .data.map((c) => c.code)
          .sort(),
      ).toEqual([available[1], dispatched].sort());
      expectError(await del(`${BASE}/stocks/${stockId}/couponcodes/${available[1]}`), 400, 'PARAM_ERROR');
    });

    it('refuses other stocks, callers, appids and bad queries', async () => {
      const stockId = await uploadStock(['E1']);
      const normal = signedJson<{ stock_id: string }>(
        sandbox,
        await post(`${BASE}/stocks`, stockBody(mchid)),
      ).stock_id;
      expectError(await codes(normal), 400, 'INVALID_REQUEST', /^发券模式不合法/);
      expectError(await get(`${BASE}/stocks/${normal}/couponcodes/E1`), 400, 'INVALID_REQUEST');
      expectError(await codes('999999999999999'), 404, 'RESOURCE_NOT_EXISTS');
      expectError(
        await sandbox.request({
          method: 'GET',
          path: `${BASE}/stocks/${stockId}/couponcodes`,
          merchant: other,
        }),
        403,
        'NO_AUTH',
      );
      expectError(
        await sandbox.request({
          method: 'DELETE',
          path: `${BASE}/stocks/${stockId}/couponcodes/E1?delete_request_no=${reqNo('DEL')}`,
          merchant: other,
        }),
        403,
        'NO_AUTH',
      );
      expectError(await codes(stockId, `appid=${UNBOUND}`), 400, 'APPID_MCHID_NOT_MATCH');
      expectError(await codes(stockId, 'limit=51'), 400, 'PARAM_ERROR');
      expectError(await codes(stockId, 'status=SENDED'), 400, 'PARAM_ERROR');
    });
  });
}
