import {
  DIALECTS,
  startSandbox,
  type TestMerchant,
  type TestSandbox,
  verifyTestResponse,
} from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/connect.js';
import { MerchantRepo } from '../src/db/merchant-repo.js';
import { addMerchant } from './busifavor-helpers.js';

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`signing modes and merchant relations on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      const handle = openDatabase(sandbox.dbUrl);
      const repo = new MerchantRepo(handle.db);
      await repo.setSigningMode(sandbox.merchant.mchid, 'migrating');
      // A sub-merchant of the dev merchant, and an unrelated merchant, sharing the dev key material.
      const dev = sandbox.server.credentials.merchant;
      for (const [mchid, parent] of [
        ['1900000101', dev.mchid],
        ['1900000202', null],
      ] as const) {
        await repo.upsertMerchant({
          mchid,
          name: `merchant ${mchid}`,
          apiV3Key: 'b'.repeat(32),
          apiV2Key: null,
          signingMode: 'pubkey',
          parentMchid: parent,
        });
      }
      await handle.close();
      await sandbox.restart();
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    it('in migrating mode signs with whichever key the request names, and the certificate by default', async () => {
      const platform = sandbox.server.credentials.platform;
      const cert = platform.certificates[platform.certificates.length - 1];
      if (!cert) throw new Error('no platform certificate');
      const path = '/v3/marketing/partner/product-coupon/notify-configs';
      const byDefault = await sandbox.request({ method: 'GET', path });
      expect(byDefault.headers['wechatpay-serial']).toBe(cert.serialNo);
      const withKeyId = await sandbox.request({
        method: 'GET',
        path,
        headers: { 'Wechatpay-Serial': platform.publicKey.keyId },
      });
      expect(withKeyId.headers['wechatpay-serial']).toBe(platform.publicKey.keyId);
      expect(verifyTestResponse(withKeyId, platform.publicKey.publicKey).ok).toBe(true);
      expect(verifyTestResponse(withKeyId, cert.publicKey).ok).toBe(false);
      const withCert = await sandbox.request({
        method: 'GET',
        path,
        headers: { 'Wechatpay-Serial': cert.serialNo },
      });
      expect(withCert.headers['wechatpay-serial']).toBe(cert.serialNo);
      expect(verifyTestResponse(withCert, cert.publicKey).ok).toBe(true);
    });

    it('lets a provider set and read its sub-merchant busifavor URL, but not an unrelated merchant', async () => {
      const sub = await sandbox.request({
        method: 'POST',
        path: '/v3/marketing/busifavor/callbacks',
        body: { mchid: '1900000101', notify_url: 'https://provider.example.com/sub' },
      });
      expect(sub.status).toBe(200);
      expect(sub.json().mchid).toBe('1900000101');
      const read = await sandbox.request({
        method: 'GET',
        path: '/v3/marketing/busifavor/callbacks?mchid=1900000101',
      });
      expect(read.json()).toEqual({ mchid: '1900000101', notify_url: 'https://provider.example.com/sub' });
      const other = await sandbox.request({
        method: 'POST',
        path: '/v3/marketing/busifavor/callbacks',
        body: { mchid: '1900000202', notify_url: 'https://provider.example.com/other' },
      });
      expect([other.status, other.json().code]).toEqual([403, 'NO_AUTH']);
      const otherGet = await sandbox.request({
        method: 'GET',
        path: '/v3/marketing/busifavor/callbacks?mchid=1900000202',
      });
      expect([otherGet.status, otherGet.json().code]).toEqual([403, 'NO_AUTH']);
    });
  });
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`rate limits on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let second: TestMerchant;
    beforeAll(async () => {
      sandbox = await startSandbox({
        dialect,
        config: {
          rateLimit: { perSecond: 0.001, burst: 3 },
          endpointRateLimits: {
            'GET /v3/marketing/partner/product-coupon/notify-configs': { perSecond: 0.001, burst: 1 },
          },
        },
      });
      second = await addMerchant(sandbox, '1900000505');
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    it('answers 429 FREQUENCY_LIMITED past the per-merchant limit and RATELIMIT_EXCEEDED on product-coupon', async () => {
      const pc = '/v3/marketing/partner/product-coupon/notify-configs';
      expect((await sandbox.request({ method: 'GET', path: pc })).status).toBe(404); // no URL yet; token used
      const limited = await sandbox.request({ method: 'GET', path: pc });
      expect([limited.status, limited.json().code]).toEqual([429, 'RATELIMIT_EXCEEDED']);
      const statuses: number[] = [];
      for (let i = 0; i < 2; i++) {
        statuses.push(
          (await sandbox.request({ method: 'GET', path: '/v3/marketing/busifavor/callbacks' })).status,
        );
      }
      expect(statuses).toEqual([404, 404]);
      const last = await sandbox.request({ method: 'GET', path: '/v3/marketing/busifavor/callbacks' });
      expect([last.status, last.json().code]).toEqual([429, 'FREQUENCY_LIMITED']);
    });

    it('counts per merchant: a second merchant is unaffected while the first is limited', async () => {
      const pc = '/v3/marketing/partner/product-coupon/notify-configs';
      const first = await sandbox.request({ method: 'GET', path: '/v3/marketing/busifavor/callbacks' });
      expect([first.status, first.json().code]).toEqual([429, 'FREQUENCY_LIMITED']);
      const own = await sandbox.request({ method: 'GET', path: pc, merchant: second });
      expect([own.status, own.json().code]).toEqual([404, 'RESOURCE_NOT_EXISTS']);
      const busifavor = await sandbox.request({
        method: 'GET',
        path: '/v3/marketing/busifavor/callbacks',
        merchant: second,
      });
      expect([busifavor.status, busifavor.json().code]).toEqual([404, 'RESOURCE_NOT_EXISTS']);
      // …and its own per-endpoint bucket (burst 1) is now empty too.
      const again = await sandbox.request({ method: 'GET', path: pc, merchant: second });
      expect([again.status, again.json().code]).toEqual([429, 'RATELIMIT_EXCEEDED']);
    });
  });

  describe.skipIf(!dialect.available)(`strict target policy at set time on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    beforeAll(async () => {
      sandbox = await startSandbox({
        dialect,
        config: { targetPolicy: 'strict' },
      });
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    it.each([
      'https://localhost/notify',
      'https://127.0.0.1/notify',
      'https://10.1.2.3/notify',
      'https://192.168.0.10/notify',
      'https://[::1]/notify',
      'https://169.254.169.254/latest',
      // the same addresses and names in other spellings
      'https://localhost./notify',
      'https://api.localhost./notify',
      'https://[::127.0.0.1]/notify',
      'https://[::ffff:0:127.0.0.1]/notify',
      'https://[::ffff:7f00:1]/notify',
      'https://[64:ff9b::127.0.0.1]/notify',
      'https://[64:ff9b:1::10.0.0.1]/notify',
      'https://[2002:c0a8:a::1]/notify',
      'https://2130706433/notify',
      'https://0x7f.1/notify',
      'https://0.0.0.0/notify',
      'https://[::]/notify',
    ])('refuses %s', async (url) => {
      const res = await sandbox.request({
        method: 'POST',
        path: '/v3/marketing/partner/product-coupon/notify-configs',
        body: { notify_url: url },
      });
      expect([res.status, res.json().code]).toEqual([400, 'PARAM_ERROR']);
    });

    it('accepts a public host', async () => {
      const res = await sandbox.request({
        method: 'POST',
        path: '/v3/marketing/partner/product-coupon/notify-configs',
        body: { notify_url: 'https://8.8.8.8/notify' },
      });
      expect(res.status).toBe(200);
    });

    it('refuses an IPv4-compatible loopback on the busifavor and delivery-plan endpoints too, and stores nothing', async () => {
      const busifavor = await sandbox.request({
        method: 'POST',
        path: '/v3/marketing/busifavor/callbacks',
        body: { notify_url: 'https://[::127.0.0.1]/notify' },
      });
      expect(busifavor.status).toBe(400);
      expect(busifavor.json<{ code: string; detail: { field: string } }>()).toMatchObject({
        code: 'PARAM_ERROR',
        detail: { field: '/notify_url' },
      });
      const stored = await sandbox.request({ method: 'GET', path: '/v3/marketing/busifavor/callbacks' });
      expect(stored.status).toBe(404);
      const plan = await sandbox.request({
        method: 'POST',
        path: `/v3/marketing/partner/delivery-plan/${sandbox.merchant.mchid}/notify-url`,
        body: { notify_url: 'https://localhost./notify' },
      });
      expect([plan.status, plan.json().code]).toEqual([400, 'PARAM_ERROR']);
    });

    it('accepts a NAT64 address of a public IPv4 host (what DNS64 answers)', async () => {
      const res = await sandbox.request({
        method: 'POST',
        path: '/v3/marketing/partner/product-coupon/notify-configs',
        body: { notify_url: 'https://[64:ff9b::808:808]/notify' },
      });
      expect(res.status).toBe(200);
    });
  });
}
