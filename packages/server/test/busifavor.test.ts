import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BASE,
  bindAppid,
  expectError,
  pluginSign,
  reqNo,
  signedJson,
  stockBody,
} from './busifavor-helpers.js';

const APPID = 'wxbusifavor000001';

interface UserView {
  user_id: string;
  unionid: string;
  openids: Record<string, string>;
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`busifavor lifecycle over HTTP on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let mchid: string;
    let apiV2Key: string;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      mchid = sandbox.merchant.mchid;
      apiV2Key = sandbox.server.credentials.merchant.apiV2Key;
      await bindAppid(sandbox, APPID);
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    const createStock = async (overrides: Record<string, unknown> = {}) => {
      const res = await sandbox.request({
        method: 'POST',
        path: `${BASE}/stocks`,
        body: stockBody(mchid, overrides),
      });
      return signedJson<{ stock_id: string; create_time: string }>(sandbox, res).stock_id;
    };
    const newUser = async (extra: Record<string, unknown> = {}) =>
      signedJson<UserView>(
        sandbox,
        await sandbox.request({
          method: 'POST',
          path: '/sandbox/v1/users',
          body: { appids: [APPID], ...extra },
        }),
      );
    const pluginSend = async (
      user: UserView,
      params: Array<{ stock_id: string; out_request_no: string; coupon_code?: string }>,
      sign = pluginSign(mchid, params, apiV2Key),
    ) =>
      signedJson<{
        errcode: string | number;
        msg: string;
        send_coupon_result: Array<{
          stock_id: string;
          out_request_no: string;
          coupon_code?: string;
          code: string;
          message: string;
        }>;
      }>(
        sandbox,
        await sandbox.request({
          method: 'POST',
          path: '/sandbox/v1/busifavor/send/miniapp',
          body: {
            appid: APPID,
            openid: user.openids[APPID],
            send_coupon_merchant: mchid,
            send_coupon_params: params,
            sign,
          },
        }),
      );

    it('creates a stock and queries it back field by field', async () => {
      const body = stockBody(mchid);
      const res = await sandbox.request({ method: 'POST', path: `${BASE}/stocks`, body });
      const created = signedJson<{ stock_id: string; create_time: string }>(sandbox, res);
      expect(Object.keys(created)).toEqual(['stock_id', 'create_time']);
      expect(created.stock_id).toMatch(/^\d{15}$/);
      expect(created.create_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
      const got = signedJson(
        sandbox,
        await sandbox.request({ method: 'GET', path: `${BASE}/stocks/${created.stock_id}` }),
      );
      expect(got).toEqual({
        stock_name: body.stock_name,
        belong_merchant: mchid,
        comment: body.comment,
        goods_name: body.goods_name,
        stock_type: 'NORMAL',
        coupon_use_rule: body.coupon_use_rule,
        stock_send_rule: body.stock_send_rule,
        stock_state: 'RUNNING',
        coupon_code_mode: 'WECHATPAY_MODE',
        stock_id: created.stock_id,
        send_count_information: { total_send_num: 0, total_send_amount: 0 },
      });
    });

    it('answers a reused out_request_no with 400 RESOURCE_ALREADY_EXISTS 批次已存在', async () => {
      const body = stockBody(mchid);
      signedJson(sandbox, await sandbox.request({ method: 'POST', path: `${BASE}/stocks`, body }));
      const again = await sandbox.request({ method: 'POST', path: `${BASE}/stocks`, body });
      expectError(again, 400, 'RESOURCE_ALREADY_EXISTS', '批次已存在');
    });

    it('sends through the plugin, uses, returns and lists a coupon', async () => {
      const stockId = await createStock();
      const user = await newUser();
      const out = reqNo('SEND');
      const sent = await pluginSend(user, [{ stock_id: stockId, out_request_no: out }]);
      expect(sent.errcode).toBe('OK');
      expect(sent.send_coupon_result).toHaveLength(1);
      const item = sent.send_coupon_result[0];
      expect(item).toMatchObject({ stock_id: stockId, out_request_no: out, code: 'SUCCESS' });
      const code = item?.coupon_code as string;
      expect(code).toMatch(/^[1-9]\d{21}$/);

      const openid = user.openids[APPID] as string;
      const one = signedJson<Record<string, unknown>>(
        sandbox,
        await sandbox.request({
          method: 'GET',
          path: `${BASE}/users/${openid}/coupons/${code}/appids/${APPID}`,
        }),
      );
      expect(one).toMatchObject({
        belong_merchant: mchid,
        stock_name: '满10减1活动券',
        goods_name: '全场通用',
        stock_type: 'NORMAL',
        coupon_state: 'SENDED',
        coupon_code: code,
        stock_id: stockId,
        send_request_no: out,
        transferable: false,
        shareable: false,
      });
      expect(one.receive_time).toMatch(/\+08:00$/);

      const useTime = formatBeijingTime(Date.now());
      const useNo = reqNo('USE');
      const used = signedJson(
        sandbox,
        await sandbox.request({
          method: 'POST',
          path: `${BASE}/coupons/use`,
          body: {
            coupon_code: code,
            stock_id: stockId,
            appid: APPID,
            use_time: useTime,
            use_request_no: useNo,
            openid,
          },
        }),
      );
      expect(Object.keys(used)).toEqual(['stock_id', 'openid', 'wechatpay_use_time']);
      expect(used).toMatchObject({ stock_id: stockId, openid });

      const returned = signedJson(
        sandbox,
        await sandbox.request({
          method: 'POST',
          path: `${BASE}/coupons/return`,
          body: { coupon_code: code, stock_id: stockId, return_request_no: reqNo('RET') },
        }),
      );
      expect(Object.keys(returned)).toEqual(['wechatpay_return_time']);

      const list = signedJson<{
        data: Array<Record<string, unknown>>;
        total_count: number;
        limit: number;
        offset: number;
      }>(
        sandbox,
        await sandbox.request({
          method: 'GET',
          path: `${BASE}/users/${openid}/coupons?appid=${APPID}&stock_id=${stockId}&creator_merchant=${mchid}&offset=0&limit=20`,
        }),
      );
      expect(list.total_count).toBe(1);
      expect(list.limit).toBe(20);
      expect(list.offset).toBe(0);
      expect(list.data[0]).toMatchObject({
        coupon_code: code,
        coupon_state: 'SENDED',
        use_request_no: useNo,
      });
      expect(list.data[0]?.return_request_no).toMatch(/^RET/);
    });

    it('refuses a plugin send whose HMAC sign is wrong', async () => {
      const stockId = await createStock();
      const user = await newUser();
      const params = [{ stock_id: stockId, out_request_no: reqNo('SEND') }];
      const res = await pluginSend(user, params, pluginSign(mchid, params, 'x'.repeat(32)));
      expect(res.errcode).toBe('SIGN_ERROR');
      expect(res.send_coupon_result).toEqual([]);
    });
  });
}
