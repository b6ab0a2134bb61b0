import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { buildApp } from './app.js';
import type { AppConfig } from './config.js';
import { initCredentials } from './credentials/generate.js';
import { loadCredentials } from './credentials/load.js';
import type { LoadedCredentials } from './credentials/types.js';
import { openDatabase } from './db/connect.js';
import { MerchantRepo, registerDevMerchant } from './db/merchant-repo.js';
import { migrateToLatest } from './db/migrate.js';
import type { MerchantDirectory } from './http/authenticate.js';

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
}

/** A listening sandbox. */
export interface RunningServer {
  url: string;
  credentials: LoadedCredentials;
  dbUrl: string;
  close(): Promise<void>;
}

/**
 * Starts the sandbox: credentials from DIR (init if absent), migrations, the dev merchant registered,
 * then listen. Used by `wechatpay-sandbox start` and by the tests.
 */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const dir = resolve(options.dir);
  await initCredentials(dir);
  const credentials = loadCredentials(dir);
  const dbUrl = options.dbUrl ?? `sqlite:${resolve(dir, 'data.db')}`;
  if (dbUrl.startsWith('sqlite:'))
    mkdirSync(dirname(dbUrl.replace(/^sqlite:(\/\/)?/, '')), { recursive: true });
  const database = openDatabase(dbUrl);
  try {
    await migrateToLatest(database.db);
    await registerDevMerchant(database.db, credentials);
  } catch (err) {
    await database.close();
    throw err;
  }
  const merchants = new MerchantRepo(database.db);
  const directory: MerchantDirectory = {
    findMerchant: (mchid) => merchants.findMerchant(mchid),
    findMerchantKeyPem: async (mchid, serial) =>
      (await merchants.findMerchantKey(mchid, serial))?.publicKeyPem,
  };
  const { app } = await buildApp(options.config ?? {}, {
    db: database,
    platform: credentials.platform,
    merchants: directory,
  });
  const host = options.host ?? '127.0.0.1';
  await app.listen({ host, port: options.port ?? 8080 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    credentials,
    dbUrl: database.displayUrl,
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}
