#!/usr/bin/env node
// Notification throughput: callbacks delivered per second (envelope built, AES-GCM encrypted, RSA-2048
// signed, POSTed over HTTPS to a local receiver in another process, attempt logged in SQLite), reported
// as a ratio to the one-core RSA-2048 signing bound measured in the same run (one signature per
// callback, made on libuv's thread pool, so a free second core can sign while the dispatcher thread does
// the rest). The rate follows whatever CPU other processes leave; the CPU time per delivery of the
// dispatcher thread barely does. Loopback only, bounded in time.
// Run after `npm run build`: node bench/notifications.mjs [--events 3000] [--seconds 20] [--db URL]
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../packages/server/dist/db/connect.js';
import { migrateToLatest } from '../packages/server/dist/db/migrate.js';
import { NotificationDispatcher } from '../packages/server/dist/outbox/dispatcher.js';
import { enqueueNotification } from '../packages/server/dist/outbox/enqueue.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const events = Number(arg('events', 3000));
const seconds = Number(arg('seconds', 20));
const dir = mkdtempSync(join(tmpdir(), 'wps-bench-notify-'));
const dbUrl = arg('db', `sqlite:${join(dir, 'bench.db')}`);

// CPU time of the main (dispatcher) thread in µs, or undefined off Linux. Unlike the delivery rate it
// hardly moves when other processes share the cores, so it shows what a change saved on the thread.
function mainThreadCpuUs() {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * (1e6 / 100);
  } catch {
    return undefined;
  }
}

function signBound(ms) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const msg = Buffer.from(`1735689601\nf4c1a7d2e9b04c3f8a6d5e2b1c0f9a87\n${'x'.repeat(600)}\n`);
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) {
    sign('sha256', msg, privateKey);
    n++;
  }
  return n / (ms / 1000);
}

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

const RECEIVER = `
const https = require('node:https');
const tls = JSON.parse(process.env.TLS);
const server = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(204); res.end(); });
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));`;

async function main() {
  const tls = certificate('receiver');
  const receiver = spawn(process.execPath, ['-e', RECEIVER], {
    env: { ...process.env, TLS: JSON.stringify(tls) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve) =>
    receiver.stdout.once('data', (d) => resolve(Number(String(d).trim()))),
  );

  const handle = openDatabase(dbUrl);
  await migrateToLatest(handle.db);
  const mchid = '1900099999';
  const now = Date.now();
  await handle.db
    .insertInto('merchants')
    .values({
      mchid,
      name: 'bench',
      api_v3_key: randomBytes(16).toString('hex'),
      api_v2_key: null,
      signing_mode: 'pubkey',
      parent_mchid: null,
      created_at: now,
    })
    .execute();
  await handle.db
    .insertInto('notify_settings')
    .values({
      mchid,
      family: 'busifavor',
      notify_url: `https://127.0.0.1:${port}/notify`,
      set_by: mchid,
      update_time: now,
    })
    .execute();
  await handle.db.transaction().execute(async (trx) => {
    for (let i = 0; i < events; i++) {
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
  const CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const ids = {
    token: (n) => Array.from(randomBytes(n), (b) => CHARS[b % 62]).join(''),
    uuid: randomUUID,
    digits: (n) => '1'.repeat(n),
  };
  let delivered = 0;
  let failed = 0;
  const dispatcher = new NotificationDispatcher({
    db: handle,
    clock: { now: () => Date.now() },
    platform,
    ids,
    transport: { caPem: tls.certPem },
    concurrency: 32,
    onAttempt: (_row, result) => {
      if (result.outcome.kind === 'delivered') delivered++;
      else failed++;
    },
  });
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuUs();
  const started = performance.now();
  dispatcher.start();
  const deadline = Date.now() + seconds * 1000;
  while (delivered + failed < events && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const main1 = mainThreadCpuUs();
  await dispatcher.stop();
  await handle.close();
  receiver.kill();
  const rate = delivered / elapsed;
  const bound = signBound(2000);
  console.log(`| metric | value |\n|---|---|`);
  console.log(`| database | ${handle.displayUrl} |`);
  console.log(
    `| events delivered | ${delivered} of ${events} (${failed} failed) in ${elapsed.toFixed(2)} s |`,
  );
  console.log(`| notifications delivered /s | ${rate.toFixed(0)} |`);
  console.log(
    `| CPU µs per delivery: dispatcher thread / whole process | ${
      main0 === undefined || main1 === undefined ? 'n/a' : ((main1 - main0) / delivered).toFixed(0)
    } / ${((cpu.user + cpu.system) / delivered).toFixed(0)} |`,
  );
  console.log(`| RSA-2048 sign bound /s (1 core) | ${bound.toFixed(0)} |`);
  console.log(`| ratio to bound | ${(rate / bound).toFixed(2)} |`);
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});
