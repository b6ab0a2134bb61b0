import { createPublicKey } from 'node:crypto';
import { createRequire } from 'node:module';
import { parseNotification } from '@wechatpay-sandbox/sdk';
import { DIALECTS } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenCommand } from '../src/cli/listen.js';
import { signedJson } from './busifavor-helpers.js';
import {
  capture,
  type ListenFixture,
  receivedId,
  sleep,
  startListenFixture,
  waitFor,
} from './listen-helpers.js';

// The two npm clients merchants use, exactly as installed (CommonJS), to check a forwarded callback.
const require = createRequire(import.meta.url);
const NodeV3Pay = require('wechatpay-node-v3') as (new (
  config: Record<string, unknown>,
) => {
  verifySign(p: Record<string, string>): Promise<boolean>;
  decipher_gcm(ciphertext: string, associatedData: string, nonce: string, key: string): unknown;
}) & { certificates: Record<string, string> };
const { Rsa, Aes, Formatter } = require('wechatpay-axios-plugin') as {
  Rsa: { verify(message: string, signature: string, publicKey: unknown): boolean };
  Aes: { AesGcm: { decrypt(ciphertext: string, key: string, iv: string, aad: string): string } };
  Formatter: { joinedByLineFeed(...pieces: string[]): string };
};

/**
 * `wechatpay-sandbox listen` against a running server (its dispatcher delivering) on SQLite and
 * PostgreSQL: the listener runs in-process on the server's database as the CLI does, real receivers on
 * loopback; the merchant's registered notify URL is https://example.com/…, forwarded to the "registered"
 * receiver (listen-helpers.ts). The session API itself: notifications/listen-sessions.test.ts.
 */

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`wechatpay-sandbox listen (${dialect.name})`, () => {
    let f: ListenFixture;
    beforeAll(async () => {
      f = await startListenFixture(dialect);
    });
    afterAll(async () => f?.close());

    it('delivers to the f.listener while it runs (signed, encrypted, printed), then to the f.registered URL again', async () => {
      const run = await f.runListen(['--json']);
      const sent = await f.trigger('coupon.send');
      const id = sent.notification_id;
      const request = await f.waitReceived(f.listener, id);
      expect(request.path).toBe('/hook');
      const pk = f.sandbox.server.credentials.platform.publicKey;
      const event = await parseNotification({
        headers: request.headers,
        body: request.body,
        apiV3Key: f.sandbox.merchant.apiV3Key,
        keys: { publicKey: { keyId: pk.keyId, key: pk.publicKeyPem } },
      });
      expect(event.event_type).toBe('COUPON.SEND');
      expect(event.id).toBe(id);
      const coupon = sent.created.find((c) => c.type === 'coupon')?.id;
      expect(event.resource).toMatchObject({ coupon_code: coupon });

      // What arrived on plain http verifies and decrypts with both third-party clients too.
      const h = (name: string) => String(request.headers[name] ?? '');
      const { resource } = JSON.parse(request.body) as {
        resource: { ciphertext: string; associated_data: string; nonce: string };
      };
      const apiV3Key = f.sandbox.merchant.apiV3Key;
      NodeV3Pay.certificates[h('wechatpay-serial')] = pk.publicKeyPem;
      const nodeV3 = new NodeV3Pay({
        appid: 'wx8888888888888888',
        mchid: f.sandbox.merchant.mchid,
        publicKey: Buffer.from(f.sandbox.server.credentials.merchant.certificatePem),
        privateKey: Buffer.from(f.sandbox.server.credentials.merchant.privateKeyPem),
        key: apiV3Key,
      });
      expect(
        await nodeV3.verifySign({
          timestamp: h('wechatpay-timestamp'),
          nonce: h('wechatpay-nonce'),
          body: request.body,
          serial: h('wechatpay-serial'),
          signature: h('wechatpay-signature'),
          apiSecret: apiV3Key,
        }),
      ).toBe(true);
      expect(
        nodeV3.decipher_gcm(resource.ciphertext, resource.associated_data, resource.nonce, apiV3Key),
      ).toMatchObject({ coupon_code: coupon });
      const message = Formatter.joinedByLineFeed(
        h('wechatpay-timestamp'),
        h('wechatpay-nonce'),
        request.body,
      );
      expect(Rsa.verify(message, h('wechatpay-signature'), createPublicKey(pk.publicKeyPem))).toBe(true);
      const axiosPlain = Aes.AesGcm.decrypt(
        resource.ciphertext,
        apiV3Key,
        resource.nonce,
        resource.associated_data,
      );
      expect(JSON.parse(axiosPlain)).toMatchObject({ coupon_code: coupon });
      const line = await waitFor(
        () => run.out.lines.map((l) => JSON.parse(l)).find((l) => l.notification_id === id),
        'the printed delivery',
      );
      expect(line).toMatchObject({ event_type: 'COUPON.SEND', status: 200, outcome: 'delivered' });
      expect(typeof line.latency_ms).toBe('number');
      expect(f.registered.received.some((r) => receivedId(r) === id)).toBe(false);

      expect(await run.stop('SIGINT')).toBe(0);
      expect(run.out.errors.at(-1)).toMatch(/^SIGINT: closed listen session/);
      const sessions = signedJson<{ data: unknown[] }>(
        f.sandbox,
        await f.sandbox.request({ method: 'GET', path: '/sandbox/v1/listen-sessions' }),
      );
      expect(sessions.data).toEqual([]);

      // The server reads sessions through its delivery-context cache (≤ 1 s).
      await sleep(1100);
      const after = await f.trigger('coupon.send');
      await f.waitReceived(f.registered, after.notification_id);
      expect(f.listener.received.some((r) => receivedId(r) === after.notification_id)).toBe(false);
    });

    it('--events takes only the listed types, and releases waiting no-target notifications', async () => {
      // Queued before any listener: there is no delivery-plan notify URL, so it waits (no-target).
      const waiting = await f.trigger('delivery-plan.change');
      await waitFor(async () => {
        const n = signedJson<{ state: string }>(
          f.sandbox,
          await f.sandbox.request({
            method: 'GET',
            path: `/sandbox/v1/notifications/${waiting.notification_id}`,
          }),
        );
        return n.state === 'no-target' ? n : undefined;
      }, 'no-target');
      const run = await f.runListen(['--events', 'delivery_plan.change']);
      await f.waitReceived(f.listener, waiting.notification_id);
      const coupon = await f.trigger('coupon.send');
      await f.waitReceived(f.registered, coupon.notification_id);
      expect(f.listener.received.some((r) => receivedId(r) === coupon.notification_id)).toBe(false);
      const line = await waitFor(
        () => run.out.lines.find((l) => l.includes(waiting.notification_id)),
        'the printed delivery',
      );
      expect(line).toMatch(
        new RegExp(`^\\d\\d:\\d\\d:\\d\\d  DELIVERY_PLAN\\.CHANGE  ${waiting.notification_id}  200  \\d+ms$`),
      );
      expect(run.out.lines.some((l) => l.includes(coupon.notification_id))).toBe(false);
      expect(await run.stop('SIGTERM')).toBe(0);
      expect(run.out.errors.at(-1)).toMatch(/^SIGTERM: closed/);
    });

    it('listen refuses bad options, and a merchant the database does not have', async () => {
      const out = capture();
      const never = () => new Promise<string>(() => {});
      await expect(listenCommand([...f.db()], { output: out, stopSignal: never })).rejects.toThrow(
        /--forward-to is required/,
      );
      await expect(
        listenCommand(['--forward-to', 'ftp://x', ...f.db()], { output: out, stopSignal: never }),
      ).rejects.toThrow(/--forward-to must be an absolute http\(s\) URL/);
      await expect(
        listenCommand(['--forward-to', f.listener.url, '--events', 'coupon', ...f.db()], {
          output: out,
          stopSignal: never,
        }),
      ).rejects.toThrow(/--events/);
      await expect(
        listenCommand(['--forward-to', f.listener.url, '--db', f.sandbox.dbUrl, '--mchid', '1900000999'], {
          output: out,
          stopSignal: never,
        }),
      ).rejects.toThrow(/merchant 1900000999 is not registered .*merchant list/);
    });
  });
}
