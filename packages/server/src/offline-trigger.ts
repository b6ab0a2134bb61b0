import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { refreshStatisticsAfterBulkLoad } from './db/busifavor/statistics.js';
import { openDatabase } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import type { IdGen } from './domain/ports.js';
import { sqliteFilePath } from './offline.js';
import { createBusifavorAdapters } from './services/busifavor.js';
import { MerchantsService } from './services/merchants.js';
import { NotificationsService } from './services/notifications.js';
import { SeedService } from './services/seed.js';
import { TriggerService } from './services/trigger.js';
import { VirtualClock } from './sim/clock.js';
import { SqlClockStore } from './sim/clock-repo.js';

/**
 * The composition root of `wechatpay-sandbox trigger` and `seed`: like offline.ts (the database a
 * sandbox serves from, opened and migrated, the business clock read from it), plus the busifavor
 * adapters the trigger and the seed create stocks, users and coupons through. Kept apart from offline.ts
 * so the other offline commands do not load the busifavor stack.
 */

/** The trigger's services over one open database; {@link TriggerServices.close} closes it. */
export interface TriggerServices {
  trigger: TriggerService;
  /** `wechatpay-sandbox seed`: stocks, users and coupons in bulk over the same adapters. */
  seed: SeedService;
  merchants: MerchantsService;
  notifications: NotificationsService;
  /** The database URL without a password, safe to print. */
  displayUrl: string;
  close(): Promise<void>;
}

/** Opens the database of `url`, migrates it and builds the trigger's services over it. */
export async function openTriggerServices(url: string): Promise<TriggerServices> {
  const sqlitePath = sqliteFilePath(url);
  if (sqlitePath !== undefined) mkdirSync(dirname(sqlitePath), { recursive: true });
  const handle = openDatabase(url);
  try {
    await migrateToLatest(handle.db);
    const clock = new VirtualClock({ store: new SqlClockStore(handle.db) });
    await clock.refresh();
    // Lazily: app.ts loads Fastify; only its id generator is needed here.
    const { systemIds } = await import('./app.js');
    const ids: IdGen = systemIds;
    const wallClock = Date.now;
    const notifications = new NotificationsService({ db: handle.db, clock, wallClock, ids });
    const busifavor = createBusifavorAdapters({ db: handle, ids, clock, wallClock });
    return {
      trigger: new TriggerService({ busifavor, notifications, ids }),
      seed: new SeedService({ busifavor, ids, afterBulkLoad: () => refreshStatisticsAfterBulkLoad(handle) }),
      merchants: new MerchantsService(handle.db),
      notifications,
      displayUrl: handle.displayUrl,
      close: () => handle.close(),
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}
