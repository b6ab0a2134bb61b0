// Starts the built sandbox (`wechatpay-sandbox start`) as a child process on a free loopback port, for the
// benches that measure against a real server. Resolves once the banner names the base URL.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// The launcher `npm start` runs (it sizes libuv's thread pool before the server loads).
const BIN = join(import.meta.dirname, '..', '..', 'packages/server/bin/wechatpay-sandbox.cjs');

/** BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the server (NODE_OPTIONS may not). */
const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);

/**
 * `workers` > 1 starts that many cluster workers behind the one port (`start --workers N`); `args` are
 * more `start` options (e.g. `--db URL`). The server's standard output (the banner, then a log line per
 * request) goes to a file in `dir`, as an operator's `start > server.log` would: read through a pipe, the
 * log would cost the load generator, which shares the cores, about 50 µs of CPU per request.
 * `extraNodeArgs` go to node before the script (e.g. `--cpu-prof`).
 */
export async function startSandbox(dir, workers = 1, args = [], { extraNodeArgs = [] } = {}) {
  const logFile = join(dir, `server-${randomBytes(4).toString('hex')}.log`);
  const out = openSync(logFile, 'w');
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      ...extraNodeArgs,
      BIN,
      'start',
      '--dir',
      dir,
      '--port',
      '0',
      '--workers',
      String(workers),
      ...args,
    ],
    { stdio: ['ignore', out, 'inherit'] },
  );
  closeSync(out);
  let exited;
  child.once('exit', (code) => {
    exited = code;
  });
  for (;;) {
    const banner = readFileSync(logFile, 'utf8');
    const match = /(http:\/\/127\.0\.0\.1:\d+)\s/.exec(banner);
    if (match) return { url: match[1], child, logFile };
    if (exited !== undefined) throw new Error(`server exited ${exited}: ${banner}`);
    await sleep(50);
  }
}
