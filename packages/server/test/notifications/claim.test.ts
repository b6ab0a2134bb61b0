import { DIALECTS } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { claimDueNotifications } from '../../src/outbox/claim.js';
import { completeAttempt } from '../../src/outbox/complete.js';
import { enqueueNotification } from '../../src/outbox/enqueue.js';
import { couponSendEvent, seedMerchant } from './fixtures.js';

/**
 * The claim under contention: several claimers on separate connections, each finishing its rows while
 * the others claim (the concurrent updates that make PostgreSQL re-check rows). A claim must never return
 * more rows than its limit — a dispatcher starts one delivery per returned row, so an over-claim breaks
 * its concurrency bound and starves the other instances — and no row may be claimed twice.
 */

const MCHID = '1900054321';
const ROWS = 1200;
const LIMIT = 8;
const CLAIMERS = 6;

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`claimDueNotifications under contention (${dialect.name})`, () => {
    let handles: DatabaseHandle[] = [];
    let drop: () => Promise<void>;
    beforeAll(async () => {
      const database = await dialect.create();
      drop = database.drop;
      const first = openDatabase(database.url, { poolSize: 2 });
      // A dialect with row locks gets one connection per claimer (separate processes in production); a
      // single-writer database is shared, as in one server process.
      handles = Array.from({ length: CLAIMERS }, (_, n) =>
        n === 0 || !first.capabilities.skipLocked ? first : openDatabase(database.url, { poolSize: 2 }),
      );
      const db = first.db;
      await migrateToLatest(db);
      await seedMerchant(db, {
        mchid: MCHID,
        apiV3Key: 'a7Kd9QmZ2xPw4LtR8vNc3HbY6sJf1GuE',
        signingMode: 'pubkey',
      });
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < ROWS; i++) await enqueueNotification(trx, couponSendEvent(MCHID, `C${i}`), 0);
      });
    }, 60_000);
    afterAll(async () => {
      await Promise.all([...new Set(handles)].map((h) => h.close()));
      await drop?.();
    });

    it(`${CLAIMERS} concurrent claimers never get more than the limit (${LIMIT}) and never the same row`, async () => {
      const claimedBy = new Map<string, string>();
      const sizes: number[] = [];
      await Promise.all(
        handles.map(async (handle, n) => {
          const instanceId = `claimer-${n}`;
          for (;;) {
            const rows = await claimDueNotifications(handle.db, handle.capabilities, {
              mchid: MCHID,
              businessNowMs: 1,
              wallMs: Date.now(),
              leaseMs: 60_000,
              instanceId,
              limit: LIMIT,
            });
            if (rows.length === 0) return;
            sizes.push(rows.length);
            for (const row of rows) {
              expect(claimedBy.get(row.id), `row ${row.id} claimed twice`).toBeUndefined();
              claimedBy.set(row.id, instanceId);
            }
            // Finish them one by one, as deliveries do: concurrent updates beside the other claims.
            await Promise.all(
              rows.map((row) =>
                completeAttempt(handle.db, {
                  id: row.id,
                  instanceId,
                  outcome: { kind: 'delivered' },
                  attempt: undefined,
                  lastStatus: 200,
                  lastError: null,
                  wallMs: Date.now(),
                }),
              ),
            );
          }
        }),
      );
      expect(Math.max(...sizes)).toBeLessThanOrEqual(LIMIT);
      expect(claimedBy.size).toBe(ROWS);
      // Everyone got work: the claim spreads rows instead of one claimer taking the backlog.
      expect(new Set(claimedBy.values()).size).toBe(CLAIMERS);
    }, 60_000);
  });
}
