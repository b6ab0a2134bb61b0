#!/usr/bin/env node
// Dashboard page timing: the built sandbox (`wechatpay-sandbox start`, SQLite) in its own process with
// 10,000 notifications stored for the dev merchant; then each page is fetched over loopback like a browser
// would and the time to the last byte is reported (median, p95, max of --runs after two warm-ups).
// The target: the first page (GET /dashboard/notifications) under 200 ms.
// Run after `npm run build`: node bench/dashboard.mjs [--notifications 10000] [--runs 30] [--db URL]
// (--db postgres://… times the same pages on an empty PostgreSQL database you created for it).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../packages/server/dist/db/connect.js';
import { enqueueNotification } from '../packages/server/dist/outbox/enqueue.js';
import { startSandbox } from './lib/sandbox.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const count = Number(arg('notifications', 10_000));
const runs = Number(arg('runs', 30));
const dir = mkdtempSync(join(tmpdir(), 'wps-bench-dashboard-'));
const dbUrl = arg('db', `sqlite:${join(dir, 'data.db')}`);

const { url, child } = await startSandbox(dir, 1, ['--db', dbUrl, '--log-level', 'warn']);
try {
  const mchid = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')).merchant.mchid;
  const handle = openDatabase(dbUrl);
  const started = Date.now();
  await handle.db.transaction().execute(async (trx) => {
    for (let i = 0; i < count; i++) {
      await enqueueNotification(
        trx,
        {
          mchid,
          family: i % 10 === 0 ? 'product-coupon' : 'busifavor',
          eventType: i % 10 === 0 ? 'PRODUCT_COUPON_SP.SEND' : 'COUPON.SEND',
          summary: '商家券领券通知',
          originalType: 'coupon',
          associatedData: 'coupon',
          plaintext: { event_type: 'EVENT_TYPE_BUSICOUPON_SEND', coupon_code: `C${i}`, send_merchant: mchid },
        },
        started + i,
        { wallMs: started + i },
      );
    }
  });
  await handle.close();
  console.log(`${count} notifications stored in ${Date.now() - started} ms (${handle.displayUrl}, ${url})`);
  // The dispatcher finds no notify URL for them: let it mark them no-target before timing pages.
  await new Promise((done) => setTimeout(done, 3000));
  // Fill the live feed's ring (500 calls by default): unsigned calls answered 401 with their headers kept.
  for (let i = 0; i < 500; i++) await (await fetch(`${url}/v3/certificates?i=${i}`)).text();

  const pages = [
    ['notifications, first page', '/dashboard/notifications'],
    ['notifications, filtered (state, family)', '/dashboard/notifications?state=no-target&family=busifavor'],
    ['notifications, last page', `/dashboard/notifications?offset=${Math.max(0, count - 50)}`],
    ['live feed (500 calls kept, 200 shown)', '/dashboard'],
    ['live feed JSON', '/dashboard/api/calls'],
    ['clock & rules', '/dashboard/simulation'],
  ];
  const rows = [];
  for (const [name, path] of pages) {
    const times = [];
    let bytes = 0;
    for (let i = 0; i < runs + 2; i++) {
      const t0 = performance.now();
      const res = await fetch(url + path);
      const text = await res.text();
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${text.slice(0, 200)}`);
      bytes = text.length;
      if (i >= 2) times.push(ms);
    }
    times.sort((a, b) => a - b);
    const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
    rows.push({ page: name, median_ms: at(0.5), p95_ms: at(0.95), max_ms: times.at(-1), kB: bytes / 1024 });
  }
  console.log(`\n| page (${count} notifications stored) | median ms | p95 ms | max ms | kB |`);
  console.log('|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.page} | ${r.median_ms.toFixed(1)} | ${r.p95_ms.toFixed(1)} | ${r.max_ms.toFixed(1)} | ${r.kB.toFixed(1)} |`,
    );
  }
  const first = rows[0];
  console.log(`\nfirst page median ${first.median_ms.toFixed(1)} ms (target < 200 ms)`);
} finally {
  child.kill('SIGTERM');
  await new Promise((done) => child.once('exit', done));
  rmSync(dir, { recursive: true, force: true });
}
