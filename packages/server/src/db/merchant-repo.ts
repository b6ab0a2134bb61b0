import { exportPublicKeyPem, loadCertificate, normalizeSerial } from '@wechatpay-sandbox/sdk/protocol';
import type { Kysely } from 'kysely';
import type { LoadedCredentials, SigningMode } from '../credentials/types.js';
import type { DatabaseSchema, MerchantKeysTable, MerchantsTable } from './schema.js';

/**
 * Storage of registered merchants (`merchants`) and the API keys that verify their requests
 * (`merchant_keys`). Serials are stored in {@link normalizeSerial} form, so a lookup matches whatever
 * spelling (lower case, colons, leading zeros) a client sends.
 */

/** Every signing mode, for validating input. */
export const SIGNING_MODES: readonly SigningMode[] = ['pubkey', 'certificate', 'migrating'];

/** True when `value` names a signing mode. */
export function isSigningMode(value: string): value is SigningMode {
  return (SIGNING_MODES as readonly string[]).includes(value);
}

/** A registered merchant as the gateway sees it. */
export interface MerchantRecord {
  mchid: string;
  name: string;
  apiV3Key: string;
  apiV2Key: string | null;
  signingMode: SigningMode;
  /** Service provider of a sub-merchant, if any. */
  parentMchid: string | null;
}

/** One merchant API key: a bare public key, or a certificate with its public key. */
export interface MerchantKeyRecord {
  mchid: string;
  /** Normalized serial (upper-case hex, no leading zeros). */
  serialNo: string;
  /** SPKI PEM. */
  publicKeyPem: string;
  certificatePem: string | null;
  createdAtMs: number;
}

/** Options of {@link MerchantRepo}. */
export interface MerchantRepoOptions {
  /** Source of `created_at` timestamps (epoch ms). @default Date.now */
  now?: () => number;
}

function toRecord(row: MerchantsTable): MerchantRecord {
  return {
    mchid: row.mchid,
    name: row.name,
    apiV3Key: row.api_v3_key,
    apiV2Key: row.api_v2_key,
    // The column is only ever written through this repository, which accepts SigningMode values only.
    signingMode: row.signing_mode as SigningMode,
    parentMchid: row.parent_mchid,
  };
}

function toKeyRecord(row: MerchantKeysTable): MerchantKeyRecord {
  return {
    mchid: row.mchid,
    serialNo: row.serial_no,
    publicKeyPem: row.public_key_pem,
    certificatePem: row.certificate_pem,
    createdAtMs: row.created_at,
  };
}

/** SQL repository over `merchants` and `merchant_keys`; works on SQLite and PostgreSQL alike. */
export class MerchantRepo {
  private readonly now: () => number;

  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    options: MerchantRepoOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Inserts a merchant, or replaces every field of an existing one (creation time is kept). */
  async upsertMerchant(merchant: MerchantRecord): Promise<void> {
    const values = {
      name: merchant.name,
      api_v3_key: merchant.apiV3Key,
      api_v2_key: merchant.apiV2Key,
      signing_mode: merchant.signingMode,
      parent_mchid: merchant.parentMchid,
    };
    await this.db
      .insertInto('merchants')
      .values({ mchid: merchant.mchid, ...values, created_at: this.now() })
      .onConflict((oc) => oc.column('mchid').doUpdateSet(values))
      .execute();
    await this.bumpEpoch();
  }

  /**
   * Registers (or replaces) the key with `serialNo` for a merchant that must already exist.
   * @param publicKeyPem SPKI PEM of the merchant's API key.
   * @param certificatePem The merchant API certificate, when the key came with one.
   */
  async addMerchantKey(
    mchid: string,
    serialNo: string,
    publicKeyPem: string,
    certificatePem: string | null,
  ): Promise<void> {
    const values = { public_key_pem: publicKeyPem, certificate_pem: certificatePem };
    await this.db
      .insertInto('merchant_keys')
      .values({ mchid, serial_no: normalizeSerial(serialNo), ...values, created_at: this.now() })
      .onConflict((oc) => oc.columns(['mchid', 'serial_no']).doUpdateSet(values))
      .execute();
    await this.bumpEpoch();
  }

  /** The merchant, or undefined when it is not registered. */
  async findMerchant(mchid: string): Promise<MerchantRecord | undefined> {
    const row = await this.db
      .selectFrom('merchants')
      .selectAll()
      .where('mchid', '=', mchid)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /**
   * The merchant and the PEM of its key with this serial (any spelling) in one read, for request
   * authentication; `keyPem` is undefined when the merchant has no such key.
   */
  async findMerchantWithKeyPem(
    mchid: string,
    serialNo: string,
  ): Promise<{ merchant: MerchantRecord; keyPem: string | undefined } | undefined> {
    const row = await this.db
      .selectFrom('merchants as m')
      .leftJoin('merchant_keys as k', (join) =>
        join.onRef('k.mchid', '=', 'm.mchid').on('k.serial_no', '=', normalizeSerial(serialNo)),
      )
      .selectAll('m')
      .select('k.public_key_pem')
      .where('m.mchid', '=', mchid)
      .executeTakeFirst();
    if (!row) return undefined;
    const { public_key_pem, ...merchant } = row;
    return { merchant: toRecord(merchant), keyPem: public_key_pem ?? undefined };
  }

  /** The merchant key with this serial (any spelling), or undefined. */
  async findMerchantKey(mchid: string, serialNo: string): Promise<MerchantKeyRecord | undefined> {
    const row = await this.db
      .selectFrom('merchant_keys')
      .selectAll()
      .where('mchid', '=', mchid)
      .where('serial_no', '=', normalizeSerial(serialNo))
      .executeTakeFirst();
    return row ? toKeyRecord(row) : undefined;
  }

  /** Every key of a merchant, oldest first. */
  async listMerchantKeys(mchid: string): Promise<MerchantKeyRecord[]> {
    const rows = await this.db
      .selectFrom('merchant_keys')
      .selectAll()
      .where('mchid', '=', mchid)
      .orderBy('created_at')
      .orderBy('serial_no')
      .execute();
    return rows.map(toKeyRecord);
  }

  /** Every registered merchant, by mchid. */
  async listMerchants(): Promise<MerchantRecord[]> {
    const rows = await this.db.selectFrom('merchants').selectAll().orderBy('mchid').execute();
    return rows.map(toRecord);
  }

  /** Changes how a merchant's responses are signed; false when the merchant does not exist. */
  async setSigningMode(mchid: string, mode: SigningMode): Promise<boolean> {
    const result = await this.db
      .updateTable('merchants')
      .set({ signing_mode: mode })
      .where('mchid', '=', mchid)
      .executeTakeFirst();
    await this.bumpEpoch();
    return Number(result.numUpdatedRows) > 0;
  }

  /** After the write it follows, so a reader that sees the new version also sees the new data. */
  private async bumpEpoch(): Promise<void> {
    await this.db
      .updateTable('cache_epochs')
      .set((eb) => ({ version: eb('version', '+', 1) }))
      .where('name', '=', MERCHANTS_EPOCH)
      .execute();
  }
}

/**
 * The row of cache_epochs that merchant and key writes move, in any process: a server holding merchants
 * in memory reads it with every batch of request nonces (db/nonce-repo.ts) to know when to read them
 * again (http/authenticate.ts).
 */
export const MERCHANTS_EPOCH = 'merchants';

/**
 * Registers the dev merchant of a credentials directory and its API certificate. Idempotent and safe on
 * every start: a new merchant gets the file's signing mode; an existing one keeps the mode and parent
 * it was given at run time (`merchant set-mode`), while its name and API keys follow the file, which is
 * where the dev merchant's secrets live.
 */
export async function registerDevMerchant(
  db: Kysely<DatabaseSchema>,
  loaded: LoadedCredentials,
  options: MerchantRepoOptions = {},
): Promise<void> {
  const repo = new MerchantRepo(db, options);
  const dev = loaded.merchant;
  const existing = await repo.findMerchant(dev.mchid);
  await repo.upsertMerchant({
    mchid: dev.mchid,
    name: dev.name,
    apiV3Key: dev.apiV3Key,
    apiV2Key: dev.apiV2Key,
    signingMode: existing?.signingMode ?? dev.signingMode,
    parentMchid: existing?.parentMchid ?? null,
  });
  const publicKeyPem = exportPublicKeyPem(loadCertificate(dev.certificatePem).publicKey);
  await repo.addMerchantKey(dev.mchid, dev.serialNo, publicKeyPem, dev.certificatePem);
}
