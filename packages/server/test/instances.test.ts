import { type ChildProcess, execFile } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  DIALECTS,
  devMerchantOf,
  signedRequest,
  type TestDatabase,
  type TestMerchant,
} from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcess } from './start-process.js';

/**
 * Two server processes on one database (`start` twice, as two hosts behind a load balancer would run it):
 * what the request path keeps in memory (merchants and their parsed keys, batched nonces) must never let
 * one instance accept what the shared store refuses. A nonce used at one instance is refused at the
 * other, also when both see it at once; a merchant key replaced with `merchant add` (another process)
 * is the only key either instance accepts from the next request on, with no waiting; a signing mode
 * changed with `merchant set-mode` signs the next answer of both.
 */

const root = join(import.meta.dirname, '..', '..', '..');
const CLI = join(root, 'packages/server/dist/cli/main.js');
const run = promisify(execFile);
const CALLBACKS = '/v3/marketing/busifavor/callbacks';

/** Starts `wechatpay-sandbox start` on the shared directory and database. */
function startInstance(dir: string, dbUrl: string): Promise<{ url: string; child: ChildProcess }> {
  return startProcess(['--dir', dir, '--db', dbUrl]);
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`two instances on one ${dialect.name} database`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'wps-instances-'));
    let database: TestDatabase;
    let a: { url: string; child: ChildProcess };
    let b: { url: string; child: ChildProcess };
    let merchant: TestMerchant;

    beforeAll(async () => {
      database = await dialect.create();
      // The first start initialises the directory and migrates; the second finds both done.
      a = await startInstance(dir, database.url);
      b = await startInstance(dir, database.url);
      merchant = devMerchantOf(dir);
      const set = await signedRequest(a.url, merchant, {
        method: 'POST',
        path: CALLBACKS,
        body: { notify_url: 'https://merchant.example.com/instances' },
      });
      expect(set.status).toBe(200);
    });

    afterAll(async () => {
      for (const instance of [a, b]) {
        if (!instance) continue;
        instance.child.kill('SIGTERM');
        const running = instance.child.exitCode === null && instance.child.signalCode === null;
        if (running) await new Promise((r) => instance.child.once('exit', r));
      }
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('refuses at one instance a nonce the other accepted, and admits a nonce sent to both at once only once', async () => {
      const nonce = 'INSTANCESREPLAY0001';
      const first = await signedRequest(a.url, merchant, { method: 'GET', path: CALLBACKS, nonce });
      expect(first.status).toBe(200);
      const replay = await signedRequest(b.url, merchant, { method: 'GET', path: CALLBACKS, nonce });
      expect(replay.status).toBe(401);
      expect(replay.json<{ detail: { issue: string } }>().detail.issue).toContain(
        `nonce_str ${nonce} was already used`,
      );

      // Twenty copies of one request at once, ten to each instance: the batches of both meet in the store.
      const racing = 'INSTANCESRACE0002';
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          signedRequest(i % 2 === 0 ? a.url : b.url, merchant, {
            method: 'GET',
            path: CALLBACKS,
            nonce: racing,
            timestamp: Math.floor(Date.now() / 1000),
          }),
        ),
      );
      expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
      expect(answers.filter((r) => r.status === 401)).toHaveLength(19);
    });

    it('accepts only the key merchant add put under the serial, at both instances, from the next request on', async () => {
      // Both instances hold the current key in memory.
      for (const url of [a.url, b.url]) {
        expect((await signedRequest(url, merchant, { method: 'GET', path: CALLBACKS })).status).toBe(200);
      }
      const next = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const publicKeyFile = join(dir, 'next.pub.pem');
      writeFileSync(publicKeyFile, next.publicKey.export({ type: 'spki', format: 'pem' }));
      await run(process.execPath, [
        CLI,
        'merchant',
        'add',
        '--dir',
        dir,
        '--db',
        database.url,
        '--mchid',
        merchant.mchid,
        '--public-key',
        publicKeyFile,
        '--serial',
        merchant.serialNo,
        '--api-v3-key',
        merchant.apiV3Key,
      ]);
      const withKey = (privateKey: KeyObject): TestMerchant => ({ ...merchant, privateKey });
      for (const url of [a.url, b.url]) {
        const old = await signedRequest(url, withKey(merchant.privateKey), {
          method: 'GET',
          path: CALLBACKS,
        });
        expect(old.status, `${url} still accepted the replaced key`).toBe(401);
        const fresh = await signedRequest(url, withKey(next.privateKey), { method: 'GET', path: CALLBACKS });
        expect(fresh.status, `${url} refused the new key`).toBe(200);
      }
      merchant = withKey(next.privateKey);
    });

    it('signs the next answer of both instances the way merchant set-mode says', async () => {
      const serialOf = async (url: string) =>
        (await signedRequest(url, merchant, { method: 'GET', path: CALLBACKS })).headers['wechatpay-serial'];
      for (const [mode, pattern] of [
        ['certificate', /^(?!PUB_KEY_ID_)[0-9A-F]+$/],
        ['pubkey', /^PUB_KEY_ID_/],
      ] as const) {
        await run(process.execPath, [
          CLI,
          'merchant',
          'set-mode',
          '--db',
          database.url,
          '--dir',
          dir,
          '--mchid',
          merchant.mchid,
          '--mode',
          mode,
        ]);
        expect(await serialOf(a.url)).toMatch(pattern);
        expect(await serialOf(b.url)).toMatch(pattern);
      }
    });

    it('keeps what an instance killed with SIGKILL admitted: the other refuses its nonces', async () => {
      const answered = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          signedRequest(a.url, merchant, {
            method: 'GET',
            path: CALLBACKS,
            nonce: `KILLED${String(i).padStart(4, '0')}`,
          }),
        ),
      );
      expect(answered.map((r) => r.status)).toEqual(Array(30).fill(200));
      a.child.kill('SIGKILL');
      await new Promise((r) => a.child.once('exit', r));
      const replays = await Promise.all(
        answered.map((_, i) =>
          signedRequest(b.url, merchant, {
            method: 'GET',
            path: CALLBACKS,
            nonce: `KILLED${String(i).padStart(4, '0')}`,
          }),
        ),
      );
      expect(replays.map((r) => r.status)).toEqual(Array(30).fill(401));
    });
  });
}
