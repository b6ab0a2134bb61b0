import type { Kysely } from 'kysely';
import type { SigningMode } from '../credentials/types.js';
import { type MerchantKeyRecord, type MerchantRecord, MerchantRepo } from '../db/merchant-repo.js';
import type { DatabaseSchema } from '../db/schema.js';

export { isSigningMode, SIGNING_MODES } from '../db/merchant-repo.js';

/**
 * The merchants feature: registering a merchant and its API keys, changing its signing mode, and the
 * listing an operator sees (never the APIv3/APIv2 keys). The `merchant` and `notifications` commands
 * call it; the gateway reads merchants through its own directory.
 */

/** One API key of a merchant being registered: a bare public key, or a certificate with its public key. */
export type MerchantKeyInput = Pick<MerchantKeyRecord, 'serialNo' | 'publicKeyPem' | 'certificatePem'>;

/** A merchant to register (or update; its parent must be registered already) with one of its API keys. */
export interface MerchantRegistration extends MerchantRecord {
  key: MerchantKeyInput;
}

/** A merchant as listed: no secrets, only which keys verify its requests. */
export interface MerchantListing extends Omit<MerchantRecord, 'apiV3Key' | 'apiV2Key'> {
  keys: Array<{ serialNo: string; kind: 'certificate' | 'public-key' }>;
}

/** The parent named by a registration is not a registered merchant; nothing was written. */
export class UnknownParentError extends Error {
  override readonly name = 'UnknownParentError';
  constructor(readonly parentMchid: string) {
    super(`merchant ${parentMchid} is not registered`);
  }
}

export class MerchantsService {
  private readonly repo: MerchantRepo;

  constructor(db: Kysely<DatabaseSchema>) {
    this.repo = new MerchantRepo(db);
  }

  /** The merchant, with its keys' secrets (the probe signs with them); undefined when not registered. */
  find(mchid: string): Promise<MerchantRecord | undefined> {
    return this.repo.findMerchant(mchid);
  }

  /**
   * Registers a merchant, or updates it and adds the key when it exists (the same serial replaces its
   * key). Throws {@link UnknownParentError} before writing when the parent is not registered.
   */
  async register(registration: MerchantRegistration): Promise<{ created: boolean }> {
    const { key, ...merchant } = registration;
    if (merchant.parentMchid !== null && !(await this.repo.findMerchant(merchant.parentMchid))) {
      throw new UnknownParentError(merchant.parentMchid);
    }
    const created = (await this.repo.findMerchant(merchant.mchid)) === undefined;
    await this.repo.upsertMerchant(merchant);
    await this.repo.addMerchantKey(merchant.mchid, key.serialNo, key.publicKeyPem, key.certificatePem);
    return { created };
  }

  /** Changes how a merchant's responses are signed; false when the merchant is not registered. */
  setSigningMode(mchid: string, mode: SigningMode): Promise<boolean> {
    return this.repo.setSigningMode(mchid, mode);
  }

  /** Every merchant by mchid, with its keys' serials and kinds. */
  async list(): Promise<MerchantListing[]> {
    const listed: MerchantListing[] = [];
    for (const m of await this.repo.listMerchants()) {
      const keys = await this.repo.listMerchantKeys(m.mchid);
      listed.push({
        mchid: m.mchid,
        name: m.name,
        signingMode: m.signingMode,
        parentMchid: m.parentMchid,
        keys: keys.map((k) => ({
          serialNo: k.serialNo,
          kind: k.certificatePem ? ('certificate' as const) : ('public-key' as const),
        })),
      });
    }
    return listed;
  }
}
