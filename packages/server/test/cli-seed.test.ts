import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliDeps, runCli } from '../src/cli/commands.js';
import { openDatabase } from '../src/db/connect.js';
import { BASE, pluginSendOne, signedJson, useCouponNow } from './busifavor-helpers.js';

/**
 * `wechatpay-sandbox seed` in-process (runCli, as main.ts runs it) on a running sandbox's database
 * (SQLite and PostgreSQL): what it seeds is served consistently by the real server over signed HTTP
 * (stock counts, a user's coupon pages, coupon query, use and a plugin send), seeding again adds fresh
 * data, and bad flags are usage errors that write nothing.
 */

interface SeedJson {
  mchid: string;
  appid: string;
  stock_ids: string[];
  stocks: Array<{ stock_id: string; coupons: number }>;
  users: number;
  coupons: number;
  examples: Array<{ openid: string; coupons: number }>;
  elapsed_ms: number;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], progress?: CliDeps['progress']): Promise<Run> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli(args, {
    ...(progress ? { progress } : {}),
    output: { out: (l) => stdout.push(`${l}\n`), err: (l) => stderr.push(`${l}\n`) },
    loadStartServer: async () => {
      throw new Error('this test does not start servers');
    },
    stopSignal: async () => 'SIGTERM',
    version: 'test',
  });
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}

interface StockView {
  stock_id: string;
  stock_state: string;
  stock_send_rule: { max_coupons: number; max_coupons_per_user: number };
  send_count_information: { total_send_num: number; total_send_amount: number };
  notify_config?: { notify_appid: string };
}

interface CouponView {
  coupon_code: string;
  stock_id: string;
  coupon_state: string;
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`wechatpay-sandbox seed (${dialect.name})`, () => {
    let sandbox: TestSandbox;
    let seeded: SeedJson;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      const run = await cli([
        'seed',
        ...where(),
        '--stocks',
        '3',
        '--coupons',
        '600',
        '--users',
        '50',
        '--json',
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      seeded = JSON.parse(run.stdout) as SeedJson;
    });
    afterAll(async () => sandbox?.close());

    const where = () => ['--db', sandbox.dbUrl, '--dir', sandbox.dir];
    const get = async <T>(path: string): Promise<T> =>
      signedJson<T>(sandbox, await sandbox.request({ method: 'GET', path }));
    const stock = (id: string) => get<StockView>(`${BASE}/stocks/${id}`);
    const userCoupons = (openid: string, query: string) =>
      get<{ data: CouponView[]; total_count: number; offset: number; limit: number }>(
        `${BASE}/users/${openid}/coupons?appid=${seeded.appid}&creator_merchant=${sandbox.merchant.mchid}&${query}`,
      );
    const counts = async () => {
      const handle = openDatabase(sandbox.dbUrl);
      try {
        const n = async (table: 'busifavor_stocks' | 'busifavor_coupons' | 'sim_users') =>
          Number(
            (
              await handle.db
                .selectFrom(table)
                .select((eb) => eb.fn.countAll<number | string>().as('n'))
                .executeTakeFirstOrThrow()
            ).n,
          );
        return {
          stocks: await n('busifavor_stocks'),
          coupons: await n('busifavor_coupons'),
          users: await n('sim_users'),
        };
      } finally {
        await handle.close();
      }
    };

    it('summarises what it created: 3 stocks of 200 coupons, 50 users of 12 coupons each', () => {
      expect(seeded).toMatchObject({ mchid: sandbox.merchant.mchid, users: 50, coupons: 600 });
      expect(seeded.appid).toMatch(/^wx[0-9a-z]{16}$/);
      expect(seeded.stocks.map((s) => s.coupons)).toEqual([200, 200, 200]);
      expect(seeded.stock_ids).toEqual(seeded.stocks.map((s) => s.stock_id));
      expect(seeded.examples[0]?.coupons).toBe(12);
    });

    it('the stock read shows the seeded coupons in its send counts and the budget left for sends', async () => {
      for (const id of seeded.stock_ids) {
        const s = await stock(id);
        expect(s).toMatchObject({
          stock_id: id,
          stock_state: 'RUNNING',
          stock_send_rule: { max_coupons: 200 + 10_000, max_coupons_per_user: 100 },
          send_count_information: { total_send_num: 200, total_send_amount: 200 * 100 },
          notify_config: { notify_appid: seeded.appid },
        });
      }
    });

    it("a user's coupons list pages through all of them, SENDED, four of each stock", async () => {
      const openid = (seeded.examples[0] as { openid: string }).openid;
      const codes = new Set<string>();
      for (const offset of [0, 5, 10]) {
        const page = await userCoupons(openid, `offset=${offset}&limit=5`);
        expect(page).toMatchObject({ total_count: 12, offset, limit: 5 });
        expect(page.data).toHaveLength(offset === 10 ? 2 : 5);
        for (const c of page.data) {
          expect(c.coupon_state).toBe('SENDED');
          codes.add(`${c.stock_id}/${c.coupon_code}`);
        }
      }
      expect(codes.size).toBe(12);
      for (const id of seeded.stock_ids) {
        expect((await userCoupons(openid, `stock_id=${id}`)).total_count).toBe(4);
      }
    });

    it('a seeded coupon can be queried and used, and a plugin send adds one to the stock', async () => {
      const openid = (seeded.examples[1] as { openid: string }).openid;
      const [coupon] = (await userCoupons(openid, 'limit=1')).data as [CouponView];
      const path = `${BASE}/users/${openid}/coupons/${coupon.coupon_code}/appids/${seeded.appid}`;
      expect(await get<CouponView>(path)).toMatchObject({
        coupon_code: coupon.coupon_code,
        stock_id: coupon.stock_id,
        coupon_state: 'SENDED',
      });
      await useCouponNow(sandbox, seeded.appid, coupon.stock_id, coupon.coupon_code);
      expect((await get<CouponView>(path)).coupon_state).toBe('USED');

      const sent = await pluginSendOne(sandbox, seeded.appid, openid, coupon.stock_id);
      expect(sent.code).toBe('SUCCESS');
      expect((await stock(coupon.stock_id)).send_count_information.total_send_num).toBe(201);
      expect((await userCoupons(openid, 'limit=1')).total_count).toBe(13);
    });

    it('seeding again adds fresh stocks, users and coupons next to the first ones', async () => {
      const before = await counts();
      const run = await cli(['seed', ...where(), '--stocks', '2', '--coupons', '100', '--json']);
      expect(run.code).toBe(0);
      const again = JSON.parse(run.stdout) as SeedJson;
      expect(again.appid).not.toBe(seeded.appid);
      expect(again.stock_ids.filter((id) => seeded.stock_ids.includes(id))).toEqual([]);
      // --users defaults to a tenth of the coupons.
      expect(again).toMatchObject({ users: 10, coupons: 100 });
      expect(await counts()).toEqual({
        stocks: before.stocks + 2,
        coupons: before.coupons + 100,
        users: before.users + 10,
      });
      expect((await stock(again.stock_ids[0] as string)).send_count_information.total_send_num).toBe(50);
    });

    it('with more users than coupons, gives the first users one each and the stocks their shares', async () => {
      const run = await cli([
        'seed',
        ...where(),
        '--coupons',
        '7',
        '--users',
        '20',
        '--stocks',
        '3',
        '--json',
      ]);
      expect(run.code).toBe(0);
      const few = JSON.parse(run.stdout) as SeedJson;
      expect(few.stocks.map((s) => s.coupons)).toEqual([3, 2, 2]);
      expect(few.examples.map((e) => e.coupons)).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
      for (const s of few.stocks) {
        expect((await stock(s.stock_id)).send_count_information.total_send_num).toBe(s.coupons);
      }
      const list = (openid: string) =>
        get<{ total_count: number }>(
          `${BASE}/users/${openid}/coupons?appid=${few.appid}&creator_merchant=${sandbox.merchant.mchid}`,
        );
      for (const e of few.examples) expect((await list(e.openid)).total_count).toBe(e.coupons);
    });

    it('prints the appid, the stock ids and a user to query, with progress lines on stderr', async () => {
      const run = await cli(['seed', ...where(), '--coupons', '20', '--users', '4']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Seeded .* for merchant \d+ in [0-9.]+ s/);
      expect(run.stdout).toMatch(/appid: +wx[0-9a-z]{16}/);
      expect(run.stdout).toMatch(/stocks: +1 \(\d{15}\), 20 coupons SENDED/);
      expect(run.stdout).toMatch(/example: +openid o\S+ holds 5 coupon\(s\)/);
      expect(run.stderr).toContain('coupons: 20/20 (100%)');
    });

    it('draws one progress bar per phase on a terminal, redrawn in place, and none with --json', async () => {
      let drawn = '';
      const tty = {
        isTTY: true,
        write: (text: string) => {
          drawn += text;
        },
      };
      expect((await cli(['seed', ...where(), '--coupons', '30', '--stocks', '2'], tty)).code).toBe(0);
      const lines = drawn.split('\n').filter(Boolean);
      expect(lines).toHaveLength(3);
      expect(lines.map((l) => l.split('\r').at(-1))).toEqual([
        `users   ${'█'.repeat(30)} 100% 3/3`,
        `stocks  ${'█'.repeat(30)} 100% 2/2`,
        `coupons ${'█'.repeat(30)} 100% 30/30`,
      ]);
      drawn = '';
      expect((await cli(['seed', ...where(), '--coupons', '30', '--json'], tty)).code).toBe(0);
      expect(drawn).toBe('');
    });

    it.each([
      [['--stocks', '2'], /--coupons is required/],
      [['--coupons', 'many'], /--coupons must be a whole number/],
      [['--coupons', '10', '--stocks', '0'], /--stocks must be a whole number from 1/],
      [['--coupons', '10', '--users', '-3'], /--users/],
      [['--coupons', '1000', '--users', '5'], /more than WeChat's max_coupons_per_user of 100/],
      [['--coupons', '10', '--colour', 'red'], /colour/],
      [['--coupons', '10', '--mchid', 'abc'], /--mchid must be a merchant id/],
    ])('%j is a usage error (exit 2) and writes nothing', async (args, message) => {
      const before = await counts();
      const run = await cli(['seed', ...where(), ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toContain('Run wechatpay-sandbox seed --help for usage.');
      expect(await counts()).toEqual(before);
    });

    it('refuses a merchant the database does not have, writing nothing', async () => {
      const before = await counts();
      const run = await cli(['seed', ...where(), '--coupons', '10', '--mchid', '1900000999']);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/merchant 1900000999 is not registered/);
      expect(await counts()).toEqual(before);
    });
  });
}
