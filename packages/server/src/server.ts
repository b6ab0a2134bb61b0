import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { buildApp } from './app.js';
import type { AppConfig } from './config.js';
import { initCredentials } from './credentials/generate.js';
import { loadCredentials } from './credentials/load.js';
import type { LoadedCredentials } from './credentials/types.js';
import { type DatabaseHandle, openDatabase } from './db/connect.js';
import { MerchantRepo, registerDevMerchant } from './db/merchant-repo.js';
import { migrateToLatest } from './db/migrate.js';
import type { MerchantDirectory } from './http/authenticate.js';
import type { LogOutput } from './http/log-output.js';
import type { RegisteredRoute } from './http/route-auth.js';

/** Options of a running sandbox. */
export interface StartOptions {
  /** Credentials directory (created by init if absent). */
  dir: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 8080 */
  port?: number;
  /** `sqlite:PATH` or `postgres://…`. @default sqlite:DIR/data.db */
  dbUrl?: string;
  /** Server configuration overrides. */
  config?: Partial<AppConfig>;
  /** Where the log goes (not passed to cluster workers, which log to their stdout). @default process.stdout */
  log?: LogOutput;
  /** The dashboard token to accept. @default random per start */
  dashboardToken?: string;
}

/** A listening sandbox. */
export interface RunningServer {
  url: string;
  credentials: LoadedCredentials;
  dbUrl: string;
  /** Every route the server registered, with its authentication. */
  routes: readonly RegisteredRoute[];
  /** The dashboard's address (docs/dashboard.md). */
  dashboardUrl: string;
  /**
   * The token the dashboard requires, when the server listens beyond loopback (print it: open
   * `dashboardUrl?token=…` once); undefined on loopback, where no token is needed.
   */
  dashboardToken: string | undefined;
  close(): Promise<void>;
}

/** Credentials loaded, database opened and migrated, dev merchant registered. */
export interface PreparedSandbox {
  credentials: LoadedCredentials;
  database: DatabaseHandle;
  /** The database URL actually used (with the default filled in). */
  dbUrl: string;
  /** The URL without secrets, safe to print. */
  displayUrl: string;
}

/** Everything before listening: credentials from DIR (init if absent), migrations, the dev merchant. */
export async function prepareSandbox(options: StartOptions, migrate = true): Promise<PreparedSandbox> {
  const dir = resolve(options.dir);
  await initCredentials(dir);
  const credentials = loadCredentials(dir);
  const dbUrl = options.dbUrl ?? `sqlite:${resolve(dir, 'data.db')}`;
  if (dbUrl.startsWith('sqlite:'))
    mkdirSync(dirname(dbUrl.replace(/^sqlite:(\/\/)?/, '')), { recursive: true });
  const database = openDatabase(dbUrl);
  if (migrate) {
    try {
      await migrateToLatest(database.db);
      await registerDevMerchant(database.db, credentials);
    } catch (err) {
      await database.close();
      throw err;
    }
  }
  return { credentials, database, dbUrl, displayUrl: database.displayUrl };
}

/**
 * Starts the sandbox: prepareSandbox, then listen. Used by `wechatpay-sandbox start` and by the tests.
 */
export async function startServer(options: StartOptions & { skipPrepare?: boolean }): Promise<RunningServer> {
  const { credentials, database } = await prepareSandbox(options, !options.skipPrepare);
  const merchants = new MerchantRepo(database.db);
  const directory: MerchantDirectory = {
    findMerchantWithKeyPem: (mchid, serial) => merchants.findMerchantWithKeyPem(mchid, serial),
  };
  const { app, routes, dashboard } = await buildApp(options.config ?? {}, {
    db: database,
    platform: credentials.platform,
    merchants: directory,
    ...(options.log ? { log: options.log } : {}),
    ...(options.dashboardToken ? { dashboardToken: options.dashboardToken } : {}),
  });
  const host = options.host ?? '127.0.0.1';
  dashboard.listeningOn(host);
  try {
    // Node's default accept backlog (511) overflows under a burst of new connections on a busy event
    // loop, and the kernel then resets some of them (ECONNRESET); the OS caps this at somaxconn.
    await app.listen({ host, port: options.port ?? 8080, backlog: 4096 });
  } catch (err) {
    await app.close();
    await database.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url,
    credentials,
    dbUrl: database.displayUrl,
    routes,
    dashboardUrl: `${url}/dashboard`,
    dashboardToken: dashboard.tokenRequired ? dashboard.token : undefined,
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}
