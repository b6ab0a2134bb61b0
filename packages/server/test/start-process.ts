import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** The repository root. */
export const ROOT = join(import.meta.dirname, '..', '..', '..');

/**
 * Runs `wechatpay-sandbox start` as its own process, through `entry` (the built dist/cli/main.js by
 * default), on a free loopback port with `args` added, and resolves with its URL once the banner names it.
 * It logs at warn (its stdout is read for the banner only); its stderr is the test's.
 */
export async function startProcess(
  args: string[],
  {
    entry = join(ROOT, 'packages/server/dist/cli/main.js'),
    env = process.env,
  }: { entry?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [entry, 'start', '--port', '0', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...env, WPS_LOG_LEVEL: 'warn' },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`start exited ${code}: ${out}`)));
  });
  return { url, child };
}
