import type { OutboxTables } from '../outbox/tables.js';
import type { SimClocksTable, SimFaultRulesTable, SimSubsidyOutcomesTable } from '../sim/tables.js';
import type { BusifavorTables } from './busifavor/tables.js';

/**
 * Kysely table types. Each feature declares its tables in its own file and they are merged here.
 * Times are epoch milliseconds; JSON is stored as text.
 */

/** A registered merchant. */
export interface MerchantsTable {
  mchid: string;
  name: string;
  api_v3_key: string;
  api_v2_key: string | null;
  /** 'pubkey' | 'certificate' | 'migrating' */
  signing_mode: string;
  /** Service provider of a sub-merchant, if any. */
  parent_mchid: string | null;
  created_at: number;
}

/** A merchant API key (certificate or bare public key) that verifies the merchant's requests. */
export interface MerchantKeysTable {
  mchid: string;
  serial_no: string;
  public_key_pem: string;
  certificate_pem: string | null;
  created_at: number;
}

/** A notify URL per merchant and API family. */
export interface NotifySettingsTable {
  mchid: string;
  /** 'busifavor' | 'product-coupon' | 'delivery-plan' */
  family: string;
  notify_url: string;
  /** The caller that set it (a provider may set a sub-merchant's). */
  set_by: string;
  update_time: number;
}

/** Nonces seen in the signature window, to refuse replays. */
export interface RequestNoncesTable {
  mchid: string;
  nonce: string;
  seen_at: number;
}

/** Version counters of cached data (migration 0008): `merchants` moves on every merchant or key write. */
export interface CacheEpochsTable {
  name: string;
  version: number;
}

/** Every table. */
export interface DatabaseSchema extends BusifavorTables, OutboxTables {
  cache_epochs: CacheEpochsTable;
  merchants: MerchantsTable;
  merchant_keys: MerchantKeysTable;
  notify_settings: NotifySettingsTable;
  request_nonces: RequestNoncesTable;
  sim_clocks: SimClocksTable;
  sim_fault_rules: SimFaultRulesTable;
  sim_subsidy_outcomes: SimSubsidyOutcomesTable;
}
