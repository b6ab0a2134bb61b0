import { DIALECTS, type TestDatabase } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../db/connect.js';
import { migrateToLatest } from '../db/migrate.js';
import { VirtualClock } from './clock.js';
import { SqlClockStore } from './clock-repo.js';
import { FaultInjector, newFaultRule } from './faults.js';
import { SqlFaultStore } from './faults-repo.js';

const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;
const M1 = '1900000001';
const USE = '/v3/marketing/busifavor/coupons/use';

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`simulation storage on ${dialect.name}`, () => {
    let database: TestDatabase;
    let handle: DatabaseHandle;
    const reopen = async () => {
      await handle.close();
      handle = openDatabase(database.url);
    };
    beforeAll(async () => {
      database = await dialect.create();
      handle = openDatabase(database.url);
      await migrateToLatest(handle.db);
    });
    afterAll(async () => {
      await handle?.close();
      await database?.drop();
    });

    it('keeps clock settings across a re-open of the database', async () => {
      let wall = T0;
      const clock = new VirtualClock({ store: new SqlClockStore(handle.db), wallClock: () => wall });
      await clock.refresh();
      await clock.change({ kind: 'merchant', mchid: M1 }, { action: 'freeze', atMs: T0 + DAY });
      await clock.change({ kind: 'global' }, { action: 'set', atMs: T0 + 2 * DAY });
      await reopen();
      wall = T0 + 5000;
      const again = new VirtualClock({ store: new SqlClockStore(handle.db), wallClock: () => wall });
      await again.refresh();
      expect(again.now(M1)).toBe(T0 + DAY);
      expect(again.now('1900000002')).toBe(T0 + 2 * DAY + 5000);
      await again.change({ kind: 'merchant', mchid: M1 }, { action: 'resume' });
      await again.change({ kind: 'global' }, { action: 'resume', allowBackwards: true });
    });

    it('concurrent advances from two instances on one database all count', async () => {
      const wall = () => T0;
      const a = new VirtualClock({ store: new SqlClockStore(handle.db), wallClock: wall });
      const b = new VirtualClock({ store: new SqlClockStore(handle.db), wallClock: wall });
      await Promise.all([a.refresh(), b.refresh()]);
      await a.change({ kind: 'merchant', mchid: M1 }, { action: 'freeze' });
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).change({ kind: 'merchant', mchid: M1 }, { action: 'advance', deltaMs: 1000 }),
        ),
      );
      await b.refresh();
      expect(b.now(M1)).toBe(T0 + 20_000);
      await a.change({ kind: 'merchant', mchid: M1 }, { action: 'resume', allowBackwards: true });
    });

    it('keeps fault rules across a re-open and lists a merchant’s own and the global ones', async () => {
      const store = new SqlFaultStore(handle.db);
      const ids = (id: string) => ({ id, seed: 7, nowMs: T0 });
      await store.insert(newFaultRule({ mchid: M1, path: USE, code: 'SYSTEM_ERROR', count: 3 }, ids('a1')));
      await store.insert(
        newFaultRule({ mchid: null, path: '/v3/{x}', delayMs: 5, fraction: 0.25 }, ids('g1')),
      );
      await store.insert(newFaultRule({ mchid: '1900000009', path: USE, code: 'NO_AUTH' }, ids('o1')));
      await reopen();
      const again = new SqlFaultStore(handle.db);
      const mine = await again.list(M1);
      expect(mine.map((r) => r.id).sort()).toEqual(['a1', 'g1']);
      expect(await again.get('a1')).toMatchObject({
        mchid: M1,
        method: '*',
        pathPattern: USE,
        errorCode: 'SYSTEM_ERROR',
        status: 500,
        remaining: 3,
        fraction: null,
        seed: 7,
        matched: 0,
        fired: 0,
      });
      expect((await again.get('g1'))?.fraction).toBe(0.25);
      expect(await again.delete('o1', M1)).toBe(false);
      expect(await again.delete('o1', '1900000009')).toBe(true);
      expect(await again.deleteAll(null)).toBe(1);
      expect(await again.deleteAll(M1)).toBe(1);
    });

    it('fires a count rule exactly N times under 200 concurrent matches from two instances', async () => {
      const store = new SqlFaultStore(handle.db);
      await store.insert(
        newFaultRule(
          { mchid: M1, path: USE, code: 'SYSTEM_ERROR', count: 50 },
          { id: 'c50', seed: 1, nowMs: T0 },
        ),
      );
      const second = openDatabase(database.url);
      try {
        const injectors = [
          new FaultInjector({ store, wallClock: () => T0 }),
          new FaultInjector({ store: new SqlFaultStore(second.db), wallClock: () => T0 }),
        ];
        const results = await Promise.all(
          Array.from({ length: 200 }, (_, i) => (injectors[i % 2] as FaultInjector).match(M1, 'POST', USE)),
        );
        expect(results.filter((r) => r !== undefined)).toHaveLength(50);
        expect(await store.get('c50')).toMatchObject({ remaining: 0, fired: 50, matched: 50 });
      } finally {
        await second.close();
        await store.deleteAll(M1);
      }
    });

    it('a fractional rule gives the same number of firings for the same seed, whatever the interleaving', async () => {
      const store = new SqlFaultStore(handle.db);
      const firings = async (id: string) => {
        await store.insert(
          newFaultRule(
            { mchid: M1, path: USE, code: 'SYSTEM_ERROR', fraction: 0.3, seed: 2024 },
            { id, seed: 0, nowMs: T0 },
          ),
        );
        const inj = new FaultInjector({ store, wallClock: () => T0 });
        const results = await Promise.all(Array.from({ length: 200 }, () => inj.match(M1, 'POST', USE)));
        await store.delete(id, M1);
        return results.filter((r) => r !== undefined).length;
      };
      const first = await firings('f1');
      expect(first).toBeGreaterThan(30);
      expect(first).toBeLessThan(90);
      expect(await firings('f2')).toBe(first);
    });

    it('an expired rule does not fire', async () => {
      const store = new SqlFaultStore(handle.db);
      await store.insert(
        newFaultRule(
          { mchid: M1, path: USE, code: 'SYSTEM_ERROR', expiresAtMs: T0 + 1000 },
          { id: 'e1', seed: 0, nowMs: T0 },
        ),
      );
      expect(
        await new FaultInjector({ store, wallClock: () => T0 + 999 }).match(M1, 'POST', USE),
      ).toBeDefined();
      expect(
        await new FaultInjector({ store, wallClock: () => T0 + 1000 }).match(M1, 'POST', USE),
      ).toBeUndefined();
      await store.deleteAll(M1);
    });
  });
}
