import { DIALECTS } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from './connect.js';
import { migrateToLatest } from './migrate.js';

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`migrations on ${dialect.name}`, () => {
    let handle: DatabaseHandle;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      const created = await dialect.create();
      drop = created.drop;
      handle = openDatabase(created.url);
    });
    afterAll(async () => {
      await handle?.close();
      await drop?.();
    });

    it('migrates an empty database and is idempotent on a second run', async () => {
      await migrateToLatest(handle.db);
      await migrateToLatest(handle.db);
      await handle.db
        .insertInto('merchants')
        .values({
          mchid: '1900000001',
          name: 'dev',
          api_v3_key: 'k'.repeat(32),
          api_v2_key: null,
          signing_mode: 'pubkey',
          parent_mchid: null,
          created_at: 1_735_689_600_000,
        })
        .execute();
      const row = await handle.db.selectFrom('merchants').selectAll().executeTakeFirstOrThrow();
      expect(row.created_at).toBe(1_735_689_600_000);
    });
  });
}
