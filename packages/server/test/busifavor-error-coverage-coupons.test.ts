import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import { DIALECTS, startSandbox, type TestResponse, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
} from './busifavor-helpers.js';

/**
 * Error coverage of the coupon-side busifavor endpoints (docs/busifavor-coverage.md): use, the
 * single-coupon GET, associate/disassociate, deactivate, the API send and subsidy pay receipts.
 * Every refusal is checked for status, code and message, and then the coupon, stock or receipt list is
 * read back to show that nothing changed.
 */

const APPID = 'wxcovercoupon0001';
const UNBOUND = 'wxcovernotbound02';
const NO_STOCK = '123456789012345';

type Json = Record<string, unknown>;
type Sent = { stockId: string; openid: string; code: string };

const reusedMessage = (field: string) => `${field} 已被使用，请检查是否重复使用了请求单号`;

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`busifavor coupon-side error coverage on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let mchid: string;
    let other: Awaited<ReturnType<typeof addMerchant>>;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      mchid = sandbox.merchant.mchid;
      other = await addMerchant(sandbox, '1900000732');
      await bindAppid(sandbox, APPID);
      // The other merchant shares the appid, so that its refusals are about the coupon, not the appid.
      await bindAppid(sandbox, APPID, other);
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    const post = (path: string, body: unknown, merchant = sandbox.merchant) =>
      sandbox.request({ method: 'POST', path, body: body as object, merchant });
    const get = (path: string) => sandbox.request({ method: 'GET', path });
    const createStock = (overrides: Json = {}) => addStock(sandbox, overrides);
    const newUser = (extra: Json = {}) => addUserOpenid(sandbox, APPID, extra);
    const sendTo = async (stockId: string, openid: string): Promise<Sent> => {
      const item = await pluginSendOne(sandbox, APPID, openid, stockId);
      expect(item.code, item.message).toBe('SUCCESS');
      return { stockId, openid, code: item.coupon_code as string };
    };
    const sentCoupon = async (overrides: Json = {}) => sendTo(await createStock(overrides), await newUser());
    const coupon = async (c: Sent) =>
      signedJson<Json>(sandbox, await get(`${BASE}/users/${c.openid}/coupons/${c.code}/appids/${APPID}`));
    const stock = async (stockId: string) =>
      signedJson<Json>(sandbox, await get(`${BASE}/stocks/${stockId}`));
    const useBody = (c: Sent, extra: Json = {}) => ({
      coupon_code: c.code,
      stock_id: c.stockId,
      appid: APPID,
      use_time: formatBeijingTime(Date.now()),
      use_request_no: reqNo('U'),
      ...extra,
    });
    const detailOf = (res: TestResponse) => res.json<{ detail?: Json }>().detail;

    describe('POST /coupons/use', () => {
      it('a use_time more than 24 h from now (either side) is PARAM_ERROR; the number stays free', async () => {
        const c = await sentCoupon();
        const before = await coupon(c);
        const no = reqNo('U');
        for (const offset of [-24 * 3600_000 - 60_000, 24 * 3600_000 + 60_000]) {
          const res = await post(
            `${BASE}/coupons/use`,
            useBody(c, { use_request_no: no, use_time: formatBeijingTime(Date.now() + offset) }),
          );
          expectError(res, 400, 'PARAM_ERROR', '参数错误：/use_time 核销时间与当前时间相差不能超过24小时');
          expect(detailOf(res)).toMatchObject({ field: '/use_time', location: 'body' });
        }
        expect(await coupon(c)).toEqual(before);
        const late = formatBeijingTime(Date.now() - 23 * 3600_000);
        const ok = signedJson<Json>(
          sandbox,
          await post(`${BASE}/coupons/use`, useBody(c, { use_request_no: no, use_time: late })),
        );
        expect(ok).toEqual({ stock_id: c.stockId, openid: c.openid, wechatpay_use_time: expect.any(String) });
        expect(await coupon(c)).toMatchObject({ coupon_state: 'USED', use_request_no: no });
      });

      it('stock_id is required for a MERCHANT_UPLOAD code, optional for a WECHATPAY_MODE one', async () => {
        const stockId = await createStock({ coupon_code_mode: 'MERCHANT_UPLOAD' });
        signedJson(
          sandbox,
          await post(`${BASE}/stocks/${stockId}/couponcodes`, {
            coupon_code_list: ['UPLOAD-0001'],
            upload_request_no: reqNo('C'),
          }),
        );
        const c = await sendTo(stockId, await newUser());
        expect(c.code).toBe('UPLOAD-0001');
        const { stock_id: _omitted, ...noStock } = useBody(c);
        expectError(
          await post(`${BASE}/coupons/use`, noStock),
          400,
          'PARAM_ERROR',
          '参数错误：/stock_id 商户自定义code的批次核销时必须填写stock_id',
        );
        expect((await coupon(c)).coupon_state).toBe('SENDED');
        const w = await sentCoupon();
        const { stock_id: _none, ...wechatpay } = useBody(w);
        expect(signedJson<Json>(sandbox, await post(`${BASE}/coupons/use`, wechatpay)).stock_id).toBe(
          w.stockId,
        );
      });

      it('404 批次不存在 / 券不存在 name which of the two is unknown', async () => {
        const c = await sentCoupon();
        expectError(
          await post(`${BASE}/coupons/use`, useBody({ ...c, stockId: NO_STOCK })),
          404,
          'RESOURCE_NOT_EXISTS',
          '批次不存在',
        );
        expectError(
          await post(`${BASE}/coupons/use`, useBody({ ...c, code: '1234567890123456789012' })),
          404,
          'RESOURCE_NOT_EXISTS',
          '券不存在',
        );
        expectError(
          await post(`${BASE}/coupons/use`, useBody(c, { openid: 'oNotTheHolder' })),
          404,
          'USER_NOT_EXISTS',
          'openid不正确',
        );
        expect((await coupon(c)).coupon_state).toBe('SENDED');
      });

      it('a use_request_no already used on another coupon is RESOURCE_ALREADY_EXISTS', async () => {
        const stockId = await createStock();
        const a = await sendTo(stockId, await newUser());
        const b = await sendTo(stockId, await newUser());
        const no = reqNo('U');
        signedJson(sandbox, await post(`${BASE}/coupons/use`, useBody(a, { use_request_no: no })));
        const res = await post(`${BASE}/coupons/use`, useBody(b, { use_request_no: no }));
        expectError(res, 400, 'RESOURCE_ALREADY_EXISTS', reusedMessage('/use_request_no'));
        expect(detailOf(res)).toMatchObject({ field: '/use_request_no', value: no });
        expect((await coupon(b)).coupon_state).toBe('SENDED');
        expect((await coupon(a)).coupon_state).toBe('USED');
      });

      it('a coupon the user deleted cannot be used (400 INVALID_REQUEST)', async () => {
        const c = await sentCoupon();
        signedJson(
          sandbox,
          await post('/sandbox/v1/busifavor/coupons/delete', { stock_id: c.stockId, coupon_code: c.code }),
          204,
        );
        expectError(
          await post(`${BASE}/coupons/use`, useBody(c)),
          400,
          'INVALID_REQUEST',
          '券已被用户删除，不可核销',
        );
        expect((await coupon(c)).coupon_state).toBe('DELETED');
      });
    });

    describe('GET /users/{openid}/coupons/{coupon_code}/appids/{appid}', () => {
      it('USER_NOT_EXISTS, APPID_MCHID_NOT_MATCH, and NO_AUTH to a merchant with no part in the coupon', async () => {
        const c = await sentCoupon();
        const path = (openid: string, appid: string) =>
          `${BASE}/users/${openid}/coupons/${c.code}/appids/${appid}`;
        expectError(await get(path('oUnknownOpenid', APPID)), 404, 'USER_NOT_EXISTS', 'openid不正确');
        expectError(
          await get(path(c.openid, UNBOUND)),
          400,
          'APPID_MCHID_NOT_MATCH',
          `appid ${UNBOUND} 与请求方商户无关联关系`,
        );
        const forbidden = await sandbox.request({
          method: 'GET',
          path: path(c.openid, APPID),
          merchant: other,
        });
        expectError(forbidden, 403, 'NO_AUTH', '无权限查询该券');
        expect(await coupon(c)).toMatchObject({ coupon_code: c.code, coupon_state: 'SENDED' });
      });
    });

    describe('POST /coupons/associate and /coupons/disassociate', () => {
      const body = (c: Sent, extra: Json = {}) => ({
        stock_id: c.stockId,
        coupon_code: c.code,
        out_trade_no: 'MCH_COVER_0001',
        out_request_no: reqNo('A'),
        ...extra,
      });

      for (const op of ['associate', 'disassociate'] as const) {
        it(`${op}: 404 批次不存在 / 券不存在 and 403 商户无权限操作该券 leave the coupon as it was`, async () => {
          const c = await sentCoupon();
          if (op === 'disassociate') signedJson(sandbox, await post(`${BASE}/coupons/associate`, body(c)));
          const before = await coupon(c);
          const path = `${BASE}/coupons/${op}`;
          expectError(
            await post(path, body({ ...c, stockId: NO_STOCK })),
            404,
            'RESOURCE_NOT_EXISTS',
            '批次不存在',
          );
          expectError(
            await post(path, body({ ...c, code: 'NOSUCHCODE' })),
            404,
            'RESOURCE_NOT_EXISTS',
            '券不存在',
          );
          expectError(await post(path, body(c), other), 403, 'NO_AUTH', '商户无权限操作该券');
          expect(await coupon(c)).toEqual(before);
        });
      }

      it('a replayed out_request_no answers the first result; with another order it is RESOURCE_ALREADY_EXISTS', async () => {
        const c = await sentCoupon();
        const a = body(c);
        const first = signedJson<Json>(sandbox, await post(`${BASE}/coupons/associate`, a));
        expect(signedJson<Json>(sandbox, await post(`${BASE}/coupons/associate`, a))).toEqual(first);
        expectError(
          await post(`${BASE}/coupons/associate`, { ...a, out_trade_no: 'MCH_COVER_0002' }),
          400,
          'RESOURCE_ALREADY_EXISTS',
          reusedMessage('/out_request_no'),
        );
        expect((await coupon(c)).associate_out_trade_no).toBe('MCH_COVER_0001');

        const d = body(c);
        const undone = signedJson<Json>(sandbox, await post(`${BASE}/coupons/disassociate`, d));
        expect(Object.keys(undone)).toEqual(['wechatpay_disassociate_time']);
        // The replay answers the first result although nothing is associated any more.
        expect(signedJson<Json>(sandbox, await post(`${BASE}/coupons/disassociate`, d))).toEqual(undone);
        expectError(
          await post(`${BASE}/coupons/disassociate`, { ...d, out_trade_no: 'MCH_COVER_0002' }),
          400,
          'RESOURCE_ALREADY_EXISTS',
          reusedMessage('/out_request_no'),
        );
        expect((await coupon(c)).associate_out_trade_no).toBeUndefined();
      });
    });

    describe('POST /coupons/deactivate', () => {
      const body = (c: Sent, extra: Json = {}) => ({
        coupon_code: c.code,
        stock_id: c.stockId,
        deactivate_request_no: reqNo('D'),
        ...extra,
      });

      it('403 商户无权限操作该券, 404 券不存在, USED is INVALID_REQUEST, a reused number is RESOURCE_ALREADY_EXISTS', async () => {
        const c = await sentCoupon();
        const before = await coupon(c);
        expectError(
          await post(`${BASE}/coupons/deactivate`, body(c), other),
          403,
          'NO_AUTH',
          '商户无权限操作该券',
        );
        expectError(
          await post(`${BASE}/coupons/deactivate`, body({ ...c, code: 'NOSUCHCODE' })),
          404,
          'RESOURCE_NOT_EXISTS',
          '券不存在',
        );
        const no = reqNo('D');
        const used = await sentCoupon();
        signedJson(sandbox, await post(`${BASE}/coupons/use`, useBody(used)));
        expectError(
          await post(`${BASE}/coupons/deactivate`, body(used, { deactivate_request_no: no })),
          400,
          'INVALID_REQUEST',
          '券状态为USED，仅可用状态的券可失效',
        );
        expect(await coupon(c)).toEqual(before);
        // The refused number was not consumed; once used, it cannot deactivate another coupon.
        signedJson(sandbox, await post(`${BASE}/coupons/deactivate`, body(c, { deactivate_request_no: no })));
        const third = await sentCoupon();
        expectError(
          await post(`${BASE}/coupons/deactivate`, body(third, { deactivate_request_no: no })),
          400,
          'RESOURCE_ALREADY_EXISTS',
          reusedMessage('/deactivate_request_no'),
        );
        expect((await coupon(third)).coupon_state).toBe('SENDED');
        expect((await coupon(c)).coupon_state).toBe('DEACTIVATED');
      });
    });

    describe('POST /coupons/return', () => {
      it('an unknown stock is 404 券不存在 (the documented row); a return_request_no reused on another coupon is RESOURCE_ALREADY_EXISTS', async () => {
        const stockId = await createStock();
        const a = await sendTo(stockId, await newUser());
        const b = await sendTo(stockId, await newUser());
        for (const c of [a, b]) signedJson(sandbox, await post(`${BASE}/coupons/use`, useBody(c)));
        const no = reqNo('R');
        expectError(
          await post(`${BASE}/coupons/return`, {
            coupon_code: a.code,
            stock_id: NO_STOCK,
            return_request_no: no,
          }),
          404,
          'RESOURCE_NOT_EXISTS',
          '券不存在',
        );
        signedJson(
          sandbox,
          await post(`${BASE}/coupons/return`, {
            coupon_code: a.code,
            stock_id: stockId,
            return_request_no: no,
          }),
        );
        expectError(
          await post(`${BASE}/coupons/return`, {
            coupon_code: b.code,
            stock_id: stockId,
            return_request_no: no,
          }),
          400,
          'RESOURCE_ALREADY_EXISTS',
          reusedMessage('/return_request_no'),
        );
        expect((await coupon(a)).coupon_state).toBe('SENDED');
        expect((await coupon(b)).coupon_state).toBe('USED');
      });
    });

    describe('POST /coupons/send (API send)', () => {
      const apiSend = (stockId: string, openid: string, extra: Json = {}, merchant = sandbox.merchant) =>
        post(
          `${BASE}/coupons/send`,
          { openid, appid: APPID, stock_id: stockId, out_request_no: reqNo('API'), ...extra },
          merchant,
        );
      const sentNum = async (stockId: string) =>
        (await stock(stockId)).send_count_information as { total_send_num: number };

      it('404 批次不存在, 403 NO_AUTH, 400 APPID_MCHID_NOT_MATCH issue no coupon', async () => {
        const stockId = await createStock();
        const openid = await newUser();
        expectError(await apiSend(NO_STOCK, openid), 404, 'RESOURCE_NOT_EXISTS', '批次不存在');
        expectError(await apiSend(stockId, openid, {}, other), 403, 'NO_AUTH', '无权限发放该批次');
        const unbound = await apiSend(stockId, openid, { appid: UNBOUND });
        expectError(unbound, 400, 'APPID_MCHID_NOT_MATCH', `/appid ${UNBOUND} 与请求方商户无关联关系`);
        expect(detailOf(unbound)).toMatchObject({ field: '/appid', value: UNBOUND });
        expect((await sentNum(stockId)).total_send_num).toBe(0);
      });

      it('each refused send names its plugin code in detail.issue: DAYLIMIT, NATURELIMIT, NOTRUNNING, NOTENOUGH, FAILED', async () => {
        const daily = await createStock({
          stock_send_rule: { max_coupons: 10, max_coupons_per_user: 1, max_coupons_by_day: 1 },
        });
        signedJson(sandbox, await apiSend(daily, await newUser()));
        const dayRes = await apiSend(daily, await newUser());
        expectError(dayRes, 403, 'RULE_LIMIT', '批次今日发放已达上限');
        expect(detailOf(dayRes)).toEqual({ issue: 'DAYLIMIT' });

        const natural = await createStock({
          stock_send_rule: { max_coupons: 10, max_coupons_per_user: 1, natural_person_limit: true },
        });
        signedJson(sandbox, await apiSend(natural, await newUser({ natural_person_id: 'cover-person' })));
        const natRes = await apiSend(natural, await newUser({ natural_person_id: 'cover-person' }));
        expectError(natRes, 403, 'RULE_LIMIT', '用户（自然人）领券已达上限');
        expect(detailOf(natRes)).toEqual({ issue: 'NATURELIMIT' });

        const paused = await createStock();
        signedJson(
          sandbox,
          await post(`/sandbox/v1/busifavor/stocks/${paused}/state`, { stock_state: 'PAUSED' }),
        );
        const pausedRes = await apiSend(paused, await newUser());
        expectError(pausedRes, 403, 'RULE_LIMIT', '批次不在发放状态');
        expect(detailOf(pausedRes)).toEqual({ issue: 'NOTRUNNING' });

        const pool = await createStock({ coupon_code_mode: 'MERCHANT_UPLOAD' });
        const emptyRes = await apiSend(pool, await newUser());
        expectError(emptyRes, 403, 'RULE_LIMIT', '批次预存code已用完');
        expect(detailOf(emptyRes)).toEqual({ issue: 'NOTENOUGH' });

        const plain = await createStock();
        const failed = await apiSend(plain, await newUser(), { coupon_code: 'MYCODE0001' });
        expectError(failed, 400, 'INVALID_REQUEST', 'WECHATPAY_MODE 模式的批次发券时不可传入coupon_code');
        expect(detailOf(failed)).toEqual({ issue: 'FAILED' });

        expect((await sentNum(daily)).total_send_num).toBe(1);
        expect((await sentNum(natural)).total_send_num).toBe(1);
        for (const id of [paused, pool, plain]) expect((await sentNum(id)).total_send_num).toBe(0);
      });

      it('a refused send keeps its out_request_no free: the retry after a budget raise succeeds', async () => {
        const stockId = await createStock({ stock_send_rule: { max_coupons: 1, max_coupons_per_user: 1 } });
        signedJson(sandbox, await apiSend(stockId, await newUser()));
        const openid = await newUser();
        const out = reqNo('API');
        expectError(await apiSend(stockId, openid, { out_request_no: out }), 403, 'RULE_LIMIT', '批次已发完');
        signedJson(
          sandbox,
          await sandbox.request({
            method: 'PATCH',
            path: `${BASE}/stocks/${stockId}/budget`,
            body: { target_max_coupons: 2, current_max_coupons: 1, modify_budget_request_no: reqNo('B') },
          }),
        );
        const ok = signedJson<Json>(sandbox, await apiSend(stockId, openid, { out_request_no: out }));
        expect(ok).toEqual({
          stock_id: stockId,
          out_request_no: out,
          coupon_code: expect.stringMatching(/^\d{22}$/),
        });
        expect((await sentNum(stockId)).total_send_num).toBe(2);
      });
    });

    describe('POST /subsidy/pay-receipts', () => {
      const usedCoupon = async () => {
        const c = await sentCoupon();
        signedJson(sandbox, await post(`${BASE}/coupons/use`, useBody(c)));
        return c;
      };
      const body = (c: Sent, extra: Json = {}) => ({
        stock_id: c.stockId,
        coupon_code: c.code,
        transaction_id: '4200000913202101152566792388',
        payer_merchant: mchid,
        payee_merchant: mchid,
        amount: 100,
        description: 'cover',
        out_subsidy_no: reqNo('SUB'),
        ...extra,
      });
      const receipts = async (c: Sent) =>
        signedJson<{ pay_receipt_list: Json[] }>(
          sandbox,
          await get(`${BASE}/subsidy/pay-receipts?stock_id=${c.stockId}&coupon_code=${c.code}`),
        ).pay_receipt_list;

      it('over the discount value is PAY_RECEIPT_FAIL / PAY_RECEIPT_EXCEED_SUBSIDY_AMOUNT_QUOTA; the coupon can still be subsidised', async () => {
        const c = await usedCoupon();
        const failed = signedJson<Json>(
          sandbox,
          await post(`${BASE}/subsidy/pay-receipts`, body(c, { amount: 101 })),
        );
        expect(failed).toMatchObject({
          stock_id: c.stockId,
          coupon_code: c.code,
          amount: 101,
          status: 'PAY_RECEIPT_FAIL',
          fail_reason: 'PAY_RECEIPT_EXCEED_SUBSIDY_AMOUNT_QUOTA',
        });
        expect(failed.success_time).toBeUndefined();
        const ok = signedJson<Json>(sandbox, await post(`${BASE}/subsidy/pay-receipts`, body(c)));
        expect(ok).toMatchObject({
          amount: 100,
          status: 'PAY_RECEIPT_SUCCESS',
          success_time: expect.any(String),
        });
        expect(ok.fail_reason).toBeUndefined();
        expect((await receipts(c)).map((r) => r.status).sort()).toEqual([
          'PAY_RECEIPT_FAIL',
          'PAY_RECEIPT_SUCCESS',
        ]);
        expectError(
          await post(`${BASE}/subsidy/pay-receipts`, body(c, { amount: 500001 })),
          400,
          'PARAM_ERROR',
        );
      });

      it('NO_AUTH for a payer other than the caller or a payee other than the belong merchant; 404s; a reused number', async () => {
        const c = await usedCoupon();
        expectError(
          await post(`${BASE}/subsidy/pay-receipts`, body(c, { payer_merchant: other.mchid })),
          403,
          'NO_AUTH',
          'payer_merchant 必须为请求方商户号',
        );
        expectError(
          await post(`${BASE}/subsidy/pay-receipts`, body(c, { payee_merchant: other.mchid })),
          403,
          'NO_AUTH',
          'payee_merchant 须为批次的归属商户',
        );
        expectError(
          await post(`${BASE}/subsidy/pay-receipts`, body({ ...c, stockId: NO_STOCK })),
          404,
          'RESOURCE_NOT_EXISTS',
          '批次不存在',
        );
        expectError(
          await post(`${BASE}/subsidy/pay-receipts`, body({ ...c, code: 'NOSUCHCODE' })),
          404,
          'RESOURCE_NOT_EXISTS',
          '券不存在',
        );
        expect(await receipts(c)).toEqual([]);
        const first = body(c);
        const receipt = signedJson<Json>(sandbox, await post(`${BASE}/subsidy/pay-receipts`, first));
        expectError(
          await post(`${BASE}/subsidy/pay-receipts`, { ...first, amount: 50 }),
          400,
          'RESOURCE_ALREADY_EXISTS',
          reusedMessage('/out_subsidy_no'),
        );
        expect(await receipts(c)).toEqual([receipt]);
        expectError(
          await sandbox.request({
            method: 'GET',
            path: `${BASE}/subsidy/pay-receipts/${receipt.subsidy_receipt_id}`,
            merchant: other,
          }),
          404,
          'RESOURCE_NOT_EXISTS',
          '补差付款单不存在',
        );
      });
    });
  });
}
