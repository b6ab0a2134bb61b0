import type { FaultAction } from './action.js';
import { type FaultRule, ruleAction, ruleMatches } from './rule.js';
import type { FaultStore } from './store.js';

/** Options of {@link FaultInjector}. */
export interface FaultInjectorOptions {
  store: FaultStore;
  /** The wall clock (rule expiry is wall time, not business time). @default Date.now */
  wallClock?: () => number;
  /** How long the in-process rule list may be reused before it is re-read. @default 1000 */
  cacheTtlMs?: number;
}

/**
 * Finds the fault for a call. The rule list is cached (a rule created or deleted through another instance
 * is seen within the TTL), but every firing is confirmed by the store, so counts stay exact and a rule
 * deleted anywhere stops firing at once.
 */
export class FaultInjector {
  readonly store: FaultStore;
  private readonly wallClock: () => number;
  private readonly cacheTtlMs: number;
  private cached: FaultRule[] = [];
  private loadedAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<FaultRule[]> | undefined;

  constructor(options: FaultInjectorOptions) {
    this.store = options.store;
    this.wallClock = options.wallClock ?? Date.now;
    this.cacheTtlMs = options.cacheTtlMs ?? 1000;
  }

  /**
   * The action for a merchant's call, or undefined. Merchant rules are tried before global ones, older
   * before newer; the first that fires wins (a fractional rule that does not fire lets the next one try).
   */
  async match(
    mchid: string,
    method: string,
    path: string,
  ): Promise<{ rule: FaultRule; action: FaultAction } | undefined> {
    const rules = await this.rules();
    const wallMs = this.wallClock();
    const candidates = rules
      .filter((r) => r.mchid === mchid || r.mchid === null)
      .filter((r) => r.remaining !== 0 && (r.expiresAtMs === null || r.expiresAtMs > wallMs))
      .filter((r) => ruleMatches(r, method, path))
      .sort(
        (a, b) =>
          (a.mchid === null ? 1 : 0) - (b.mchid === null ? 1 : 0) ||
          a.createdAtMs - b.createdAtMs ||
          a.id.localeCompare(b.id),
      );
    for (const rule of candidates) {
      const outcome = await this.store.claim(rule, wallMs);
      if (outcome === 'fired') return { rule, action: ruleAction(rule) };
      if (outcome === 'gone') this.invalidate();
    }
    return undefined;
  }

  /** Forgets the cached rule list (after a local create or delete). */
  invalidate(): void {
    this.loadedAt = Number.NEGATIVE_INFINITY;
  }

  private async rules(): Promise<FaultRule[]> {
    if (this.wallClock() - this.loadedAt < this.cacheTtlMs) return this.cached;
    this.inflight ??= this.store
      .list()
      .then((rules) => {
        this.cached = rules;
        this.loadedAt = this.wallClock();
        return rules;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }
}
