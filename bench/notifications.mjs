#!/usr/bin/env node
// Notification throughput: callbacks delivered per second (envelope built, AES-GCM encrypted, RSA-2048
// signed on libuv's thread pool, POSTed over HTTPS to a local receiver in another process, every attempt
// logged), reported as a ratio to the all-core RSA-2048 signing bound measured in the same run, on SQLite
// and on a fresh PostgreSQL database; then the rate of one merchant while another merchant's receiver
// answers only after 5 s. The dispatcher runs with the server's default concurrency settings.
// Loopback only, bounded in time (about a minute).
// Run after `npm run build`: node bench/notifications.mjs [--seconds 6] [--pg ADMIN_URL | --db URL]
//   --pg: the PostgreSQL server to create a fresh database on (default postgres://postgres@127.0.0.1:5432/test,
//         skipped when unreachable); --db: measure this one (empty) database only.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { systemIds as ids } from '../packages/server/dist/app.js';
import { resolveConfig } from '../packages/server/dist/config.js';
import { openDatabase } from '../packages/server/dist/db/connect.js';
import { migrateToLatest } from '../packages/server/dist/db/migrate.js';
import { NotificationDispatcher } from '../packages/server/dist/outbox/dispatcher.js';
import { enqueueNotification } from '../packages/server/dist/outbox/enqueue.js';
import { signRate } from './lib/load.mjs';
import { postgresCpuByPid, postgresCpuUsBetween, threadCpuUs } from './lib/proc.mjs';

// The thread pool that signs callbacks: one thread per core, as the `wechatpay-sandbox` launcher sets it.
// libuv reads the size when the pool starts, and loading this ES module has started it already, so a
// run without the setting runs itself again with it.
if (process.env.UV_THREADPOOL_SIZE === undefined) {
  const again = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, UV_THREADPOOL_SIZE: String(availableParallelism()) },
  });
  process.exit(again.status ?? 1);
}

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
/** Seconds each measurement window lasts (after a one-second warm-up). */
const seconds = Number(arg('seconds', 6));
const onlyDb = arg('db', undefined);
const pgAdmin = arg('pg', process.env.WPS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const dir = mkdtempSync(join(tmpdir(), 'wps-bench-notify-'));
const config = resolveConfig({ logLevel: 'silent' });

function certificate(name) {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { keyPem: readFileSync(key, 'utf8'), certPem: readFileSync(cert, 'utf8') };
}

// The receiver: a lean HTTP/1.1 server over node:tls (it reads each request's head and Content-Length
// bytes and answers 204), so the cores it shares with the dispatcher go to the dispatcher. Two ports:
// one answers at once, the other after SLOW_MS. It prints both ports, then its CPU time when asked.
const RECEIVER = `
const tls = require('node:tls');
const { keyPem, certPem, slowMs } = JSON.parse(process.env.TLS);
const ANSWER = Buffer.from('HTTP/1.1 204 No Content\\r\\nConnection: keep-alive\\r\\n\\r\\n');
function serve(delayMs) {
  const server = tls.createServer({ key: keyPem, cert: certPem }, (socket) => {
    let buffered = '';
    socket.setEncoding('latin1');
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      buffered += chunk;
      for (;;) {
        const end = buffered.indexOf('\\r\\n\\r\\n');
        if (end < 0) return;
        const length = /\\r\\ncontent-length: *(\\d+)/i.exec(buffered.slice(0, end));
        const total = end + 4 + (length ? Number(length[1]) : 0);
        if (buffered.length < total) return;
        buffered = buffered.slice(total);
        if (delayMs === 0) socket.write(ANSWER);
        else setTimeout(() => socket.writable && socket.write(ANSWER), delayMs);
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}
Promise.all([serve(0), serve(slowMs)]).then((ports) => process.stdout.write(ports.join(' ') + '\\n'));
process.stdin.on('data', () => {
  const u = process.cpuUsage();
  process.stdout.write(String(u.user + u.system) + '\\n');
});`;

const SLOW_MS = 5000;

/** Starts the receiver process; resolves with its two ports and a reader of its CPU time (µs). */
async function startReceiver(tlsFiles) {
  const child = spawn(process.execPath, ['-e', RECEIVER], {
    env: { ...process.env, TLS: JSON.stringify({ ...tlsFiles, slowMs: SLOW_MS }) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = () => new Promise((resolve) => child.stdout.once('data', (d) => resolve(String(d).trim())));
  const [fastPort, slowPort] = (await line()).split(' ').map(Number);
  return {
    fastPort,
    slowPort,
    cpuUs: async () => {
      const answer = line();
      child.stdin.write('\n');
      return Number(await answer);
    },
    kill: () => child.kill(),
  };
}

/** A fresh PostgreSQL database on the admin URL's server, or undefined when it is unreachable. */
async function freshPostgres(adminUrl) {
  const name = `wps_bench_notify_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
  } catch {
    return undefined;
  } finally {
    await admin.end().catch(() => {});
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

const pub = generateKeyPairSync('rsa', { modulusLength: 2048 });
const platform = {
  certificates: [],
  publicKey: {
    keyId: 'PUB_KEY_ID_0000000000000000000000000001',
    privateKey: pub.privateKey,
    publicKey: pub.publicKey,
    publicKeyPem: pub.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  },
};

async function addMerchant(db, mchid, notifyUrl) {
  const now = Date.now();
  await db
    .insertInto('merchants')
    .values({
      mchid,
      name: `bench ${mchid}`,
      api_v3_key: randomBytes(16).toString('hex'),
      api_v2_key: null,
      signing_mode: 'pubkey',
      parent_mchid: null,
      created_at: now,
    })
    .execute();
  await db
    .insertInto('notify_settings')
    .values({ mchid, family: 'busifavor', notify_url: notifyUrl, set_by: mchid, update_time: now })
    .execute();
}

async function enqueue(db, mchid, count) {
  for (let done = 0; done < count; done += 1000) {
    await db.transaction().execute(async (trx) => {
      for (let i = done; i < Math.min(count, done + 1000); i++) {
        await enqueueNotification(
          trx,
          {
            mchid,
            family: 'busifavor',
            eventType: 'COUPON.SEND',
            summary: '商家券领券通知',
            originalType: 'coupon',
            associatedData: 'coupon',
            plaintext: {
              event_type: 'EVENT_TYPE_BUSICOUPON_SEND',
              coupon_code: `C${i}`,
              stock_id: '1212',
              send_time: '2025-01-01T08:00:05+08:00',
              send_channel: 'BUSICOUPON_SEND_CHANNEL_API',
              send_merchant: mchid,
            },
          },
          Date.now(),
        );
      }
    });
  }
}

/**
 * Delivers a backlog from `dbUrl` and measures, after a one-second warm-up, the delivered callbacks of
 * the fast merchant per second over `seconds` (or until its backlog ends). With `withSlow`, a second
 * merchant (first in the claim order) has a backlog at the receiver port that answers after 5 s.
 */
async function measure(dbUrl, receiver, events, tlsPem, withSlow) {
  const handle = openDatabase(dbUrl);
  try {
    await migrateToLatest(handle.db);
    const FAST = '1900099999';
    const SLOW = '1900000001';
    await addMerchant(handle.db, FAST, `https://127.0.0.1:${receiver.fastPort}/notify`);
    await enqueue(handle.db, FAST, events);
    if (withSlow) {
      await addMerchant(handle.db, SLOW, `https://127.0.0.1:${receiver.slowPort}/notify`);
      await enqueue(handle.db, SLOW, 2000);
    }
    const counts = { delivered: 0, failed: 0, slowAttempts: 0 };
    const dispatcher = new NotificationDispatcher({
      db: handle,
      clock: { now: () => Date.now() },
      platform,
      ids,
      transport: { caPem: tlsPem },
      concurrency: config.notifyConcurrency,
      merchantConcurrency: config.notifyMerchantConcurrency,
      leaseMs: config.notifyLeaseSeconds * 1000,
      onAttempt: (row, result) => {
        if (row.mchid === SLOW) counts.slowAttempts++;
        else if (result.outcome.kind === 'delivered') counts.delivered++;
        else counts.failed++;
      },
    });
    const wait = (ms) => new Promise((r) => setTimeout(r, ms));
    dispatcher.start();
    await wait(1000);
    const from = { n: counts.delivered, t: performance.now(), main: threadCpuUs(process.pid) };
    const cpu0 = process.cpuUsage();
    const receiverCpu0 = await receiver.cpuUs();
    const postgres = dbUrl.startsWith('postgres');
    const pg0 = postgres ? postgresCpuByPid() : undefined;
    const deadline = Date.now() + seconds * 1000;
    // Stop before the backlog runs dry, so the window never includes an idle tail.
    while (counts.delivered < events * 0.95 && Date.now() < deadline) await wait(20);
    const elapsed = (performance.now() - from.t) / 1000;
    const delivered = counts.delivered - from.n;
    const cpu = process.cpuUsage(cpu0);
    // The main (dispatcher) thread: what the event loop spends per delivery, apart from the signatures.
    const main = threadCpuUs(process.pid);
    const receiverCpu = (await receiver.cpuUs()) - receiverCpu0;
    const pg1 = postgres ? postgresCpuByPid() : undefined;
    await dispatcher.stop();
    return {
      rate: delivered / elapsed,
      delivered,
      elapsed,
      failed: counts.failed,
      slowAttempts: counts.slowAttempts,
      mainUs: Number.isNaN(main) || Number.isNaN(from.main) ? undefined : (main - from.main) / delivered,
      processUs: (cpu.user + cpu.system) / delivered,
      receiverUs: receiverCpu / delivered,
      databaseUs: postgres ? (postgresCpuUsBetween(pg0, pg1) ?? Number.NaN) / delivered : undefined,
    };
  } finally {
    await handle.close();
  }
}

async function main() {
  const tlsFiles = certificate('receiver');
  const receiver = await startReceiver(tlsFiles);
  const cores = availableParallelism();
  const oneCore = await signRate(1, 2000);
  const allCores = await signRate(cores, 2000);
  const events = Math.ceil(allCores * (seconds + 1) * 0.7);

  // Other work on the machine moves the rates; the all-core bound is measured again right before and
  // after each row, and the row's ratio is to their mean.
  let boundBefore = allCores;
  const runs = [];
  const run = async (label, dbUrl, withSlow = false) => {
    const result = await measure(dbUrl, receiver, events, tlsFiles.certPem, withSlow);
    const boundAfter = await signRate(cores, 1000);
    runs.push({ label, ...result, bound: (boundBefore + boundAfter) / 2 });
    boundBefore = boundAfter;
  };
  if (onlyDb) await run(onlyDb.startsWith('postgres') ? 'PostgreSQL' : 'SQLite', onlyDb);
  else {
    await run('SQLite', `sqlite:${join(dir, 'bench.db')}`);
    const database = await freshPostgres(pgAdmin);
    if (database) {
      try {
        await run('PostgreSQL', database.url);
      } finally {
        await database.drop();
      }
    }
    await run(
      `SQLite, one merchant while another's receiver answers after ${SLOW_MS / 1000} s`,
      `sqlite:${join(dir, 'slow.db')}`,
      true,
    );
  }
  receiver.kill();

  const fixed = (n, d = 0) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(d));
  console.log(
    '| measure | per second | ratio to all-core sign bound | all-core bound around the row /s | CPU µs per delivery: event loop / dispatcher process / receiver (/ PostgreSQL server) |',
  );
  console.log('|---|---|---|---|---|');
  console.log(`| RSA-2048 sign bound, 1 core | ${fixed(oneCore)} | ${(oneCore / allCores).toFixed(2)} | | |`);
  console.log(`| RSA-2048 sign bound, all ${cores} cores | ${fixed(allCores)} | 1.00 | | |`);
  for (const r of runs) {
    const notes = [
      r.failed > 0 ? `${r.failed} failed` : '',
      r.slowAttempts > 0 ? `the slow merchant's attempts meanwhile: ${r.slowAttempts}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    console.log(
      `| callbacks delivered, ${r.label}${notes ? ` (${notes})` : ''} | ${fixed(r.rate)} | ${(r.rate / r.bound).toFixed(2)} | ${fixed(r.bound)} | ${fixed(r.mainUs)} / ${fixed(r.processUs)} / ${fixed(r.receiverUs)}${r.databaseUs === undefined ? '' : ` / ${fixed(r.databaseUs)}`} |`,
    );
  }
  console.log(
    `\nEach row delivers a backlog of ${events} COUPON.SEND callbacks of one merchant (the server's defaults: ${config.notifyConcurrency} in flight, at most ${config.notifyMerchantConcurrency} of one merchant, a signing thread per core) to a lean HTTPS receiver in another process and counts, after a one-second warm-up and for up to ${seconds} s, the attempts persisted as delivered; the bound is RSA-2048 signatures per second of node:crypto in worker threads on one and on every core, measured in the same run, the all-core one again around each row, whose ratio is to the mean of the two (the receiver and the dispatcher share those cores).`,
  );
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
