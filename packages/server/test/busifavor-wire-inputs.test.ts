import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import { DIALECTS, startSandbox, type TestResponse, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addMerchant,
  addStock,
  BASE,
  bindAppid,
  expectError,
  pluginSendOne,
  reqNo,
  signedJson,
} from './busifavor-helpers.js';

/**
 * Caller input that seed 002 constrains, over HTTP (docs/fidelity.md, Busifavor): the `appid` of a
 * coupon use must be bound to the calling merchant itself.
 */

const APPID = 'wxwireinputs00001';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`busifavor caller input on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let mchid: string;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      mchid = sandbox.merchant.mchid;
      await bindAppid(sandbox, APPID);
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    const post = (path: string, body: Json, merchant = sandbox.merchant): Promise<TestResponse> =>
      sandbox.request({ method: 'POST', path, body, merchant });

    it('use takes only an appid bound to the caller: one bound only to the belong sub-merchant is APPID_MCHID_NOT_MATCH, and the sub-merchant itself may use it (seed 002 §3.2.3)', async () => {
      const sub = await addMerchant(sandbox, `18${String(Date.now()).slice(-8)}`, { parent: mchid });
      const subAppid = `wxsub${String(Date.now()).slice(-12)}`;
      await bindAppid(sandbox, subAppid, sub);
      const user = signedJson<{ openids: Record<string, string> }>(
        sandbox,
        await post('/sandbox/v1/users', { appids: [APPID, subAppid] }),
      );
      const stockId = await addStock(sandbox, {}, sub.mchid);
      const sent = await pluginSendOne(sandbox, APPID, user.openids[APPID] as string, stockId);
      expect(sent.code, sent.message).toBe('SUCCESS');
      const use = (merchant = sandbox.merchant, useRequestNo = reqNo('USE')) =>
        post(
          `${BASE}/coupons/use`,
          {
            coupon_code: sent.coupon_code as string,
            stock_id: stockId,
            appid: subAppid,
            use_time: formatBeijingTime(Date.now()),
            use_request_no: useRequestNo,
          },
          merchant,
        );
      const refusedNo = reqNo('USE');
      const refused = await use(sandbox.merchant, refusedNo);
      expectError(refused, 400, 'APPID_MCHID_NOT_MATCH', `appid ${subAppid} 与请求方商户无关联关系`);
      expect(refused.json<{ detail?: Json }>().detail).toMatchObject({
        field: '/appid',
        value: subAppid,
        location: 'body',
      });
      const coupon = (merchant = sandbox.merchant, appid = APPID) =>
        sandbox.request({
          method: 'GET',
          path: `${BASE}/users/${user.openids[appid]}/coupons/${sent.coupon_code}/appids/${appid}`,
          merchant,
        });
      expect(signedJson<Json>(sandbox, await coupon()).coupon_state).toBe('SENDED');
      // The belong merchant has the appid bound: its use goes through, and the openid is the one under it.
      const used = signedJson<Json>(sandbox, await use(sub));
      expect(used).toMatchObject({ stock_id: stockId, openid: user.openids[subAppid] });
      expect(signedJson<Json>(sandbox, await coupon(sub, subAppid)).coupon_state).toBe('USED');
      // The refused number was not taken: under the caller's own appid it reaches the coupon's state check.
      expectError(
        await post(`${BASE}/coupons/use`, {
          coupon_code: sent.coupon_code as string,
          stock_id: stockId,
          appid: APPID,
          use_time: formatBeijingTime(Date.now()),
          use_request_no: refusedNo,
        }),
        400,
        'RESOURCE_ALREADY_EXISTS',
        '券已被其他订单核销，请通过查询券API确认券的状态',
      );
    });
  });
}
