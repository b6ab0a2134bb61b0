import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/connect.js';
import { BASE, bindAppid, pluginSendRequest, reqNo, signedJson, stockBody } from './busifavor-helpers.js';

const APPID = 'wxconcurrency0001';
const USERS = 400;
const SENDS = 2000;

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`busifavor budgets under concurrency on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    it('gives out exactly max_coupons 1,000 to 2,000 concurrent plugin sends, per-user cap 3, no 5xx', async () => {
      const mchid = sandbox.merchant.mchid;
      await bindAppid(sandbox, APPID);
      const body = stockBody(mchid, {
        stock_send_rule: { max_coupons: 1000, max_coupons_per_user: 3, max_coupons_by_day: 1000 },
      });
      const stockId = signedJson<{ stock_id: string }>(
        sandbox,
        await sandbox.request({ method: 'POST', path: `${BASE}/stocks`, body }),
      ).stock_id;
      const openids: string[] = [];
      for (let i = 0; i < USERS; i += 100) {
        const batch = await Promise.all(
          Array.from({ length: 100 }, () =>
            sandbox.request({ method: 'POST', path: '/sandbox/v1/users', body: { appids: [APPID] } }),
          ),
        );
        for (const res of batch)
          openids.push(
            signedJson<{ openids: Record<string, string> }>(sandbox, res).openids[APPID] as string,
          );
      }

      const responses = await Promise.all(
        Array.from({ length: SENDS }, (_, i) => {
          const params = [{ stock_id: stockId, out_request_no: reqNo('C') }];
          return pluginSendRequest(sandbox, APPID, openids[i % USERS] as string, params);
        }),
      );
      expect(responses.filter((r) => r.status >= 500)).toEqual([]);
      expect(new Set(responses.map((r) => r.status))).toEqual(new Set([200]));
      const items = responses.map(
        (r) =>
          r.json<{ errcode: string; send_coupon_result: Array<{ code: string }> }>().send_coupon_result[0]
            ?.code,
      );
      expect(items.filter((c) => c === 'SUCCESS')).toHaveLength(1000);
      for (const c of items) expect(['SUCCESS', 'NOTENOUGH', 'MAXQUOTA']).toContain(c);

      const stock = signedJson<{ send_count_information: Record<string, number> }>(
        sandbox,
        await sandbox.request({ method: 'GET', path: `${BASE}/stocks/${stockId}` }),
      );
      expect(stock.send_count_information).toEqual({
        total_send_num: 1000,
        total_send_amount: 1000 * 100,
        today_send_num: 1000,
        today_send_amount: 1000 * 100,
      });
      const handle = openDatabase(sandbox.dbUrl);
      try {
        const rows = await handle.db
          .selectFrom('busifavor_coupons')
          .select('user_id')
          .where('stock_id', '=', stockId)
          .execute();
        expect(rows).toHaveLength(1000);
        const perUser = new Map<string, number>();
        for (const r of rows) perUser.set(r.user_id, (perUser.get(r.user_id) ?? 0) + 1);
        expect(Math.max(...perUser.values())).toBeLessThanOrEqual(3);
        const events = await handle.db
          .selectFrom('notification_outbox')
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .where('event_type', '=', 'COUPON.SEND')
          .executeTakeFirstOrThrow();
        expect(Number(events.n)).toBe(1000);
      } finally {
        await handle.close();
      }
    });

    it('holds the per-user cap when 300 concurrent sends target 5 users (cap 3, ample stock): 3 each, the rest MAXQUOTA', async () => {
      const mchid = sandbox.merchant.mchid;
      const appid = 'wxconcurrency0002';
      await bindAppid(sandbox, appid);
      const body = stockBody(mchid, { stock_send_rule: { max_coupons: 10_000, max_coupons_per_user: 3 } });
      const stockId = signedJson<{ stock_id: string }>(
        sandbox,
        await sandbox.request({ method: 'POST', path: `${BASE}/stocks`, body }),
      ).stock_id;
      const openids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await sandbox.request({
          method: 'POST',
          path: '/sandbox/v1/users',
          body: { appids: [appid] },
        });
        openids.push(signedJson<{ openids: Record<string, string> }>(sandbox, res).openids[appid] as string);
      }
      // Plugin and API sends mixed, so both answers of the per-user limit are exercised.
      const responses = await Promise.all(
        Array.from({ length: 300 }, (_, i) => {
          const openid = openids[i % 5] as string;
          const out = reqNo('F');
          if (i % 2 === 0) {
            return sandbox.request({
              method: 'POST',
              path: `${BASE}/coupons/send`,
              body: { openid, appid, stock_id: stockId, out_request_no: out },
            });
          }
          return pluginSendRequest(sandbox, appid, openid, [{ stock_id: stockId, out_request_no: out }]);
        }),
      );
      expect(responses.filter((r) => r.status >= 500)).toEqual([]);
      let successes = 0;
      responses.forEach((r, i) => {
        if (i % 2 === 0) {
          if (r.status === 200) {
            successes += 1;
            return;
          }
          // The documented per-user-limit answer of the API send (fidelity.md: 403 RULE_LIMIT).
          expect(r.status, r.text).toBe(403);
          expect(r.json()).toMatchObject({ code: 'RULE_LIMIT', message: '用户领券已达上限' });
          return;
        }
        expect(r.status, r.text).toBe(200);
        const item = r.json<{ errcode: string; send_coupon_result: Array<{ code: string }> }>();
        expect(item.errcode).toBe('OK');
        const code = item.send_coupon_result[0]?.code;
        if (code === 'SUCCESS') successes += 1;
        else expect(code).toBe('MAXQUOTA');
      });
      expect(successes).toBe(15);

      for (const openid of openids) {
        const list = signedJson<{ total_count: number; data: Array<{ stock_id: string }> }>(
          sandbox,
          await sandbox.request({
            method: 'GET',
            path: `${BASE}/users/${openid}/coupons?appid=${appid}&stock_id=${stockId}&creator_merchant=${mchid}`,
          }),
        );
        expect(list.total_count).toBe(3);
      }
      const stock = signedJson<{ send_count_information: Record<string, number> }>(
        sandbox,
        await sandbox.request({ method: 'GET', path: `${BASE}/stocks/${stockId}` }),
      );
      expect(stock.send_count_information).toEqual({ total_send_num: 15, total_send_amount: 15 * 100 });
    });
  });
}
