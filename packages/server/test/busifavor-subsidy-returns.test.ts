import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addMerchant,
  addStock,
  BASE,
  bindAppidWithUser,
  expectError,
  pluginSendOne,
  REFUND_ID,
  signedJson,
  subsidyPayBody,
  subsidyReturnBody,
  useCouponNow,
} from './busifavor-helpers.js';

/**
 * The lower-priority subsidy endpoints (docs/busifavor.md §5.3): list a coupon's pay receipts, return
 * subsidy money (return receipts) and read a return receipt.
 */

const APPID = 'wxsubsidy00000001';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`busifavor subsidy returns over HTTP on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let openid: string;
    let other: Awaited<ReturnType<typeof addMerchant>>;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      other = await addMerchant(sandbox, '1900000777');
      openid = (await bindAppidWithUser(sandbox, APPID)).openids[APPID] as string;
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    const post = (path: string, body: unknown) =>
      sandbox.request({ method: 'POST', path, body: body as object });
    const get = (path: string) => sandbox.request({ method: 'GET', path });

    /** A NORMAL stock (discount 100 fen), one coupon sent and used, and a paid receipt of `amount`. */
    const paidCoupon = async (amount = 100) => {
      const stockId = await addStock(sandbox);
      const code = (await pluginSendOne(sandbox, APPID, openid, stockId)).coupon_code as string;
      await useCouponNow(sandbox, APPID, stockId, code);
      const receipt = signedJson<Json>(
        sandbox,
        await post(`${BASE}/subsidy/pay-receipts`, subsidyPayBody(sandbox, { stockId, code }, { amount })),
      );
      expect(receipt.status).toBe('PAY_RECEIPT_SUCCESS');
      return { stockId, code, receipt };
    };
    const returnBody = (p: { stockId: string; code: string }, amount: number) =>
      subsidyReturnBody(sandbox, p, amount);
    const payReceipt = async (id: unknown) =>
      signedJson<Json>(sandbox, await get(`${BASE}/subsidy/pay-receipts/${id}`));

    it('returns part, then the rest of a subsidy; the pay receipt follows; replays answer the same receipt', async () => {
      const paid = await paidCoupon(100);
      const body = returnBody(paid, 40);
      const first = signedJson<Json>(sandbox, await post(`${BASE}/subsidy/return-receipts`, body));
      expect(Object.keys(first)).toEqual([
        'subsidy_return_receipt_id',
        'stock_id',
        'coupon_code',
        'transaction_id',
        'refund_id',
        'payer_merchant',
        'payee_merchant',
        'amount',
        'description',
        'status',
        'return_done_time',
        'subsidy_receipt_id',
        'out_subsidy_return_no',
        'return_create_time',
      ]);
      expect(first).toMatchObject({
        stock_id: paid.stockId,
        coupon_code: paid.code,
        refund_id: REFUND_ID,
        amount: 40,
        status: 'RETURN_RECEIPT_SUCCESS',
        subsidy_receipt_id: paid.receipt.subsidy_receipt_id,
        out_subsidy_return_no: body.out_subsidy_return_no,
      });
      expect(first.subsidy_return_receipt_id).toMatch(/^\d{28}$/);
      expect(signedJson(sandbox, await post(`${BASE}/subsidy/return-receipts`, body))).toEqual(first);
      expectError(
        await post(`${BASE}/subsidy/return-receipts`, { ...body, amount: 41 }),
        400,
        'RESOURCE_ALREADY_EXISTS',
      );
      expect(
        signedJson(sandbox, await get(`${BASE}/subsidy/return-receipts/${first.subsidy_return_receipt_id}`)),
      ).toEqual(first);
      expect((await payReceipt(paid.receipt.subsidy_receipt_id)).status).toBe('PAY_RECEIPT_PARTIAL_RETURN');

      const tooMuch = signedJson<Json>(
        sandbox,
        await post(`${BASE}/subsidy/return-receipts`, returnBody(paid, 61)),
      );
      expect(tooMuch).toMatchObject({ status: 'RETURN_RECEIPT_FAIL', fail_reason: 'RETURN_RECEIPT_OTHER' });
      expect(tooMuch).not.toHaveProperty('return_done_time');
      const rest = signedJson<Json>(
        sandbox,
        await post(`${BASE}/subsidy/return-receipts`, returnBody(paid, 60)),
      );
      expect(rest.status).toBe('RETURN_RECEIPT_SUCCESS');
      expect((await payReceipt(paid.receipt.subsidy_receipt_id)).status).toBe('PAY_RECEIPT_FULL_RETURN');
      const after = signedJson<Json>(
        sandbox,
        await post(`${BASE}/subsidy/return-receipts`, returnBody(paid, 1)),
      );
      expect(after.status).toBe('RETURN_RECEIPT_FAIL');
      // A fully returned coupon has still been subsidised once: a second payment is over the count quota.
      const again = signedJson<Json>(
        sandbox,
        await post(
          `${BASE}/subsidy/pay-receipts`,
          subsidyPayBody(sandbox, paid, { amount: 10, description: '再次补差' }),
        ),
      );
      expect(again).toMatchObject({
        status: 'PAY_RECEIPT_FAIL',
        fail_reason: 'PAY_RECEIPT_EXCEED_SUBSIDY_COUNT_QUOTA',
      });
    });

    it('refuses returns without a matching paid receipt, for other payers, and hides receipts from others', async () => {
      const paid = await paidCoupon(100);
      const body = returnBody(paid, 10);
      expectError(
        await post(`${BASE}/subsidy/return-receipts`, {
          ...body,
          transaction_id: '4200000913202101150000000000',
        }),
        404,
        'RESOURCE_NOT_EXISTS',
        '补差付款单不存在',
      );
      expectError(
        await post(`${BASE}/subsidy/return-receipts`, { ...body, coupon_code: 'NOPE' }),
        404,
        'RESOURCE_NOT_EXISTS',
      );
      expectError(
        await post(`${BASE}/subsidy/return-receipts`, { ...body, stock_id: '999999999999999' }),
        404,
        'RESOURCE_NOT_EXISTS',
      );
      expectError(
        await post(`${BASE}/subsidy/return-receipts`, { ...body, payee_merchant: '1999999998' }),
        400,
        'MCH_NOT_EXISTS',
      );
      expectError(
        await sandbox.request({
          method: 'POST',
          path: `${BASE}/subsidy/return-receipts`,
          body,
          merchant: other,
        }),
        403,
        'NO_AUTH',
      );
      expectError(await post(`${BASE}/subsidy/return-receipts`, { ...body, amount: 0 }), 400, 'PARAM_ERROR');
      const { refund_id: _omitted, ...noRefund } = body;
      expectError(await post(`${BASE}/subsidy/return-receipts`, noRefund), 400, 'PARAM_ERROR');
      const ok = signedJson<Json>(sandbox, await post(`${BASE}/subsidy/return-receipts`, body));
      expectError(
        await sandbox.request({
          method: 'GET',
          path: `${BASE}/subsidy/return-receipts/${ok.subsidy_return_receipt_id}`,
          merchant: other,
        }),
        404,
        'RESOURCE_NOT_EXISTS',
      );
      expectError(
        await get(`${BASE}/subsidy/return-receipts/1120200119165100000000000001`),
        404,
        'RESOURCE_NOT_EXISTS',
      );
    });

    it("lists a coupon's pay receipts, filtered by out_subsidy_no, only to their payer or payee", async () => {
      const paid = await paidCoupon(100);
      const query = `stock_id=${paid.stockId}&coupon_code=${paid.code}`;
      const list = signedJson<{ pay_receipt_list: Json[] }>(
        sandbox,
        await get(`${BASE}/subsidy/pay-receipts?${query}`),
      );
      expect(list).toEqual({ pay_receipt_list: [paid.receipt] });
      const byNo = signedJson<{ pay_receipt_list: Json[] }>(
        sandbox,
        await get(`${BASE}/subsidy/pay-receipts?${query}&out_subsidy_no=${paid.receipt.out_subsidy_no}`),
      );
      expect(byNo.pay_receipt_list).toEqual([paid.receipt]);
      expect(
        signedJson<{ pay_receipt_list: Json[] }>(
          sandbox,
          await get(`${BASE}/subsidy/pay-receipts?${query}&out_subsidy_no=OTHER`),
        ).pay_receipt_list,
      ).toEqual([]);
      const foreign = signedJson<{ pay_receipt_list: Json[] }>(
        sandbox,
        await sandbox.request({
          method: 'GET',
          path: `${BASE}/subsidy/pay-receipts?${query}`,
          merchant: other,
        }),
      );
      expect(foreign.pay_receipt_list).toEqual([]);
      expectError(
        await get(`${BASE}/subsidy/pay-receipts?stock_id=999999999999999&coupon_code=${paid.code}`),
        404,
        'RESOURCE_NOT_EXISTS',
      );
      expectError(await get(`${BASE}/subsidy/pay-receipts?stock_id=${paid.stockId}`), 400, 'PARAM_ERROR');
    });
  });
}
