import { createRequire } from 'node:module';
import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pluginSign, reqNo, stockBody } from './busifavor-helpers.js';

// The unmodified CommonJS client, used exactly as a merchant installs it.
const require = createRequire(import.meta.url);
const { Wechatpay } = require('wechatpay-axios-plugin') as {
  Wechatpay: new (config: Record<string, unknown>) => Record<string, unknown>;
};

interface AxiosLikeResponse {
  status: number;
  data: Record<string, unknown>;
}
type Verb = (...a: unknown[]) => Promise<AxiosLikeResponse>;

/** Walks the plugin's chain API: `/v3/marketing/busifavor/stocks` → client.v3.marketing.busifavor.stocks. */
function chain(client: Record<string, unknown>, path: string): Record<string, Verb> {
  let node: unknown = client;
  for (const segment of path.replace(/^\//, '').split('/')) node = (node as Record<string, unknown>)[segment];
  return node as Record<string, Verb>;
}

const APPID = 'wxaxiosinterop001';

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`busifavor through wechatpay-axios-plugin on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    it('creates, queries, sends, uses and returns with every response signature verified by the plugin', async () => {
      const platform = sandbox.server.credentials.platform.publicKey;
      const client = new Wechatpay({
        mchid: sandbox.merchant.mchid,
        serial: sandbox.merchant.serialNo,
        privateKey: sandbox.server.credentials.merchant.privateKeyPem,
        certs: { [platform.keyId]: platform.publicKeyPem },
        baseURL: sandbox.url,
      });
      const mchid = sandbox.merchant.mchid;
      const apiV2Key = sandbox.server.credentials.merchant.apiV2Key;
      const call = (path: string, verb: string, ...args: unknown[]) =>
        (chain(client, path)[verb] as Verb)(...args);

      await call('/sandbox/v1/appids', 'post', { appid: APPID });
      const created = await call('/v3/marketing/busifavor/stocks', 'post', stockBody(mchid));
      expect(created.status).toBe(200);
      const stockId = created.data.stock_id as string;
      const got = await call(`/v3/marketing/busifavor/stocks/${stockId}`, 'get');
      expect(got.data).toMatchObject({ stock_id: stockId, stock_state: 'RUNNING', belong_merchant: mchid });

      const user = await call('/sandbox/v1/users', 'post', { appids: [APPID] });
      const openid = (user.data.openids as Record<string, string>)[APPID];
      const params = [{ stock_id: stockId, out_request_no: reqNo('AX') }];
      const sent = await call('/sandbox/v1/busifavor/send/miniapp', 'post', {
        appid: APPID,
        openid,
        send_coupon_merchant: mchid,
        send_coupon_params: params,
        sign: pluginSign(mchid, params, apiV2Key),
      });
      const item = (sent.data.send_coupon_result as Array<{ code: string; coupon_code: string }>)[0];
      expect(item?.code).toBe('SUCCESS');
      const code = item?.coupon_code as string;

      const used = await call('/v3/marketing/busifavor/coupons/use', 'post', {
        coupon_code: code,
        stock_id: stockId,
        appid: APPID,
        use_time: formatBeijingTime(Date.now()),
        use_request_no: reqNo('AXUSE'),
      });
      expect(used.data).toMatchObject({ stock_id: stockId, openid });
      const returned = await call('/v3/marketing/busifavor/coupons/return', 'post', {
        coupon_code: code,
        stock_id: stockId,
        return_request_no: reqNo('AXRET'),
      });
      expect(returned.data.wechatpay_return_time).toMatch(/\+08:00$/);
      // Openids have upper-case letters, which the plugin's chain would kebab-case: pass them as placeholders.
      const one = await call(
        '/v3/marketing/busifavor/users/_openid_/coupons/_coupon_code_/appids/_appid_',
        'get',
        {
          openid,
          coupon_code: code,
          appid: APPID,
        },
      );
      expect(one.data).toMatchObject({ coupon_code: code, coupon_state: 'SENDED' });

      const failed = await call('/v3/marketing/busifavor/stocks/999999999999999', 'get').catch(
        (e: { response?: { status: number; data: unknown } }) => e.response,
      );
      expect(failed?.status).toBe(404);
      expect(failed?.data).toMatchObject({ code: 'RESOURCE_NOT_EXISTS' });
    });
  });
}
