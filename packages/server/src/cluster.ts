import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { isLoopbackHost } from './http/dashboard/access.js';
import type { RegisteredRoute } from './http/route-auth.js';
import type { RunningServer, StartOptions } from './server.js';
import { prepareSandbox } from './server.js';

/** Options of a multi-process sandbox. */
export interface ClusterOptions extends StartOptions {
  /** Server processes sharing the listening socket; each signs responses on its own core. */
  workers: number;
}

/** Environment variable that hands a worker its start options. */
const WORKER_OPTIONS_ENV = 'WPS_CLUSTER_WORKER_OPTIONS';

/**
 * Starts `workers` server processes behind one port (node:cluster), so RSA signing of responses uses
 * every core. The primary prepares credentials, migrations and the dev merchant once; workers share the
 * database (SQLite in WAL mode, or PostgreSQL), so nonce replay checks and all state are common to them.
 * Rate limits stay per process. A worker that dies is replaced.
 */
export async function startCluster(options: ClusterOptions): Promise<RunningServer> {
  if (!cluster.isPrimary) throw new Error('startCluster must run in the primary process');
  const prepared = await prepareSandbox(options);
  await prepared.database.close();
  cluster.setupPrimary({ exec: fileURLToPath(new URL('./cluster-worker.js', import.meta.url)), args: [] });
  // A log destination is an object of this process; workers log to their own stdout.
  const { log: _log, ...workerStart } = options;
  // Every worker accepts the same dashboard token, whichever one a browser's connection reaches.
  const dashboardToken = options.dashboardToken ?? randomBytes(24).toString('base64url');
  const env = {
    [WORKER_OPTIONS_ENV]: JSON.stringify({ ...workerStart, dbUrl: prepared.dbUrl, dashboardToken }),
  };
  let stopping = false;
  let url = '';
  let routes: readonly RegisteredRoute[] = [];
  const fork = () =>
    new Promise<void>((resolve, reject) => {
      const worker = cluster.fork(env);
      worker.once('message', (message: { url?: string; routes?: RegisteredRoute[]; error?: string }) => {
        if (message.url) {
          url = message.url;
          routes = message.routes ?? [];
          resolve();
        } else reject(new Error(message.error ?? 'worker failed to start'));
      });
      worker.once('exit', (code) => {
        if (!stopping) {
          // Replace a crashed worker; startup failures reject instead of looping.
          if (url) void fork().catch(() => {});
          else reject(new Error(`worker exited with code ${code} before listening`));
        }
      });
    });
  await Promise.all(Array.from({ length: Math.max(1, options.workers) }, fork));
  return {
    url,
    credentials: prepared.credentials,
    dbUrl: prepared.displayUrl,
    routes,
    dashboardUrl: `${url}/dashboard`,
    dashboardToken: isLoopbackHost(options.host ?? '127.0.0.1') ? undefined : dashboardToken,
    close: async () => {
      stopping = true;
      const exits = Object.values(cluster.workers ?? {}).map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (!worker || worker.isDead()) return resolve();
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
          }),
      );
      await Promise.all(exits);
    },
  };
}

/** Reads the options the primary handed to this worker. */
export function workerOptions(): StartOptions {
  const raw = process.env[WORKER_OPTIONS_ENV];
  if (!raw) throw new Error(`${WORKER_OPTIONS_ENV} is not set; start workers through startCluster`);
  return JSON.parse(raw) as StartOptions;
}
