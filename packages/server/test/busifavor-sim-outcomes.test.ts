import { formatBeijingTime, signParamsHmacSha256 } from '@wechatpay-sandbox/sdk/protocol';
import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  addMerchant,
  addStock,
  BASE,
  bindAppidWithUser,
  expectError,
  pluginSendOne,
  pluginSign,
  REFUND_ID,
  reqNo,
  signedJson,
  subsidyPayBody,
  subsidyReturnBody,
  TRANSACTION_ID,
  useCouponNow,
} from './busifavor-helpers.js';

/**
 * The failure paths the sandbox cannot produce from its own state (docs/busifavor-coverage.md, the 6
 * uncovered pairs), made to happen through the simulation API: fault rules on the send endpoints answer
 * the plugin errcodes SYSTEMERROR / USER_GET_FAILED, and subsidy outcome rules make pay and return
 * receipts end in FAIL with PAY_RECEIPT_INSUFFICIENT_BALANCE, PAY_RECEIPT_NOT_INCOMESPLIT_ORDER,
 * PAY_RECEIPT_OTHER or RETURN_RECEIPT_INSUFFICIENT_BALANCE. Every answer is checked field by field and
 * its platform signature verified.
 */

const APPID = 'wxsimoutcome00001';
const FAULTS = '/sandbox/v1/faults';
const OUTCOMES = '/sandbox/v1/busifavor/subsidy-outcomes';
const SEND = '/sandbox/v1/busifavor/send';
const BEIJING_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/;

type Json = Record<string, unknown>;
interface SendResult {
  errcode: string;
  msg: string;
  send_coupon_result: Array<{ stock_id: string; out_request_no: string; coupon_code?: string; code: string }>;
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`busifavor simulated outcomes over HTTP on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let mchid: string;
    let apiV2Key: string;
    let openid: string;
    let other: Awaited<ReturnType<typeof addMerchant>>;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      mchid = sandbox.merchant.mchid;
      apiV2Key = sandbox.server.credentials.merchant.apiV2Key;
      openid = (await bindAppidWithUser(sandbox, APPID)).openids[APPID] as string;
      other = await addMerchant(sandbox, '1900000888');
    });
    afterEach(async () => {
      for (const path of [FAULTS, `${FAULTS}?scope=global`, OUTCOMES, `${OUTCOMES}?scope=global`]) {
        expect((await sandbox.request({ method: 'DELETE', path })).status).toBe(204);
      }
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    const post = (path: string, body: unknown, headers?: Record<string, string>) =>
      sandbox.request({ method: 'POST', path, body: body as object, ...(headers ? { headers } : {}) });
    const get = (path: string, merchant?: typeof other) =>
      sandbox.request({ method: 'GET', path, ...(merchant ? { merchant } : {}) });
    const createStock = (overrides: Json = {}) => addStock(sandbox, overrides);
    const sendCounts = async (stockId: string) =>
      signedJson<{ send_count_information: Json }>(sandbox, await get(`${BASE}/stocks/${stockId}`))
        .send_count_information;
    const userCoupons = async (stockId: string) =>
      signedJson<{ total_count: number }>(
        sandbox,
        await get(
          `${BASE}/users/${openid}/coupons?appid=${APPID}&stock_id=${stockId}&creator_merchant=${mchid}`,
        ),
      ).total_count;
    /** COUPON.SEND records of the stock in the outbox. */
    const sendEvents = async (stockId: string) => {
      const list = signedJson<{ data: Array<{ id: string }> }>(
        sandbox,
        await get('/sandbox/v1/notifications?event_type=COUPON.SEND&limit=500'),
      );
      let n = 0;
      for (const item of list.data) {
        const detail = signedJson<{ plaintext: Json }>(
          sandbox,
          await get(`/sandbox/v1/notifications/${item.id}`),
        );
        if (detail.plaintext.stock_id === stockId) n++;
      }
      return n;
    };
    const pluginBody = (stockId: string, out: string) => {
      const params = [{ stock_id: stockId, out_request_no: out }];
      return {
        appid: APPID,
        openid,
        send_coupon_merchant: mchid,
        send_coupon_params: params,
        sign: pluginSign(mchid, params, apiV2Key),
      };
    };
    const h5Url = (stockId: string, out: string) => {
      const params = { stock_id: stockId, out_request_no: out, send_coupon_merchant: mchid, open_id: openid };
      return `https://action.weixin.qq.com/busifavor/getcouponinfo?${new URLSearchParams({
        ...params,
        sign: signParamsHmacSha256(params, apiV2Key),
      })}#wechat_redirect`;
    };
    const payGiftBody = (stockId: string, out: string) => ({
      stock_id: stockId,
      appid: APPID,
      openid,
      transaction_id: TRANSACTION_ID,
      out_request_no: out,
    });
    /** Asserts a send answered the injected errcode: 200, signed, nothing sent. */
    const expectInjectedSend = (
      res: Awaited<ReturnType<typeof post>>,
      errcode: string,
      msg: string,
      by: string,
    ) => {
      expect(signedJson<SendResult>(sandbox, res)).toEqual({ errcode, msg, send_coupon_result: [] });
      expect(res.headers['wechatpay-sandbox-injected-fault']).toBe(by);
    };
    // A stock without a daily cap answers no today_* members.
    const zeroCounts = { total_send_num: 0, total_send_amount: 0 };

    describe('send endpoints answer plugin errcodes', () => {
      it('SYSTEMERROR on the plugin send: no coupon, no COUPON.SEND, no count; the retry with the same out_request_no sends once', async () => {
        const stockId = await createStock();
        const rule = signedJson<Json>(
          sandbox,
          await post(FAULTS, { method: 'POST', path: `${SEND}/miniapp`, code: 'SYSTEMERROR', count: 1 }),
        );
        expect(Object.keys(rule).sort()).toEqual(
          [
            'id',
            'scope',
            'mchid',
            'method',
            'path',
            'code',
            'delay_ms',
            'remaining',
            'seed',
            'matched',
            'fired',
            'create_time',
          ].sort(),
        );
        expect(rule).toMatchObject({
          scope: 'merchant',
          mchid,
          method: 'POST',
          path: `${SEND}/miniapp`,
          code: 'SYSTEMERROR',
          delay_ms: 0,
          remaining: 1,
          matched: 0,
          fired: 0,
        });
        expect(rule.id).toMatch(/^FR[0-9A-Za-z]{22}$/);
        expect(rule.create_time).toMatch(BEIJING_TIME);

        const out = reqNo('SYSERR');
        expectInjectedSend(
          await post(`${SEND}/miniapp`, pluginBody(stockId, out)),
          'SYSTEMERROR',
          '系统错误，请稍后重试',
          `rule=${rule.id}`,
        );
        expect(await sendCounts(stockId)).toEqual(zeroCounts);
        expect(await userCoupons(stockId)).toBe(0);
        expect(await sendEvents(stockId)).toBe(0);
        expect(signedJson<Json>(sandbox, await get(`${FAULTS}/${rule.id}`))).toMatchObject({
          remaining: 0,
          matched: 1,
          fired: 1,
        });

        const retried = signedJson<SendResult>(
          sandbox,
          await post(`${SEND}/miniapp`, pluginBody(stockId, out)),
        );
        expect(retried.errcode).toBe('OK');
        expect(retried.send_coupon_result).toHaveLength(1);
        expect(retried.send_coupon_result[0]).toMatchObject({
          stock_id: stockId,
          out_request_no: out,
          code: 'SUCCESS',
        });
        expect(await sendCounts(stockId)).toEqual({ total_send_num: 1, total_send_amount: 100 });
        expect(await userCoupons(stockId)).toBe(1);
        expect(await sendEvents(stockId)).toBe(1);
      });

      it('USER_GET_FAILED on every channel through `*`, with a chosen msg; used up after count', async () => {
        const stockId = await createStock();
        const rule = signedJson<Json>(
          sandbox,
          await post(FAULTS, {
            path: `${SEND}/*`,
            code: 'USER_GET_FAILED',
            message: '用户信息获取失败',
            count: 3,
          }),
        );
        expect(rule).toMatchObject({ method: '*', path: `${SEND}/*`, code: 'USER_GET_FAILED', remaining: 3 });
        expect(rule.message).toBe('用户信息获取失败');
        const by = `rule=${rule.id}`;
        const outs = [reqNo('M'), reqNo('H'), reqNo('P')];
        expectInjectedSend(
          await post(`${SEND}/miniapp`, pluginBody(stockId, outs[0] as string)),
          'USER_GET_FAILED',
          '用户信息获取失败',
          by,
        );
        expectInjectedSend(
          await post(`${SEND}/h5`, { url: h5Url(stockId, outs[1] as string) }),
          'USER_GET_FAILED',
          '用户信息获取失败',
          by,
        );
        expectInjectedSend(
          await post(`${SEND}/paygift`, payGiftBody(stockId, outs[2] as string)),
          'USER_GET_FAILED',
          '用户信息获取失败',
          by,
        );
        expect(await sendCounts(stockId)).toEqual(zeroCounts);
        expect(await sendEvents(stockId)).toBe(0);
        // Used up: the same three sends now go through.
        const sent = [
          signedJson<SendResult>(
            sandbox,
            await post(`${SEND}/miniapp`, pluginBody(stockId, outs[0] as string)),
          ),
          signedJson<SendResult>(
            sandbox,
            await post(`${SEND}/h5`, { url: h5Url(stockId, outs[1] as string) }),
          ),
          signedJson<SendResult>(
            sandbox,
            await post(`${SEND}/paygift`, payGiftBody(stockId, outs[2] as string)),
          ),
        ];
        for (const [i, res] of sent.entries()) {
          expect(res.errcode).toBe('OK');
          expect(res.send_coupon_result[0]).toMatchObject({ out_request_no: outs[i], code: 'SUCCESS' });
        }
        expect(await sendCounts(stockId)).toMatchObject({ total_send_num: 3 });
        expect(await sendEvents(stockId)).toBe(3);
        expect(signedJson<Json>(sandbox, await get(`${FAULTS}/${rule.id}`))).toMatchObject({
          remaining: 0,
          fired: 3,
        });
      });

      it('a global rule fires for another merchant’s send; the per-request header answers an errcode and wins over rules', async () => {
        const stockId = await createStock();
        const global = signedJson<Json>(
          sandbox,
          await post(FAULTS, { scope: 'global', path: `${SEND}/miniapp`, code: 'SYSTEMERROR' }),
        );
        expect(global).toMatchObject({ scope: 'global', code: 'SYSTEMERROR' });
        expect(global).not.toHaveProperty('mchid');
        expect(global).not.toHaveProperty('remaining');
        // Another merchant's call is faulted by the global rule before it is looked at.
        expectInjectedSend(
          await sandbox.request({
            method: 'POST',
            path: `${SEND}/miniapp`,
            body: pluginBody(stockId, reqNo('OTHER')),
            merchant: other,
          }),
          'SYSTEMERROR',
          '系统错误，请稍后重试',
          `rule=${global.id}`,
        );
        expectInjectedSend(
          await post(`${SEND}/miniapp`, pluginBody(stockId, reqNo('HDR')), {
            'Wechatpay-Sandbox-Fault': 'USER_GET_FAILED',
          }),
          'USER_GET_FAILED',
          '获取用户信息失败，请稍后重试',
          'header',
        );
        expect(signedJson<Json>(sandbox, await get(`${FAULTS}/${global.id}`))).toMatchObject({ fired: 1 });
        // A /v3 code, or a status, in the header of a send endpoint is refused, not ignored.
        for (const value of ['SYSTEM_ERROR', 'SYSTEMERROR; status=500']) {
          const res = await post(`${SEND}/miniapp`, pluginBody(stockId, reqNo('BAD')), {
            'Wechatpay-Sandbox-Fault': value,
          });
          expectError(res, 400, 'INVALID_REQUEST');
          expect(res.json<{ detail: Json }>().detail).toMatchObject({
            field: 'Wechatpay-Sandbox-Fault',
            value,
            location: 'header',
          });
        }
        expect(await sendCounts(stockId)).toEqual(zeroCounts);
        expect(await sendEvents(stockId)).toBe(0);
      });

      it('refuses bad send rules with 400 PARAM_ERROR naming the field, and stores none', async () => {
        const cases: Array<[Json, string]> = [
          [{ path: `${SEND}/miniapp`, code: 'SYSTEM_ERROR' }, '/code'],
          [{ path: `${SEND}/miniapp`, code: 'USER_NOT_EXISTS' }, '/code'],
          [{ path: `${BASE}/coupons/use`, code: 'SYSTEMERROR' }, '/code'],
          [{ path: `${SEND}/miniapp`, code: 'SYSTEMERROR', status: 500 }, '/status'],
          [{ path: `${SEND}/wxpay`, code: 'SYSTEMERROR' }, '/path'],
          [{ path: `${SEND}/miniapp/x`, code: 'SYSTEMERROR' }, '/path'],
          [{ path: '/sandbox/v1/faults', code: 'SYSTEM_ERROR' }, '/path'],
          [{ method: 'GET', path: `${SEND}/h5`, code: 'SYSTEMERROR' }, '/method'],
        ];
        for (const [body, field] of cases) {
          const res = await post(FAULTS, body);
          expectError(res, 400, 'PARAM_ERROR');
          expect(res.json<{ detail: Json }>().detail, JSON.stringify(body)).toMatchObject({
            field,
            location: 'body',
          });
        }
        expect(signedJson<Json>(sandbox, await get(FAULTS))).toEqual({ total_count: 0, data: [] });
      });
    });

    describe('subsidy outcome rules', () => {
      /** A NORMAL stock (discount 100 fen) with one coupon sent and used. */
      const usedCoupon = async (stockId?: string) => {
        const id = stockId ?? (await createStock());
        const code = (await pluginSendOne(sandbox, APPID, openid, id)).coupon_code as string;
        await useCouponNow(sandbox, APPID, id, code);
        return { stockId: id, code };
      };
      const payBody = (c: { stockId: string; code: string }, amount = 100) =>
        subsidyPayBody(sandbox, c, { amount });
      const pay = async (body: Json) =>
        signedJson<Json>(sandbox, await post(`${BASE}/subsidy/pay-receipts`, body));
      const addOutcome = async (body: Json) => signedJson<Json>(sandbox, await post(OUTCOMES, body));
      const outcome = async (id: unknown) => signedJson<Json>(sandbox, await get(`${OUTCOMES}/${id}`));

      it('PAY_RECEIPT_INSUFFICIENT_BALANCE: a stored, queryable FAIL receipt; its replay answers it; it uses no quota', async () => {
        const rule = await addOutcome({ fail_reason: 'PAY_RECEIPT_INSUFFICIENT_BALANCE', count: 1 });
        expect(Object.keys(rule)).toEqual([
          'id',
          'scope',
          'mchid',
          'receipt_type',
          'fail_reason',
          'remaining',
          'fired',
          'create_time',
        ]);
        expect(rule).toMatchObject({
          scope: 'merchant',
          mchid,
          receipt_type: 'PAY_RECEIPT',
          fail_reason: 'PAY_RECEIPT_INSUFFICIENT_BALANCE',
          remaining: 1,
          fired: 0,
        });
        expect(rule.id).toMatch(/^SO[0-9A-Za-z]{22}$/);
        expect(rule.create_time).toMatch(BEIJING_TIME);
        expect(signedJson<Json>(sandbox, await get(OUTCOMES))).toEqual({ total_count: 1, data: [rule] });

        const c = await usedCoupon();
        const body = payBody(c);
        const failed = await pay(body);
        expect(Object.keys(failed)).toEqual([
          'subsidy_receipt_id',
          'stock_id',
          'coupon_code',
          'transaction_id',
          'payer_merchant',
          'payee_merchant',
          'amount',
          'description',
          'status',
          'fail_reason',
          'out_subsidy_no',
          'create_time',
        ]);
        expect(failed).toEqual({
          subsidy_receipt_id: failed.subsidy_receipt_id,
          stock_id: c.stockId,
          coupon_code: c.code,
          transaction_id: TRANSACTION_ID,
          payer_merchant: mchid,
          payee_merchant: mchid,
          amount: 100,
          description: '补差付款',
          status: 'PAY_RECEIPT_FAIL',
          fail_reason: 'PAY_RECEIPT_INSUFFICIENT_BALANCE',
          out_subsidy_no: body.out_subsidy_no,
          create_time: failed.create_time,
        });
        expect(failed.subsidy_receipt_id).toMatch(/^\d{28}$/);
        expect(failed.create_time).toMatch(BEIJING_TIME);
        expect(await outcome(rule.id)).toEqual({ ...rule, remaining: 0, fired: 1 });

        // Stored and queryable, by id and in the coupon's list.
        expect(
          signedJson<Json>(sandbox, await get(`${BASE}/subsidy/pay-receipts/${failed.subsidy_receipt_id}`)),
        ).toEqual(failed);
        expect(
          signedJson<Json>(
            sandbox,
            await get(`${BASE}/subsidy/pay-receipts?stock_id=${c.stockId}&coupon_code=${c.code}`),
          ),
        ).toEqual({ pay_receipt_list: [failed] });
        // The same out_subsidy_no answers the stored FAIL receipt (idempotent), and takes no firing.
        expect(await pay(body)).toEqual(failed);
        expect(await outcome(rule.id)).toMatchObject({ remaining: 0, fired: 1 });
        // A new out_subsidy_no pays: the FAIL receipt counted against no quota.
        const paid = await pay(payBody(c));
        expect(paid).toMatchObject({ status: 'PAY_RECEIPT_SUCCESS', amount: 100 });
        expect(paid).not.toHaveProperty('fail_reason');
        expect(paid.success_time).toMatch(BEIJING_TIME);
        expect(
          signedJson<{ pay_receipt_list: Json[] }>(
            sandbox,
            await get(`${BASE}/subsidy/pay-receipts?stock_id=${c.stockId}&coupon_code=${c.code}`),
          ).pay_receipt_list.map((r) => r.status),
        ).toEqual(['PAY_RECEIPT_FAIL', 'PAY_RECEIPT_SUCCESS']);
      });

      it('PAY_RECEIPT_NOT_INCOMESPLIT_ORDER for one stock only; other stocks pay', async () => {
        const target = await usedCoupon();
        const elsewhere = await usedCoupon();
        const rule = await addOutcome({
          fail_reason: 'PAY_RECEIPT_NOT_INCOMESPLIT_ORDER',
          stock_id: target.stockId,
          count: 1,
        });
        expect(rule).toMatchObject({ stock_id: target.stockId, receipt_type: 'PAY_RECEIPT', remaining: 1 });
        expect((await pay(payBody(elsewhere))).status).toBe('PAY_RECEIPT_SUCCESS');
        expect(await outcome(rule.id)).toMatchObject({ remaining: 1, fired: 0 });
        const failed = await pay(payBody(target));
        expect(failed).toMatchObject({
          stock_id: target.stockId,
          status: 'PAY_RECEIPT_FAIL',
          fail_reason: 'PAY_RECEIPT_NOT_INCOMESPLIT_ORDER',
        });
        expect(failed).not.toHaveProperty('success_time');
      });

      it('PAY_RECEIPT_OTHER fires only on receipts that would succeed: refusals and own failures take no firing', async () => {
        const rule = await addOutcome({ fail_reason: 'PAY_RECEIPT_OTHER', count: 2 });
        // A coupon not used yet: refused, no receipt, the rule keeps its firings.
        const stockId = await createStock();
        const unused = (await pluginSendOne(sandbox, APPID, openid, stockId)).coupon_code as string;
        expectError(
          await post(`${BASE}/subsidy/pay-receipts`, payBody({ stockId, code: unused })),
          400,
          'INVALID_REQUEST',
        );
        // Over the discount: fails for its own reason.
        const c = await usedCoupon(stockId);
        expect(await pay(payBody(c, 101))).toMatchObject({
          status: 'PAY_RECEIPT_FAIL',
          fail_reason: 'PAY_RECEIPT_EXCEED_SUBSIDY_AMOUNT_QUOTA',
        });
        expect(await outcome(rule.id)).toMatchObject({ remaining: 2, fired: 0 });
        for (let i = 0; i < 2; i++) {
          expect(await pay(payBody(c))).toMatchObject({
            status: 'PAY_RECEIPT_FAIL',
            fail_reason: 'PAY_RECEIPT_OTHER',
          });
        }
        expect(await outcome(rule.id)).toMatchObject({ remaining: 0, fired: 2 });
        expect((await pay(payBody(c))).status).toBe('PAY_RECEIPT_SUCCESS');
      });

      it('exactly `count` FAIL receipts under concurrency', async () => {
        const stockId = await createStock({
          stock_send_rule: { max_coupons: 100, max_coupons_per_user: 10 },
        });
        const coupons = [];
        for (let i = 0; i < 8; i++) coupons.push(await usedCoupon(stockId));
        const rule = await addOutcome({ fail_reason: 'PAY_RECEIPT_INSUFFICIENT_BALANCE', count: 3 });
        const receipts = await Promise.all(coupons.map((c) => pay(payBody(c))));
        expect(receipts.filter((r) => r.status === 'PAY_RECEIPT_FAIL')).toHaveLength(3);
        expect(receipts.filter((r) => r.status === 'PAY_RECEIPT_SUCCESS')).toHaveLength(5);
        expect(await outcome(rule.id)).toMatchObject({ remaining: 0, fired: 3 });
      });

      it('RETURN_RECEIPT_INSUFFICIENT_BALANCE: a stored FAIL return that returns nothing; pay rules leave returns alone', async () => {
        const c = await usedCoupon();
        const paid = await pay(payBody(c));
        expect(paid.status).toBe('PAY_RECEIPT_SUCCESS');
        // An unlimited pay rule does not touch return receipts.
        await addOutcome({ fail_reason: 'PAY_RECEIPT_OTHER' });
        const rule = await addOutcome({ fail_reason: 'RETURN_RECEIPT_INSUFFICIENT_BALANCE', count: 1 });
        expect(rule).toMatchObject({ receipt_type: 'RETURN_RECEIPT', remaining: 1 });
        const returnBody = (amount: number) => subsidyReturnBody(sandbox, c, amount);
        const body = returnBody(100);
        const failed = signedJson<Json>(sandbox, await post(`${BASE}/subsidy/return-receipts`, body));
        expect(failed).toEqual({
          subsidy_return_receipt_id: failed.subsidy_return_receipt_id,
          stock_id: c.stockId,
          coupon_code: c.code,
          transaction_id: TRANSACTION_ID,
          refund_id: REFUND_ID,
          payer_merchant: mchid,
          payee_merchant: mchid,
          amount: 100,
          description: '补差回退',
          status: 'RETURN_RECEIPT_FAIL',
          fail_reason: 'RETURN_RECEIPT_INSUFFICIENT_BALANCE',
          subsidy_receipt_id: paid.subsidy_receipt_id,
          out_subsidy_return_no: body.out_subsidy_return_no,
          return_create_time: failed.return_create_time,
        });
        expect(failed.subsidy_return_receipt_id).toMatch(/^\d{28}$/);
        expect(failed.return_create_time).toMatch(BEIJING_TIME);
        expect(await outcome(rule.id)).toMatchObject({ remaining: 0, fired: 1 });
        expect(
          signedJson<Json>(
            sandbox,
            await get(`${BASE}/subsidy/return-receipts/${failed.subsidy_return_receipt_id}`),
          ),
        ).toEqual(failed);
        // The pay receipt is untouched; the replay answers the stored FAIL return.
        const payNow = signedJson<Json>(
          sandbox,
          await get(`${BASE}/subsidy/pay-receipts/${paid.subsidy_receipt_id}`),
        );
        expect(payNow).toEqual(paid);
        expect(signedJson<Json>(sandbox, await post(`${BASE}/subsidy/return-receipts`, body))).toEqual(
          failed,
        );
        // A new return number returns the whole amount: the FAIL return used none of it.
        const done = signedJson<Json>(
          sandbox,
          await post(`${BASE}/subsidy/return-receipts`, returnBody(100)),
        );
        expect(done).toMatchObject({ status: 'RETURN_RECEIPT_SUCCESS', amount: 100 });
        expect(done).not.toHaveProperty('fail_reason');
        expect(
          signedJson<Json>(sandbox, await get(`${BASE}/subsidy/pay-receipts/${paid.subsidy_receipt_id}`))
            .status,
        ).toBe('PAY_RECEIPT_FULL_RETURN');
      });

      it('global rules, visibility and deletion', async () => {
        const global = await addOutcome({ scope: 'global', fail_reason: 'RETURN_RECEIPT_OTHER', count: 5 });
        expect(global).toMatchObject({ scope: 'global', receipt_type: 'RETURN_RECEIPT', remaining: 5 });
        expect(global).not.toHaveProperty('mchid');
        const mine = await addOutcome({ fail_reason: 'PAY_RECEIPT_OTHER' });
        expect(mine).not.toHaveProperty('remaining');
        // Another merchant sees the global rule, not this merchant's.
        expect(signedJson<Json>(sandbox, await get(OUTCOMES, other))).toEqual({
          total_count: 1,
          data: [global],
        });
        expectError(await get(`${OUTCOMES}/${mine.id}`, other), 404, 'RESOURCE_NOT_EXISTS');
        expectError(
          await sandbox.request({ method: 'DELETE', path: `${OUTCOMES}/${mine.id}`, merchant: other }),
          404,
          'RESOURCE_NOT_EXISTS',
        );
        expect((await sandbox.request({ method: 'DELETE', path: `${OUTCOMES}/${mine.id}` })).status).toBe(
          204,
        );
        expectError(await get(`${OUTCOMES}/${mine.id}`), 404, 'RESOURCE_NOT_EXISTS');
        expect(signedJson<Json>(sandbox, await get(OUTCOMES))).toEqual({ total_count: 1, data: [global] });
        // Deleting without scope leaves the global rule; with scope=global removes it.
        expect((await sandbox.request({ method: 'DELETE', path: OUTCOMES })).status).toBe(204);
        expect(signedJson<{ total_count: number }>(sandbox, await get(OUTCOMES)).total_count).toBe(1);
        expect((await sandbox.request({ method: 'DELETE', path: `${OUTCOMES}?scope=global` })).status).toBe(
          204,
        );
        expect(signedJson<Json>(sandbox, await get(OUTCOMES))).toEqual({ total_count: 0, data: [] });
      });

      it('refuses bad rules with WeChat errors naming the field, and stores none', async () => {
        const past = formatBeijingTime(Date.now() - 60_000);
        const cases: Array<[Json, number, string, string]> = [
          [{ fail_reason: 'INSUFFICIENT_BALANCE' }, 400, 'PARAM_ERROR', '/fail_reason'],
          [{ fail_reason: 'PAY_RECEIPT_SUCCESS' }, 400, 'PARAM_ERROR', '/fail_reason'],
          [{ fail_reason: 'RETURN_RECEIPT_NOT_INCOMESPLIT_ORDER' }, 400, 'PARAM_ERROR', '/fail_reason'],
          [{ fail_reason: 'PAY_RECEIPT_OTHER', count: 0 }, 400, 'PARAM_ERROR', '/count'],
          [{ fail_reason: 'PAY_RECEIPT_OTHER', expire_time: past }, 400, 'PARAM_ERROR', '/expire_time'],
          [{ fail_reason: 'PAY_RECEIPT_OTHER', expire_time: 'tomorrow' }, 400, 'PARAM_ERROR', '/expire_time'],
          [
            { fail_reason: 'PAY_RECEIPT_OTHER', stock_id: '99999999' },
            404,
            'RESOURCE_NOT_EXISTS',
            '/stock_id',
          ],
        ];
        for (const [body, status, code, field] of cases) {
          const res = await post(OUTCOMES, body);
          expectError(res, status, code);
          expect(res.json<{ detail: Json }>().detail, JSON.stringify(body)).toMatchObject({ field });
        }
        // Schema refusals: an unknown member, a missing fail_reason.
        expectError(
          await post(OUTCOMES, { fail_reason: 'PAY_RECEIPT_OTHER', path: '/v3' }),
          400,
          'PARAM_ERROR',
        );
        expectError(await post(OUTCOMES, { count: 1 }), 400, 'PARAM_ERROR');
        expect(signedJson<Json>(sandbox, await get(OUTCOMES))).toEqual({ total_count: 0, data: [] });
      });
    });
  });
}
