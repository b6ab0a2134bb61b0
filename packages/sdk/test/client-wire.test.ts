import { describe, expect, it } from 'vitest';
import { type ApiError, createWechatPayClient } from '../src/index.js';
import { createFakePlatform } from './fake-platform.js';
import { MCHID, makeIdentity, PUB_KEY_ID } from './fixtures.js';

/**
 * Wire details of the code-pool, API-send and subsidy-return methods that the real server cannot show:
 * the exact request target, which calls are retried after a 500, and the wrapped send answer that
 * wechatpay-go documents (the sandbox answers the flat form, covered in client-sandbox.test.ts).
 */

const merchant = makeIdentity('wire-merchant', '5E3F1C2B4A6D8E9F01234567ABCDEF0011223344');
const pubkey = makeIdentity('wire-pubkey', '01');
const NOW_MS = 1735689600_000;
const BF = '/v3/marketing/busifavor';

function setup() {
  const fake = createFakePlatform(merchant, { identity: pubkey, serial: PUB_KEY_ID }, () =>
    Math.floor(NOW_MS / 1000),
  );
  const client = createWechatPayClient({
    mchid: MCHID,
    serialNo: merchant.serialNo,
    privateKey: merchant.privateKeyPem,
    baseUrl: 'https://api.example.test',
    verification: { publicKey: { keyId: PUB_KEY_ID, key: pubkey.publicKeyPem } },
    fetch: fake.fetch,
    now: () => NOW_MS,
    retry: { random: () => 0.5, sleep: async () => {} },
  });
  return { client, fake };
}
const systemError = { status: 500, body: { code: 'SYSTEM_ERROR', message: '系统错误' } } as const;

describe('code pool, API send and subsidy return on the wire', () => {
  it('sends the code-pool calls to percent-encoded targets, retrying the DELETE by its delete_request_no', async () => {
    const { client, fake } = setup();
    fake.queue.push(
      { status: 200, body: { stock_id: '1', total_count: 0, data: [], offset: 0, limit: 5 } },
      {
        status: 200,
        body: { code_information: { code: 'A B', code_status: 'AVAILABLE', upload_time: 't' } },
      },
      systemError,
      { status: 200, body: { stock_id: '1', delete_time: '2025-01-01T08:00:00+08:00' } },
    );
    await client.busifavor.listCouponCodes('1', { limit: 5, status: 'AVAILABLE' });
    await client.busifavor.getCouponCode('1', 'A B', { appid: 'wx1' });
    const deleted = await client.busifavor.deleteCouponCode('1', 'A/B', { delete_request_no: 'del-1' });
    expect(deleted.delete_time).toBe('2025-01-01T08:00:00+08:00');
    expect(fake.seen.map((r) => `${r.method} ${r.target}`)).toEqual([
      `GET ${BF}/stocks/1/couponcodes?limit=5&status=AVAILABLE`,
      `GET ${BF}/stocks/1/couponcodes/A%20B?appid=wx1`,
      `DELETE ${BF}/stocks/1/couponcodes/A%2FB?delete_request_no=del-1`,
      `DELETE ${BF}/stocks/1/couponcodes/A%2FB?delete_request_no=del-1`,
    ]);
    expect(fake.seen.every((r) => r.authorization.signatureValid)).toBe(true);
  });

  it('unwraps a send answer wrapped in send_coupon_result, and retries the send by its out_request_no', async () => {
    const { client, fake } = setup();
    const result = { stock_id: '1', out_request_no: 'send-1', coupon_code: 'C1' };
    fake.queue.push(systemError, { status: 200, body: { send_coupon_result: result } });
    const body = { openid: 'o1', appid: 'wx1', stock_id: '1', out_request_no: 'send-1' };
    expect(await client.busifavor.sendCoupon(body)).toEqual(result);
    expect(fake.seen.map((r) => [r.method, r.target, JSON.parse(r.body)])).toEqual([
      ['POST', `${BF}/coupons/send`, body],
      ['POST', `${BF}/coupons/send`, body],
    ]);
  });

  it('retries a subsidy return by its out_subsidy_return_no and lists pay receipts by query', async () => {
    const { client, fake } = setup();
    const receipt = { subsidy_receipt_id: 'r', status: 'RETURN_RECEIPT_SUCCESS' };
    fake.queue.push(
      systemError,
      { status: 200, body: receipt },
      { status: 200, body: { pay_receipt_list: [] } },
    );
    const back = await client.busifavor.createSubsidyReturnReceipt({
      stock_id: '1',
      coupon_code: 'C1',
      transaction_id: '4200000913202101152566792388',
      refund_id: '50100506732021010105138718375',
      payer_merchant: MCHID,
      payee_merchant: MCHID,
      amount: 1,
      description: 'x',
      out_subsidy_return_no: 'sr-1',
    });
    expect(back).toEqual(receipt);
    await client.busifavor.listSubsidyPayReceipts({ stock_id: '1', coupon_code: 'C 1' });
    expect(fake.seen.map((r) => `${r.method} ${r.target}`)).toEqual([
      `POST ${BF}/subsidy/return-receipts`,
      `POST ${BF}/subsidy/return-receipts`,
      `GET ${BF}/subsidy/pay-receipts?stock_id=1&coupon_code=C%201`,
    ]);
  });

  it('does not retry a DELETE whose request number is empty', async () => {
    const { client, fake } = setup();
    fake.queue.push(systemError);
    const err = await client.busifavor
      .deleteCouponCode('1', 'A', { delete_request_no: '' })
      .catch((e: unknown) => e);
    expect((err as ApiError).status).toBe(500);
    expect(fake.seen).toHaveLength(1);
  });
});
