import { workerOptions } from './cluster.js';
import { startServer } from './server.js';

// One worker of startCluster: serve, report the URL to the primary, stop cleanly on SIGTERM.
try {
  const server = await startServer({ ...workerOptions(), skipPrepare: true });
  process.send?.({ url: server.url, routes: server.routes });
  process.once('SIGTERM', () => {
    void server.close().finally(() => process.exit(0));
  });
} catch (err) {
  process.send?.({ error: (err as Error).message });
  process.exit(1);
}
