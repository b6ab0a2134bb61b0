import type { FaultRule } from './rule.js';
import { type ClaimOutcome, type FaultStore, fractionFires } from './store.js';

/** Rules in memory, for unit tests. */
export class MemoryFaultStore implements FaultStore {
  private readonly rules = new Map<string, FaultRule>();

  async list(mchid?: string): Promise<FaultRule[]> {
    return [...this.rules.values()]
      .filter((r) => mchid === undefined || r.mchid === mchid || r.mchid === null)
      .map((r) => ({ ...r }));
  }

  async get(id: string): Promise<FaultRule | undefined> {
    const rule = this.rules.get(id);
    return rule && { ...rule };
  }

  async insert(rule: FaultRule): Promise<void> {
    this.rules.set(rule.id, { ...rule });
  }

  async delete(id: string, owner: string | null): Promise<boolean> {
    const rule = this.rules.get(id);
    if (!rule || rule.mchid !== owner) return false;
    return this.rules.delete(id);
  }

  async deleteAll(owner: string | null): Promise<number> {
    let n = 0;
    for (const [id, rule] of this.rules) if (rule.mchid === owner && this.rules.delete(id)) n++;
    return n;
  }

  async claim(rule: FaultRule, wallMs: number): Promise<ClaimOutcome> {
    const stored = this.rules.get(rule.id);
    if (!stored || stored.remaining === 0 || (stored.expiresAtMs !== null && stored.expiresAtMs <= wallMs)) {
      return 'gone';
    }
    stored.matched++;
    if (stored.fraction !== null && !fractionFires(stored.seed, stored.matched, stored.fraction))
      return 'skipped';
    if (stored.remaining !== null) stored.remaining--;
    stored.fired++;
    return 'fired';
  }
}
