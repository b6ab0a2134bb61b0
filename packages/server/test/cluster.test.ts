import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devMerchantOf, signedRequest } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');

// `start --workers 2` runs two processes behind one port sharing one SQLite database (dist is built by npm test).
describe('start --workers 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wps-cluster-'));
  let child: ReturnType<typeof spawn>;
  let url = '';
  beforeAll(async () => {
    child = spawn(
      process.execPath,
      ['packages/server/dist/cli/main.js', 'start', '--dir', dir, '--port', '0', '--workers', '2'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const match = /(http:\/\/127\.0\.0\.1:\d+) \(2 worker processes\)/.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
  });
  afterAll(async () => {
    child?.kill('SIGTERM');
    if (child && child.exitCode === null) await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves every request across both workers and refuses a nonce replayed to either', async () => {
    const merchant = devMerchantOf(dir);
    const set = await signedRequest(url, merchant, {
      method: 'POST',
      path: '/v3/marketing/busifavor/callbacks',
      body: { notify_url: 'https://merchant.example.com/cluster' },
    });
    expect(set.status).toBe(200);
    const gets = await Promise.all(
      Array.from({ length: 40 }, () =>
        signedRequest(url, merchant, { method: 'GET', path: '/v3/marketing/busifavor/callbacks' }),
      ),
    );
    expect(gets.map((g) => g.status)).toEqual(Array(40).fill(200));
    // Separate connections land on either worker; the shared nonce table refuses every replay.
    const nonce = `CLUSTER${Date.now()}`;
    const replays = await Promise.all(
      Array.from({ length: 6 }, () =>
        signedRequest(url, merchant, { method: 'GET', path: '/v3/marketing/busifavor/callbacks', nonce }),
      ),
    );
    expect(replays.filter((r) => r.status === 200)).toHaveLength(1);
    expect(replays.filter((r) => r.status === 401)).toHaveLength(5);
  });
});

// Beyond loopback the dashboard needs the token the banner prints; every worker must take the same one,
// whichever worker a browser's connection reaches.
describe('start --workers 2 --host 0.0.0.0: one dashboard token for every worker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wps-cluster-dash-'));
  let child: ReturnType<typeof spawn>;
  let banner = '';
  beforeAll(async () => {
    child = spawn(
      process.execPath,
      [
        'packages/server/dist/cli/main.js',
        'start',
        '--dir',
        dir,
        '--host',
        '0.0.0.0',
        '--port',
        '0',
        '--workers',
        '2',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    banner = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Press Ctrl+C')) resolve(out);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
  });
  afterAll(async () => {
    child?.kill('SIGTERM');
    if (child && child.exitCode === null) await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the dashboard on every new connection with the printed token, and on none without it', async () => {
    const printed = /dashboard: +(http:\/\/\S+)/.exec(banner)?.[1];
    expect(printed).toMatch(/\?token=[A-Za-z0-9_-]{32}$/);
    const url = new URL(printed as string);
    const token = url.searchParams.get('token') as string;
    const page = `http://127.0.0.1:${url.port}/dashboard`;
    // A new connection each (Connection: close), so the workers take turns answering.
    const get = (headers: Record<string, string>) =>
      fetch(page, { headers: { ...headers, Connection: 'close' } }).then((r) => r.status);
    const withToken = await Promise.all(
      Array.from({ length: 16 }, () => get({ Cookie: `wps_dashboard=${token}` })),
    );
    expect(withToken).toEqual(Array(16).fill(200));
    const without = await Promise.all(Array.from({ length: 8 }, () => get({})));
    expect(without).toEqual(Array(8).fill(403));
  });
});
