import type { FaultRule } from './rule.js';

/** Result of trying to fire a rule against the store. */
export type ClaimOutcome = 'fired' | 'skipped' | 'gone';

/** Persistence of rules, with exact firing counts under concurrency. */
export interface FaultStore {
  /** Rules of a merchant and the global ones (`mchid` undefined = every rule). */
  list(mchid?: string): Promise<FaultRule[]>;
  get(id: string): Promise<FaultRule | undefined>;
  insert(rule: FaultRule): Promise<void>;
  /** Deletes one rule of that owner (null = global); false when there was none. */
  delete(id: string, owner: string | null): Promise<boolean>;
  /** Deletes every rule of that owner; returns how many. */
  deleteAll(owner: string | null): Promise<number>;
  /**
   * Counts a matching call against a rule and decides atomically whether it fires: not when expired or
   * used up (`gone`), not when the seeded PRNG says so for this call's sequence number (`skipped`).
   */
  claim(rule: FaultRule, wallMs: number): Promise<ClaimOutcome>;
}

/**
 * The seeded decision for the `sequence`-th matching call (1-based) of a fractional rule: the same seed
 * gives the same firings in the same order, whatever the timing.
 */
export function fractionFires(seed: number, sequence: number, fraction: number): boolean {
  return prngUnit(seed, sequence) < fraction;
}

/** A uniform number in [0, 1) from (seed, sequence): one splitmix32-style mix, no state. */
export function prngUnit(seed: number, sequence: number): number {
  let z = (seed + Math.imul(sequence, 0x9e3779b9)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return (z >>> 0) / 2 ** 32;
}
