import { DIALECTS, type TestDatabase } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from './connect.js';
import { MERCHANTS_EPOCH, MerchantRepo } from './merchant-repo.js';
import { migrateToLatest } from './migrate.js';
import { NonceBatcher, NonceRepo, type NonceUse } from './nonce-repo.js';

const RETENTION_MS = 600_000;

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`request nonces on ${dialect.name}`, () => {
    let database: TestDatabase;
    let handle: DatabaseHandle;
    let nonces: NonceRepo;
    const t0 = 1_700_000_000_000;
    const remember = async (uses: NonceUse[], now: number) =>
      (await nonces.recordBatch(uses, now, MERCHANTS_EPOCH)).fresh;

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
      const fresh = await remember(
        [
          { mchid: '1900000001', nonce: 'N1' },
          { mchid: '1900000001', nonce: 'N2' },
          { mchid: '1900000001', nonce: 'N1' },
          { mchid: '1900000002', nonce: 'N1' },
        ],
        t0,
      );
      expect(fresh).toEqual([true, true, false, true]);
      expect(await remember([{ mchid: '1900000001', nonce: 'N2' }], t0 + 1000)).toEqual([false]);
    });

    it('lets a nonce older than the retention period be used again (it is stale, not a replay)', async () => {
      const old = [{ mchid: '1900000003', nonce: 'OLD' }];
      expect(await remember(old, t0)).toEqual([true]);
      expect(await remember(old, t0 + RETENTION_MS - 1)).toEqual([false]);
      expect(await remember(old, t0 + RETENTION_MS + 1)).toEqual([true]);
    });

    it('NonceBatcher records the nonces of one event-loop turn in one statement, which also reads the merchants epoch', async () => {
      const statements: number[] = [];
      const counting = Object.assign(Object.create(nonces) as NonceRepo, {
        recordBatch: (...args: Parameters<NonceRepo['recordBatch']>) => {
          statements.push(args[0].length);
          return nonces.recordBatch(...args);
        },
      });
      const merchants = new MerchantRepo(handle.db);
      let epochReads = 0;
      const batcher = new NonceBatcher(
        counting,
        () => {
          epochReads++;
          return merchants.merchantsEpoch();
        },
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
      expect(epochReads).toBe(0);

      // A batch of replays only writes no row, so the statement returns none: the epoch is read apart.
      await merchants.setSigningMode('1900000404', 'pubkey');
      const replays = await Promise.all(['B1', 'B2'].map((n) => batcher.admit('1900000004', n)));
      expect(replays.map((a) => [a.fresh, a.merchantsEpoch])).toEqual([
        [false, before + 2],
        [false, before + 2],
      ]);
      expect(epochReads).toBe(1);
    });
  });
}
