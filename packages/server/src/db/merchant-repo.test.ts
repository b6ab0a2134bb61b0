import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIALECTS, type TestDatabase } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCredentials } from '../credentials/generate.js';
import { loadCredentials } from '../credentials/load.js';
import { type DatabaseHandle, openDatabase } from './connect.js';
import {
  type MerchantKeyRecord,
  type MerchantRecord,
  MerchantRepo,
  registerDevMerchant,
} from './merchant-repo.js';
import { migrateToLatest } from './migrate.js';

const publicKeyPem = () =>
  generateKeyPairSync('rsa', { modulusLength: 2048 })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();

const merchant = (mchid: string, over: Partial<MerchantRecord> = {}): MerchantRecord => ({
  mchid,
  name: `merchant ${mchid}`,
  apiV3Key: 'a'.repeat(32),
  apiV2Key: null,
  signingMode: 'pubkey',
  parentMchid: null,
  ...over,
});

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`MerchantRepo on ${dialect.name}`, () => {
    let database: TestDatabase;
    let handle: DatabaseHandle;
    let repo: MerchantRepo;
    let clock = 1_700_000_000_000;

    beforeAll(async () => {
      database = await dialect.create();
      handle = openDatabase(database.url);
      await migrateToLatest(handle.db);
      repo = new MerchantRepo(handle.db, { now: () => clock++ });
    });
    afterAll(async () => {
      await handle?.close();
      await database?.drop();
    });

    it('returns undefined for a merchant that is not registered', async () => {
      expect(await repo.findMerchant('1999999999')).toBeUndefined();
      expect(await repo.findMerchantKey('1999999999', 'ABC')).toBeUndefined();
    });

    it('inserts a merchant and then replaces its fields on a second upsert', async () => {
      await repo.upsertMerchant(merchant('1900000101'));
      expect(await repo.findMerchant('1900000101')).toEqual(merchant('1900000101'));
      const changed = merchant('1900000101', {
        name: 'renamed',
        apiV3Key: 'b'.repeat(32),
        apiV2Key: 'c'.repeat(32),
        signingMode: 'certificate',
        parentMchid: '1900000001',
      });
      await repo.upsertMerchant(changed);
      expect(await repo.findMerchant('1900000101')).toEqual(changed);
    });

    it('finds a key by any spelling of its serial and stores it normalized', async () => {
      const pem = publicKeyPem();
      await repo.addMerchantKey('1900000101', '00ab:cd:ef0123', pem, null);
      const found = await repo.findMerchantKey('1900000101', 'ABCDEF0123');
      expect(found).toMatchObject({ mchid: '1900000101', serialNo: 'ABCDEF0123', publicKeyPem: pem });
      expect(found?.certificatePem).toBeNull();
      expect(await repo.findMerchantKey('1900000101', 'abcdef0123')).toBeDefined();
      expect(await repo.findMerchantKey('1900000101', '0xABCDEF0123')).toBeDefined();
      // Another merchant does not see this key.
      await repo.upsertMerchant(merchant('1900000202'));
      expect(await repo.findMerchantKey('1900000202', 'ABCDEF0123')).toBeUndefined();
    });

    it('reads a merchant with the PEM of one key serial in one lookup (authentication)', async () => {
      expect(await repo.findMerchantWithKeyPem('1999999999', 'ABCDEF0123')).toBeUndefined();
      const withKey = await repo.findMerchantWithKeyPem('1900000101', 'abcdef0123');
      expect(withKey?.merchant).toEqual(await repo.findMerchant('1900000101'));
      expect(withKey?.keyPem).toBe((await repo.findMerchantKey('1900000101', 'ABCDEF0123'))?.publicKeyPem);
      // A registered merchant without that serial, and another merchant's serial.
      expect(await repo.findMerchantWithKeyPem('1900000101', 'FFFF')).toEqual({
        merchant: await repo.findMerchant('1900000101'),
        keyPem: undefined,
      });
      expect((await repo.findMerchantWithKeyPem('1900000202', 'ABCDEF0123'))?.keyPem).toBeUndefined();
    });

    it('replaces the key material when the same serial is added again', async () => {
      const pem = publicKeyPem();
      await repo.addMerchantKey('1900000101', 'abcdef0123', pem, '-----BEGIN CERTIFICATE-----\n…');
      const keys = await repo.listMerchantKeys('1900000101');
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatchObject({ publicKeyPem: pem, certificatePem: '-----BEGIN CERTIFICATE-----\n…' });
    });

    it('refuses a key for a merchant that does not exist', async () => {
      await expect(repo.addMerchantKey('1988888888', 'AB', publicKeyPem(), null)).rejects.toThrow();
    });

    it('lists merchants by mchid', async () => {
      expect((await repo.listMerchants()).map((m) => m.mchid)).toEqual(['1900000101', '1900000202']);
    });

    it('changes the signing mode and reports whether the merchant exists', async () => {
      expect(await repo.setSigningMode('1900000202', 'migrating')).toBe(true);
      expect((await repo.findMerchant('1900000202'))?.signingMode).toBe('migrating');
      expect(await repo.setSigningMode('1977777777', 'pubkey')).toBe(false);
    });
  });
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`registerDevMerchant on ${dialect.name}`, () => {
    let database: TestDatabase;
    let handle: DatabaseHandle;
    let dir: string;

    beforeAll(async () => {
      database = await dialect.create();
      handle = openDatabase(database.url);
      await migrateToLatest(handle.db);
      dir = mkdtempSync(join(tmpdir(), 'wps-dev-'));
      await initCredentials(dir, { mchid: '1900000109' });
    });
    afterAll(async () => {
      await handle?.close();
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('registers the dev merchant and its certificate key, and is idempotent', async () => {
      const loaded = loadCredentials(dir);
      await registerDevMerchant(handle.db, loaded);
      await registerDevMerchant(handle.db, loaded);
      const repo = new MerchantRepo(handle.db);
      expect(await repo.findMerchant('1900000109')).toEqual({
        mchid: '1900000109',
        name: loaded.merchant.name,
        apiV3Key: loaded.merchant.apiV3Key,
        apiV2Key: loaded.merchant.apiV2Key,
        signingMode: 'pubkey',
        parentMchid: null,
      });
      const keys = await repo.listMerchantKeys('1900000109');
      expect(keys.map((k) => k.serialNo)).toEqual([loaded.merchant.serialNo]);
      const key = keys[0] as MerchantKeyRecord;
      expect(key.certificatePem).toBe(loaded.merchant.certificatePem);
      // The stored public key verifies what the dev merchant's private key signs.
      const signature = sign('sha256', Buffer.from('probe'), loaded.merchant.privateKey);
      expect(verify('sha256', Buffer.from('probe'), createPublicKey(key.publicKeyPem), signature)).toBe(true);
    });

    it('keeps a signing mode changed at run time when registering again on the next start', async () => {
      const repo = new MerchantRepo(handle.db);
      await repo.setSigningMode('1900000109', 'certificate');
      await registerDevMerchant(handle.db, loadCredentials(dir));
      expect((await repo.findMerchant('1900000109'))?.signingMode).toBe('certificate');
    });
  });
}
