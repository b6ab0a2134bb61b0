import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TargetPolicy } from './config.js';
import { loadCredentials } from './credentials/load.js';
import { openDatabase } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import { notificationsWithIdPrefix } from './outbox/admin.js';
import { Transport } from './outbox/deliver.js';
import { MerchantsService } from './services/merchants.js';
import { NotificationsService, type ProbeDeps } from './services/notifications.js';
import { VirtualClock } from './sim/clock.js';
import { SqlClockStore } from './sim/clock-repo.js';

/**
 * The composition root of the commands that work on a sandbox's database without serving it (the
 * `merchant` and `notifications` commands): opens and migrates the database, and builds the services
 * over it with the shared ports a server on the same database would use (the business clock's settings
 * are read from the database). app.ts is the composition root of the server; this one does not load
 * Fastify or the routes, so a command starts in about half the time.
 */

/** How the conformance probe signs and reaches its target. */
export interface OfflineProbeSettings {
  /** The sandbox directory whose platform keys sign the probe, as they sign the server's callbacks. */
  dir: string;
  policy: TargetPolicy;
  /** Extra trusted CA certificates (PEM). */
  caPem?: string;
  insecureTls: boolean;
}

/** Finds notifications by the start of their id: the commands take any unique prefix of an id. */
export interface NotificationIdLookup {
  /** The notifications whose id starts with `prefix` (of one merchant when given), by id, at most `limit`. */
  withPrefix(
    prefix: string,
    options: { mchid?: string | undefined; limit: number },
  ): Promise<Array<{ id: string; mchid: string }>>;
}

/** The services over one open database; {@link OfflineServices.close} closes it. */
export interface OfflineServices {
  merchants: MerchantsService;
  notifications: NotificationsService;
  notificationIds: NotificationIdLookup;
  /** The database URL without a password, safe to print. */
  displayUrl: string;
  close(): Promise<void>;
}

/** `sqlite:PATH` (or a bare path) → PATH; undefined for PostgreSQL and `:memory:`. */
export function sqliteFilePath(url: string): string | undefined {
  if (/^postgres(ql)?:\/\//.test(url)) return undefined;
  const path = url.replace(/^sqlite:(\/\/)?/, '');
  return path === ':memory:' ? undefined : path;
}

/**
 * Opens the database of `url` (creating a SQLite file's directory), migrates it (idempotent; needed when
 * `merchant add` runs before the first `start`) and builds the services over it.
 */
export async function openOfflineServices(
  url: string,
  options: { probe?: OfflineProbeSettings } = {},
): Promise<OfflineServices> {
  const sqlitePath = sqliteFilePath(url);
  if (sqlitePath !== undefined) mkdirSync(dirname(sqlitePath), { recursive: true });
  const handle = openDatabase(url);
  let transport: Transport | undefined;
  try {
    await migrateToLatest(handle.db);
    const clock = new VirtualClock({ store: new SqlClockStore(handle.db) });
    await clock.refresh();
    let probe: ProbeDeps | undefined;
    if (options.probe) {
      const settings = options.probe;
      const { platform } = loadCredentials(settings.dir);
      // Lazily: app.ts loads Fastify, which only the probe's id generator would otherwise pull in.
      const { systemIds } = await import('./app.js');
      transport = new Transport({ caPem: settings.caPem, insecureTls: settings.insecureTls });
      probe = { platform, ids: systemIds, transport, policy: settings.policy };
    }
    const opened = transport;
    return {
      merchants: new MerchantsService(handle.db),
      notifications: new NotificationsService({
        db: handle.db,
        clock,
        wallClock: Date.now,
        ...(probe ? { probe } : {}),
      }),
      notificationIds: { withPrefix: (prefix, opts) => notificationsWithIdPrefix(handle.db, prefix, opts) },
      displayUrl: handle.displayUrl,
      close: async () => {
        opened?.close();
        await handle.close();
      },
    };
  } catch (err) {
    transport?.close();
    await handle.close();
    throw err;
  }
}
