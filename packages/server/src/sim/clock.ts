import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type { Clock } from '../domain/ports.js';
import { errors } from '../errors.js';

/**
 * The virtual clock: business time per merchant. The whole server (`global` scope) or one merchant can be
 * frozen at an instant, set to an instant (then run on at real speed), advanced by a duration, or resumed.
 * A merchant's own setting overrides the global one. Settings live in a {@link ClockStore} (the database,
 * so they survive restarts and are shared by several instances) and are cached in process; `now()` is
 * synchronous and reads only the cache.
 *
 * Only business time is virtual. Request signature windows, nonce retention and the response's
 * `Wechatpay-Timestamp` use the wall clock (`ServerContext.wallClock`).
 * @see docs/simulation.md "Virtual clock"
 */

/** The key of the global scope in the store (mchids are digits, so it cannot collide). */
export const GLOBAL_CLOCK_SCOPE = '*';

/** One stored setting. Without a setting a scope follows the next one out (merchant → global → wall). */
export type ClockSetting =
  /** Time stands still at `atMs`. */
  | { mode: 'frozen'; atMs: number }
  /** Time runs at real speed, `offsetMs` away from the wall clock. */
  | { mode: 'offset'; offsetMs: number };

/** What a caller asks the clock to do. */
export type ClockAction =
  /** Stop time at `atMs`, or where it is now. */
  | { action: 'freeze'; atMs?: number; allowBackwards?: boolean }
  /** Jump to `atMs` and run on from there. */
  | { action: 'set'; atMs: number; allowBackwards?: boolean }
  /** Move time by `deltaMs` (forward; a negative delta needs allowBackwards), keeping frozen/running. */
  | { action: 'advance'; deltaMs: number; allowBackwards?: boolean }
  /** Drop this scope's setting: a merchant follows the global setting again, the global scope real time. */
  | { action: 'resume'; allowBackwards?: boolean };

/** A scope: the whole server, or one merchant. */
export type ClockScope = { kind: 'global' } | { kind: 'merchant'; mchid: string };

/** Emitted after a setting changed, here or (seen at refresh) in another instance. */
export interface ClockChange {
  /** The merchant whose setting changed, or null for the global setting (affects every merchant). */
  mchid: string | null;
  /** `local` = changed through this process; `remote` = noticed when the cache was refreshed. */
  origin: 'local' | 'remote';
}

/** Listener of clock changes; must not throw (errors are swallowed). */
export type ClockChangeListener = (change: ClockChange) => void;

/** Persistence of clock settings. */
export interface ClockStore {
  /** Every stored setting by scope key ({@link GLOBAL_CLOCK_SCOPE} or a mchid). */
  loadAll(): Promise<Map<string, ClockSetting>>;
  /** Writes a setting (last writer wins). */
  put(scopeKey: string, setting: ClockSetting, wallMs: number): Promise<void>;
  /** Deletes a setting. */
  remove(scopeKey: string): Promise<void>;
  /**
   * Adds `deltaMs` to a scope's instant or offset atomically (two concurrent advances both count); when
   * the scope has no setting yet, stores `initial` (which already includes the delta). Returns the result.
   */
  advance(scopeKey: string, deltaMs: number, initial: ClockSetting, wallMs: number): Promise<ClockSetting>;
}

/** Business time under a setting (undefined = real time). */
export function timeUnder(setting: ClockSetting | undefined, wallMs: number): number {
  if (!setting) return wallMs;
  return setting.mode === 'frozen' ? setting.atMs : wallMs + setting.offsetMs;
}

/** The setting after advancing by `deltaMs` from `setting` (undefined = real time). */
export function advancedSetting(setting: ClockSetting | undefined, deltaMs: number): ClockSetting {
  if (!setting) return { mode: 'offset', offsetMs: deltaMs };
  return setting.mode === 'frozen'
    ? { mode: 'frozen', atMs: setting.atMs + deltaMs }
    : { mode: 'offset', offsetMs: setting.offsetMs + deltaMs };
}

/** A scope's view for the simulation API. */
export interface ClockView {
  /** The scope's own setting, if any. */
  setting: ClockSetting | undefined;
  /** Business time of the scope now. */
  nowMs: number;
}

/** What a merchant's business time is made of. */
export interface ClockState {
  mchid: string | undefined;
  nowMs: number;
  wallMs: number;
  /** Whose setting decides: the merchant's own, the global one, or none (real time). */
  source: 'merchant' | 'global' | 'real';
  merchant: ClockSetting | undefined;
  global: ClockSetting | undefined;
}

/** Options of {@link VirtualClock}. */
export interface VirtualClockOptions {
  store: ClockStore;
  /** The wall clock. @default Date.now */
  wallClock?: () => number;
  /**
   * How old the cache may get before a request refreshes it ({@link VirtualClock.ensureFresh}); the poll
   * timer ({@link VirtualClock.start}) refreshes every half of it. This bounds how late a change made by
   * another instance is seen. @default 1000
   */
  cacheTtlMs?: number;
}

/**
 * The virtual clock adapter of the {@link Clock} port.
 * @example
 * const clock = new VirtualClock({ store: new SqlClockStore(db) });
 * await clock.refresh();
 * await clock.change({ kind: 'merchant', mchid }, { action: 'advance', deltaMs: 86_400_000 });
 * clock.now(mchid); // one day ahead for this merchant only
 */
export class VirtualClock implements Clock {
  private readonly store: ClockStore;
  private readonly wallClock: () => number;
  private readonly cacheTtlMs: number;
  private settings = new Map<string, ClockSetting>();
  private loadedAtWall = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;
  /** Bumped by every local change, so a read that started before it cannot overwrite it. */
  private localChanges = 0;
  private readonly listeners = new Set<ClockChangeListener>();
  private timer: NodeJS.Timeout | undefined;

  constructor(options: VirtualClockOptions) {
    this.store = options.store;
    this.wallClock = options.wallClock ?? Date.now;
    this.cacheTtlMs = options.cacheTtlMs ?? 1000;
  }

  /** Business time of a merchant (or of the server without one), from the cache. */
  now(mchid?: string): number {
    return timeUnder(this.effectiveSetting(mchid), this.wallClock());
  }

  /** Everything that makes up a merchant's time, for the simulation API. */
  state(mchid?: string): ClockState {
    const wallMs = this.wallClock();
    const merchant = mchid === undefined ? undefined : this.settings.get(mchid);
    const global = this.settings.get(GLOBAL_CLOCK_SCOPE);
    return {
      mchid,
      nowMs: timeUnder(merchant ?? global, wallMs),
      wallMs,
      source: merchant ? 'merchant' : global ? 'global' : 'real',
      merchant,
      global,
    };
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: ClockChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reloads every setting from the store and tells listeners what changed elsewhere. */
  refresh(): Promise<void> {
    // Single flight: concurrent callers share one read.
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** Refreshes when the cache is older than the TTL; cheap otherwise. Call before business logic. */
  async ensureFresh(): Promise<void> {
    if (this.wallClock() - this.loadedAtWall >= this.cacheTtlMs) await this.refresh();
  }

  /** Starts refreshing in the background every half TTL (unref'd timer; errors are ignored). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(
      () => {
        this.refresh().catch(() => {});
      },
      Math.max(50, Math.floor(this.cacheTtlMs / 2)),
    );
    this.timer.unref();
  }

  /** Stops the background refresh. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Applies an action to a scope and returns the merchant's (or the global) state afterwards.
   * Throws 400 INVALID_REQUEST when the result would move the scope's business time backwards and
   * `allowBackwards` is not set, or when an action lacks its argument.
   */
  async change(scope: ClockScope, action: ClockAction): Promise<ClockState> {
    await this.refresh();
    const key = scope.kind === 'global' ? GLOBAL_CLOCK_SCOPE : scope.mchid;
    const mchid = scope.kind === 'merchant' ? scope.mchid : undefined;
    const wallMs = this.wallClock();
    const own = this.settings.get(key);
    // What the scope falls back to without its own setting.
    const fallback = scope.kind === 'merchant' ? this.settings.get(GLOBAL_CLOCK_SCOPE) : undefined;
    const before = timeUnder(own ?? fallback, wallMs);

    let next: ClockSetting | undefined;
    switch (action.action) {
      case 'freeze':
        next = { mode: 'frozen', atMs: Math.round(action.atMs ?? before) };
        break;
      case 'set':
        next = { mode: 'offset', offsetMs: Math.round(action.atMs) - wallMs };
        break;
      case 'advance':
        if (!Number.isFinite(action.deltaMs))
          throw errors.PARAM_ERROR('seconds 必须为数字', { field: '/seconds' });
        next = advancedSetting(own ?? fallback, Math.round(action.deltaMs));
        break;
      case 'resume':
        next = undefined;
        break;
    }
    const after = timeUnder(next ?? fallback, wallMs);
    if (after < before && action.allowBackwards !== true) {
      throw errors.INVALID_REQUEST('虚拟时钟不能回拨：如确需回拨请设置 allow_backwards=true', {
        field: '/allow_backwards',
        issue: `the ${scope.kind} clock would move back from ${formatBeijingTime(before)} to ${formatBeijingTime(after)}; set allow_backwards to do it on purpose`,
        location: 'body',
      });
    }

    if (action.action === 'advance' && next) {
      next = await this.store.advance(key, Math.round(action.deltaMs), next, wallMs);
    } else if (next) {
      await this.store.put(key, next, wallMs);
    } else {
      await this.store.remove(key);
    }
    this.localChanges++;
    if (next) this.settings.set(key, next);
    else this.settings.delete(key);
    this.emit({ mchid: mchid ?? null, origin: 'local' });
    return this.state(mchid);
  }

  private effectiveSetting(mchid: string | undefined): ClockSetting | undefined {
    return (
      (mchid === undefined ? undefined : this.settings.get(mchid)) ?? this.settings.get(GLOBAL_CLOCK_SCOPE)
    );
  }

  private async load(): Promise<void> {
    const startedAt = this.wallClock();
    const changesBefore = this.localChanges;
    const fresh = await this.store.loadAll();
    // A local change landed while reading: this snapshot may predate it; the next refresh reads again.
    if (changesBefore !== this.localChanges) return;
    const changed = new Set<string>();
    for (const [key, setting] of fresh) {
      if (!sameSetting(this.settings.get(key), setting)) changed.add(key);
    }
    for (const key of this.settings.keys()) if (!fresh.has(key)) changed.add(key);
    const first = this.loadedAtWall === Number.NEGATIVE_INFINITY;
    this.settings = fresh;
    this.loadedAtWall = startedAt;
    if (first) return;
    for (const key of changed) {
      this.emit({ mchid: key === GLOBAL_CLOCK_SCOPE ? null : key, origin: 'remote' });
    }
  }

  private emit(change: ClockChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure must not undo or block a clock change.
      }
    }
  }
}

function sameSetting(a: ClockSetting | undefined, b: ClockSetting | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.mode === 'frozen') return b.mode === 'frozen' && a.atMs === b.atMs;
  return b.mode === 'offset' && a.offsetMs === b.offsetMs;
}

/** Settings in memory, for tests and database-less use. Not shared between processes. */
export class MemoryClockStore implements ClockStore {
  private readonly settings = new Map<string, ClockSetting>();

  async loadAll(): Promise<Map<string, ClockSetting>> {
    return new Map(this.settings);
  }

  async put(scopeKey: string, setting: ClockSetting): Promise<void> {
    this.settings.set(scopeKey, setting);
  }

  async remove(scopeKey: string): Promise<void> {
    this.settings.delete(scopeKey);
  }

  async advance(scopeKey: string, deltaMs: number, initial: ClockSetting): Promise<ClockSetting> {
    const current = this.settings.get(scopeKey);
    const next = current ? advancedSetting(current, deltaMs) : initial;
    this.settings.set(scopeKey, next);
    return next;
  }
}

/**
 * Subscribes to time jumps of any {@link Clock}: a {@link VirtualClock} notifies, a plain clock never
 * does. For the notification dispatcher, which should re-check due work when time jumps.
 */
export function subscribeClockChanges(clock: Clock, listener: ClockChangeListener): () => void {
  return clock instanceof VirtualClock ? clock.onChange(listener) : () => {};
}
