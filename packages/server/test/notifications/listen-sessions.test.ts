import { DIALECTS, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMerchant, expectError, signedJson } from '../busifavor-helpers.js';
import { type ListenFixture, receivedId, sleep, startListenFixture } from '../listen-helpers.js';

/**
 * Listen sessions over the simulation API (`/sandbox/v1/listen-sessions`) with a delivering server on
 * SQLite and PostgreSQL: a session whose lease runs out without being closed (a crashed listener) stops
 * receiving at once, the newest session wins and closing it hands over at once, bad input is refused in
 * WeChat's error shape, merchants are kept apart. The `listen` command: cli-listen.test.ts.
 */

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`listen sessions over HTTP (${dialect.name})`, () => {
    let f: ListenFixture;
    beforeAll(async () => {
      f = await startListenFixture(dialect);
    });
    afterAll(async () => f?.close());

    it('a f.listener that dies without closing stops receiving when its lease runs out', async () => {
      const opened = signedJson<{ id: string; lease_seconds: number }>(
        f.sandbox,
        await f.sandbox.request({
          method: 'POST',
          path: '/sandbox/v1/listen-sessions',
          body: { target_url: `${f.listener.url}/crashed`, lease_seconds: 2 },
        }),
      );
      const openedAt = Date.now();
      expect(opened.lease_seconds).toBe(2);
      const first = await f.trigger('delivery-plan.change');
      // No delivery-plan notify URL is set: the session takes it anyway.
      expect((await f.waitReceived(f.listener, first.notification_id)).path).toBe('/crashed');
      await sleep(Math.max(0, openedAt + 2050 - Date.now()));
      // Expired: ignored at once, though the server's cached context still lists it.
      const second = await f.trigger('coupon.send');
      const startedWaiting = Date.now();
      await f.waitReceived(f.registered, second.notification_id);
      expect(Date.now() - startedWaiting).toBeLessThan(3000);
      expect(f.listener.received.some((r) => receivedId(r) === second.notification_id)).toBe(false);
      await expectError(
        await f.sandbox.request({ method: 'POST', path: `/sandbox/v1/listen-sessions/${opened.id}/renew` }),
        404,
        'RESOURCE_NOT_EXISTS',
      );
    });

    it('the newest session wins; closing it over the API hands over at once', async () => {
      const open = async (path: string) =>
        signedJson<{ id: string }>(
          f.sandbox,
          await f.sandbox.request({
            method: 'POST',
            path: '/sandbox/v1/listen-sessions',
            body: { target_url: `${f.listener.url}${path}`, event_types: ['COUPON.SEND'] },
          }),
        ).id;
      const older = await open('/older');
      const newer = await open('/newer');
      const listed = signedJson<{ data: Array<{ id: string; event_types: string[] }> }>(
        f.sandbox,
        await f.sandbox.request({ method: 'GET', path: '/sandbox/v1/listen-sessions' }),
      );
      expect(listed.data.map((s) => s.id)).toEqual([newer, older]);
      expect(listed.data[0]?.event_types).toEqual(['COUPON.SEND']);
      const a = await f.trigger('coupon.send');
      expect((await f.waitReceived(f.listener, a.notification_id)).path).toBe('/newer');
      const deliveries = signedJson<{
        data: Array<{ notification_id: string; status: number }>;
        next_since: number;
      }>(
        f.sandbox,
        await f.sandbox.request({
          method: 'GET',
          path: `/sandbox/v1/listen-sessions/${newer}/deliveries?since=0`,
        }),
      );
      expect(deliveries.data).toMatchObject([{ notification_id: a.notification_id, status: 200 }]);
      expect(deliveries.next_since).toBeGreaterThan(0);

      const remove = (id: string) =>
        f.sandbox.request({ method: 'DELETE', path: `/sandbox/v1/listen-sessions/${id}` });
      expect((await remove(newer)).status).toBe(204);
      const b = await f.trigger('coupon.send');
      expect((await f.waitReceived(f.listener, b.notification_id)).path).toBe('/older');
      expect((await remove(older)).status).toBe(204);
      await expectError(await remove(older), 404, 'RESOURCE_NOT_EXISTS');
    });

    it('refuses bad sessions in WeChat error shape, and keeps merchants apart', async () => {
      const post = (body: Record<string, unknown>) =>
        f.sandbox.request({ method: 'POST', path: '/sandbox/v1/listen-sessions', body });
      await expectError(await post({ target_url: 'ftp://127.0.0.1/x' }), 400, 'PARAM_ERROR');
      await expectError(await post({ target_url: 'not a url at all' }), 400, 'PARAM_ERROR');
      await expectError(
        await post({ target_url: `${f.listener.url}/x`, event_types: ['coupon'] }),
        400,
        'PARAM_ERROR',
      );
      await expectError(
        await post({ target_url: `${f.listener.url}/x`, lease_seconds: 0 }),
        400,
        'PARAM_ERROR',
      );
      await expectError(
        await f.sandbox.request({ method: 'POST', path: '/sandbox/v1/listen-sessions/nope/renew' }),
        404,
        'RESOURCE_NOT_EXISTS',
      );
      const mine = signedJson<{ id: string }>(
        f.sandbox,
        await post({ target_url: `${f.listener.url}/mine` }),
      );
      const other = await addMerchant(f.sandbox, '1900009871');
      const asOther = (input: Parameters<TestSandbox['request']>[0]) =>
        f.sandbox.request({ ...input, merchant: other });
      await expectError(
        await asOther({ method: 'DELETE', path: `/sandbox/v1/listen-sessions/${mine.id}` }),
        404,
        'RESOURCE_NOT_EXISTS',
      );
      const theirs = signedJson<{ data: unknown[] }>(
        f.sandbox,
        await asOther({ method: 'GET', path: '/sandbox/v1/listen-sessions' }),
      );
      expect(theirs.data).toEqual([]);
      expect(
        (await f.sandbox.request({ method: 'DELETE', path: `/sandbox/v1/listen-sessions/${mine.id}` }))
          .status,
      ).toBe(204);
    });
  });
}
