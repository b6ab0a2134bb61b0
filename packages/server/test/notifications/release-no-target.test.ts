import { DIALECTS } from '@wechatpay-sandbox/test-kit';
import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { releaseNoTargetNotifications, releaseSettledQuery } from '../../src/outbox/claim.js';
import { enqueueNotification } from '../../src/outbox/enqueue.js';
import { productCouponEvent } from '../../src/outbox/events.js';
import { couponSendEvent, seedMerchant, setNotifyUrl } from './fixtures.js';

/**
 * Rows parked for want of a notify URL (`no-target`) go back to pending once their merchant sets a URL
 * for their family, and only then. The dispatcher runs this every poll, so it must not read the rows of
 * merchants or families still without a URL: the statement seeks the partial index of waiting rows
 * (migration 0010) for each setting instead of reading every waiting row (it once did, 4.5 ms a poll at
 * 20,000 waiting rows, on the event loop).
 */

const WITH_URL = '1900066601';
const WITHOUT_URL = '1900066602';
const KEY = 'a7Kd9QmZ2xPw4LtR8vNc3HbY6sJf1GuE';
const BACKLOG = 2000;

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(
    `releasing notifications that waited for a URL (${dialect.name})`,
    () => {
      let handle: DatabaseHandle;
      let drop: () => Promise<void>;
      beforeAll(async () => {
        const database = await dialect.create();
        drop = database.drop;
        handle = openDatabase(database.url, { poolSize: 2 });
        await migrateToLatest(handle.db);
        await seedMerchant(handle.db, { mchid: WITH_URL, apiV3Key: KEY, signingMode: 'pubkey' });
        await seedMerchant(handle.db, { mchid: WITHOUT_URL, apiV3Key: KEY, signingMode: 'pubkey' });
        await handle.db.transaction().execute(async (trx) => {
          for (let i = 0; i < 20; i++) {
            await enqueueNotification(trx, couponSendEvent(WITH_URL, `A${i}`), 0);
            await enqueueNotification(trx, couponSendEvent(WITHOUT_URL, `B${i}`), 0);
            await enqueueNotification(
              trx,
              productCouponEvent(WITH_URL, 'PRODUCT_COUPON_SP.SEND', { n: i }),
              0,
            );
          }
        });
        // A merchant without a URL with a long backlog, so the planners see that driving the release
        // from the settings is cheaper than reading the waiting rows.
        await handle.db.transaction().execute(async (trx) => {
          for (let i = 0; i < BACKLOG; i++) {
            await enqueueNotification(trx, couponSendEvent(WITHOUT_URL, `X${i}`), 0);
          }
        });
        // Parked, as a delivery that found no URL leaves them.
        await handle.db.updateTable('notification_outbox').set({ state: 'no-target' }).execute();
        await sql`ANALYZE`.execute(handle.db);
      }, 60_000);
      afterAll(async () => {
        await handle?.close();
        await drop?.();
      });

      const states = async () =>
        (
          await handle.db
            .selectFrom('notification_outbox')
            .select(['mchid', 'family', 'state', (eb) => eb.fn.countAll<number | string>().as('n')])
            .groupBy(['mchid', 'family', 'state'])
            .orderBy('mchid')
            .orderBy('family')
            .execute()
        ).map((r) => `${r.mchid} ${r.family} ${r.state} ${Number(r.n)}`);

      it('releases the rows of a (merchant, family) with a URL and no other', async () => {
        expect(await releaseNoTargetNotifications(handle.db, Date.now())).toBe(0);
        await setNotifyUrl(handle.db, WITH_URL, 'busifavor', 'https://merchant.example.com/busifavor');
        expect(await releaseNoTargetNotifications(handle.db, Date.now())).toBe(20);
        expect(await states()).toEqual([
          `${WITH_URL} busifavor pending 20`,
          `${WITH_URL} product-coupon no-target 20`,
          `${WITHOUT_URL} busifavor no-target ${20 + BACKLOG}`,
        ]);
      });

      it('seeks the partial index of waiting rows instead of reading them all', async () => {
        const { sql: text, parameters } = releaseSettledQuery(handle.db, Date.now()).compile();
        let plan: string;
        if (handle.capabilities.skipLocked) {
          // PostgreSQL chooses by its statistics: here, where every row waits, a sequential scan. Forbidden
          // one, it must still be able to use the partial index for this statement (the literal state).
          plan = await handle.db.transaction().execute(async (trx) => {
            await sql`SET LOCAL enable_seqscan = off`.execute(trx);
            const explained = await trx.executeQuery<{ 'QUERY PLAN': string }>(
              CompiledQuery.raw(`EXPLAIN ${text}`, [...parameters]),
            );
            return explained.rows.map((r) => r['QUERY PLAN']).join('\n');
          });
        } else {
          const explained = await handle.db.executeQuery<{ detail: string }>(
            CompiledQuery.raw(`EXPLAIN QUERY PLAN ${text}`, [...parameters]),
          );
          plan = explained.rows.map((r) => r.detail).join('\n');
        }
        expect(plan).toContain('notification_outbox_no_target');
        if (!handle.capabilities.skipLocked) {
          // SQLite seeks it by (merchant, family) for each setting: the backlog without a URL is not read.
          expect(plan).toMatch(
            /SEARCH notification_outbox USING .*notification_outbox_no_target \(mchid=\? AND family=\?/,
          );
        }
        expect(plan).not.toMatch(/SCAN notification_outbox\b|Seq Scan on notification_outbox/);
      });
    },
  );
}
