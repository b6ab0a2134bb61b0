// Starts the built sandbox (`wechatpay-sandbox start`) as a child process on a free loopback port, for the
// benches that measure against a real server. Resolves once the banner names the base URL.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages/server/dist/cli/main.js');

/**
 * `workers` > 1 starts that many cluster workers behind the one port (`start --workers N`); `args` are
 * more `start` options (e.g. `--db URL`).
 */
/** BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the server (NODE_OPTIONS may not). */
const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);

export async function startSandbox(dir, workers = 1, args = []) {
  const child = spawn(
    process.execPath,
    [...nodeArgs, BIN, 'start', '--dir', dir, '--port', '0', '--workers', String(workers), ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  return { url, child };
}
