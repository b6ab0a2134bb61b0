import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import { DIALECTS, startSandbox, type TestResponse, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RFC3339_ISSUE } from '../src/contract/busifavor/common.js';
import { openDatabase } from '../src/db/connect.js';
import {
  addMerchant,
  addStock,
  addUserOpenid,
  BASE,
  bindAppid,
  expectError,
  pluginSendOne,
  reqNo,
  signedJson,
  stockBody,
} from './busifavor-helpers.js';

/**
 * Caller input that seed 002 constrains, over HTTP (docs/fidelity.md, Busifavor): the `appid` of a
 * coupon use must be bound to the calling merchant itself; times a caller sends need seconds
 * (`yyyy-MM-DDTHH:mm:ss+TIMEZONE`), and every time is answered as `+08:00` with whole seconds,
 * whatever offset or fraction it was sent with.
 */

const APPID = 'wxwireinputs00001';
const CLOCK = '/sandbox/v1/clock';
/** The only form the sandbox answers a time in. */
const WIRE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/;
const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

type Json = Record<string, unknown>;

/** `ms` written in another offset (minutes east of UTC), whole seconds: `…T10:00:00-05:00`. */
function inOffset(ms: number, minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const hhmm = `${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${new Date(ms + minutes * 60_000).toISOString().slice(0, 19)}${sign}${hhmm}`;
}

/** Every string under a key ending in `time`, anywhere in a JSON value, as `path → value`. */
function timesIn(value: unknown, path = '', out: Record<string, string> = {}): Record<string, string> {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) timesIn(v, `${path}/${i}`, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.endsWith('time') && typeof v === 'string') out[`${path}/${k}`] = v;
      else timesIn(v, `${path}/${k}`, out);
    }
  }
  return out;
}

/** Asserts a response names times only in the wire form, and at least one. */
function expectWireTimes(json: unknown): void {
  const times = timesIn(json);
  expect(Object.keys(times).length).toBeGreaterThan(0);
  for (const [path, time] of Object.entries(times)) expect(time, path).toMatch(WIRE_TIME);
}

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
    const get = (path: string) => sandbox.request({ method: 'GET', path });
    const readStock = async (stockId: string) =>
      signedJson<Json>(sandbox, await get(`${BASE}/stocks/${stockId}`));
    const availableTime = (view: Json) => (view.coupon_use_rule as Json).coupon_available_time;
    /** A valid create body whose `coupon_available_time` members are replaced by `time`'s. */
    const bodyWithTimes = (time: Json, outRequestNo = reqNo('STOCK')): Json => {
      const body = stockBody(mchid, { out_request_no: outRequestNo });
      const rule = body.coupon_use_rule as Json;
      const current = rule.coupon_available_time as Json;
      return { ...body, coupon_use_rule: { ...rule, coupon_available_time: { ...current, ...time } } };
    };
    const createStock = async (time: Json) =>
      signedJson<{ stock_id: string; create_time: string }>(
        sandbox,
        await post(`${BASE}/stocks`, bodyWithTimes(time)),
      );
    /** Sends one coupon of `stockId` to a new user with an openid under APPID. */
    const sendCoupon = async (stockId: string) => {
      const openid = await addUserOpenid(sandbox, APPID);
      const item = await pluginSendOne(sandbox, APPID, openid, stockId);
      expect(item.code, item.message).toBe('SUCCESS');
      return { openid, code: item.coupon_code as string };
    };
    const readCoupon = async (c: { openid: string; code: string }) =>
      signedJson<Json>(sandbox, await get(`${BASE}/users/${c.openid}/coupons/${c.code}/appids/${APPID}`));
    const useBody = (stockId: string, code: string, useTime: string, useRequestNo = reqNo('USE')): Json => ({
      coupon_code: code,
      stock_id: stockId,
      appid: APPID,
      use_time: useTime,
      use_request_no: useRequestNo,
    });

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

    it('refuses a time without seconds, or naming no calendar instant, with 400 PARAM_ERROR naming the field; the request number stays free', async () => {
      const now = Date.now();
      // 2026-12-07T23:03+08:00: the form seed 000's update_time example shows, not RFC 3339.
      const noSeconds = (ms: number) => formatBeijingTime(ms).replace(/:\d{2}\+08:00$/, '+08:00');
      const later = formatBeijingTime(now + DAY_MS);
      const at = '/coupon_use_rule/coupon_available_time';
      const refusals: Array<[string, Json]> = [
        [`${at}/available_begin_time`, { available_begin_time: noSeconds(now - HOUR_MS) }],
        [`${at}/available_end_time`, { available_end_time: noSeconds(now + DAY_MS) }],
        [
          `${at}/irregulary_avaliable_time/0/begin_time`,
          { irregulary_avaliable_time: [{ begin_time: noSeconds(now), end_time: later }] },
        ],
        [`${at}/available_end_time`, { available_end_time: later.replace('+08:00', '') }],
        [`${at}/available_end_time`, { available_end_time: later.replace('+08:00', '+0800') }],
        [`${at}/available_end_time`, { available_end_time: later.replace('T', ' ') }],
        [`${at}/available_end_time`, { available_end_time: `${later.slice(0, 19)}.1234567890+08:00` }],
        // The right shape, but no calendar instant.
        [`${at}/available_end_time`, { available_end_time: '2027-02-30T10:00:00+08:00' }],
        [`${at}/available_end_time`, { available_end_time: `${later.slice(0, 10)}T24:00:00+08:00` }],
        [`${at}/available_end_time`, { available_end_time: `${later.slice(0, 19)}+24:00` }],
      ];
      const outRequestNo = reqNo('STOCK');
      for (const [field, time] of refusals) {
        const res = await post(`${BASE}/stocks`, bodyWithTimes(time, outRequestNo));
        expectError(res, 400, 'PARAM_ERROR', `参数错误：${field} ${RFC3339_ISSUE}`);
        expect(res.json<{ detail?: Json }>().detail, JSON.stringify(time)).toMatchObject({
          field,
          location: 'body',
        });
      }
      // None of them took the out_request_no.
      const stockId = signedJson<{ stock_id: string }>(
        sandbox,
        await post(`${BASE}/stocks`, bodyWithTimes({}, outRequestNo)),
      ).stock_id;

      const c = await sendCoupon(stockId);
      const useRequestNo = reqNo('USE');
      const res = await post(`${BASE}/coupons/use`, useBody(stockId, c.code, noSeconds(now), useRequestNo));
      expectError(res, 400, 'PARAM_ERROR', `参数错误：/use_time ${RFC3339_ISSUE}`);
      expect((await readCoupon(c)).coupon_state).toBe('SENDED');
      signedJson(
        sandbox,
        await post(
          `${BASE}/coupons/use`,
          useBody(stockId, c.code, formatBeijingTime(Date.now()), useRequestNo),
        ),
      );
      expect((await readCoupon(c)).coupon_state).toBe('USED');
    });

    it("seed 002's own example times are accepted and answered as written (stock window §3.2.1, use_time §3.2.3)", async () => {
      const clock = async (body: Json) => signedJson<Json>(sandbox, await post(CLOCK, body));
      try {
        await clock({ action: 'freeze', time: '2021-04-20T13:00:00+08:00', allow_backwards: true });
        const window = {
          available_begin_time: '2021-04-20T13:29:35+08:00',
          available_end_time: '2021-04-25T13:29:35+08:00',
        };
        const created = await createStock(window);
        expect(created.create_time).toBe('2021-04-20T13:00:00+08:00');
        expect(availableTime(await readStock(created.stock_id))).toEqual(window);

        await clock({ action: 'freeze', time: '2015-05-20T13:29:35+08:00', allow_backwards: true });
        const { stock_id: stockId } = await createStock({
          available_begin_time: '2015-05-20T13:29:35+08:00',
          available_end_time: '2015-05-25T13:29:35+08:00',
        });
        const c = await sendCoupon(stockId);
        const used = signedJson<Json>(
          sandbox,
          await post(`${BASE}/coupons/use`, useBody(stockId, c.code, '2015-05-20T13:29:35+08:00')),
        );
        expect(used).toMatchObject({ stock_id: stockId, wechatpay_use_time: '2015-05-20T13:29:35+08:00' });
      } finally {
        await clock({ action: 'resume' });
      }
    });

    it('times sent in another offset or with a fraction are kept as instants and answered in +08:00 with whole seconds: stock GET (after a PATCH too), coupon GET and list, use', async () => {
      const begin = Math.floor(Date.now() / 1000) * 1000 - HOUR_MS;
      const end = begin + 10 * DAY_MS;
      const irregularEnd = begin + 2 * DAY_MS;
      const sent = {
        available_begin_time: new Date(begin + 250).toISOString(), // Z with milliseconds
        available_end_time: inOffset(end, 0), // +00:00
        irregulary_avaliable_time: [
          {
            begin_time: inOffset(begin, -300), // -05:00
            end_time: `${new Date(irregularEnd).toISOString().slice(0, 19)}.999999999Z`,
          },
        ],
      };
      const answered = {
        available_begin_time: formatBeijingTime(begin),
        available_end_time: formatBeijingTime(end),
        irregulary_avaliable_time: [
          { begin_time: formatBeijingTime(begin), end_time: formatBeijingTime(irregularEnd) },
        ],
      };
      const created = await createStock(sent);
      expectWireTimes(created);
      const stock = await readStock(created.stock_id);
      expect(availableTime(stock)).toEqual(answered);
      expectWireTimes(stock);
      // A PATCH cannot touch the window (an unknown member there is ignored) and keeps the answer.
      const patched = await sandbox.request({
        method: 'PATCH',
        path: `${BASE}/stocks/${created.stock_id}`,
        body: {
          out_request_no: reqNo('MOD'),
          comment: '改过备注',
          coupon_use_rule: { coupon_available_time: { available_end_time: '2027-01-01T00:00+08:00' } },
        },
      });
      signedJson(sandbox, patched, 204);
      expect(availableTime(await readStock(created.stock_id))).toEqual(answered);

      const c = await sendCoupon(created.stock_id);
      const coupon = await readCoupon(c);
      expect(availableTime(coupon)).toEqual(answered);
      expect(coupon.expire_time).toBe(formatBeijingTime(end));
      expectWireTimes(coupon);
      const list = signedJson<{ data: Json[] }>(
        sandbox,
        await get(`${BASE}/users/${c.openid}/coupons?appid=${APPID}&creator_merchant=${mchid}`),
      );
      expect(list.data.map((item) => availableTime(item))).toEqual([answered]);
      expectWireTimes(list);

      const useMs = Date.now();
      const useRequestNo = reqNo('USE');
      const used = signedJson<Json>(
        sandbox,
        await post(
          `${BASE}/coupons/use`,
          useBody(created.stock_id, c.code, new Date(useMs).toISOString(), useRequestNo),
        ),
      );
      expectWireTimes(used);
      // The same instant written in +08:00 is the same request: the first answer again.
      const replay = await post(
        `${BASE}/coupons/use`,
        useBody(created.stock_id, c.code, formatBeijingTime(useMs), useRequestNo),
      );
      expect(signedJson<Json>(sandbox, replay)).toEqual(used);
      const after = await readCoupon(c);
      expect(after.coupon_state).toBe('USED');
      expectWireTimes(after);
    });

    it('a stock row stored with the times as a caller sent them (before they were normalized) is answered in +08:00 too', async () => {
      const stockId = await addStock(sandbox);
      const c = await sendCoupon(stockId);
      const begin = Math.floor(Date.now() / 1000) * 1000 - HOUR_MS;
      const end = begin + 20 * DAY_MS;
      const handle = openDatabase(sandbox.dbUrl);
      try {
        const row = await handle.db
          .selectFrom('busifavor_stocks')
          .select('definition')
          .where('stock_id', '=', stockId)
          .executeTakeFirstOrThrow();
        const definition = JSON.parse(row.definition) as { coupon_use_rule: Json };
        definition.coupon_use_rule.coupon_available_time = {
          available_begin_time: new Date(begin + 500).toISOString(),
          // Accepted without seconds before; read as :00.
          available_end_time: formatBeijingTime(end).replace(/:\d{2}\+08:00$/, '+08:00'),
        };
        await handle.db
          .updateTable('busifavor_stocks')
          .set({ definition: JSON.stringify(definition) })
          .where('stock_id', '=', stockId)
          .execute();
      } finally {
        await handle.close();
      }
      const answered = {
        available_begin_time: formatBeijingTime(begin),
        available_end_time: formatBeijingTime(Math.floor(end / 60_000) * 60_000),
      };
      expect(availableTime(await readStock(stockId))).toEqual(answered);
      expect(availableTime(await readCoupon(c))).toEqual(answered);
    });
  });
}
