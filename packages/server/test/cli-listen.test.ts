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
import { verifyWithThirdPartyClients } from './third-party-notifications.js';

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
      const thirdParty = await verifyWithThirdPartyClients(request, {
        mchid: f.sandbox.merchant.mchid,
        apiV3Key: f.sandbox.merchant.apiV3Key,
        certificatePem: f.sandbox.server.credentials.merchant.certificatePem,
        privateKeyPem: f.sandbox.server.credentials.merchant.privateKeyPem,
        platformPem: pk.publicKeyPem,
      });
      expect(thirdParty.nodeV3).toMatchObject({ coupon_code: coupon });
      expect(thirdParty.axiosPlugin).toMatchObject({ coupon_code: coupon });
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
