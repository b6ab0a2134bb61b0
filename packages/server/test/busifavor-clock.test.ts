import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BASE,
  bindAppidWithUser,
  expectError,
  pluginSendOne,
  reqNo,
  signedJson,
} from './busifavor-helpers.js';

/**
 * Busifavor business time follows the merchant's virtual clock (docs/simulation.md): expiry, daily
 * caps, per-coupon validity windows, weekday/time-of-day and irregular slots, the stock window, and
 * every `*_time` field. The clock is moved through /sandbox/v1/clock, never by sleeping.
 */

const APPID = 'wxclock0000000001';
const CLOCK = '/sandbox/v1/clock';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`busifavor on the virtual clock over HTTP on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let mchid: string;
    let openid: string;
    /** The business time the merchant's frozen clock shows. */
    let now = '';
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      mchid = sandbox.merchant.mchid;
      openid = (await bindAppidWithUser(sandbox, APPID)).openids[APPID] as string;
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    const post = (path: string, body: unknown) =>
      sandbox.request({ method: 'POST', path, body: body as object });
    const get = (path: string) => sandbox.request({ method: 'GET', path });

    /** Freezes the merchant's clock at a Beijing time (tests may go back to their own start). */
    const freeze = async (time: string) => {
      const res = signedJson<{ now: string; mode: string }>(
        sandbox,
        await post(CLOCK, { action: 'freeze', time, allow_backwards: true }),
      );
      expect(res).toMatchObject({ now: time, mode: 'frozen' });
      now = res.now;
    };
    const advance = async (seconds: number) => {
      now = signedJson<{ now: string }>(sandbox, await post(CLOCK, { action: 'advance', seconds })).now;
    };

    const createStock = async (
      availableTime: Json,
      sendRule: Json = {},
      extra: Json = {},
    ): Promise<{ stock_id: string; create_time: string }> =>
      signedJson(
        sandbox,
        await post(`${BASE}/stocks`, {
          stock_name: '时钟测试券',
          belong_merchant: mchid,
          goods_name: '全场通用',
          stock_type: 'NORMAL',
          coupon_use_rule: {
            coupon_available_time: availableTime,
            fixed_normal_coupon: { discount_amount: 100, transaction_minimum: 1000 },
            use_method: 'OFF_LINE',
          },
          stock_send_rule: { max_coupons: 100, max_coupons_per_user: 10, ...sendRule },
          out_request_no: reqNo('CLKSTOCK'),
          coupon_code_mode: 'WECHATPAY_MODE',
          ...extra,
        }),
      );
    const send = (stockId: string) => pluginSendOne(sandbox, APPID, openid, stockId, reqNo('CLKSEND'));
    const sendOk = async (stockId: string): Promise<string> => {
      const item = await send(stockId);
      expect(item.code, item.message).toBe('SUCCESS');
      return item.coupon_code as string;
    };
    const coupon = async (code: string) =>
      signedJson<Json>(sandbox, await get(`${BASE}/users/${openid}/coupons/${code}/appids/${APPID}`));
    const use = (stockId: string, code: string, useRequestNo = reqNo('CLKUSE')) =>
      post(`${BASE}/coupons/use`, {
        coupon_code: code,
        stock_id: stockId,
        appid: APPID,
        use_time: now,
        use_request_no: useRequestNo,
      });
    const expectUsable = async (stockId: string, code: string) => {
      const used = signedJson(sandbox, await use(stockId, code));
      expect(used).toEqual({ stock_id: stockId, openid, wechatpay_use_time: now });
    };
    const expectNotUsable = async (stockId: string, code: string) => {
      expectError(await use(stockId, code), 403, 'RULE_LIMIT', /^券不在有效期内/);
      expect((await coupon(code)).coupon_state).not.toBe('USED');
    };
    const list = async (stockId: string, state?: string) =>
      signedJson<{ data: Json[]; total_count: number }>(
        sandbox,
        await get(
          `${BASE}/users/${openid}/coupons?appid=${APPID}&stock_id=${stockId}&creator_merchant=${mchid}${
            state ? `&coupon_state=${state}` : ''
          }`,
        ),
      );
    const stock = async (stockId: string) =>
      signedJson<Json>(sandbox, await get(`${BASE}/stocks/${stockId}`));

    it('a coupon turns EXPIRED one second after its last usable second: get, list filters, use and return follow', async () => {
      await freeze('2030-06-03T10:00:00+08:00');
      const { stock_id: stockId, create_time } = await createStock({
        available_begin_time: '2030-06-03T09:00:00+08:00',
        available_end_time: '2030-06-13T10:00:00+08:00',
      });
      expect(create_time).toBe('2030-06-03T10:00:00+08:00');
      const a = await sendOk(stockId);
      const b = await sendOk(stockId);
      expect(await coupon(a)).toMatchObject({
        coupon_state: 'SENDED',
        receive_time: '2030-06-03T10:00:00+08:00',
        available_start_time: '2030-06-03T10:00:00+08:00',
        expire_time: '2030-06-13T10:00:00+08:00',
      });

      await freeze('2030-06-13T10:00:00+08:00');
      expect((await coupon(a)).coupon_state).toBe('SENDED');
      expect((await list(stockId, 'SENDED')).total_count).toBe(2);
      await expectUsable(stockId, b);

      await advance(1);
      expect((await coupon(a)).coupon_state).toBe('EXPIRED');
      const expired = await list(stockId, 'EXPIRED');
      expect(expired.total_count).toBe(1);
      expect(expired.data[0]).toMatchObject({ coupon_code: a, coupon_state: 'EXPIRED' });
      expect((await list(stockId, 'SENDED')).total_count).toBe(0);
      expect((await list(stockId, 'USED')).data.map((c) => c.coupon_code)).toEqual([b]);
      expect((await list(stockId)).data.find((c) => c.coupon_code === a)?.coupon_state).toBe('EXPIRED');
      await expectNotUsable(stockId, a);
      expectError(
        await post(`${BASE}/coupons/deactivate`, {
          coupon_code: a,
          stock_id: stockId,
          deactivate_request_no: reqNo('CLKDEACT'),
        }),
        400,
        'INVALID_REQUEST',
      );
      // A coupon returned after its period lands in EXPIRED, not back in the card bag as usable.
      signedJson(
        sandbox,
        await post(`${BASE}/coupons/return`, {
          coupon_code: b,
          stock_id: stockId,
          return_request_no: reqNo('CLKRET'),
        }),
      );
      expect(await coupon(b)).toMatchObject({ coupon_state: 'EXPIRED', return_time: now });
      expect((await list(stockId, 'EXPIRED')).total_count).toBe(2);
    });

    it('the daily cap resets at 00:00 Beijing time, not at UTC midnight', async () => {
      await freeze('2030-06-03T23:59:00+08:00');
      const { stock_id: stockId } = await createStock(
        {
          available_begin_time: '2030-06-03T09:00:00+08:00',
          available_end_time: '2030-07-03T09:00:00+08:00',
        },
        { max_coupons: 20, max_coupons_per_user: 10, max_coupons_by_day: 2 },
      );
      await sendOk(stockId);
      await sendOk(stockId);
      expect((await send(stockId)).code).toBe('DAYLIMIT');
      expect((await stock(stockId)).send_count_information).toEqual({
        total_send_num: 2,
        total_send_amount: 200,
        today_send_num: 2,
        today_send_amount: 200,
      });
      await advance(59); // 23:59:59, still the same day
      expect((await send(stockId)).code).toBe('DAYLIMIT');
      await advance(1); // 00:00:00 Beijing
      expect(now).toBe('2030-06-04T00:00:00+08:00');
      expect((await stock(stockId)).send_count_information).toEqual({
        total_send_num: 2,
        total_send_amount: 200,
        today_send_num: 0,
        today_send_amount: 0,
      });
      await sendOk(stockId);
      await freeze('2030-06-04T07:59:59+08:00');
      await sendOk(stockId);
      expect((await send(stockId)).code).toBe('DAYLIMIT');
      await advance(2); // 08:00:01 Beijing = 00:00:01 UTC: no reset
      expect((await send(stockId)).code).toBe('DAYLIMIT');
      expect((await stock(stockId)).send_count_information).toMatchObject({
        total_send_num: 4,
        today_send_num: 2,
      });
    });

    it('wait_days_after_receive W and available_day_after_receive N: usable from 00:00 of day W, until 23:59:59 of day N', async () => {
      await freeze('2030-06-03T15:00:00+08:00');
      const { stock_id: stockId } = await createStock({
        available_begin_time: '2030-06-03T09:00:00+08:00',
        available_end_time: '2030-07-03T09:00:00+08:00',
        wait_days_after_receive: 1,
        available_day_after_receive: 2,
      });
      const first = await sendOk(stockId);
      const second = await sendOk(stockId);
      expect(await coupon(first)).toMatchObject({
        coupon_state: 'SENDED',
        receive_time: '2030-06-03T15:00:00+08:00',
        available_start_time: '2030-06-04T00:00:00+08:00',
        expire_time: '2030-06-05T23:59:59+08:00',
      });
      await expectNotUsable(stockId, first);
      await freeze('2030-06-03T23:59:59+08:00');
      await expectNotUsable(stockId, first);
      await advance(1);
      await expectUsable(stockId, first);
      await freeze('2030-06-05T23:59:59+08:00');
      expect((await coupon(second)).coupon_state).toBe('SENDED');
      await advance(1);
      expect((await coupon(second)).coupon_state).toBe('EXPIRED');
      await expectNotUsable(stockId, second);
    });

    it('available_day_after_receive alone: usable at once until 23:59:59 of day N, never after the stock end', async () => {
      await freeze('2030-06-03T15:00:00+08:00');
      const { stock_id: oneDay } = await createStock({
        available_begin_time: '2030-06-03T09:00:00+08:00',
        available_end_time: '2030-07-03T09:00:00+08:00',
        available_day_after_receive: 1,
      });
      const code = await sendOk(oneDay);
      expect(await coupon(code)).toMatchObject({
        available_start_time: '2030-06-03T15:00:00+08:00',
        expire_time: '2030-06-03T23:59:59+08:00',
      });
      await expectUsable(oneDay, code);

      const { stock_id: clipped } = await createStock({
        available_begin_time: '2030-06-03T09:00:00+08:00',
        available_end_time: '2030-06-05T12:00:00+08:00',
        available_day_after_receive: 10,
      });
      const late = await sendOk(clipped);
      expect((await coupon(late)).expire_time).toBe('2030-06-05T12:00:00+08:00');
      await freeze('2030-06-05T12:00:01+08:00');
      await expectNotUsable(clipped, late);
      expect((await coupon(late)).coupon_state).toBe('EXPIRED');
    });

    it('available_second_after_receive: usable for N seconds from receipt', async () => {
      await freeze('2030-06-03T10:00:00+08:00');
      const { stock_id: stockId } = await createStock({
        available_begin_time: '2030-06-03T09:00:00+08:00',
        available_end_time: '2030-07-03T09:00:00+08:00',
        available_second_after_receive: 3600,
      });
      const [c1, c2] = [await sendOk(stockId), await sendOk(stockId)] as [string, string];
      expect(await coupon(c1)).toMatchObject({
        available_start_time: '2030-06-03T10:00:00+08:00',
        expire_time: '2030-06-03T10:59:59+08:00',
      });
      await advance(3599);
      await expectUsable(stockId, c1);
      await advance(1);
      expect((await coupon(c2)).coupon_state).toBe('EXPIRED');
      await expectNotUsable(stockId, c2);
    });

    it('available_week: weekdays and time-of-day slots are read in Beijing time', async () => {
      // 2030-06-03 is a Monday; 07:00 Beijing is still Sunday in UTC.
      await freeze('2030-06-03T00:30:00+08:00');
      const { stock_id: stockId } = await createStock({
        available_begin_time: '2030-06-03T00:00:00+08:00',
        available_end_time: '2030-06-30T00:00:00+08:00',
        available_week: { week_day: [1], available_day_time: [{ begin_time: 3600, end_time: 28800 }] },
      });
      const [c1, c2, c3] = [await sendOk(stockId), await sendOk(stockId), await sendOk(stockId)] as [
        string,
        string,
        string,
      ];
      await expectNotUsable(stockId, c1); // Monday, before 01:00
      await freeze('2030-06-03T07:00:00+08:00');
      await expectUsable(stockId, c1);
      await freeze('2030-06-03T08:00:00+08:00'); // the slot's last second
      await expectUsable(stockId, c2);
      await advance(1);
      await expectNotUsable(stockId, c3);
      await freeze('2030-06-04T07:00:00+08:00'); // Tuesday
      await expectNotUsable(stockId, c3);
      expect((await coupon(c3)).coupon_state).toBe('SENDED'); // outside a slot is not expired
      await freeze('2030-06-10T01:00:00+08:00'); // next Monday
      await expectUsable(stockId, c3);
    });

    it('irregulary_avaliable_time: only inside the listed periods (end second included)', async () => {
      await freeze('2030-06-03T10:00:00+08:00');
      const { stock_id: stockId } = await createStock({
        available_begin_time: '2030-06-03T09:00:00+08:00',
        available_end_time: '2030-06-30T09:00:00+08:00',
        irregulary_avaliable_time: [
          { begin_time: '2030-06-05T10:00:00+08:00', end_time: '2030-06-05T12:00:00+08:00' },
          { begin_time: '2030-06-07T10:00:00+08:00', end_time: '2030-06-07T12:00:00+08:00' },
        ],
      });
      const [c1, c2, c3] = [await sendOk(stockId), await sendOk(stockId), await sendOk(stockId)] as [
        string,
        string,
        string,
      ];
      await expectNotUsable(stockId, c1);
      await freeze('2030-06-05T09:59:59+08:00');
      await expectNotUsable(stockId, c1);
      await advance(1);
      await expectUsable(stockId, c1);
      await freeze('2030-06-05T12:00:00+08:00');
      await expectUsable(stockId, c2);
      await advance(1);
      await expectNotUsable(stockId, c3);
      await freeze('2030-06-06T11:00:00+08:00');
      await expectNotUsable(stockId, c3);
      await freeze('2030-06-07T11:00:00+08:00');
      await expectUsable(stockId, c3);
    });

    it('the stock window: a coupon sent before it opens is usable from available_begin_time; after the end the stock is STOPED and refuses sends and changes', async () => {
      await freeze('2030-06-03T10:00:00+08:00');
      const { stock_id: stockId } = await createStock({
        available_begin_time: '2030-06-05T00:00:00+08:00',
        available_end_time: '2030-06-06T00:00:00+08:00',
      });
      expect((await stock(stockId)).stock_state).toBe('RUNNING');
      const early = await sendOk(stockId);
      expect(await coupon(early)).toMatchObject({
        receive_time: '2030-06-03T10:00:00+08:00',
        available_start_time: '2030-06-05T00:00:00+08:00',
        expire_time: '2030-06-06T00:00:00+08:00',
      });
      await expectNotUsable(stockId, early);
      await freeze('2030-06-05T00:00:00+08:00');
      await expectUsable(stockId, early);

      await freeze('2030-06-06T00:00:00+08:00'); // the window's last second
      expect((await stock(stockId)).stock_state).toBe('RUNNING');
      const last = await sendOk(stockId);
      expect((await coupon(last)).expire_time).toBe('2030-06-06T00:00:00+08:00');

      await advance(1);
      expect((await stock(stockId)).stock_state).toBe('STOPED');
      expect((await send(stockId)).code).toBe('NOTRUNNING');
      expectError(
        await post(`${BASE}/coupons/send`, {
          openid,
          appid: APPID,
          stock_id: stockId,
          out_request_no: reqNo('CLKAPI'),
        }),
        403,
        'RULE_LIMIT',
      );
      expectError(
        await sandbox.request({
          method: 'PATCH',
          path: `${BASE}/stocks/${stockId}/budget`,
          body: { target_max_coupons: 200, current_max_coupons: 100, modify_budget_request_no: reqNo('B') },
        }),
        403,
        'RULE_LIMIT',
      );
      expectError(
        await sandbox.request({
          method: 'PATCH',
          path: `${BASE}/stocks/${stockId}`,
          body: { out_request_no: reqNo('M'), comment: '改' },
        }),
        403,
        'RULE_LIMIT',
      );
      expect((await coupon(last)).coupon_state).toBe('EXPIRED');
      // Creating a stock whose window ended in business time is refused, though it is the future in real time.
      expectError(
        await post(`${BASE}/stocks`, {
          stock_name: '过期批次',
          belong_merchant: mchid,
          goods_name: '全场通用',
          stock_type: 'NORMAL',
          coupon_use_rule: {
            coupon_available_time: {
              available_begin_time: '2030-06-01T00:00:00+08:00',
              available_end_time: '2030-06-06T00:00:00+08:00',
            },
            fixed_normal_coupon: { discount_amount: 100, transaction_minimum: 1000 },
            use_method: 'OFF_LINE',
          },
          stock_send_rule: { max_coupons: 10, max_coupons_per_user: 1 },
          out_request_no: reqNo('CLKPAST'),
          coupon_code_mode: 'WECHATPAY_MODE',
        }),
        400,
        'PARAM_ERROR',
      );
    });

    it('every *_time field is business time: associate, disassociate, use, return, deactivate, code upload', async () => {
      await freeze('2031-01-01T08:00:00+08:00');
      const { stock_id: stockId, create_time } = await createStock({
        available_begin_time: '2031-01-01T00:00:00+08:00',
        available_end_time: '2031-02-01T00:00:00+08:00',
      });
      expect(create_time).toBe(now);
      const code = await sendOk(stockId);
      const other = await sendOk(stockId);
      expect((await coupon(code)).receive_time).toBe('2031-01-01T08:00:00+08:00');
      await advance(60);
      const link = { coupon_code: code, stock_id: stockId, out_trade_no: 'ORDER1' };
      expect(
        signedJson(sandbox, await post(`${BASE}/coupons/associate`, { ...link, out_request_no: reqNo('A') })),
      ).toEqual({ wechatpay_associate_time: '2031-01-01T08:01:00+08:00' });
      await advance(60);
      expect(
        signedJson(
          sandbox,
          await post(`${BASE}/coupons/disassociate`, { ...link, out_request_no: reqNo('D') }),
        ),
      ).toEqual({ wechatpay_disassociate_time: '2031-01-01T08:02:00+08:00' });
      await advance(3600);
      await expectUsable(stockId, code);
      await advance(86400);
      expect(
        signedJson(
          sandbox,
          await post(`${BASE}/coupons/return`, {
            coupon_code: code,
            stock_id: stockId,
            return_request_no: reqNo('R'),
          }),
        ),
      ).toEqual({ wechatpay_return_time: '2031-01-02T09:02:00+08:00' });
      expect(await coupon(code)).toMatchObject({
        coupon_state: 'SENDED',
        use_time: '2031-01-01T09:02:00+08:00',
        return_time: '2031-01-02T09:02:00+08:00',
      });
      await advance(1);
      expect(
        signedJson(
          sandbox,
          await post(`${BASE}/coupons/deactivate`, {
            coupon_code: other,
            stock_id: stockId,
            deactivate_request_no: reqNo('X'),
          }),
        ),
      ).toEqual({ wechatpay_deactivate_time: '2031-01-02T09:02:01+08:00' });
      expect(await coupon(other)).toMatchObject({
        coupon_state: 'DEACTIVATED',
        deactivate_time: '2031-01-02T09:02:01+08:00',
      });
      const { stock_id: upload } = await createStock(
        {
          available_begin_time: '2031-01-01T00:00:00+08:00',
          available_end_time: '2031-02-01T00:00:00+08:00',
        },
        {},
        { coupon_code_mode: 'MERCHANT_UPLOAD' },
      );
      const uploaded = signedJson<Json>(
        sandbox,
        await post(`${BASE}/stocks/${upload}/couponcodes`, {
          coupon_code_list: ['CLOCK-1'],
          upload_request_no: reqNo('U'),
        }),
      );
      expect(uploaded.success_time).toBe('2031-01-02T09:02:01+08:00');
    });
  });
}
