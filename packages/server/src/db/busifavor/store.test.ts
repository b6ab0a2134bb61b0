import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import { DIALECTS } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemIds } from '../../app.js';
import type { CreateStockBody } from '../../contract/busifavor/stocks-create.js';
import { returnCoupon, useCoupon } from '../../domain/busifavor/coupons.js';
import type { BusifavorDeps } from '../../domain/busifavor/ports.js';
import { sendCoupon } from '../../domain/busifavor/send.js';
import { createStock, getStock } from '../../domain/busifavor/stocks.js';
import type { NotificationEvent } from '../../domain/ports.js';
import { WechatError } from '../../errors.js';
import { type DatabaseHandle, openDatabase } from '../connect.js';
import { migrateToLatest } from '../migrate.js';
import { SimUserRepo } from '../sim-users-repo.js';
import { SqlBusifavorStore } from './store.js';

const MCHID = '1900000001';
const APPID = 'wx1234567890abcdef';
const T0 = Date.parse('2026-03-02T10:00:00+08:00');

function stockBody(overrides: Partial<CreateStockBody> = {}): CreateStockBody {
  return {
    stock_name: '满10减1',
    belong_merchant: MCHID,
    goods_name: '全场通用',
    stock_type: 'NORMAL',
    coupon_use_rule: {
      coupon_available_time: {
        available_begin_time: formatBeijingTime(T0 - 3600_000),
        available_end_time: formatBeijingTime(T0 + 30 * 86400_000),
      },
      fixed_normal_coupon: { discount_amount: 100, transaction_minimum: 1000 },
      use_method: 'OFF_LINE',
    },
    stock_send_rule: { max_coupons: 1000, max_coupons_per_user: 3 },
    out_request_no: `req${Math.random().toString(36).slice(2)}`,
    coupon_code_mode: 'WECHATPAY_MODE',
    ...overrides,
  };
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`busifavor store and rules on ${dialect.name}`, () => {
    let handle: DatabaseHandle;
    let drop: () => Promise<void>;
    let deps: BusifavorDeps;
    let users: SimUserRepo;
    const events: NotificationEvent[] = [];
    let now = T0;
    const clock = { now: () => now };

    beforeAll(async () => {
      const created = await dialect.create();
      drop = created.drop;
      handle = openDatabase(created.url, { poolSize: 10 });
      await migrateToLatest(handle.db);
      await handle.db
        .insertInto('merchants')
        .values({
          mchid: MCHID,
          name: 'dev',
          api_v3_key: 'k'.repeat(32),
          api_v2_key: 'v'.repeat(32),
          signing_mode: 'pubkey',
          parent_mchid: null,
          created_at: T0,
        })
        .execute();
      users = new SimUserRepo(handle.db, systemIds, clock);
      await users.bindAppid(APPID, MCHID);
      const store = new SqlBusifavorStore(handle.db, {
        capabilities: handle.capabilities,
        outbox: () => ({
          enqueue: async (event) => {
            events.push(event);
          },
        }),
      });
      deps = { store, directory: users, clock, ids: systemIds };
    });
    afterAll(async () => {
      await handle?.close();
      await drop?.();
    });

    it('creates a stock, sends, uses and returns a coupon; counters follow', async () => {
      const { stock_id } = await createStock(deps, MCHID, stockBody());
      const user = await users.createUser({ appids: [APPID] });
      const u = await users.userById(user.user_id);
      if (!u) throw new Error('user not created');
      const sent = await sendCoupon(deps, {
        stockId: stock_id,
        outRequestNo: 's1',
        user: u,
        sendMerchant: MCHID,
        channel: 'BUSICOUPON_SEND_CHANNEL_MINIAPP',
      });
      expect(sent.ok).toBe(true);
      if (!sent.ok) return;
      expect(sent.coupon.couponCode).toMatch(/^[1-9]\d{21}$/);
      expect(events.at(-1)?.eventType).toBe('COUPON.SEND');
      const dup = await sendCoupon(deps, {
        stockId: stock_id,
        outRequestNo: 's1',
        user: u,
        sendMerchant: MCHID,
        channel: 'BUSICOUPON_SEND_CHANNEL_MINIAPP',
      });
      expect(dup).toMatchObject({ ok: false, code: 'DUPREQUEST' });
      const used = await useCoupon(deps, MCHID, {
        coupon_code: sent.coupon.couponCode,
        appid: APPID,
        use_time: formatBeijingTime(now),
        use_request_no: 'use1',
      });
      expect(used).toEqual({
        stock_id,
        openid: user.openids[APPID],
        wechatpay_use_time: formatBeijingTime(now),
      });
      const again = await useCoupon(deps, MCHID, {
        coupon_code: sent.coupon.couponCode,
        appid: APPID,
        use_time: formatBeijingTime(now),
        use_request_no: 'use1',
      });
      expect(again).toEqual(used);
      await expect(
        useCoupon(deps, MCHID, {
          coupon_code: sent.coupon.couponCode,
          appid: APPID,
          use_time: formatBeijingTime(now),
          use_request_no: 'use2',
        }),
      ).rejects.toMatchObject({ code: 'RESOURCE_ALREADY_EXISTS', status: 400 });
      await returnCoupon(deps, MCHID, {
        coupon_code: sent.coupon.couponCode,
        stock_id,
        return_request_no: 'r1',
      });
      const stock = await getStock(deps, MCHID, stock_id);
      expect(stock.send_count_information).toEqual({ total_send_num: 1, total_send_amount: 100 });
    });

    it('gives out exactly max_coupons under 2,000 concurrent sends with per-user limits', async () => {
      const { stock_id } = await createStock(
        deps,
        MCHID,
        stockBody({
          stock_send_rule: { max_coupons: 1000, max_coupons_per_user: 2, max_coupons_by_day: 1000 },
        }),
      );
      const people = await Promise.all(
        Array.from({ length: 700 }, () => users.createUser({ appids: [APPID] })),
      );
      const simUsers = (await Promise.all(people.map((p) => users.userById(p.user_id)))).filter(
        (x) => x !== undefined,
      );
      const outcomes = await Promise.all(
        Array.from({ length: 2000 }, (_, i) =>
          sendCoupon(deps, {
            stockId: stock_id,
            outRequestNo: `c${i}`,
            user: simUsers[i % 700] as NonNullable<(typeof simUsers)[number]>,
            sendMerchant: MCHID,
            channel: 'BUSICOUPON_SEND_CHANNEL_API',
          }),
        ),
      );
      const ok = outcomes.filter((o) => o.ok).length;
      expect(ok).toBe(1000);
      const codes = outcomes.filter((o) => !o.ok).map((o) => (o.ok ? '' : o.code));
      for (const code of codes) expect(['MAXQUOTA', 'NOTENOUGH']).toContain(code);
      const stock = await getStock(deps, MCHID, stock_id);
      expect(stock.send_count_information?.total_send_num).toBe(1000);
      expect(stock.send_count_information?.today_send_num).toBe(1000);
      const rows = await handle.db
        .selectFrom('busifavor_coupons')
        .select(['user_id'])
        .where('stock_id', '=', stock_id)
        .execute();
      expect(rows.length).toBe(1000);
      const perUser = new Map<string, number>();
      for (const r of rows) perUser.set(r.user_id, (perUser.get(r.user_id) ?? 0) + 1);
      expect(Math.max(...perUser.values())).toBeLessThanOrEqual(2);
    });

    it('hands out read-only views outside a transaction: they carry no write method at run time', () => {
      const read = deps.store.read as unknown as Record<string, Record<string, unknown> | undefined>;
      const writes: Record<string, string[]> = {
        stocks: ['insert', 'update'],
        coupons: ['insert', 'update'],
        codes: ['insert', 'deleteAvailable', 'dispatchRandom'],
        requests: ['save'],
        media: ['insert'],
        subsidies: ['insertReceipt', 'setReceiptStatus', 'insertReturn'],
      };
      for (const [repo, methods] of Object.entries(writes)) {
        expect(read[repo]).toBeDefined();
        for (const method of methods) expect(read[repo]?.[method], `${repo}.${method}`).toBeUndefined();
      }
      expect(read.outbox).toBeUndefined();
    });

    it('refuses a reused out_request_no with 400 RESOURCE_ALREADY_EXISTS 批次已存在', async () => {
      const body = stockBody();
      await createStock(deps, MCHID, body);
      const err = await createStock(deps, MCHID, body).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WechatError);
      expect((err as WechatError).toBody()).toMatchObject({
        code: 'RESOURCE_ALREADY_EXISTS',
        message: '批次已存在',
      });
      now = T0;
    });
  });
}
