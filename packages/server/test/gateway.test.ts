import { generateKeyPairSync } from 'node:crypto';
import { decryptAeadAes256Gcm, loadCertificate } from '@wechatpay-sandbox/sdk/protocol';
import {
  DIALECTS,
  rawRequest,
  startSandbox,
  type TestSandbox,
  verifyTestResponse,
} from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CALLBACKS = '/v3/marketing/busifavor/callbacks';

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`gateway and notify settings on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    const platformPublicKey = () => sandbox.server.credentials.platform.publicKey.publicKey;
    const mchid = () => sandbox.merchant.mchid;

    it('sets the busifavor callback and answers a signed 200 in public-key mode', async () => {
      const res = await sandbox.request({
        method: 'POST',
        path: CALLBACKS,
        body: { mchid: mchid(), notify_url: 'https://merchant.example.com/wxpay/busifavor' },
      });
      expect(res.status).toBe(200);
      const body = res.json();
      expect(Object.keys(body)).toEqual(['update_time', 'notify_url', 'mchid']);
      expect(body.notify_url).toBe('https://merchant.example.com/wxpay/busifavor');
      expect(body.mchid).toBe(mchid());
      expect(body.update_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
      expect(res.headers['request-id']).toMatch(/^[0-9A-F]{48}$/);
      expect(res.headers['wechatpay-serial']).toBe(sandbox.server.credentials.platform.publicKey.keyId);
      expect(verifyTestResponse(res, platformPublicKey())).toEqual({
        ok: true,
        serial: sandbox.server.credentials.platform.publicKey.keyId,
      });
    });

    it('reads the callback back for the caller when mchid is omitted, and with mchid', async () => {
      const withoutMchid = await sandbox.request({ method: 'GET', path: CALLBACKS });
      expect(withoutMchid.status).toBe(200);
      expect(withoutMchid.json()).toEqual({
        mchid: mchid(),
        notify_url: 'https://merchant.example.com/wxpay/busifavor',
      });
      expect(verifyTestResponse(withoutMchid, platformPublicKey()).ok).toBe(true);
      const withMchid = await sandbox.request({ method: 'GET', path: `${CALLBACKS}?mchid=${mchid()}` });
      expect(withMchid.json().notify_url).toBe('https://merchant.example.com/wxpay/busifavor');
    });

    it('keeps settings across a restart', async () => {
      await sandbox.restart();
      const res = await sandbox.request({ method: 'GET', path: CALLBACKS });
      expect(res.status).toBe(200);
      expect(res.json().notify_url).toBe('https://merchant.example.com/wxpay/busifavor');
    });

    it.each([
      ['http scheme', 'http://merchant.example.com/notify'],
      ['a query string', 'https://merchant.example.com/notify?a=1'],
      ['an empty query', 'https://merchant.example.com/notify?'],
      ['a fragment', 'https://merchant.example.com/notify#x'],
      ['257 characters', `https://merchant.example.com/${'a'.repeat(228)}`],
      ['not a URL', 'merchant.example.com/notify'],
      ['fewer than 10 characters', 'https://a'],
    ])('refuses a busifavor notify_url with %s and changes nothing', async (_name, url) => {
      const res = await sandbox.request({ method: 'POST', path: CALLBACKS, body: { notify_url: url } });
      expect(res.status).toBe(400);
      const body = res.json<{ code: string; detail: { field: string; location: string } }>();
      expect(body.code).toBe('PARAM_ERROR');
      expect(body.detail.field).toBe('/notify_url');
      expect(body.detail.location).toBe('body');
      const after = await sandbox.request({ method: 'GET', path: CALLBACKS });
      expect(after.json().notify_url).toBe('https://merchant.example.com/wxpay/busifavor');
    });

    it('refuses a numeric mchid, a short mchid, an unknown merchant and another merchant', async () => {
      const numeric = await sandbox.request({
        method: 'POST',
        path: CALLBACKS,
        body: { mchid: Number(mchid()), notify_url: 'https://merchant.example.com/n' },
      });
      expect([numeric.status, numeric.json().code]).toEqual([400, 'PARAM_ERROR']);
      const short = await sandbox.request({
        method: 'POST',
        path: CALLBACKS,
        body: { mchid: '1234567', notify_url: 'https://merchant.example.com/n' },
      });
      expect([short.status, short.json().code]).toEqual([400, 'PARAM_ERROR']);
      const unknown = await sandbox.request({
        method: 'POST',
        path: CALLBACKS,
        body: { mchid: '1999999999', notify_url: 'https://merchant.example.com/n' },
      });
      expect([unknown.status, unknown.json().code]).toEqual([400, 'MCH_NOT_EXISTS']);
      const unknownGet = await sandbox.request({ method: 'GET', path: `${CALLBACKS}?mchid=1999999999` });
      expect([unknownGet.status, unknownGet.json().code]).toEqual([400, 'MCH_NOT_EXISTS']);
    });

    it('sets and reads the product-coupon notify config; GET before any POST is 404', async () => {
      const before = await sandbox.request({
        method: 'GET',
        path: '/v3/marketing/partner/product-coupon/notify-configs',
      });
      expect([before.status, before.json().code]).toEqual([404, 'RESOURCE_NOT_EXISTS']);
      const set = await sandbox.request({
        method: 'POST',
        path: '/v3/marketing/partner/product-coupon/notify-configs',
        body: { notify_url: 'https://www.example.com/notify' },
      });
      expect(set.status).toBe(200);
      expect(Object.keys(set.json())).toEqual(['notify_url', 'update_time']);
      expect(verifyTestResponse(set, platformPublicKey()).ok).toBe(true);
      const get = await sandbox.request({
        method: 'GET',
        path: '/v3/marketing/partner/product-coupon/notify-configs',
      });
      expect(get.json()).toEqual(set.json());
      const bad = await sandbox.request({
        method: 'POST',
        path: '/v3/marketing/partner/product-coupon/notify-configs',
        body: { notify_url: 'https://www.example.com/notify?x=1' },
      });
      expect([bad.status, bad.json().code]).toEqual([400, 'PARAM_ERROR']);
    });

    it('sets the delivery-plan notify URL only for the caller itself', async () => {
      const own = await sandbox.request({
        method: 'POST',
        path: `/v3/marketing/partner/delivery-plan/${mchid()}/notify-url`,
        body: { notify_url: 'https://www.example.com/notify' },
      });
      expect(own.status).toBe(200);
      expect(own.json()).toEqual({ notify_url: 'https://www.example.com/notify' });
      const other = await sandbox.request({
        method: 'POST',
        path: '/v3/marketing/partner/delivery-plan/298689900/notify-url',
        body: { notify_url: 'https://www.example.com/notify' },
      });
      expect([other.status, other.json().code]).toEqual([403, 'NO_AUTH']);
      const bad = await sandbox.request({
        method: 'POST',
        path: '/v3/marketing/partner/delivery-plan/abc/notify-url',
        body: { notify_url: 'https://www.example.com/notify' },
      });
      expect([bad.status, bad.json().code]).toEqual([400, 'PARAM_ERROR']);
    });

    it('answers /v3/certificates with 404 for a public-key merchant', async () => {
      const res = await sandbox.request({ method: 'GET', path: '/v3/certificates' });
      expect([res.status, res.json().code]).toEqual([404, 'RESOURCE_NOT_EXISTS']);
    });

    describe('tampered requests all get 401 SIGN_ERROR without signature headers', () => {
      const body = () => ({ notify_url: 'https://tamper.example.com/notify' });
      const expect401 = async (res: Awaited<ReturnType<TestSandbox['request']>>) => {
        expect(res.status).toBe(401);
        expect(res.json().code).toBe('SIGN_ERROR');
        expect(res.headers['wechatpay-signature']).toBeUndefined();
        expect(res.headers['request-id']).toBeDefined();
        const still = await sandbox.request({ method: 'GET', path: CALLBACKS });
        expect(still.json().notify_url).toBe('https://merchant.example.com/wxpay/busifavor');
      };

      it('flipped signature byte', async () => {
        await expect401(
          await sandbox.request({
            method: 'POST',
            path: CALLBACKS,
            body: body(),
            authorization: (h) =>
              h.replace(/signature="(.)/, (_m, c: string) => `signature="${c === 'A' ? 'B' : 'A'}`),
          }),
        );
      });
      it('changed body', async () => {
        await expect401(
          await sandbox.request({
            method: 'POST',
            path: CALLBACKS,
            body: body(),
            sendBody: JSON.stringify({ notify_url: 'https://evil.example.com/notify' }),
          }),
        );
      });
      it('body re-serialised with other whitespace', async () => {
        await expect401(
          await sandbox.request({
            method: 'POST',
            path: CALLBACKS,
            body: body(),
            sendBody: JSON.stringify(body(), null, 1),
          }),
        );
      });
      it('changed query', async () => {
        await expect401(
          await sandbox.request({
            method: 'GET',
            path: `${CALLBACKS}?mchid=${mchid()}`,
            signOver: (s) => s.replace(`?mchid=${mchid()}`, ''),
          }),
        );
      });
      it('timestamp 301 s old', async () => {
        await expect401(
          await sandbox.request({
            method: 'POST',
            path: CALLBACKS,
            body: body(),
            timestamp: Math.floor(Date.now() / 1000) - 301,
          }),
        );
      });
      it('timestamp in milliseconds', async () => {
        await expect401(
          await sandbox.request({ method: 'POST', path: CALLBACKS, body: body(), timestamp: Date.now() }),
        );
      });
      it('replayed nonce', async () => {
        const nonce = `REPLAY${Date.now()}`;
        const first = await sandbox.request({ method: 'GET', path: CALLBACKS, nonce });
        expect(first.status).toBe(200);
        await expect401(await sandbox.request({ method: 'GET', path: CALLBACKS, nonce }));
      });
      it("another merchant's serial", async () => {
        await expect401(
          await sandbox.request({
            method: 'POST',
            path: CALLBACKS,
            body: body(),
            authorization: (h) =>
              h.replace(/serial_no="[^"]+"/, 'serial_no="5E3F1C2B4A6D8E9F01234567ABCDEF0011223344"'),
          }),
        );
      });
      it('signed with a key that is not registered', async () => {
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        await expect401(
          await sandbox.request({
            method: 'POST',
            path: CALLBACKS,
            body: body(),
            merchant: { ...sandbox.merchant, privateKey },
          }),
        );
      });
      it('unknown mchid', async () => {
        await expect401(
          await sandbox.request({
            method: 'POST',
            path: CALLBACKS,
            body: body(),
            authorization: (h) => h.replace(/mchid="\d+"/, 'mchid="1999999999"'),
          }),
        );
      });
      it.each([
        ['missing', () => undefined],
        ['wrong scheme', (h: string) => h.replace('WECHATPAY2-SHA256-RSA2048', 'WECHATPAY2-SM2-WITH-SM3')],
        ['duplicate parameter', (h: string) => `${h},mchid="1900000001"`],
        ['unquoted value', (h: string) => h.replace(/timestamp="(\d+)"/, 'timestamp=$1')],
      ])('%s Authorization', async (_n, authorization) => {
        await expect401(
          await sandbox.request({ method: 'POST', path: CALLBACKS, body: body(), authorization }),
        );
      });
    });

    describe('SIGN_ERROR detail names the client mistake', () => {
      const mistake = async (input: Parameters<TestSandbox['request']>[0]) => {
        const res = await sandbox.request(input);
        expect(res.status).toBe(401);
        return res.json<{ detail: { mistake: string; issue: string; expected_signing_string: string } }>()
          .detail;
      };
      const body = { notify_url: 'https://diagnose.example.com/notify' };

      it('query dropped from the signed URL', async () => {
        const detail = await mistake({
          method: 'GET',
          path: `${CALLBACKS}?mchid=${mchid()}`,
          signOver: (s) => s.replace(`?mchid=${mchid()}`, ''),
        });
        expect(detail.mistake).toBe('query-dropped');
        expect(detail.expected_signing_string).toContain(`${CALLBACKS}?mchid=${mchid()}\n`);
      });
      it('body re-serialized after signing', async () => {
        const detail = await mistake({
          method: 'POST',
          path: CALLBACKS,
          body,
          sendBody: JSON.stringify(body, null, 2),
        });
        expect(detail.mistake).toBe('body-reserialized');
      });
      it('host included in the signed URL', async () => {
        const detail = await mistake({
          method: 'POST',
          path: CALLBACKS,
          body,
          signOver: (s) => s.replace(CALLBACKS, `https://api.mch.weixin.qq.com${CALLBACKS}`),
        });
        expect(detail.mistake).toBe('host-included');
      });
      it('final newline missing', async () => {
        const detail = await mistake({
          method: 'POST',
          path: CALLBACKS,
          body,
          signOver: (s) => s.slice(0, -1),
        });
        expect(detail.mistake).toBe('final-newline-missing');
      });
      it('body left out of the signature', async () => {
        const detail = await mistake({
          method: 'POST',
          path: CALLBACKS,
          body,
          signOver: (s) => s.replace(`${JSON.stringify(body)}\n`, '\n'),
        });
        expect(detail.mistake).toBe('body-omitted');
      });
      it('a signature of another length', async () => {
        const detail = await mistake({
          method: 'GET',
          path: CALLBACKS,
          authorization: (h) =>
            h.replace(/signature="[^"]+"/, `signature="${Buffer.alloc(128, 1).toString('base64')}"`),
        });
        expect(detail.mistake).toBe('signature-length');
      });
      it('no known mistake', async () => {
        const detail = await mistake({
          method: 'GET',
          path: CALLBACKS,
          authorization: (h) =>
            h.replace(/signature="(.)/, (_m, c: string) => `signature="${c === 'A' ? 'B' : 'A'}`),
        });
        expect(detail.mistake).toBe('unknown');
      });
    });

    it('accepts Authorization parameters in any order with spaces around separators', async () => {
      const res = await sandbox.request({
        method: 'GET',
        path: CALLBACKS,
        authorization: (h) => {
          const [scheme, params] = [h.slice(0, h.indexOf(' ')), h.slice(h.indexOf(' ') + 1)];
          return `${scheme} ${params.split(',').reverse().join(' , ')}`;
        },
      });
      expect(res.status).toBe(200);
    });

    it('refuses a request without User-Agent with 400 INVALID_REQUEST', async () => {
      const res = await rawRequest(sandbox.url, {
        method: 'GET',
        path: CALLBACKS,
        headers: { Accept: 'application/json' },
      });
      expect([res.status, res.json().code]).toEqual([400, 'INVALID_REQUEST']);
    });

    it('answers an unknown path with a WeChat-shaped 404', async () => {
      const res = await sandbox.request({ method: 'GET', path: '/v3/nothing/here' });
      expect(res.status).toBe(404);
      expect(res.json().code).toBe('RESOURCE_NOT_EXISTS');
    });

    it('rejects invalid JSON and emoji with PARAM_ERROR after verifying the signature', async () => {
      const bad = await sandbox.request({ method: 'POST', path: CALLBACKS, body: '{"notify_url":' });
      expect([bad.status, bad.json().code]).toEqual([400, 'PARAM_ERROR']);
      const emoji = await sandbox.request({
        method: 'POST',
        path: CALLBACKS,
        body: { notify_url: 'https://merchant.example.com/😀' },
      });
      expect([emoji.status, emoji.json().code]).toEqual([400, 'PARAM_ERROR']);
    });

    it('serves platform certificates in certificate mode and signs with the certificate', async () => {
      const other = await startSandbox({ dialect });
      try {
        const { MerchantRepo } = await import('../src/db/merchant-repo.js');
        const { openDatabase } = await import('../src/db/connect.js');
        const handle = openDatabase(other.dbUrl);
        await new MerchantRepo(handle.db).setSigningMode(other.merchant.mchid, 'certificate');
        await handle.close();
        await other.restart();
        const res = await other.request({ method: 'GET', path: '/v3/certificates' });
        expect(res.status).toBe(200);
        const { data } = res.json<{
          data: Array<{ serial_no: string; encrypt_certificate: Record<string, string> }>;
        }>();
        expect(data).toHaveLength(1);
        const item = data[0] as (typeof data)[number];
        const pem = decryptAeadAes256Gcm({
          apiV3Key: other.merchant.apiV3Key,
          nonce: item.encrypt_certificate.nonce as string,
          associatedData: 'certificate',
          ciphertext: item.encrypt_certificate.ciphertext as string,
        });
        const cert = loadCertificate(pem);
        expect(cert.serialNo).toBe(item.serial_no);
        expect(res.headers['wechatpay-serial']).toBe(item.serial_no);
        expect(verifyTestResponse(res, cert.publicKey).ok).toBe(true);
        expect(verifyTestResponse(res, other.server.credentials.platform.publicKey.publicKey).ok).toBe(false);
      } finally {
        await other.close();
      }
    });
  });
}
