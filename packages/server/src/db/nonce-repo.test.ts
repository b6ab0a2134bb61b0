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
      const batcher = new NonceBatcher(counting, () => t0 + 5000);
      const epoch = async () =>
        Number(
          (
            await handle.db
              .selectFrom('cache_epochs')
              .select('version')
              .where('name', '=', MERCHANTS_EPOCH)
              .executeTakeFirstOrThrow()
          ).version,
        );
      const before = await epoch();
      await merchants.setSigningMode('1900000404', 'certificate'); // moves the epoch, even with no such merchant
      const admitted = await Promise.all(
        Array.from({ length: 40 }, (_, i) => batcher.admit('1900000004', i === 39 ? 'B0' : `B${i}`)),
      );
      expect(statements).toEqual([40]);
      expect(admitted[39]).toEqual({ fresh: false });
      // Every fresh nonce carries the epoch its statement read, after the change.
      expect(admitted.slice(0, 39)).toEqual(Array(39).fill({ fresh: true, merchantsEpoch: before + 1 }));

      // A batch of replays only returns no row and reads nothing more: a replay is refused before any
      // epoch matters.
      const replays = await Promise.all(['B1', 'B2'].map((n) => batcher.admit('1900000004', n)));
      expect(replays).toEqual([{ fresh: false }, { fresh: false }]);
      expect(statements).toEqual([40, 2]);
    });
  });
}
