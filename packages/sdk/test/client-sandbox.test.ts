import { X509Certificate } from 'node:crypto';
import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/src/db/connect.js';
import { MerchantRepo } from '../../server/src/db/merchant-repo.js';
import { addMerchant, bindAppidWithUser, pluginSendOne, reqNo } from '../../server/test/busifavor-helpers.js';
import {
  ApiError,
  type CreateStockRequest,
  createWechatPayClient,
  decryptSensitiveField,
  formatBeijingTime,
  type WechatPayClient,
} from '../src/index.js';
import { track } from './method-tracking.js';

/**
 * Every method of the SDK against the real sandbox server over real HTTP, with the SDK verifying every
 * response: a public-key merchant for the busifavor, notify-setting and media APIs, and a
 * certificate-mode merchant for /v3/certificates. The last test checks that every method was called.
 */

const APPID = 'wxsdkclient000001';
const TRANSACTION = '4200000913202101152566792388';
const REFUND = '50100506732021010105138718375';
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/;
/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const FAMILIES = ['busifavor', 'productCoupon', 'deliveryPlan', 'certificates', 'media'] as const;

/** The client with every family tracked. */
function tracked(client: WechatPayClient, called: Set<string>): WechatPayClient {
  const families = Object.fromEntries(FAMILIES.map((f) => [f, track(f, client[f], called)]));
  return track('client', { ...client, ...families } as WechatPayClient, called);
}

/** Every method name of a client, as `track` records them. */
function allMethods(client: WechatPayClient): string[] {
  const names = ['client.request', 'client.encryptSensitive'];
  for (const f of FAMILIES) {
    for (const [k, v] of Object.entries(client[f])) if (typeof v === 'function') names.push(`${f}.${k}`);
  }
  return names.sort();
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`SDK methods against the sandbox on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let client: WechatPayClient;
    let certClient: WechatPayClient;
    let openid: string;
    let mchid: string;
    const called = new Set<string>();

    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      mchid = sandbox.merchant.mchid;
      const m = sandbox.merchant;
      const pk = sandbox.server.credentials.platform.publicKey;
      const plain = createWechatPayClient({
        mchid: m.mchid,
        serialNo: m.serialNo,
        privateKey: m.privateKey,
        apiV3Key: m.apiV3Key,
        baseUrl: sandbox.url,
        verification: { publicKey: { keyId: pk.keyId, key: pk.publicKeyPem } },
        retry: false,
      });
      client = tracked(plain, called);
      // A legacy merchant whose responses are signed with the platform certificate only.
      const legacy = await addMerchant(sandbox, '1900000555');
      const handle = openDatabase(sandbox.dbUrl);
      await new MerchantRepo(handle.db).setSigningMode(legacy.mchid, 'certificate');
      await handle.close();
      certClient = tracked(
        createWechatPayClient({
          mchid: legacy.mchid,
          serialNo: legacy.serialNo,
          privateKey: legacy.privateKey,
          apiV3Key: legacy.apiV3Key,
          baseUrl: sandbox.url,
          verification: { certificates: 'auto' },
          retry: false,
        }),
        called,
      );
      openid = (await bindAppidWithUser(sandbox, APPID)).openids[APPID] as string;
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    const stockRequest = (overrides: Partial<CreateStockRequest> = {}): CreateStockRequest => ({
      stock_name: 'SDK满10减1',
      belong_merchant: mchid,
      comment: 'sdk test',
      goods_name: '全场通用',
      stock_type: 'NORMAL',
      coupon_use_rule: {
        coupon_available_time: {
          available_begin_time: formatBeijingTime(Date.now() - 3600_000),
          available_end_time: formatBeijingTime(Date.now() + 30 * 86400_000),
        },
        fixed_normal_coupon: { discount_amount: 100, transaction_minimum: 1000 },
        use_method: 'OFF_LINE',
      },
      stock_send_rule: { max_coupons: 100, max_coupons_per_user: 5 },
      out_request_no: reqNo('SDKSTOCK'),
      coupon_code_mode: 'WECHATPAY_MODE',
      ...overrides,
    });
    const newStock = async (overrides: Partial<CreateStockRequest> = {}) =>
      (await client.busifavor.createStock(stockRequest(overrides))).stock_id;
    const pluginSent = async (stockId: string) => {
      const item = await pluginSendOne(sandbox, APPID, openid, stockId);
      expect(item.code).toBe('SUCCESS');
      return item.coupon_code as string;
    };
    const useNow = (stockId: string, couponCode: string) =>
      client.busifavor.useCoupon({
        coupon_code: couponCode,
        stock_id: stockId,
        appid: APPID,
        use_time: formatBeijingTime(Date.now()),
        use_request_no: reqNo('SDKUSE'),
      });

    it('uploads an image, creates a stock showing it, reads, modifies and re-budgets the stock', async () => {
      const { media_url } = await client.media.uploadImage({ filename: 'logo.png', file: PNG });
      expect(media_url).toMatch(/^https:\/\/wxpaylogo\.qpic\.cn\/wxpaylogo\/\S+\/0$/);
      const body = stockRequest({
        display_pattern_info: {
          merchant_logo_url: media_url,
          merchant_name: 'SDK商户',
          background_color: 'Color020',
        },
      });
      const created = await client.busifavor.createStock(body);
      expect(Object.keys(created).sort()).toEqual(['create_time', 'stock_id']);
      expect(created.stock_id).toMatch(/^\d{1,20}$/);
      expect(created.create_time).toMatch(RFC3339);

      const stock = await client.busifavor.getStock(created.stock_id);
      expect(stock).toMatchObject({
        stock_id: created.stock_id,
        stock_name: body.stock_name,
        belong_merchant: mchid,
        comment: 'sdk test',
        goods_name: body.goods_name,
        stock_type: 'NORMAL',
        stock_state: 'RUNNING',
        coupon_code_mode: 'WECHATPAY_MODE',
        coupon_use_rule: body.coupon_use_rule,
        stock_send_rule: { max_coupons: 100, max_coupons_per_user: 5 },
        display_pattern_info: {
          merchant_logo_url: media_url,
          merchant_name: 'SDK商户',
          background_color: 'Color020',
        },
      });

      expect(
        await client.busifavor.modifyStock(created.stock_id, {
          out_request_no: reqNo('SDKMOD'),
          comment: 'modified',
          goods_name: '指定商品',
        }),
      ).toBeUndefined();
      expect(await client.busifavor.getStock(created.stock_id)).toMatchObject({
        comment: 'modified',
        goods_name: '指定商品',
      });

      expect(
        await client.busifavor.modifyBudget(created.stock_id, {
          target_max_coupons: 200,
          current_max_coupons: 100,
          modify_budget_request_no: reqNo('SDKBUD'),
        }),
      ).toEqual({ max_coupons: 200 });
      expect((await client.busifavor.getStock(created.stock_id)).stock_send_rule.max_coupons).toBe(200);
    });

    it('uploads codes to a MERCHANT_UPLOAD stock, lists, gets and deletes them', async () => {
      const stockId = await newStock({
        coupon_code_mode: 'MERCHANT_UPLOAD',
        stock_send_rule: { max_coupons: 10, max_coupons_per_user: 5 },
      });
      const uploaded = await client.busifavor.uploadCouponCodes(stockId, {
        coupon_code_list: ['SDKA1', 'SDKB2', 'SDKC3'],
        upload_request_no: reqNo('SDKUP'),
      });
      expect(uploaded).toMatchObject({
        stock_id: stockId,
        total_count: 3,
        success_count: 3,
        success_codes: ['SDKA1', 'SDKB2', 'SDKC3'],
      });
      expect(uploaded.success_time).toMatch(RFC3339);
      expect(uploaded.fail_count ?? 0).toBe(0);

      const page = await client.busifavor.listCouponCodes(stockId, { limit: 2 });
      expect(page).toMatchObject({ stock_id: stockId, total_count: 3, offset: 0, limit: 2 });
      expect(page.data.map((c) => [c.code, c.code_status])).toEqual([
        ['SDKA1', 'AVAILABLE'],
        ['SDKB2', 'AVAILABLE'],
      ]);
      expect(page.data[0]?.upload_time).toMatch(RFC3339);
      expect(page.data[0]).not.toHaveProperty('openid');

      const dispatched = await pluginSent(stockId);
      const got = await client.busifavor.getCouponCode(stockId, dispatched, { appid: APPID });
      expect(got.code_information).toMatchObject({ code: dispatched, code_status: 'DISPATCHED', openid });
      expect(got.code_information.dispatched_time).toMatch(RFC3339);
      expect(got.coupon_information).toMatchObject({
        coupon_code: dispatched,
        stock_id: stockId,
        coupon_state: 'SENDED',
      });

      const available = (await client.busifavor.listCouponCodes(stockId, { status: 'AVAILABLE' })).data.map(
        (c) => c.code,
      );
      expect(available).toHaveLength(2);
      expect(available).not.toContain(dispatched);
      const victim = available[0] as string;
      const deleted = await client.busifavor.deleteCouponCode(stockId, victim, {
        delete_request_no: reqNo('SDKDEL'),
      });
      expect(deleted.stock_id).toBe(stockId);
      expect(deleted.delete_time).toMatch(RFC3339);
      const after = await client.busifavor.listCouponCodes(stockId);
      expect(after.total_count).toBe(2);
      expect(after.data.map((c) => c.code)).not.toContain(victim);
      const gone = await client.busifavor.getCouponCode(stockId, victim).catch((e: unknown) => e);
      expect(gone).toBeInstanceOf(ApiError);
      expect((gone as ApiError).status).toBe(404);
    });

    it('reads, lists, associates, disassociates, uses, returns and deactivates a coupon', async () => {
      const stockId = await newStock();
      const code = await pluginSent(stockId);
      const params = { openid, coupon_code: code, appid: APPID };
      const coupon = await client.busifavor.getUserCoupon(params);
      expect(coupon).toMatchObject({
        coupon_code: code,
        stock_id: stockId,
        coupon_state: 'SENDED',
        belong_merchant: mchid,
        stock_type: 'NORMAL',
        goods_name: '全场通用',
      });
      for (const t of [coupon.receive_time, coupon.available_start_time, coupon.expire_time]) {
        expect(t).toMatch(RFC3339);
      }

      const list = await client.busifavor.listUserCoupons(openid, {
        appid: APPID,
        stock_id: stockId,
        belong_merchant: mchid,
      });
      expect(list).toMatchObject({ total_count: 1, offset: 0 });
      expect(list.data.map((c) => [c.coupon_code, c.coupon_state])).toEqual([[code, 'SENDED']]);

      const order = { stock_id: stockId, coupon_code: code, out_trade_no: `SDKORDER${Date.now()}` };
      const associated = await client.busifavor.associateCoupon({ ...order, out_request_no: reqNo('SDKA') });
      expect(associated.wechatpay_associate_time).toMatch(RFC3339);
      expect((await client.busifavor.getUserCoupon(params)).associate_out_trade_no).toBe(order.out_trade_no);
      const disassociated = await client.busifavor.disassociateCoupon({
        ...order,
        out_request_no: reqNo('SDKD'),
      });
      expect(disassociated.wechatpay_disassociate_time).toMatch(RFC3339);
      expect(await client.busifavor.getUserCoupon(params)).not.toHaveProperty('associate_out_trade_no');

      const used = await useNow(stockId, code);
      expect(used).toMatchObject({ stock_id: stockId, openid });
      expect(used.wechatpay_use_time).toMatch(RFC3339);
      expect((await client.busifavor.getUserCoupon(params)).coupon_state).toBe('USED');

      const returnNo = reqNo('SDKRET');
      const returned = await client.busifavor.returnCoupon({
        stock_id: stockId,
        coupon_code: code,
        return_request_no: returnNo,
      });
      expect(returned.wechatpay_return_time).toMatch(RFC3339);
      expect(await client.busifavor.getUserCoupon(params)).toMatchObject({
        coupon_state: 'SENDED',
        return_request_no: returnNo,
      });

      const deactivateNo = reqNo('SDKX');
      const deactivated = await client.busifavor.deactivateCoupon({
        stock_id: stockId,
        coupon_code: code,
        deactivate_request_no: deactivateNo,
        deactivate_reason: 'sdk test',
      });
      expect(deactivated.wechatpay_deactivate_time).toMatch(RFC3339);
      expect(await client.busifavor.getUserCoupon(params)).toMatchObject({
        coupon_state: 'DEACTIVATED',
        deactivate_request_no: deactivateNo,
        deactivate_reason: 'sdk test',
        deactivate_time: deactivated.wechatpay_deactivate_time,
      });
    });

    it('sends a coupon by API, pays, lists and returns a subsidy for it', async () => {
      const stockId = await newStock();
      const sendBody = { openid, appid: APPID, stock_id: stockId, out_request_no: reqNo('SDKSEND') };
      const sent = await client.busifavor.sendCoupon(sendBody);
      expect(Object.keys(sent).sort()).toEqual(['coupon_code', 'out_request_no', 'stock_id']);
      expect(sent).toMatchObject({ stock_id: stockId, out_request_no: sendBody.out_request_no });
      expect(await client.busifavor.sendCoupon(sendBody)).toEqual(sent);
      const code = sent.coupon_code;
      await useNow(stockId, code);

      const payBody = {
        stock_id: stockId,
        coupon_code: code,
        transaction_id: TRANSACTION,
        payer_merchant: mchid,
        payee_merchant: mchid,
        amount: 100,
        description: 'SDK补差',
        out_subsidy_no: reqNo('SDKSUB'),
      };
      const receipt = await client.busifavor.createSubsidyPayReceipt(payBody);
      expect(receipt).toMatchObject({ ...payBody, status: 'PAY_RECEIPT_SUCCESS' });
      expect(receipt.subsidy_receipt_id).toMatch(/^\d{28,32}$/);
      expect(receipt.success_time).toMatch(RFC3339);
      expect(receipt).not.toHaveProperty('fail_reason');
      expect(await client.busifavor.getSubsidyPayReceipt(receipt.subsidy_receipt_id)).toEqual(receipt);
      expect(await client.busifavor.listSubsidyPayReceipts({ stock_id: stockId, coupon_code: code })).toEqual(
        {
          pay_receipt_list: [receipt],
        },
      );
      expect(
        await client.busifavor.listSubsidyPayReceipts({
          stock_id: stockId,
          coupon_code: code,
          out_subsidy_no: 'SDKNOSUCH',
        }),
      ).toEqual({ pay_receipt_list: [] });

      const returnBody = {
        stock_id: stockId,
        coupon_code: code,
        transaction_id: TRANSACTION,
        refund_id: REFUND,
        payer_merchant: mchid,
        payee_merchant: mchid,
        amount: 40,
        description: 'SDK补差回退',
        out_subsidy_return_no: reqNo('SDKSRET'),
      };
      const back = await client.busifavor.createSubsidyReturnReceipt(returnBody);
      expect(back).toMatchObject({
        ...returnBody,
        status: 'RETURN_RECEIPT_SUCCESS',
        subsidy_receipt_id: receipt.subsidy_receipt_id,
      });
      expect(back.return_done_time).toMatch(RFC3339);
      expect(back.subsidy_return_receipt_id).toMatch(/^\d{28}$/);
      expect(
        await client.busifavor.getSubsidyReturnReceipt(back.subsidy_return_receipt_id as string),
      ).toEqual(back);
      expect((await client.busifavor.getSubsidyPayReceipt(receipt.subsidy_receipt_id)).status).toBe(
        'PAY_RECEIPT_PARTIAL_RETURN',
      );
    });

    it('sets and reads the notify URLs of all three families', async () => {
      const set = await client.busifavor.setCallback({ notify_url: 'https://merchant.example.com/wxpay/bf' });
      expect(set).toMatchObject({ mchid, notify_url: 'https://merchant.example.com/wxpay/bf' });
      expect(set.update_time).toMatch(RFC3339);
      expect(await client.busifavor.getCallback()).toEqual({
        mchid,
        notify_url: 'https://merchant.example.com/wxpay/bf',
      });
      expect(await client.busifavor.getCallback({ mchid })).toEqual({
        mchid,
        notify_url: 'https://merchant.example.com/wxpay/bf',
      });

      const pc = await client.productCoupon.setNotifyConfig({
        notify_url: 'https://merchant.example.com/wxpay/pc',
      });
      expect(pc.notify_url).toBe('https://merchant.example.com/wxpay/pc');
      expect(pc.update_time).toMatch(RFC3339);
      expect(await client.productCoupon.getNotifyConfig()).toEqual(pc);

      expect(
        await client.deliveryPlan.setNotifyUrl(mchid, {
          notify_url: 'https://merchant.example.com/wxpay/dp',
        }),
      ).toEqual({ notify_url: 'https://merchant.example.com/wxpay/dp' });
    });

    it('encrypts a sensitive field for the WeChat Pay public key named by platformKeys.active()', async () => {
      const platform = sandbox.server.credentials.platform.publicKey;
      const ciphertext = await client.encryptSensitive('张三');
      expect(client.platformKeys.active()?.serial).toBe(platform.keyId);
      expect(decryptSensitiveField(ciphertext, platform.privateKey)).toBe('张三');
    });

    it('answers a verified generic request with the serial that verified it', async () => {
      const res = await client.request<{ mchid: string; notify_url: string }>({
        method: 'GET',
        path: '/v3/marketing/busifavor/callbacks',
      });
      expect(res.status).toBe(200);
      expect(res.verifiedBy).toBe(sandbox.server.credentials.platform.publicKey.keyId);
      expect(res.requestId).toBeTruthy();
      expect(JSON.parse(res.rawBody)).toEqual(res.data);
    });

    it('maps an error answer to ApiError with status, code, message, detail and Request-ID', async () => {
      const err = await client.busifavor.getStock('98765432109876').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      const api = err as ApiError;
      expect(api.status).toBe(404);
      expect(api.code).toBe('RESOURCE_NOT_EXISTS');
      expect(api.message).toBe('批次不存在');
      expect(api.detail).toMatchObject({ field: 'stock_id', value: '98765432109876' });
      expect(JSON.parse(api.rawBody)).toEqual({ code: api.code, message: api.message, detail: api.detail });
      expect(api.requestId).toBeTruthy();
      expect(api.requestId).toBe(api.headers['request-id']);

      const bad = await client.busifavor
        .setCallback({ notify_url: 'http://localhost/x?y=1' })
        .catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(ApiError);
      expect([(bad as ApiError).status, (bad as ApiError).code]).toEqual([400, 'PARAM_ERROR']);
      // A public-key merchant has no platform certificates, as new merchants on the real platform.
      const none = await client.certificates.list().catch((e: unknown) => e);
      expect([(none as ApiError).status, (none as ApiError).code]).toEqual([404, 'RESOURCE_NOT_EXISTS']);
    });

    it('in certificate mode downloads /v3/certificates and verifies responses with the certificate', async () => {
      const platformCert = sandbox.server.credentials.platform.certificates.at(-1);
      if (!platformCert) throw new Error('the sandbox has no platform certificate');
      const listed = await certClient.certificates.list({ algorithm_type: 'RSA' });
      expect(listed.data).toHaveLength(1);
      const item = listed.data[0];
      expect(item).toMatchObject({
        serial_no: platformCert.serialNo,
        encrypt_certificate: { algorithm: 'AEAD_AES_256_GCM', associated_data: 'certificate' },
      });
      expect(item?.effective_time).toMatch(RFC3339);
      expect(item?.expire_time).toMatch(RFC3339);

      const [downloaded, ...more] = await certClient.certificates.download();
      expect(more).toEqual([]);
      expect(downloaded?.serialNo).toBe(platformCert.serialNo);
      const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
      expect(fingerprint(downloaded?.pem as string)).toBe(fingerprint(platformCert.certificatePem));
      expect(downloaded?.expiresAtMs).toBe(Date.parse(item?.expire_time as string));

      await certClient.busifavor.setCallback({ notify_url: 'https://legacy.example.com/wxpay/bf' });
      const res = await certClient.request({ method: 'GET', path: '/v3/marketing/busifavor/callbacks' });
      expect(res.verifiedBy).toBe(platformCert.serialNo);
      expect(res.data).toEqual({
        mchid: certClient.mchid,
        notify_url: 'https://legacy.example.com/wxpay/bf',
      });

      const ciphertext = await certClient.encryptSensitive('13800138000');
      expect(certClient.platformKeys.active()?.serial).toBe(platformCert.serialNo);
      expect(decryptSensitiveField(ciphertext, platformCert.privateKey)).toBe('13800138000');
    });

    it('called every method of the client', () => {
      expect([...called].sort()).toEqual(allMethods(client));
      // The list comes from the client object itself, so a method added to the SDK shows up here.
      expect(allMethods(client)).toHaveLength(31);
    });
  });
}
