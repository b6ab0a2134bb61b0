import { DIALECTS, type TestDatabase } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from './connect.js';
import { MerchantRepo } from './merchant-repo.js';
import { migrateToLatest } from './migrate.js';
import { NonceBatcher, NonceRepo } from './nonce-repo.js';

const RETENTION_MS = 600_000;

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`request nonces on ${dialect.name}`, () => {
    let database: TestDatabase;
    let handle: DatabaseHandle;
    let nonces: NonceRepo;
    const t0 = 1_700_000_000_000;

    beforeAll(async () => {
      database = await dialect.create();
      handle = openDatabase(database.url);
      await migrateToLatest(handle.db);
      nonces = new NonceRepo(handle.db, RETENTION_MS);
    });
    afterAll(async () => {
      await handle?.close();
      await database?.drop();
    });

    it('admits a nonce once per merchant, the first of a repeat within one batch only', async () => {
      const fresh = await nonces.rememberMany(
        [
          { mchid: '1900000001', nonce: 'N1' },
          { mchid: '1900000001', nonce: 'N2' },
          { mchid: '1900000001', nonce: 'N1' },
          { mchid: '1900000002', nonce: 'N1' },
        ],
        t0,
      );
      expect(fresh).toEqual([true, true, false, true]);
      expect(await nonces.rememberMany([{ mchid: '1900000001', nonce: 'N2' }], t0 + 1000)).toEqual([false]);
    });

    it('lets a nonce older than the retention period be used again (it is stale, not a replay)', async () => {
      const old = [{ mchid: '1900000003', nonce: 'OLD' }];
      expect(await nonces.rememberMany(old, t0)).toEqual([true]);
      expect(await nonces.rememberMany(old, t0 + RETENTION_MS - 1)).toEqual([false]);
      expect(await nonces.rememberMany(old, t0 + RETENTION_MS + 1)).toEqual([true]);
    });

    it('NonceBatcher records the nonces of one event-loop turn in one statement and reads the merchants epoch after them', async () => {
      const statements: number[] = [];
      const counting = Object.assign(Object.create(nonces) as NonceRepo, {
        rememberMany: (uses: Parameters<NonceRepo['rememberMany']>[0], now: number) => {
          statements.push(uses.length);
          return nonces.rememberMany(uses, now);
        },
      });
      const merchants = new MerchantRepo(handle.db);
      const batcher = new NonceBatcher(
        counting,
        () => merchants.merchantsEpoch(),
        () => t0 + 5000,
      );
      const before = await merchants.merchantsEpoch();
      await merchants.setSigningMode('1900000404', 'certificate'); // moves the epoch, even with no such merchant
      const admitted = await Promise.all(
        Array.from({ length: 40 }, (_, i) => batcher.admit('1900000004', i === 39 ? 'B0' : `B${i}`)),
      );
      expect(statements).toEqual([40]);
      expect(admitted.filter((a) => a.fresh)).toHaveLength(39);
      expect(admitted[39]?.fresh).toBe(false);
      expect(new Set(admitted.map((a) => a.merchantsEpoch))).toEqual(new Set([before + 1]));
    });
  });
}
