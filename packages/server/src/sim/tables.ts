/**
 * Kysely table types of the simulation (migrations 0004-sim and 0006-sim-subsidy-outcomes). Merged into
 * DatabaseSchema; the repositories beside this file read and write them.
 */

/** A virtual-clock setting per scope (`*` = global, else a mchid). Created by migration 0004-sim. */
export interface SimClocksTable {
  scope: string;
  /** 'frozen' | 'offset' */
  mode: string;
  /** The frozen instant, or the offset from the wall clock, in ms. */
  base_ms: number;
  updated_at: number;
}

/** A fault-injection rule. Created by migration 0004-sim. */
export interface SimFaultRulesTable {
  id: string;
  /** NULL = every merchant. */
  mchid: string | null;
  method: string;
  path_pattern: string;
  error_code: string | null;
  status: number | null;
  message: string | null;
  delay_ms: number;
  /** NULL = unlimited. */
  remaining: number | null;
  fraction: number | null;
  seed: number;
  matched: number;
  fired: number;
  /** Wall-clock epoch ms, NULL = never. */
  expires_at: number | null;
  created_at: number;
}

/** A subsidy outcome rule. Created by migration 0006-sim-subsidy-outcomes. */
export interface SimSubsidyOutcomesTable {
  id: string;
  /** NULL = every merchant. */
  mchid: string | null;
  /** 'pay' | 'return' */
  kind: string;
  /** NULL = any stock. */
  stock_id: string | null;
  fail_reason: string;
  /** NULL = unlimited. */
  remaining: number | null;
  fired: number;
  /** Wall-clock epoch ms, NULL = never. */
  expires_at: number | null;
  created_at: number;
}
