import { describe, expect, it } from 'vitest';
import { WechatError } from '../errors.js';
import {
  type ClockChange,
  type ClockSetting,
  MemoryClockStore,
  subscribeClockChanges,
  timeUnder,
  VirtualClock,
} from './clock.js';

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0); // 2026-01-01T08:00:00+08:00
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const M1 = '1900000001';
const M2 = '1900000002';

/** A wall clock the test moves by hand. */
function fakeWall(start = T0) {
  let now = start;
  return {
    now: () => now,
    tick: (ms: number) => {
      now += ms;
    },
  };
}

async function makeClock(store = new MemoryClockStore()) {
  const wall = fakeWall();
  const clock = new VirtualClock({ store, wallClock: wall.now, cacheTtlMs: 1000 });
  await clock.refresh();
  return { clock, wall, store };
}

describe('virtual clock semantics', () => {
  it('follows the wall clock when nothing is set', async () => {
    const { clock, wall } = await makeClock();
    expect(clock.now()).toBe(T0);
    expect(clock.now(M1)).toBe(T0);
    wall.tick(1234);
    expect(clock.now(M1)).toBe(T0 + 1234);
    expect(clock.state(M1).source).toBe('real');
  });

  it('freezes a merchant where it is: its time stands still while the wall and other merchants run', async () => {
    const { clock, wall } = await makeClock();
    wall.tick(500);
    await clock.change({ kind: 'merchant', mchid: M1 }, { action: 'freeze' });
    wall.tick(10 * HOUR);
    expect(clock.now(M1)).toBe(T0 + 500);
    expect(clock.now(M2)).toBe(T0 + 500 + 10 * HOUR);
    expect(clock.now()).toBe(T0 + 500 + 10 * HOUR);
  });

  it('freezes at a given instant', async () => {
    const { clock, wall } = await makeClock();
    await clock.change({ kind: 'merchant', mchid: M1 }, { action: 'freeze', atMs: T0 + DAY });
    wall.tick(HOUR);
    expect(clock.now(M1)).toBe(T0 + DAY);
  });

  it('sets an instant and then runs on at real speed', async () => {
    const { clock, wall } = await makeClock();
    await clock.change({ kind: 'merchant', mchid: M1 }, { action: 'set', atMs: T0 + 30 * DAY });
    expect(clock.now(M1)).toBe(T0 + 30 * DAY);
    wall.tick(2500);
    expect(clock.now(M1)).toBe(T0 + 30 * DAY + 2500);
  });

  it('advances a frozen clock and keeps it frozen; advances a running clock and keeps it running', async () => {
    const { clock, wall } = await makeClock();
    await clock.change({ kind: 'merchant', mchid: M1 }, { action: 'freeze' });
    await clock.change({ kind: 'merchant', mchid: M1 }, { action: 'advance', deltaMs: DAY });
    wall.tick(HOUR);
    expect(clock.now(M1)).toBe(T0 + DAY);
    await clock.change({ kind: 'merchant', mchid: M2 }, { action: 'advance', deltaMs: DAY });
    expect(clock.now(M2)).toBe(T0 + HOUR + DAY);
    wall.tick(HOUR);
    expect(clock.now(M2)).toBe(T0 + 2 * HOUR + DAY);
  });

  it('applies the global setting to every merchant without its own, and the merchant setting wins', async () => {
    const { clock, wall } = await makeClock();
    await clock.change({ kind: 'global' }, { action: 'freeze', atMs: T0 + 7 * DAY });
    await clock.change({ kind: 'merchant', mchid: M1 }, { action: 'set', atMs: T0 + 9 * DAY });
    wall.tick(1000);
    expect(clock.now(M2)).toBe(T0 + 7 * DAY);
    expect(clock.now()).toBe(T0 + 7 * DAY);
    expect(clock.now(M1)).toBe(T0 + 9 * DAY + 1000);
    expect(clock.state(M1).source).toBe('merchant');
    expect(clock.state(M2).source).toBe('global');
  });

  it('advancing a merchant that follows a frozen global clock starts from the global instant and stays frozen', async () => {
    const { clock, wall } = await makeClock();
    await clock.change({ kind: 'global' }, { action: 'freeze', atMs: T0 + DAY });
    await clock.change({ kind: 'merchant', mchid: M1 }, { action: 'advance', deltaMs: HOUR });
    wall.tick(HOUR);
    expect(clock.now(M1)).toBe(T0 + DAY + HOUR);
    expect(clock.state(M1).merchant).toEqual({ mode: 'frozen', atMs: T0 + DAY + HOUR });
  });

  it('resuming a merchant makes it follow the global setting again', async () => {
    const { clock } = await makeClock();
    await clock.change({ kind: 'global' }, { action: 'advance', deltaMs: DAY });
    await clock.change({ kind: 'merchant', mchid: M1 }, { action: 'advance', deltaMs: 2 * DAY });
    expect(clock.now(M1)).toBe(T0 + 3 * DAY);
    await clock.change({ kind: 'merchant', mchid: M1 }, { action: 'resume', allowBackwards: true });
    expect(clock.now(M1)).toBe(T0 + DAY);
  });

  it.each([
    ['setting an earlier instant', { action: 'set', atMs: T0 - 1000 }],
    ['freezing at an earlier instant', { action: 'freeze', atMs: T0 - 1 }],
    ['advancing by a negative duration', { action: 'advance', deltaMs: -1 }],
  ] as const)('refuses %s unless allowBackwards is set', async (_name, action) => {
    const { clock } = await makeClock();
    const error = await clock.change({ kind: 'merchant', mchid: M1 }, action).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WechatError);
    expect(error).toMatchObject({ code: 'INVALID_REQUEST', status: 400 });
    expect(clock.now(M1)).toBe(T0);
    await clock.change({ kind: 'merchant', mchid: M1 }, { ...action, allowBackwards: true });
    expect(clock.now(M1)).toBeLessThan(T0);
  });

  it('refuses to resume to real time from the future unless allowBackwards is set', async () => {
    const { clock } = await makeClock();
    await clock.change({ kind: 'global' }, { action: 'advance', deltaMs: DAY });
    await expect(clock.change({ kind: 'global' }, { action: 'resume' })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
    expect(clock.now()).toBe(T0 + DAY);
    await clock.change({ kind: 'global' }, { action: 'resume', allowBackwards: true });
    expect(clock.now()).toBe(T0);
  });

  it('resuming from a past setting needs no flag, since time moves forward', async () => {
    const { clock } = await makeClock();
    await clock.change({ kind: 'global' }, { action: 'freeze', atMs: T0 - DAY, allowBackwards: true });
    await clock.change({ kind: 'global' }, { action: 'resume' });
    expect(clock.now()).toBe(T0);
  });

  it('a global jump backwards is refused even when some merchants have their own setting', async () => {
    const { clock } = await makeClock();
    await clock.change({ kind: 'merchant', mchid: M1 }, { action: 'advance', deltaMs: DAY });
    await expect(clock.change({ kind: 'global' }, { action: 'set', atMs: T0 - HOUR })).rejects.toBeInstanceOf(
      WechatError,
    );
  });

  it('notifies listeners of local changes, and unsubscribes', async () => {
    const { clock } = await makeClock();
    const seen: ClockChange[] = [];
    const off = subscribeClockChanges(clock, (c) => seen.push(c));
    await clock.change({ kind: 'merchant', mchid: M1 }, { action: 'advance', deltaMs: 1000 });
    await clock.change({ kind: 'global' }, { action: 'freeze' });
    off();
    await clock.change({ kind: 'global' }, { action: 'advance', deltaMs: 1000 });
    expect(seen).toEqual([
      { mchid: M1, origin: 'local' },
      { mchid: null, origin: 'local' },
    ]);
  });

  it('a throwing listener does not block the change or other listeners', async () => {
    const { clock } = await makeClock();
    let called = false;
    clock.onChange(() => {
      throw new Error('boom');
    });
    clock.onChange(() => {
      called = true;
    });
    await clock.change({ kind: 'global' }, { action: 'advance', deltaMs: 1 });
    expect(called).toBe(true);
    expect(clock.now()).toBe(T0 + 1);
  });

  it('sees another instance’s change only after the cache TTL, then notifies it as remote', async () => {
    const store = new MemoryClockStore();
    const a = await makeClock(store);
    const wall = fakeWall();
    const b = new VirtualClock({ store, wallClock: wall.now, cacheTtlMs: 1000 });
    await b.refresh();
    const seen: ClockChange[] = [];
    b.onChange((c) => seen.push(c));
    await a.clock.change({ kind: 'merchant', mchid: M1 }, { action: 'freeze', atMs: T0 + DAY });
    await b.ensureFresh();
    expect(b.now(M1)).toBe(T0); // within the TTL: stale by design
    wall.tick(1000);
    await b.ensureFresh();
    expect(b.now(M1)).toBe(T0 + DAY);
    expect(seen).toEqual([{ mchid: M1, origin: 'remote' }]);
  });

  it('two advances through two instances both count', async () => {
    const store = new MemoryClockStore();
    const a = await makeClock(store);
    const b = await makeClock(store);
    await a.clock.change({ kind: 'global' }, { action: 'freeze' });
    await b.clock.change({ kind: 'global' }, { action: 'advance', deltaMs: HOUR });
    await a.clock.change({ kind: 'global' }, { action: 'advance', deltaMs: HOUR });
    await b.clock.refresh();
    expect(a.clock.now()).toBe(T0 + 2 * HOUR);
    expect(b.clock.now()).toBe(T0 + 2 * HOUR);
  });

  it('a plain clock has no changes to subscribe to', () => {
    const off = subscribeClockChanges({ now: () => 0 }, () => {});
    expect(() => off()).not.toThrow();
  });

  it('timeUnder covers both modes', () => {
    const frozen: ClockSetting = { mode: 'frozen', atMs: 5 };
    const offset: ClockSetting = { mode: 'offset', offsetMs: -5 };
    expect(timeUnder(frozen, 100)).toBe(5);
    expect(timeUnder(offset, 100)).toBe(95);
    expect(timeUnder(undefined, 100)).toBe(100);
  });
});
