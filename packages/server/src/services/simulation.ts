import type { DatabaseHandle } from '../db/connect.js';
import { VirtualClock } from '../sim/clock.js';
import { SqlClockStore } from '../sim/clock-repo.js';
import { FaultInjector } from '../sim/faults.js';
import { SqlFaultStore } from '../sim/faults-repo.js';

/**
 * The simulation infrastructure: the virtual clock and the fault injector over the database, built once
 * by the composition root (their caches make changes from other instances visible within a second).
 */

/** The simulation adapters buildApp creates. */
export interface SimInfra {
  clock: VirtualClock;
  faults: FaultInjector;
}

/** Options of {@link createSimInfra}. */
export interface SimInfraOptions {
  /** The wall clock. @default Date.now */
  wallClock?: () => number;
  /** Cache TTL of clock settings and fault rules, i.e. how late another instance's change is seen. @default 1000 */
  cacheTtlMs?: number;
}

/** Creates the virtual clock and the fault injector over the database, with the clock cache loaded. */
export async function createSimInfra(db: DatabaseHandle, options: SimInfraOptions = {}): Promise<SimInfra> {
  const clock = new VirtualClock({
    store: new SqlClockStore(db.db),
    wallClock: options.wallClock,
    cacheTtlMs: options.cacheTtlMs,
  });
  await clock.refresh();
  const faults = new FaultInjector({
    store: new SqlFaultStore(db.db),
    wallClock: options.wallClock,
    cacheTtlMs: options.cacheTtlMs,
  });
  return { clock, faults };
}
