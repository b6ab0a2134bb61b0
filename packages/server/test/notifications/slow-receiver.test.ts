import { DIALECTS } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { NotificationDispatcher } from '../../src/outbox/dispatcher.js';
import { enqueueNotification } from '../../src/outbox/enqueue.js';
import {
  couponSendEvent,
  makePlatform,
  receiverCertificate,
  scratchDir,
  seedMerchant,
  startReceiver,
  TestClock,
  testIds,
} from './fixtures.js';

/**
 * One merchant's slow receiver does not hold every delivery slot: with 4 slots and at most 2 per
 * merchant, the fast merchant's callbacks all arrive while the slow receiver still sits on its first two
 * requests (it answers none until the test lets it). Without the per-merchant limit the slow merchant,
 * first in the claim order, takes all 4 slots and the fast receiver gets nothing until it answers.
 */

const SLOW = '1900000001';
const FAST = '1900000002';
const EVENTS = 12;
const API_V3_KEY = 'a7Kd9QmZ2xPw4LtR8vNc3HbY6sJf1GuE';
const receiverTls = receiverCertificate();
const scratch = scratchDir();
let platform: ReturnType<typeof makePlatform>;
beforeAll(() => {
  platform = makePlatform(scratch.dir);
});
afterAll(() => scratch.remove());

const until = async (done: () => boolean, what: string) => {
  for (let i = 0; i < 1500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!done()) throw new Error(`timed out waiting for ${what}`);
};

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`a slow receiver (${dialect.name})`, () => {
    it("holds at most its merchant's share of the slots; the other merchant's callbacks all arrive meanwhile", async () => {
      const database = await dialect.create();
      const handle = openDatabase(database.url);
      let release: () => void = () => {};
      const released = new Promise<void>((r) => {
        release = r;
      });
      let slowAnswered = 0;
      const slow = await startReceiver(receiverTls.tls, async () => {
        await released;
        slowAnswered++;
        return 204;
      });
      const fast = await startReceiver(receiverTls.tls, () => 204);
      try {
        await migrateToLatest(handle.db);
        for (const [mchid, receiver] of [
          [SLOW, slow],
          [FAST, fast],
        ] as const) {
          await seedMerchant(handle.db, {
            mchid,
            apiV3Key: API_V3_KEY,
            signingMode: 'pubkey',
            notifyUrls: { busifavor: receiver.url },
          });
        }
        const now = Date.now();
        // The slow merchant's rows are older, so any order that favours age favours them too.
        for (let i = 0; i < EVENTS; i++) {
          await enqueueNotification(handle.db, couponSendEvent(SLOW, `S${i}`), now - 1000 + i);
        }
        for (let i = 0; i < EVENTS; i++) {
          await enqueueNotification(handle.db, couponSendEvent(FAST, `F${i}`), now + i);
        }
        const dispatcher = new NotificationDispatcher({
          db: handle,
          clock: new TestClock(now + EVENTS),
          platform: platform.platform,
          ids: testIds,
          pollIntervalMs: 10,
          concurrency: 4,
          merchantConcurrency: 2,
          // Longer than the test: the slow receiver's requests stay open until it is released.
          transport: { caPem: receiverTls.tls.certPem, timeoutMs: 60_000 },
        });
        dispatcher.start();
        try {
          await until(() => fast.received.length === EVENTS, 'the fast receiver');
          // Every fast callback arrived while the slow receiver held its first requests unanswered,
          // and it never had more than its merchant's two slots.
          expect(slowAnswered).toBe(0);
          expect(slow.received.length).toBe(2);
          release();
          await until(() => slow.received.length === EVENTS, 'the slow receiver');
          await until(() => slowAnswered === EVENTS, 'the slow answers');
        } finally {
          await dispatcher.stop();
        }
        // Every attempt is in the log, and each notification was delivered once.
        const rows = await handle.db
          .selectFrom('notification_outbox')
          .select(['mchid', 'state', 'attempts'])
          .execute();
        expect(rows).toHaveLength(2 * EVENTS);
        expect(rows.every((r) => r.state === 'delivered' && Number(r.attempts) === 1)).toBe(true);
        const attempts = await handle.db.selectFrom('notification_attempts').select(['outcome']).execute();
        expect(attempts.map((a) => a.outcome)).toEqual(Array(2 * EVENTS).fill('delivered'));
      } finally {
        release();
        await slow.close();
        await fast.close();
        await handle.close();
        await database.drop();
      }
    });

    it('takes turns between merchants when there are fewer slots than merchants with work', async () => {
      const database = await dialect.create();
      const handle = openDatabase(database.url);
      const receiver = await startReceiver(receiverTls.tls, () => 204);
      try {
        await migrateToLatest(handle.db);
        const merchants = ['1900000011', '1900000012', '1900000013'];
        const merchantOf = new Map<string, string>();
        const now = Date.now();
        for (const mchid of merchants) {
          await seedMerchant(handle.db, {
            mchid,
            apiV3Key: API_V3_KEY,
            signingMode: 'pubkey',
            notifyUrls: { busifavor: receiver.url },
          });
          for (let i = 0; i < 3; i++) {
            const { id } = await enqueueNotification(handle.db, couponSendEvent(mchid, `${mchid}-${i}`), now);
            merchantOf.set(id, mchid);
          }
        }
        const dispatcher = new NotificationDispatcher({
          db: handle,
          clock: new TestClock(now),
          platform: platform.platform,
          ids: testIds,
          pollIntervalMs: 10,
          concurrency: 1,
          transport: { caPem: receiverTls.tls.certPem },
        });
        expect(await dispatcher.drain()).toBe(9);
        await dispatcher.stop();
        const order = receiver.received.map(
          (r) => merchantOf.get((JSON.parse(r.body) as { id: string }).id) as string,
        );
        // One slot: each claim starts one merchant further along, so the three alternate instead of
        // the first in mchid order being served to the end of its backlog before the next is looked at.
        expect(order).toEqual([...merchants, ...merchants, ...merchants]);
      } finally {
        await receiver.close();
        await handle.close();
        await database.drop();
      }
    });
  });
}
