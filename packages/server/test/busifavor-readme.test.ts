import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { signParamsHmacSha256 } from '@wechatpay-sandbox/sdk/protocol';
import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * README.md "Quick start with an unmodified client" and "Worked example: create a stock, send it to a
 * simulated user, use it, query it", call for call, through the unmodified wechatpay-axios-plugin.
 * Nothing is read from the README: when you change its calls, change this test the same way, so that a
 * README that stops working fails here. Only the base URL and the credentials directory differ (a
 * startSandbox server instead of `npm start` and `.sandbox/`).
 */

const require = createRequire(import.meta.url);
const { Wechatpay } = require('wechatpay-axios-plugin') as {
  Wechatpay: new (config: Record<string, unknown>) => unknown;
};

/** The plugin's chain API (`wxpay.v3.marketing.busifavor.stocks.post(…)`), typed just enough. */
type Verb = <T = Record<string, unknown>>(
  data?: unknown,
  config?: unknown,
) => Promise<{ status: number; data: T }>;
/** The path segments the README walks (a finite set, so every step is typed as present). */
type Segment =
  | 'v3'
  | 'marketing'
  | 'busifavor'
  | 'callbacks'
  | 'stocks'
  | 'coupons'
  | 'use'
  | 'users'
  | '_openid_'
  | '_coupon_code_'
  | 'appids'
  | '_appid_'
  | 'sandbox'
  | 'v1'
  | 'send'
  | 'miniapp'
  | 'notifications';
type Chain = { readonly [K in Segment]: Chain } & { readonly get: Verb; readonly post: Verb };

interface Credentials {
  merchant: { mchid: string; serialNo: string; privateKeyFile: string; apiV2Key: string };
  platform: { publicKey: { keyId: string; publicKeyFile: string } };
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(
    `README examples through wechatpay-axios-plugin on ${dialect.name}`,
    () => {
      let sandbox: TestSandbox;
      beforeAll(async () => {
        sandbox = await startSandbox({ dialect });
      });
      afterAll(async () => {
        await sandbox?.close();
      });

      it('runs the quick start and the worked example as written', async () => {
        // ---- README "Quick start with an unmodified client" ----
        const creds = JSON.parse(readFileSync(join(sandbox.dir, 'credentials.json'), 'utf8')) as Credentials;
        const file = (name: string) => readFileSync(join(sandbox.dir, name), 'utf8');
        const wxpay = new Wechatpay({
          mchid: creds.merchant.mchid,
          serial: creds.merchant.serialNo,
          privateKey: file(creds.merchant.privateKeyFile),
          certs: { [creds.platform.publicKey.keyId]: file(creds.platform.publicKey.publicKeyFile) },
          baseURL: sandbox.url,
        }) as Chain;

        const set = await wxpay.v3.marketing.busifavor.callbacks.post({
          mchid: creds.merchant.mchid,
          notify_url: 'https://example.com/wxpay/busifavor',
        });
        expect(set.status).toBe(200);
        expect(set.data).toEqual({
          update_time: expect.stringMatching(/\+08:00$/),
          notify_url: 'https://example.com/wxpay/busifavor',
          mchid: creds.merchant.mchid,
        });
        const got = await wxpay.v3.marketing.busifavor.callbacks.get();
        expect(got.data).toEqual({
          mchid: creds.merchant.mchid,
          notify_url: 'https://example.com/wxpay/busifavor',
        });

        // ---- README "Worked example" ----
        const mchid = creds.merchant.mchid;
        const appid = 'wx1234567890abcdef';
        const bj = (ms: number) => `${new Date(ms + 8 * 3600e3).toISOString().slice(0, 19)}+08:00`;
        const now = Date.now();

        // 1. Simulation API (/sandbox/v1, signed like /v3): bind an appid, create a user with an openid for it.
        await wxpay.sandbox.v1.appids.post({ appid });
        const { data: user } = await wxpay.sandbox.v1.users.post<{ openids: Record<string, string> }>({
          appids: [appid],
        });
        const openid = user.openids[appid] as string;

        // 2. Create a stock (seed 002).
        const { data: stock } = await wxpay.v3.marketing.busifavor.stocks.post<{ stock_id: string }>({
          stock_name: '满50减5',
          belong_merchant: mchid,
          goods_name: '全场通用',
          stock_type: 'NORMAL',
          coupon_use_rule: {
            coupon_available_time: {
              available_begin_time: bj(now),
              available_end_time: bj(now + 30 * 86400e3),
            },
            fixed_normal_coupon: { discount_amount: 500, transaction_minimum: 5000 },
            use_method: 'OFF_LINE',
          },
          stock_send_rule: { max_coupons: 100, max_coupons_per_user: 1 },
          out_request_no: `stock${now}`,
          coupon_code_mode: 'WECHATPAY_MODE',
        });

        // 3. Send it as the mini-program plugin would: parameters signed with the APIv2 key (HMAC-SHA256).
        const params = [{ stock_id: stock.stock_id, out_request_no: `send${now}` }];
        const sign = signParamsHmacSha256(
          {
            send_coupon_merchant: mchid,
            stock_id0: stock.stock_id,
            out_request_no0: (params[0] as { out_request_no: string }).out_request_no,
          },
          creds.merchant.apiV2Key,
        );
        const { data: sent } = await wxpay.sandbox.v1.busifavor.send.miniapp.post<{
          send_coupon_result: Array<{ coupon_code: string; code: string }>;
        }>({
          appid,
          openid,
          send_coupon_merchant: mchid,
          send_coupon_params: params,
          sign,
        });
        const coupon_code = (sent.send_coupon_result[0] as { coupon_code: string }).coupon_code;

        // 4. Use it (核销), then 5. query it.
        await wxpay.v3.marketing.busifavor.coupons.use.post({
          coupon_code,
          stock_id: stock.stock_id,
          appid,
          use_time: bj(Date.now()),
          use_request_no: `use${now}`,
        });
        const { data: coupon } =
          await wxpay.v3.marketing.busifavor.users._openid_.coupons._coupon_code_.appids._appid_.get<{
            coupon_state: string;
          }>({
            openid,
            coupon_code,
            appid,
          });
        expect(coupon.coupon_state).toBe('USED'); // README: console.log(coupon.coupon_state); // USED

        // What the README's comments claim along the way.
        expect(stock.stock_id).toMatch(/^\d{15}$/);
        expect(sent.send_coupon_result).toEqual([
          expect.objectContaining({ code: 'SUCCESS', coupon_code: expect.stringMatching(/^\d{22}$/) }),
        ]);
        // "and a COUPON.SEND callback is queued"
        const { data: queued } = await wxpay.sandbox.v1.notifications.get<{
          total_count: number;
          data: Array<{ event_type: string }>;
        }>({ params: { event_type: 'COUPON.SEND' } });
        expect(queued.total_count).toBe(1);
        expect(queued.data[0]?.event_type).toBe('COUPON.SEND');
      });
    },
  );
}
