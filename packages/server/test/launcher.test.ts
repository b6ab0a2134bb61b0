import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { devMerchantOf, signedRequest } from '@wechatpay-sandbox/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, startProcess } from './start-process.js';

/**
 * The launcher (`bin/wechatpay-sandbox.cjs`, what `npm start` and `npx wechatpay-sandbox` run) sizes
 * libuv's thread pool, which signs every answer, to one thread per core before the server's ES modules
 * load (loading them already starts the pool, so dist/cli/main.js cannot). Seen from outside as the
 * process's thread count: the same server started straight from dist/cli/main.js has Node's default
 * pool of four, every other thread being the same. Linux only (/proc).
 */

const LAUNCHER = join(ROOT, 'packages/server/bin/wechatpay-sandbox.cjs');
const MAIN = join(ROOT, 'packages/server/dist/cli/main.js');
const started: ChildProcess[] = [];
const dirs: string[] = [];

/** Starts `start` through `entry` and resolves with its thread count once it has signed an answer. */
async function threadsOf(entry: string, env: NodeJS.ProcessEnv): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'wps-launcher-'));
  dirs.push(dir);
  const { url, child } = await startProcess(['--dir', dir], { entry, env });
  started.push(child);
  // A signed answer: the signature runs on the pool, so the pool has started whatever else did or not.
  const answer = await signedRequest(url, devMerchantOf(dir), {
    method: 'GET',
    path: '/v3/marketing/busifavor/callbacks',
  });
  expect(answer.headers['wechatpay-signature']).toBeTruthy();
  const count = readdirSync(`/proc/${child.pid}/task`).length;
  child.kill('SIGTERM');
  await new Promise((done) => child.once('exit', done));
  return count;
}

describe.skipIf(!existsSync('/proc/self/task'))('the wechatpay-sandbox launcher', () => {
  afterAll(() => {
    for (const child of started) child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('runs the signing thread pool with one thread per core; an explicit UV_THREADPOOL_SIZE wins', async () => {
    const { UV_THREADPOOL_SIZE: _unset, ...env } = process.env;
    const direct = await threadsOf(MAIN, env);
    const launched = await threadsOf(LAUNCHER, env);
    // On a four-core machine one thread per core is Node's default, and the two counts are equal.
    expect(launched - direct).toBe(availableParallelism() - 4);
    const explicit = await threadsOf(LAUNCHER, { ...env, UV_THREADPOOL_SIZE: '5' });
    expect(explicit - direct).toBe(1);
  });
});
