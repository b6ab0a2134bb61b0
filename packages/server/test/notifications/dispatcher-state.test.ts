import { createSqliteDatabase, type TestDatabase } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { type DispatcherOptions, NotificationDispatcher } from '../../src/outbox/dispatcher.js';
import { makePlatform, scratchDir, TestClock, testIds } from './fixtures.js';

/**
 * The dispatcher's state, which /readyz reports: stopped before start and after stop, running between,
 * died when its loop ends by itself; observers see loop errors and may throw without stopping it.
 */

const scratch = scratchDir();
let platform: ReturnType<typeof makePlatform>;
let database: TestDatabase;
beforeAll(async () => {
  platform = makePlatform(scratch.dir);
  database = await createSqliteDatabase();
  const handle = openDatabase(database.url);
  await migrateToLatest(handle.db);
  await handle.close();
});
afterAll(async () => {
  await database.drop();
  scratch.remove();
});

/** A dispatcher over a fresh connection to the test database, polling every 10 ms. */
function dispatcherOn(
  handle: DatabaseHandle,
  extra: Partial<DispatcherOptions> = {},
): NotificationDispatcher {
  return new NotificationDispatcher({
    db: handle,
    clock: new TestClock(Date.now()),
    platform: platform.platform,
    ids: testIds,
    pollIntervalMs: 10,
    ...extra,
  });
}

const until = async (done: () => boolean) => {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('dispatcher state (sqlite)', () => {
  it('is stopped, then running, then stopped again', async () => {
    const handle = openDatabase(database.url);
    const dispatcher = dispatcherOn(handle);
    expect(dispatcher.state).toBe('stopped');
    dispatcher.start();
    expect(dispatcher.state).toBe('running');
    await dispatcher.stop();
    expect(dispatcher.state).toBe('stopped');
    await handle.close();
  });

  it('keeps running through loop errors an observer throws at, and dies when its onError throws', async () => {
    const handle = openDatabase(database.url);
    const seen: unknown[] = [];
    let failLoop = false;
    const dispatcher = dispatcherOn(handle, {
      onError: (err) => {
        if (failLoop) throw err;
      },
    });
    dispatcher.observe({
      error: (err) => {
        seen.push(err);
        throw new Error('observer bug');
      },
    });
    dispatcher.start();
    // The database goes away: every look at the outbox fails, the loop goes on.
    await handle.close();
    await until(() => seen.length >= 3);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(dispatcher.state).toBe('running');
    failLoop = true;
    await until(() => dispatcher.state !== 'running');
    expect(dispatcher.state).toBe('died');
    await dispatcher.stop();
    expect(dispatcher.state).toBe('died');
  });
});
