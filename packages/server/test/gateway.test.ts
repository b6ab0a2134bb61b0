import { generateKeyPairSync } from 'node:crypto';
import { connect } from 'node:net';
import { decryptAeadAes256Gcm, loadCertificate } from '@wechatpay-sandbox/sdk/protocol';
import {
  DIALECTS,
  rawRequest,
  startSandbox,
  type TestMerchant,
  type TestSandbox,
  verifyTestResponse,
} from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/connect.js';
import { SqlNotifySettingsStore } from '../src/db/notify-settings-repo.js';
import { addMerchant } from './busifavor-helpers.js';

const CALLBACKS = '/v3/marketing/busifavor/callbacks';
const PRODUCT_COUPON = '/v3/marketing/partner/product-coupon/notify-configs';
const deliveryPlan = (spMchid: string) => `/v3/marketing/partner/delivery-plan/${spMchid}/notify-url`;
/** `https://merchant.example.com/` is 29 characters. */
const urlOfLength = (length: number) => `https://merchant.example.com/${'a'.repeat(length - 29)}`;

/** Writes raw bytes to the server and resolves with everything it answers before closing. */
function rawExchange(baseUrl: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
    socket.write(bytes);
  });
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`gateway and notify settings on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    /** A second, unrelated merchant with its own registered key. */
    let other: TestMerchant;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      other = await addMerchant(sandbox, '1900000303');
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

    it('accepts a 256-character notify_url on all three families and echoes it', async () => {
      const url = urlOfLength(256);
      expect(url).toHaveLength(256);
      const busifavor = await sandbox.request({ method: 'POST', path: CALLBACKS, body: { notify_url: url } });
      expect([busifavor.status, busifavor.json().notify_url]).toEqual([200, url]);
      const productCoupon = await sandbox.request({
        method: 'POST',
        path: PRODUCT_COUPON,
        body: { notify_url: url },
      });
      expect([productCoupon.status, productCoupon.json().notify_url]).toEqual([200, url]);
      const plan = await sandbox.request({
        method: 'POST',
        path: deliveryPlan(mchid()),
        body: { notify_url: url },
      });
      expect([plan.status, plan.json().notify_url]).toEqual([200, url]);
      // The tamper tests below check that this URL is left alone.
      const restore = await sandbox.request({
        method: 'POST',
        path: CALLBACKS,
        body: { notify_url: 'https://merchant.example.com/wxpay/busifavor' },
      });
      expect(restore.status).toBe(200);
    });

    describe.each([
      ['product-coupon', (): string => PRODUCT_COUPON, 'product-coupon'],
      ['delivery-plan', (): string => deliveryPlan(mchid()), 'delivery-plan'],
    ] as const)('%s notify_url validation', (_family, path, storeFamily) => {
      it.each([
        ['http scheme', 'http://merchant.example.com/notify'],
        ['a query string', 'https://merchant.example.com/notify?a=1'],
        ['an empty query', 'https://merchant.example.com/notify?'],
        ['a fragment', 'https://merchant.example.com/notify#x'],
        ['257 characters', urlOfLength(257)],
        ['not a URL', 'merchant.example.com/notify'],
        ['an empty string', ''],
      ])('refuses %s with PARAM_ERROR on /notify_url and keeps the stored URL', async (_name, url) => {
        const res = await sandbox.request({ method: 'POST', path: path(), body: { notify_url: url } });
        expect(res.status).toBe(400);
        const error = res.json<{ code: string; detail: { field: string; location: string } }>();
        expect(error.code).toBe('PARAM_ERROR');
        expect(error.detail).toMatchObject({ field: '/notify_url', location: 'body' });
        // Read the stored setting itself: delivery-plan has no GET endpoint.
        const handle = openDatabase(sandbox.dbUrl);
        try {
          const stored = await new SqlNotifySettingsStore(handle.db).get(mchid(), storeFamily);
          expect(stored?.notifyUrl).toBe(urlOfLength(256));
        } finally {
          await handle.close();
        }
      });
    });

    it.each([
      ['16 digits', '1900000001234567'],
      ['letters', '19000000ab'],
      ['full-width digits', '１９０００００００１'],
    ])('refuses a busifavor mchid of %s with PARAM_ERROR in body and query', async (_name, value) => {
      const post = await sandbox.request({
        method: 'POST',
        path: CALLBACKS,
        body: { mchid: value, notify_url: 'https://merchant.example.com/n' },
      });
      expect([post.status, post.json().code]).toEqual([400, 'PARAM_ERROR']);
      expect(post.json().detail).toMatchObject({ field: '/mchid', location: 'body' });
      const get = await sandbox.request({
        method: 'GET',
        path: `${CALLBACKS}?mchid=${encodeURIComponent(value)}`,
      });
      expect([get.status, get.json().code]).toEqual([400, 'PARAM_ERROR']);
      expect(get.json().detail).toMatchObject({ field: 'mchid', location: 'query' });
    });

    it.each([
      ['16 digits', '1900000001234567'],
      ['7 digits', '1900000'],
      ['letters', '19000000ab'],
    ])('refuses a delivery-plan sp_mchid of %s with PARAM_ERROR in the path', async (_name, value) => {
      const res = await sandbox.request({
        method: 'POST',
        path: deliveryPlan(value),
        body: { notify_url: 'https://www.example.com/notify' },
      });
      expect([res.status, res.json().code]).toEqual([400, 'PARAM_ERROR']);
      expect(res.json().detail).toMatchObject({ field: 'sp_mchid', location: 'path' });
    });

    describe('a sub-merchant with its own key', () => {
      let sub: TestMerchant;
      beforeAll(async () => {
        sub = await addMerchant(sandbox, '1900000404', { parent: mchid() });
      });

      it("seed 001: its own busifavor URL is visible to it, and 404 to its provider's GET", async () => {
        const set = await sandbox.request({
          method: 'POST',
          path: CALLBACKS,
          body: { notify_url: 'https://sub.example.com/own' },
          merchant: sub,
        });
        expect([set.status, set.json().mchid]).toEqual([200, sub.mchid]);
        const own = await sandbox.request({ method: 'GET', path: CALLBACKS, merchant: sub });
        expect([own.status, own.json()]).toEqual([
          200,
          { mchid: sub.mchid, notify_url: 'https://sub.example.com/own' },
        ]);
        const byProvider = await sandbox.request({ method: 'GET', path: `${CALLBACKS}?mchid=${sub.mchid}` });
        expect([byProvider.status, byProvider.json().code]).toEqual([404, 'RESOURCE_NOT_EXISTS']);
      });

      it('seed 001: a URL the provider set for it is visible to the provider, and 404 to the sub-merchant', async () => {
        const set = await sandbox.request({
          method: 'POST',
          path: CALLBACKS,
          body: { mchid: sub.mchid, notify_url: 'https://provider.example.com/for-sub' },
        });
        expect(set.status).toBe(200);
        const byProvider = await sandbox.request({ method: 'GET', path: `${CALLBACKS}?mchid=${sub.mchid}` });
        expect([byProvider.status, byProvider.json()]).toEqual([
          200,
          { mchid: sub.mchid, notify_url: 'https://provider.example.com/for-sub' },
        ]);
        const own = await sandbox.request({ method: 'GET', path: CALLBACKS, merchant: sub });
        expect([own.status, own.json().code]).toEqual([404, 'RESOURCE_NOT_EXISTS']);
      });

      it('seeds 000/003: product-coupon and delivery-plan settings are refused with 403 NO_AUTH (not a 普通服务商)', async () => {
        const requests = [
          { method: 'POST', path: PRODUCT_COUPON, body: { notify_url: 'https://sub.example.com/pc' } },
          { method: 'GET', path: PRODUCT_COUPON },
          {
            method: 'POST',
            path: deliveryPlan(sub.mchid),
            body: { notify_url: 'https://sub.example.com/dp' },
          },
        ];
        for (const input of requests) {
          const res = await sandbox.request({ ...input, merchant: sub });
          expect([res.status, res.json().code], `${input.method} ${input.path}`).toEqual([403, 'NO_AUTH']);
          expect(res.json().message).toContain('请确认已开通商品券权限');
        }
        const handle = openDatabase(sandbox.dbUrl);
        try {
          const store = new SqlNotifySettingsStore(handle.db);
          expect(await store.get(sub.mchid, 'product-coupon')).toBeUndefined();
          expect(await store.get(sub.mchid, 'delivery-plan')).toBeUndefined();
        } finally {
          await handle.close();
        }
      });

      it('a merchant without a provider may set them (the sandbox treats it as a 普通服务商)', async () => {
        const pc = await sandbox.request({
          method: 'POST',
          path: PRODUCT_COUPON,
          body: { notify_url: 'https://other.example.com/pc' },
          merchant: other,
        });
        expect([pc.status, pc.json().notify_url]).toEqual([200, 'https://other.example.com/pc']);
        const plan = await sandbox.request({
          method: 'POST',
          path: deliveryPlan(other.mchid),
          body: { notify_url: 'https://other.example.com/dp' },
          merchant: other,
        });
        expect(plan.status).toBe(200);
      });
    });

    it("answers /v3/certificates for a public-key merchant with 404 and WeChat's exact message", async () => {
      const res = await sandbox.request({ method: 'GET', path: '/v3/certificates' });
      expect(res.status).toBe(404);
      expect(res.json()).toEqual({
        code: 'RESOURCE_NOT_EXISTS',
        message:
          '无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥。可查看指引https://pay.weixin.qq.com/doc/v3/merchant/4012153196',
      });
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
      it('timestamp 301 s in the future', async () => {
        await expect401(
          await sandbox.request({
            method: 'POST',
            path: CALLBACKS,
            body: body(),
            timestamp: Math.floor(Date.now() / 1000) + 301,
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
      it("another merchant's own mchid, serial and key verify (control for the next two)", async () => {
        const res = await sandbox.request({ method: 'GET', path: CALLBACKS, merchant: other });
        expect([res.status, res.json().code]).toEqual([404, 'RESOURCE_NOT_EXISTS']);
      });
      it("another merchant's registered serial, signed with the caller's key", async () => {
        await expect401(
          await sandbox.request({
            method: 'POST',
            path: CALLBACKS,
            body: body(),
            authorization: (h) => h.replace(/serial_no="[^"]+"/, `serial_no="${other.serialNo}"`),
          }),
        );
      });
      it("the caller's mchid with another merchant's serial and key", async () => {
        await expect401(
          await sandbox.request({
            method: 'POST',
            path: CALLBACKS,
            body: body(),
            merchant: { ...other, mchid: mchid() },
          }),
        );
      });
      it('a serial registered for nobody', async () => {
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

    it('accepts a timestamp 300 s in the future (the window is inclusive)', async () => {
      const res = await sandbox.request({
        method: 'GET',
        path: CALLBACKS,
        timestamp: Math.floor(Date.now() / 1000) + 300,
      });
      expect(res.status).toBe(200);
    });

    it.each([
      ['a header line without a colon', 'GET /v3/certificates HTTP/1.1\r\nHost: x\r\nBroken header\r\n\r\n'],
      ['an invalid method token', 'G@T /v3/certificates HTTP/1.1\r\nHost: x\r\n\r\n'],
      [
        'both Content-Length and chunked framing',
        'POST /v3/certificates HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      ],
    ])(
      'answers malformed HTTP (%s) with 400 INVALID_REQUEST, a Request-ID, then closes',
      async (_n, bytes) => {
        const answer = await rawExchange(sandbox.url, bytes);
        const [head = '', body = ''] = answer.split('\r\n\r\n');
        const [statusLine, ...headerLines] = head.split('\r\n');
        expect(statusLine).toBe('HTTP/1.1 400 Bad Request');
        const headers = Object.fromEntries(
          headerLines.map((line) => [
            line.slice(0, line.indexOf(':')).toLowerCase(),
            line.slice(line.indexOf(':') + 1).trim(),
          ]),
        );
        expect(headers['request-id']).toMatch(/^[0-9A-F]{48}$/);
        expect(headers.connection).toBe('close');
        expect(JSON.parse(body)).toMatchObject({ code: 'INVALID_REQUEST', message: expect.any(String) });
      },
    );

    it.each([
      ['broken percent-encoding', '/v3/marketing/busifavor/%ZZ'],
      ['a path parameter over 100 characters', `/v3/marketing/busifavor/stocks/${'1'.repeat(101)}`],
    ])('answers a path with %s with 400 INVALID_REQUEST and a Request-ID', async (_n, path) => {
      const res = await sandbox.request({ method: 'GET', path });
      expect([res.status, res.json().code]).toEqual([400, 'INVALID_REQUEST']);
      expect(res.headers['request-id']).toMatch(/^[0-9A-F]{48}$/);
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
