import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIALECTS, type TestDialect } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { enqueueNotification } from '../../src/outbox/enqueue.js';
import type { PlatformFile } from './dispatcher-child.js';
import {
  couponSendEvent,
  makeCertificate,
  makePlatform,
  scratchDir,
  seedMerchant,
  startReceiver,
  type TestCertificate,
  type TestReceiver,
} from './fixtures.js';

/**
 * Dispatchers in real child processes: killed with SIGKILL mid-burst and restarted (nothing lost,
 * duplicates carry the same id), and two of them sharing one PostgreSQL database (every event once).
 * server-crash.test.ts kills the whole server (the `start` bin) while the API is writing events.
 */

const here = fileURLToPath(new URL('.', import.meta.url));
const serverRoot = join(here, '..', '..');
const EVENTS = 2000;
const MCHID = '1900012345';
const scratch = scratchDir();
let tls: TestCertificate;
let platformFile: string;
let caFile: string;

beforeAll(() => {
  tls = makeCertificate(scratch.dir, 'receiver');
  const fixture = makePlatform(scratch.dir);
  const { platform } = fixture;
  const cert = platform.certificates[0];
  if (!cert) throw new Error('no certificate');
  const data: PlatformFile = {
    certificates: [
      {
        serialNo: cert.serialNo,
        keyPem: cert.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        certPem: cert.certificatePem,
      },
    ],
    publicKey: {
      keyId: platform.publicKey.keyId,
      keyPem: platform.publicKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyPem: platform.publicKey.publicKeyPem,
    },
  };
  platformFile = join(scratch.dir, 'platform.json');
  caFile = join(scratch.dir, 'ca.pem');
  writeFileSync(platformFile, JSON.stringify(data));
  writeFileSync(caFile, tls.certPem);
});
afterAll(() => scratch.remove());

function startChild(dbUrl: string, instanceId: string, leaseMs: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=source',
      '--import',
      './test/notifications/ts-loader.mjs',
      './test/notifications/dispatcher-child.ts',
    ],
    {
      cwd: serverRoot,
      env: {
        ...process.env,
        WPS_DB_URL: dbUrl,
        WPS_PLATFORM_FILE: platformFile,
        WPS_CA_FILE: caFile,
        WPS_INSTANCE_ID: instanceId,
        WPS_LEASE_MS: String(leaseMs),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      if (c.toString().includes('ready')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function prepare(dialect: TestDialect): Promise<{
  handle: DatabaseHandle;
  url: string;
  drop: () => Promise<void>;
  receiver: TestReceiver;
  enqueue: () => Promise<string[]>;
}> {
  const database = await dialect.create();
  const handle = openDatabase(database.url);
  await migrateToLatest(handle.db);
  const receiver = await startReceiver(tls, () => 200);
  await seedMerchant(handle.db, {
    mchid: MCHID,
    apiV3Key: 'a7Kd9QmZ2xPw4LtR8vNc3HbY6sJf1GuE',
    signingMode: 'pubkey',
    notifyUrls: { busifavor: receiver.url },
  });
  const enqueue = async () => {
    const ids: string[] = [];
    await handle.db.transaction().execute(async (trx) => {
      for (let i = 0; i < EVENTS; i++) {
        ids.push((await enqueueNotification(trx, couponSendEvent(MCHID, `K${i}`), Date.now())).id);
      }
    });
    return ids;
  };
  return { handle, url: database.url, drop: database.drop, receiver, enqueue };
}

function receivedIds(receiver: TestReceiver): string[] {
  return receiver.received.map((r) => (JSON.parse(r.body) as { id: string }).id);
}

const sqlite = DIALECTS.find((d) => d.name === 'sqlite') as TestDialect;
const postgres = DIALECTS.find((d) => d.name === 'postgres') as TestDialect;

describe('dispatcher crash safety', () => {
  it(`loses nothing when the dispatcher process is killed with SIGKILL mid-burst of ${EVENTS} events (sqlite file)`, async () => {
    const { handle, url, drop, receiver, enqueue } = await prepare(sqlite);
    try {
      const ids = await enqueue();
      const first = await startChild(url, 'first', 1000);
      await waitFor(() => receiver.received.length >= EVENTS / 4, 20_000);
      first.kill('SIGKILL');
      await exited(first);
      const atKill = receiver.received.length;
      expect(atKill).toBeLessThan(EVENTS);

      const second = await startChild(url, 'second', 1000);
      await waitFor(async () => {
        const row = await handle.db
          .selectFrom('notification_outbox')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('state', '=', 'delivered')
          .executeTakeFirstOrThrow();
        return Number(row.n) === EVENTS;
      }, 40_000);
      second.kill('SIGTERM');
      await exited(second);

      const got = receivedIds(receiver);
      const distinct = new Set(got);
      // Every event arrived, and nothing arrived that was not enqueued.
      expect(distinct.size).toBe(EVENTS);
      for (const id of ids) expect(distinct.has(id)).toBe(true);
      // Duplicates only for what was in flight at the kill (at most the concurrency), each with its id.
      expect(got.length - distinct.size).toBeLessThanOrEqual(16);
    } finally {
      await receiver.close();
      await handle.close();
      await drop();
    }
  });

  it.skipIf(!postgres.available)(
    `two dispatcher processes on one PostgreSQL database deliver each of ${EVENTS} events exactly once`,
    async () => {
      const { handle, url, drop, receiver, enqueue } = await prepare(postgres);
      try {
        const children = await Promise.all([startChild(url, 'one', 30_000), startChild(url, 'two', 30_000)]);
        // The burst is written (in one transaction) only once both pollers run: under load one child can
        // start seconds after the other, and a head start is not what this test is about.
        const ids = await enqueue();
        await waitFor(() => receiver.received.length >= EVENTS, 40_000);
        // A little longer, so a duplicate would have time to show up.
        await new Promise((r) => setTimeout(r, 200));
        for (const child of children) child.kill('SIGTERM');
        await Promise.all(children.map(exited));
        const got = receivedIds(receiver);
        expect(got.length).toBe(EVENTS);
        expect(new Set(got)).toEqual(new Set(ids));
        const byInstance = await handle.db
          .selectFrom('notification_attempts')
          .select(['instance_id', (eb) => eb.fn.countAll<number>().as('n')])
          .groupBy('instance_id')
          .execute();
        // Both instances took part, and the log agrees: one attempt per event, every row delivered once.
        expect(byInstance.map((r) => r.instance_id).sort()).toEqual(['one', 'two']);
        expect(byInstance.reduce((sum, r) => sum + Number(r.n), 0)).toBe(EVENTS);
        const rows = await handle.db
          .selectFrom('notification_outbox')
          .select(['state', 'attempts', (eb) => eb.fn.countAll<number>().as('n')])
          .groupBy(['state', 'attempts'])
          .execute();
        expect(rows.map((r) => ({ state: r.state, attempts: r.attempts, n: Number(r.n) }))).toEqual([
          { state: 'delivered', attempts: 1, n: EVENTS },
        ]);
      } finally {
        await receiver.close();
        await handle.close();
        await drop();
      }
    },
  );
});
