import { createHash } from 'node:crypto';
import { DIALECTS, startSandbox, type TestResponse, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addMerchant,
  addStock,
  BASE,
  bindAppidWithUser,
  expectError,
  multipartUpload,
  PNG,
  pluginSendOne,
  reqNo,
  signedJson,
  stockBody,
} from './busifavor-helpers.js';

/**
 * Error coverage of the stock-side busifavor endpoints (docs/busifavor-coverage.md): PATCH stock,
 * PATCH budget, code upload, the marketing image upload, SIGN_ERROR on busifavor routes and the
 * busifavor callbacks GET. Every refusal is checked for status, code and message, and then the
 * resource is read back to show that nothing changed.
 */

const APPID = 'wxcoverstock00001';
const UNBOUND = 'wxcovernotbound01';

type Json = Record<string, unknown>;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`busifavor stock-side error coverage on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let mchid: string;
    let openid: string;
    let other: Awaited<ReturnType<typeof addMerchant>>;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      mchid = sandbox.merchant.mchid;
      other = await addMerchant(sandbox, '1900000731');
      openid = (await bindAppidWithUser(sandbox, APPID)).openids[APPID] as string;
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    const post = (path: string, body: unknown) =>
      sandbox.request({ method: 'POST', path, body: body as object });
    const patch = (path: string, body: unknown, merchant = sandbox.merchant) =>
      sandbox.request({ method: 'PATCH', path, body: body as object, merchant });
    const createStock = (overrides: Json = {}) => addStock(sandbox, overrides);
    const readStock = async (stockId: string) =>
      signedJson<Json>(sandbox, await sandbox.request({ method: 'GET', path: `${BASE}/stocks/${stockId}` }));
    const upload = async (file = PNG) =>
      signedJson<{ media_url: string }>(
        sandbox,
        await multipartUpload(sandbox, JSON.stringify({ filename: 'logo.png', sha256: sha256(file) }), file),
      ).media_url;

    describe('PATCH /stocks/{stock_id}', () => {
      it('404 批次不存在 for an unknown stock, 403 NO_AUTH to another merchant; the stock is unchanged', async () => {
        expectError(
          await patch(`${BASE}/stocks/123456789012345`, { out_request_no: reqNo('M'), comment: '改' }),
          404,
          'RESOURCE_NOT_EXISTS',
          '批次不存在',
        );
        const stockId = await createStock();
        const before = await readStock(stockId);
        const body = { out_request_no: reqNo('M'), comment: '别人改的' };
        expectError(
          await patch(`${BASE}/stocks/${stockId}`, body, other),
          403,
          'NO_AUTH',
          '无权限修改该批次',
        );
        expect(await readStock(stockId)).toEqual(before);
        // The refused number was not consumed: the owner may use it.
        signedJson(sandbox, await patch(`${BASE}/stocks/${stockId}`, body), 204);
        expect((await readStock(stockId)).comment).toBe('别人改的');
      });

      it('400 APPID_MCHID_NOT_MATCH for an unbound notify_appid or custom_entrance appid', async () => {
        const stockId = await createStock();
        const before = await readStock(stockId);
        expectError(
          await patch(`${BASE}/stocks/${stockId}`, {
            out_request_no: reqNo('M'),
            notify_config: { notify_appid: UNBOUND },
          }),
          400,
          'APPID_MCHID_NOT_MATCH',
          `/notify_config/notify_appid ${UNBOUND} 与请求方商户无关联关系`,
        );
        expectError(
          await patch(`${BASE}/stocks/${stockId}`, {
            out_request_no: reqNo('M'),
            custom_entrance: { appid: UNBOUND },
          }),
          400,
          'APPID_MCHID_NOT_MATCH',
          `/custom_entrance/appid ${UNBOUND} 与请求方商户无关联关系`,
        );
        expect(await readStock(stockId)).toEqual(before);
      });

      it('merchant_logo_url cannot change (the same value is accepted)', async () => {
        const logo = await upload();
        const another = await upload(Buffer.concat([PNG, Buffer.from([0])]));
        const stockId = await createStock({ display_pattern_info: { merchant_logo_url: logo } });
        const before = await readStock(stockId);
        const res = await patch(`${BASE}/stocks/${stockId}`, {
          out_request_no: reqNo('M'),
          display_pattern_info: { merchant_logo_url: another },
        });
        expectError(res, 400, 'PARAM_ERROR', '参数错误：/display_pattern_info/merchant_logo_url 不支持修改');
        expect(res.json<{ detail: Json }>().detail).toMatchObject({
          field: '/display_pattern_info/merchant_logo_url',
          location: 'body',
        });
        expect(await readStock(stockId)).toEqual(before);
        signedJson(
          sandbox,
          await patch(`${BASE}/stocks/${stockId}`, {
            out_request_no: reqNo('M'),
            display_pattern_info: { merchant_logo_url: logo, background_color: 'Color030' },
          }),
          204,
        );
        expect((await readStock(stockId)).display_pattern_info).toEqual({
          merchant_logo_url: logo,
          background_color: 'Color030',
        });
      });

      it('natural_person_limit cannot change (the same value is accepted)', async () => {
        const stockId = await createStock({
          stock_send_rule: { max_coupons: 100, max_coupons_per_user: 5, natural_person_limit: false },
        });
        const before = await readStock(stockId);
        expectError(
          await patch(`${BASE}/stocks/${stockId}`, {
            out_request_no: reqNo('M'),
            stock_send_rule: { natural_person_limit: true },
          }),
          400,
          'PARAM_ERROR',
          '参数错误：/stock_send_rule/natural_person_limit 不支持修改',
        );
        expect(await readStock(stockId)).toEqual(before);
        signedJson(
          sandbox,
          await patch(`${BASE}/stocks/${stockId}`, {
            out_request_no: reqNo('M'),
            stock_send_rule: { natural_person_limit: false, prevent_api_abuse: true },
          }),
          204,
        );
        expect((await readStock(stockId)).stock_send_rule).toMatchObject({
          natural_person_limit: false,
          prevent_api_abuse: true,
        });
      });

      it('subsidy may go false → true but never true → false', async () => {
        const on = await createStock({ subsidy: true });
        const before = await readStock(on);
        expectError(
          await patch(`${BASE}/stocks/${on}`, { out_request_no: reqNo('M'), subsidy: false }),
          400,
          'PARAM_ERROR',
          '参数错误：/subsidy 不支持从true修改为false',
        );
        expect(await readStock(on)).toEqual(before);
        const off = await createStock({ subsidy: false });
        signedJson(
          sandbox,
          await patch(`${BASE}/stocks/${off}`, { out_request_no: reqNo('M'), subsidy: true }),
          204,
        );
        expect((await readStock(off)).subsidy).toBe(true);
      });

      it('ignores a field outside the modify schema (APIv3 drops unknown members): max_coupons stays', async () => {
        const stockId = await createStock();
        const before = await readStock(stockId);
        const res = await patch(`${BASE}/stocks/${stockId}`, {
          out_request_no: reqNo('M'),
          stock_send_rule: { max_coupons: 5 },
        });
        signedJson(sandbox, res, 204);
        expect(await readStock(stockId)).toEqual(before);
      });
    });

    describe('PATCH /stocks/{stock_id}/budget', () => {
      const budget = (stockId: string, body: Json, merchant = sandbox.merchant) =>
        patch(
          `${BASE}/stocks/${stockId}/budget`,
          { modify_budget_request_no: reqNo('B'), ...body },
          merchant,
        );
      const caps = async (stockId: string) =>
        (await readStock(stockId)).stock_send_rule as { max_coupons: number; max_coupons_by_day?: number };

      it('a target without its current_* is PARAM_ERROR', async () => {
        const stockId = await createStock({
          stock_send_rule: { max_coupons: 100, max_coupons_per_user: 5, max_coupons_by_day: 10 },
        });
        const before = await readStock(stockId);
        expectError(
          await budget(stockId, { target_max_coupons: 200 }),
          400,
          'PARAM_ERROR',
          '参数错误：/current_max_coupons 修改 target_max_coupons 时必填',
        );
        expectError(
          await budget(stockId, { target_max_coupons_by_day: 20 }),
          400,
          'PARAM_ERROR',
          '参数错误：/current_max_coupons_by_day 修改 target_max_coupons_by_day 时必填',
        );
        expectError(
          await budget(stockId, { current_max_coupons: 100 }),
          400,
          'PARAM_ERROR',
          '参数错误：/target_max_coupons target_max_coupons 与 target_max_coupons_by_day 必须且只能填写一个',
        );
        expect(await readStock(stockId)).toEqual(before);
      });

      it('a total below the number already sent, or below the daily cap, is PARAM_ERROR', async () => {
        const stockId = await createStock({
          stock_send_rule: { max_coupons: 100, max_coupons_per_user: 5, max_coupons_by_day: 10 },
        });
        for (let i = 0; i < 3; i++)
          expect((await pluginSendOne(sandbox, APPID, openid, stockId)).code).toBe('SUCCESS');
        const before = await readStock(stockId);
        expectError(
          await budget(stockId, { target_max_coupons: 2, current_max_coupons: 100 }),
          400,
          'PARAM_ERROR',
          '参数错误：/target_max_coupons 不能小于已发放个数',
        );
        expectError(
          await budget(stockId, { target_max_coupons: 9, current_max_coupons: 100 }),
          400,
          'PARAM_ERROR',
          '参数错误：/target_max_coupons 不能小于单天发放上限',
        );
        expect(await readStock(stockId)).toEqual(before);
        // Exactly the number sent is allowed (with no daily cap above it).
        const ok = await budget(stockId, { target_max_coupons: 10, current_max_coupons: 100 });
        expect(signedJson(sandbox, ok)).toEqual({ max_coupons: 10, max_coupons_by_day: 10 });
      });

      it('a daily cap above the total, or a total out of range, is PARAM_ERROR', async () => {
        const stockId = await createStock();
        const before = await readStock(stockId);
        expectError(
          await budget(stockId, { target_max_coupons_by_day: 101, current_max_coupons_by_day: 0 }),
          400,
          'PARAM_ERROR',
          '参数错误：/target_max_coupons_by_day 不能大于批次最大发放个数',
        );
        const range = await budget(stockId, { target_max_coupons: 1000000001, current_max_coupons: 100 });
        expectError(range, 400, 'PARAM_ERROR');
        expect(range.json<{ detail: Json }>().detail).toMatchObject({ field: '/target_max_coupons' });
        expect(await readStock(stockId)).toEqual(before);
      });

      it('404 批次不存在, 403 NO_AUTH; a reused number with another body is RESOURCE_ALREADY_EXISTS', async () => {
        expectError(
          await budget('123456789012345', { target_max_coupons: 200, current_max_coupons: 100 }),
          404,
          'RESOURCE_NOT_EXISTS',
          '批次不存在',
        );
        const stockId = await createStock();
        expectError(
          await budget(stockId, { target_max_coupons: 200, current_max_coupons: 100 }, other),
          403,
          'NO_AUTH',
          '无权限修改该批次',
        );
        expect((await caps(stockId)).max_coupons).toBe(100);
        const no = reqNo('B');
        const first = { target_max_coupons: 200, current_max_coupons: 100, modify_budget_request_no: no };
        expect(signedJson(sandbox, await patch(`${BASE}/stocks/${stockId}/budget`, first))).toEqual({
          max_coupons: 200,
        });
        expectError(
          await patch(`${BASE}/stocks/${stockId}/budget`, { ...first, target_max_coupons: 300 }),
          400,
          'RESOURCE_ALREADY_EXISTS',
          '/modify_budget_request_no 已被使用，请检查是否重复使用了请求单号',
        );
        // The replay answers the first result even though current_max_coupons is stale by now.
        expect(signedJson(sandbox, await patch(`${BASE}/stocks/${stockId}/budget`, first))).toEqual({
          max_coupons: 200,
        });
        expect((await caps(stockId)).max_coupons).toBe(200);
      });
    });

    describe('POST /stocks/{stock_id}/couponcodes', () => {
      const uploadCodes = (stockId: string, body: Json, merchant = sandbox.merchant) =>
        sandbox.request({ method: 'POST', path: `${BASE}/stocks/${stockId}/couponcodes`, body, merchant });
      const uploadStock = () =>
        createStock({
          coupon_code_mode: 'MERCHANT_UPLOAD',
          stock_send_rule: { max_coupons: 1000, max_coupons_per_user: 5 },
        });

      it('404 批次不存在 and 403 NO_AUTH; nothing is stored', async () => {
        expectError(
          await uploadCodes('123456789012345', { coupon_code_list: ['A1'], upload_request_no: reqNo('C') }),
          404,
          'RESOURCE_NOT_EXISTS',
          '批次不存在',
        );
        const stockId = await uploadStock();
        expectError(
          await uploadCodes(stockId, { coupon_code_list: ['A1'], upload_request_no: reqNo('C') }, other),
          403,
          'NO_AUTH',
          '无权限操作该批次',
        );
        expect((await readStock(stockId)).coupon_code_count).toEqual({ total_count: 0, available_count: 0 });
      });

      it('an empty list or more than 200 codes is PARAM_ERROR; 200 are accepted', async () => {
        const stockId = await uploadStock();
        const empty = await uploadCodes(stockId, { coupon_code_list: [], upload_request_no: reqNo('C') });
        expectError(empty, 400, 'PARAM_ERROR');
        expect(empty.json<{ detail: Json }>().detail).toMatchObject({ field: '/coupon_code_list' });
        const codes = Array.from({ length: 201 }, (_, i) => `CODE${String(i).padStart(4, '0')}`);
        const tooMany = await uploadCodes(stockId, {
          coupon_code_list: codes,
          upload_request_no: reqNo('C'),
        });
        expectError(tooMany, 400, 'PARAM_ERROR');
        expect(tooMany.json<{ detail: Json }>().detail).toMatchObject({ field: '/coupon_code_list' });
        expect((await readStock(stockId)).coupon_code_count).toEqual({ total_count: 0, available_count: 0 });
        const ok = signedJson<Json>(
          sandbox,
          await uploadCodes(stockId, {
            coupon_code_list: codes.slice(0, 200),
            upload_request_no: reqNo('C'),
          }),
        );
        expect(ok).toMatchObject({ stock_id: stockId, total_count: 200, success_count: 200, fail_count: 0 });
        expect((await readStock(stockId)).coupon_code_count).toEqual({
          total_count: 200,
          available_count: 200,
        });
      });

      it('a replayed upload_request_no answers the first response; with other codes it is RESOURCE_ALREADY_EXISTS', async () => {
        const stockId = await uploadStock();
        const body = { coupon_code_list: ['R1', 'R2'], upload_request_no: reqNo('C') };
        const first = signedJson<Json>(sandbox, await uploadCodes(stockId, body));
        expect(first).toMatchObject({ total_count: 2, success_count: 2, success_codes: ['R1', 'R2'] });
        const again = signedJson<Json>(sandbox, await uploadCodes(stockId, body));
        expect(again).toEqual(first);
        expect(again.exist_codes).toBeUndefined();
        expectError(
          await uploadCodes(stockId, { ...body, coupon_code_list: ['R3'] }),
          400,
          'RESOURCE_ALREADY_EXISTS',
          '/upload_request_no 已被使用，请检查是否重复使用了请求单号',
        );
        expect((await readStock(stockId)).coupon_code_count).toEqual({ total_count: 2, available_count: 2 });
      });
    });

    describe('POST /v3/marketing/favor/media/image-upload', () => {
      const meta = (file: Buffer, filename = 'logo.png') =>
        JSON.stringify({ filename, sha256: sha256(file) });

      it('a JSON (not multipart) request is 400 INVALID_REQUEST', async () => {
        const res = await post('/v3/marketing/favor/media/image-upload', { filename: 'logo.png' });
        expectError(res, 400, 'INVALID_REQUEST', 'Content-Type 必须为 multipart/form-data');
      });

      it('refuses extensions other than jpg/jpeg/bmp/png, non-images, empty and missing parts', async () => {
        expectError(
          await multipartUpload(sandbox, meta(PNG, 'logo.gif'), PNG),
          400,
          'PARAM_ERROR',
          '参数错误：meta/filename 文件扩展名只支持jpg、bmp、png',
        );
        const text = Buffer.from('not an image at all');
        expectError(
          await multipartUpload(sandbox, meta(text), text),
          400,
          'PARAM_ERROR',
          '参数错误：file 图片格式只支持JPG、BMP、PNG',
        );
        expectError(
          await multipartUpload(sandbox, meta(PNG), PNG, { parts: ['meta'] }),
          400,
          'PARAM_ERROR',
          '参数错误：file 缺少file部分',
        );
        expectError(
          await multipartUpload(sandbox, '', PNG, { parts: ['file'] }),
          400,
          'PARAM_ERROR',
          '参数错误：meta 缺少meta部分',
        );
        expectError(
          await multipartUpload(sandbox, '{"filename":', PNG),
          400,
          'PARAM_ERROR',
          '参数错误：meta 不是合法的JSON',
        );
      });

      it('refuses an image over 2 MB (and a body over the request limit) with PARAM_ERROR, never a 5xx', async () => {
        const big = Buffer.concat([PNG, Buffer.alloc(2 * 1024 * 1024)]);
        expectError(
          await multipartUpload(sandbox, meta(big), big),
          400,
          'PARAM_ERROR',
          '参数错误：file 图片大小不能超过2M',
        );
        const huge = Buffer.concat([PNG, Buffer.alloc(3 * 1024 * 1024)]);
        // Past the server's body limit the request is refused before it is read, so before authentication:
        // like a 401, that answer carries no platform signature.
        const tooLarge = await multipartUpload(sandbox, meta(huge), huge);
        expect([tooLarge.status, tooLarge.json<Json>().code, tooLarge.json<Json>().message]).toEqual([
          413,
          'PARAM_ERROR',
          '请求体过大',
        ]);
        expect(tooLarge.headers['wechatpay-signature']).toBeUndefined();
        // Exactly 2 MB is accepted.
        const limit = Buffer.concat([PNG, Buffer.alloc(2 * 1024 * 1024 - PNG.length)]);
        expect(
          signedJson<Json>(sandbox, await multipartUpload(sandbox, meta(limit), limit)).media_url,
        ).toMatch(/^https:\/\/wxpaylogo\.qpic\.cn\//);
      });

      it('the signature covers the meta JSON only: one over the whole body is 401 SIGN_ERROR and yields no URL', async () => {
        const res = await multipartUpload(sandbox, meta(PNG), PNG, { signOver: 'body' });
        expectError(res, 401, 'SIGN_ERROR', '验证不通过');
        expect(res.headers['wechatpay-signature']).toBeUndefined();
        expect(res.json<Json>().media_url).toBeUndefined();
      });

      it('a meta part changed after signing is 401 SIGN_ERROR', async () => {
        const signed = meta(PNG);
        const res = await multipartUpload(sandbox, signed, PNG, {
          sentMeta: JSON.stringify({ filename: 'other.png', sha256: sha256(PNG) }),
        });
        expectError(res, 401, 'SIGN_ERROR', '验证不通过');
      });
    });

    describe('401 SIGN_ERROR on busifavor routes changes nothing', () => {
      const expectSignError = (res: TestResponse) => {
        expectError(res, 401, 'SIGN_ERROR', '验证不通过');
        expect(res.headers['wechatpay-signature']).toBeUndefined();
      };

      it('create stock with a tampered body creates nothing: the same out_request_no still creates', async () => {
        const body = stockBody(mchid);
        const tampered = { ...body, stock_send_rule: { max_coupons: 100000, max_coupons_per_user: 100 } };
        expectSignError(
          await sandbox.request({
            method: 'POST',
            path: `${BASE}/stocks`,
            body,
            sendBody: JSON.stringify(tampered),
          }),
        );
        const created = signedJson<{ stock_id: string }>(sandbox, await post(`${BASE}/stocks`, body));
        expect((await readStock(created.stock_id)).stock_send_rule).toEqual(body.stock_send_rule);
      });

      it('PATCH budget and PATCH stock with a tampered body change nothing', async () => {
        const stockId = await createStock();
        const before = await readStock(stockId);
        const body = {
          target_max_coupons: 200,
          current_max_coupons: 100,
          modify_budget_request_no: reqNo('B'),
        };
        expectSignError(
          await sandbox.request({
            method: 'PATCH',
            path: `${BASE}/stocks/${stockId}/budget`,
            body,
            sendBody: JSON.stringify({ ...body, target_max_coupons: 900 }),
          }),
        );
        const modify = { out_request_no: reqNo('M'), comment: '原样' };
        expectSignError(
          await sandbox.request({
            method: 'PATCH',
            path: `${BASE}/stocks/${stockId}`,
            body: modify,
            sendBody: JSON.stringify({ ...modify, comment: '篡改' }),
          }),
        );
        expect(await readStock(stockId)).toEqual(before);
      });

      it('a list query changed after signing, and a stock GET signed for another stock, are refused', async () => {
        const stockId = await createStock();
        const query = `appid=${APPID}&creator_merchant=${mchid}`;
        expectSignError(
          await sandbox.request({
            method: 'GET',
            path: `${BASE}/users/${openid}/coupons?${query}&limit=2`,
            signOver: (s) => s.replace('limit=2', 'limit=1'),
          }),
        );
        expectSignError(
          await sandbox.request({
            method: 'GET',
            path: `${BASE}/stocks/${stockId}`,
            signOver: (s) => s.replace(stockId, '123456789012345'),
          }),
        );
        // The same requests, signed as sent, pass.
        signedJson(
          sandbox,
          await sandbox.request({ method: 'GET', path: `${BASE}/users/${openid}/coupons?${query}&limit=2` }),
        );
      });
    });

    describe('GET /callbacks', () => {
      it('404 RESOURCE_NOT_EXISTS before any URL is set', async () => {
        expectError(
          await sandbox.request({ method: 'GET', path: `${BASE}/callbacks`, merchant: other }),
          404,
          'RESOURCE_NOT_EXISTS',
          '未设置商家券事件通知地址',
        );
      });
    });
  });
}
