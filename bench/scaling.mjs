#!/usr/bin/env node
// Flat cost with data (issue 14, item 3): a database is filled with `wechatpay-sandbox seed` in three
// steps (10k coupons, then +90k, then +900k: 10 stocks and one user per 100 coupons each time), copied
// before each further step (SQLite: the file; PostgreSQL: CREATE DATABASE … TEMPLATE), and each size is
// served by its own built sandbox (`wechatpay-sandbox start`). Five operations are timed one request at a
// time through the SDK's sandbox client (signed requests, verified answers) over loopback, interleaved
// over the sizes so other work on the machine falls on every size alike: GET user coupons (a user of the
// size's last step, 100 coupons), coupon query, coupon use (a different seeded coupon each time), a
// mini-program plugin send (POST /sandbox/v1/busifavor/send/miniapp) and the stock read. On SQLite and on
// a fresh PostgreSQL database (dropped afterwards with its copies; skipped when unreachable). The table
// gives each size's p50 (p99 beside it) and the ratio of the 1M p50 to the 10k p50; the target is ≤ 1.5×.
// Run after `npm run build`: node bench/scaling.mjs [--db sqlite|postgres|both] [--max 1000000]
//   [--runs 200] [--budget-s 225] [--pg postgres://postgres@127.0.0.1:5432/test]
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSandboxClient, formatBeijingTime, readSandboxCredentials } from '@wechatpay-sandbox/sdk';
import Database from 'better-sqlite3';
import pg from 'pg';
import { startSandbox } from './lib/sandbox.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const which = arg('db', 'both');
const max = Number(arg('max', 1_000_000));
const runs = Number(arg('runs', 200));
/** Calls in a row on one size's server before the next size's turn. */
const BATCH = 5;
const WARMUP = 20;
/** Rounds of the five operations on each server before the timing. */
const WARMUP_ROUNDS = Number(arg('warmup-rounds', 150));
/** The whole script's time budget: a step whose seed would not fit (at the last step's rate) is skipped. */
const budgetMs = Number(arg('budget-s', 225)) * 1000;
const PG_ADMIN = arg('pg', process.env.WPS_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const BIN = join(import.meta.dirname, '..', 'packages/server/dist/cli/main.js');
const STOCKS_PER_STEP = 10;
const COUPONS_PER_USER = 100;
const STEPS = [10_000, 100_000, 1_000_000].filter((total) => total <= max);
const started = Date.now();

/** Runs `wechatpay-sandbox seed … --json` in its own process; resolves with its summary. */
function seed(dir, dbUrl, coupons) {
  const args = ['seed', '--dir', dir, '--db', dbUrl, '--stocks', String(STOCKS_PER_STEP)];
  args.push('--coupons', String(coupons), '--users', String(coupons / COUPONS_PER_USER), '--json');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`seed failed: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

/** p50 and p99 in ms of a list of timings. */
function percentiles(ms) {
  ms.sort((a, b) => a - b);
  const at = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))];
  return { p50: at(0.5), p99: at(0.99) };
}

/**
 * Warms the server up before the first step is timed (JIT, statement caches, connections): `n` rounds
 * of the five operations, each round sending a coupon to one of the step's users and then querying and
 * using that coupon, so no seeded coupon is spent.
 */
async function warmUp(client, mchid, step, n) {
  const { appid, stock_ids: stocks, examples } = step;
  const api = client.api.busifavor;
  for (let i = 0; i < n; i++) {
    const user = examples[i % examples.length];
    await api.listUserCoupons(user.openid, { appid, creator_merchant: mchid, limit: 20 });
    await api.getStock(stocks[i % stocks.length]);
    const params = [
      { stock_id: stocks[i % stocks.length], out_request_no: `WARM${randomBytes(12).toString('hex')}` },
    ];
    const sent = (await client.send.miniapp({ appid, openid: user.openid, send_coupon_params: params }))
      .send_coupon_result[0];
    await api.getUserCoupon({ openid: user.openid, coupon_code: sent.coupon_code, appid });
    await api.useCoupon({
      coupon_code: sent.coupon_code,
      stock_id: sent.stock_id,
      appid,
      use_time: formatBeijingTime(Date.now()),
      use_request_no: `USE${randomBytes(12).toString('hex')}`,
    });
  }
}

/** Coupons of a step's other users (each holds 100) to query and use, fetched before timing. */
async function couponsToUse(target, n) {
  const { client, mchid, step } = target;
  const coupons = [];
  for (const user of step.examples.slice(1)) {
    for (let offset = 0, total = 1; offset < total && coupons.length < n; offset += 50) {
      const page = await client.api.busifavor.listUserCoupons(user.openid, {
        appid: step.appid,
        creator_merchant: mchid,
        offset,
        limit: 50,
      });
      total = page.total_count;
      for (const c of page.data) {
        if (c.coupon_state === 'SENDED') coupons.push({ ...c, openid: user.openid });
      }
    }
  }
  if (coupons.length < n) throw new Error(`only ${coupons.length} coupons to use`);
  return coupons;
}

/** The five operations: each a call on one data size's server, its i-th time. */
const OPERATIONS = {
  'GET user coupons (100 held, page of 20)': async ({ client, mchid, step }) => {
    const page = await client.api.busifavor.listUserCoupons(step.examples[0].openid, {
      appid: step.appid,
      creator_merchant: mchid,
      limit: 20,
    });
    if (page.total_count < COUPONS_PER_USER) throw new Error(`user holds ${page.total_count}`);
  },
  'coupon query': async ({ client, step, coupons }, i) => {
    const c = coupons[i];
    await client.api.busifavor.getUserCoupon({
      openid: c.openid,
      coupon_code: c.coupon_code,
      appid: step.appid,
    });
  },
  'coupon use': async ({ client, step, coupons }, i) => {
    const c = coupons[i];
    await client.api.busifavor.useCoupon({
      coupon_code: c.coupon_code,
      stock_id: c.stock_id,
      appid: step.appid,
      use_time: formatBeijingTime(Date.now()),
      use_request_no: `USE${randomBytes(12).toString('hex')}`,
    });
  },
  'plugin send': async ({ client, step }, i) => {
    const user = step.examples[i % step.examples.length];
    const stockId = step.stock_ids[i % step.stock_ids.length];
    const params = [{ stock_id: stockId, out_request_no: `SEND${randomBytes(12).toString('hex')}` }];
    const result = await client.send.miniapp({
      appid: step.appid,
      openid: user.openid,
      send_coupon_params: params,
    });
    if (result.send_coupon_result[0]?.code !== 'SUCCESS') throw new Error(JSON.stringify(result));
  },
  'stock read': async ({ client, step }, i) => {
    await client.api.busifavor.getStock(step.stock_ids[i % step.stock_ids.length]);
  },
};

/**
 * Times every operation `n` times on each data size's server, interleaved: rounds of BATCH calls per
 * server, the servers' order rotating each round, so a burst of other work on the machine falls on
 * every size alike. Returns, per target, each operation's p50 and p99.
 */
async function measureInterleaved(targets, n) {
  for (const t of targets) t.coupons = await couponsToUse(t, WARMUP + n);
  const results = targets.map(() => ({}));
  for (const [op, call] of Object.entries(OPERATIONS)) {
    for (const t of targets) for (let i = 0; i < WARMUP; i++) await call(t, i);
    const samples = targets.map(() => []);
    for (let round = 0; round * BATCH < n; round++) {
      for (let k = 0; k < targets.length; k++) {
        const which = (round + k) % targets.length;
        for (let b = 0; b < BATCH; b++) {
          const i = WARMUP + round * BATCH + b;
          const t0 = performance.now();
          await call(targets[which], i);
          samples[which].push(performance.now() - t0);
        }
      }
    }
    samples.forEach((ms, k) => {
      results[k][op] = percentiles(ms);
    });
  }
  return results;
}

/**
 * The plans the database chooses for the read paths' queries (as the repositories in
 * packages/server/src/db/busifavor build them), for the user and stocks of a seed step.
 */
async function queryPlans(dbUrl, mchid, step) {
  const user = step.examples[0].openid;
  const stock = step.stock_ids[0];
  const queries = [
    [
      'user coupons, page',
      'SELECT c.* FROM busifavor_coupons c INNER JOIN busifavor_stocks s ON s.stock_id = c.stock_id WHERE c.user_id = $1 AND s.creator_mchid = $2 ORDER BY c.receive_ms DESC, c.coupon_code ASC LIMIT 20 OFFSET 0',
      (u) => [u, mchid],
    ],
    [
      'coupon by code (query, use)',
      'SELECT * FROM busifavor_coupons WHERE coupon_code = $1',
      (_u, code) => [code],
    ],
    [
      "send: the user's coupons of the stock",
      'SELECT count(*) FROM busifavor_coupons WHERE stock_id = $1 AND user_id = $2',
      (u) => [stock, u],
    ],
  ];
  if (dbUrl.startsWith('sqlite:')) {
    const db = new Database(dbUrl.slice('sqlite:'.length), { readonly: true });
    try {
      const u = db.prepare('SELECT user_id FROM sim_user_openids WHERE openid = ?').get(user).user_id;
      const code = db
        .prepare('SELECT coupon_code FROM busifavor_coupons WHERE user_id = ? LIMIT 1')
        .get(u).coupon_code;
      return queries.map(([name, text, params]) => {
        const rows = db.prepare(`EXPLAIN QUERY PLAN ${text.replace(/\$\d+/g, '?')}`).all(...params(u, code));
        return [name, rows.map((r) => r.detail).join('\n')];
      });
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const u = (await client.query('SELECT user_id FROM sim_user_openids WHERE openid = $1', [user])).rows[0]
      .user_id;
    const code = (
      await client.query('SELECT coupon_code FROM busifavor_coupons WHERE user_id = $1 LIMIT 1', [u])
    ).rows[0].coupon_code;
    // The server's connections prepare each statement once, and PostgreSQL may then run it with one
    // generic plan for every parameter value: show that plan.
    await client.query('SET plan_cache_mode = force_generic_plan');
    const plans = [];
    for (const [i, [name, text, params]] of queries.entries()) {
      await client.query(`PREPARE plan_${i} AS ${text}`);
      const values = params(u, code).map((v) => client.escapeLiteral(v));
      const { rows } = await client.query(`EXPLAIN (COSTS OFF) EXECUTE plan_${i}(${values.join(', ')})`);
      plans.push([`${name} (generic plan)`, rows.map((r) => r['QUERY PLAN']).join('\n')]);
    }
    return plans;
  } finally {
    await client.end();
  }
}

/**
 * PostgreSQL: a CHECKPOINT after a seed, so the timing does not overlap the checkpointer writing out the
 * loaded pages (minutes of background I/O after a gigabyte of WAL); the load's cost, not the data's.
 */
async function settle(dbUrl) {
  if (dbUrl.startsWith('sqlite:')) return;
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
}

/** Stops a server started by startSandbox. */
async function stop(child) {
  if (child.exitCode !== null) return;
  child.kill();
  await new Promise((done) => child.once('exit', done));
}

/**
 * Seeds one database step by step; before each further seed the database as it stands is copied
 * (server stopped), so every size can be served at once. Then one server per size, each warmed up, and
 * the operations timed on all of them interleaved. Returns the steps, measured or skipped.
 */
async function runDialect(name, database, shareOfBudgetMs) {
  const dir = mkdtempSync(join(tmpdir(), 'wps-bench-scaling-'));
  const deadline = Date.now() + shareOfBudgetMs;
  const servers = [];
  const copies = [];
  const serve = async (dbUrl) => {
    const server = await startSandbox(dir, 1, ['--db', dbUrl, '--log-level', 'warn']);
    servers.push(server);
    return server;
  };
  try {
    let main = await serve(database.url);
    const mchid = readSandboxCredentials(dir).merchant.mchid;
    const steps = [];
    let rate = Number.POSITIVE_INFINITY;
    let total = 0;
    for (const target of STEPS) {
      const add = target - total;
      // Seed time at the last rate plus ~40 s to copy, warm up and time every size (PostgreSQL on a
      // busy 2-core machine): skip what would overrun.
      if (Date.now() + (add / rate) * 1000 + 40_000 > deadline) {
        steps.push({ total: target, skipped: true });
        break;
      }
      if (steps.length > 0) {
        await stop(main.child);
        const copy = await database.copy(`at_${k(total).toLowerCase()}`);
        copies.push(copy);
        steps.at(-1).dbUrl = copy.url;
        main = await serve(database.url);
      }
      const summary = await seed(dir, database.url, add);
      await settle(database.url);
      total = target;
      rate = summary.coupons_per_second;
      steps.push({ total, added: add, seedMs: summary.elapsed_ms, rate, summary, dbUrl: database.url });
      console.error(`${name}: ${total} coupons seeded (${summary.elapsed_ms} ms, ${rate}/s)`);
    }
    const measured = steps.filter((st) => !st.skipped);
    const credentials = readSandboxCredentials(dir);
    const targets = [];
    for (const st of measured) {
      const server = st.dbUrl === database.url ? main : await serve(st.dbUrl);
      const client = createSandboxClient({ baseUrl: server.url, credentials });
      targets.push({ client, mchid, step: st.summary });
    }
    // Untimed: every server warmed up (JIT, statement caches, the database's caches after the seed).
    for (const t of targets) await warmUp(t.client, mchid, t.step, WARMUP_ROUNDS);
    const results = await measureInterleaved(targets, runs);
    for (const [i, st] of measured.entries()) {
      st.ops = results[i];
      st.plans = await queryPlans(st.dbUrl, mchid, st.summary);
    }
    console.error(`${name}: measured`);
    return steps;
  } finally {
    for (const server of servers) await stop(server.child);
    for (const copy of copies) await copy.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh SQLite database in its own folder; `copy` copies its file (no server may be writing). */
function sqliteDatabase() {
  const folder = mkdtempSync(join(tmpdir(), 'wps-bench-scaling-db-'));
  const path = join(folder, 'data.db');
  return {
    url: `sqlite:${path}`,
    copy: async (suffix) => {
      const to = join(folder, `${suffix}.db`);
      for (const ext of ['', '-wal']) if (existsSync(path + ext)) copyFileSync(path + ext, to + ext);
      return { url: `sqlite:${to}`, drop: async () => {} };
    },
    drop: async () => rmSync(folder, { recursive: true, force: true }),
  };
}

/** Runs one statement on the PostgreSQL admin database. */
async function admin(statement) {
  const c = new pg.Client({ connectionString: PG_ADMIN });
  await c.connect();
  try {
    await c.query(statement);
  } finally {
    await c.end();
  }
}

/** A fresh PostgreSQL database, or undefined when unreachable; `copy` is CREATE DATABASE … TEMPLATE. */
async function postgresDatabase() {
  const probe = new pg.Client({ connectionString: PG_ADMIN, connectionTimeoutMillis: 2000 });
  try {
    await probe.connect();
  } catch {
    return undefined;
  } finally {
    await probe.end().catch(() => {});
  }
  const name = `wps_bench_scaling_${Date.now().toString(36)}`;
  const urlOf = (db) => {
    const url = new URL(PG_ADMIN);
    url.pathname = `/${db}`;
    return url.toString();
  };
  await admin(`CREATE DATABASE ${name}`);
  return {
    url: urlOf(name),
    copy: async (suffix) => {
      await admin(`CREATE DATABASE ${name}_${suffix} TEMPLATE ${name}`);
      return {
        url: urlOf(`${name}_${suffix}`),
        drop: () => admin(`DROP DATABASE IF EXISTS ${name}_${suffix} WITH (FORCE)`),
      };
    },
    drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

const k = (n) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);
const f = (ms) => ms.toFixed(2);

function printTable(name, steps) {
  const measured = steps.filter((s) => !s.skipped);
  console.log(`\n### ${name}\n`);
  if (measured.length === 0) {
    console.log('Nothing measured: the time budget ran out before the first step.');
    return;
  }
  const first = measured[0];
  const last = measured.at(-1);
  const head = measured.map((s) => `${k(s.total)} p50 (p99) ms`);
  console.log(`| operation | ${head.join(' | ')} | ${k(last.total)} / ${k(first.total)} p50 |`);
  console.log(`|---|${head.map(() => '---|').join('')}---|`);
  for (const op of Object.keys(first.ops)) {
    const cells = measured.map((s) => `${f(s.ops[op].p50)} (${f(s.ops[op].p99)})`);
    const ratio = last.ops[op].p50 / first.ops[op].p50;
    console.log(
      `| ${op} | ${cells.join(' | ')} | **${ratio.toFixed(2)}×**${ratio > 1.5 ? ' (over 1.5×)' : ''} |`,
    );
  }
  const seeds = measured.map(
    (s) => `+${k(s.added)} in ${(s.seedMs / 1000).toFixed(1)} s (${s.rate.toLocaleString('en')}/s)`,
  );
  console.log(
    `\nSeed steps (\`wechatpay-sandbox seed\`, ${STOCKS_PER_STEP} stocks and one user per ${COUPONS_PER_USER} coupons each): ${seeds.join(', ')}.`,
  );
  console.log(`\nQuery plans at ${k(last.total)} (the largest step's user and stock):\n`);
  for (const [query, plan] of last.plans) console.log(`${query}:\n\n\`\`\`text\n${plan}\n\`\`\`\n`);
  for (const s of steps.filter((x) => x.skipped)) {
    console.log(
      `\n**Skipped: the ${k(s.total)} step** (its seed would not fit in this script's time budget at the rate measured so far).`,
    );
  }
}

const dialects = [];
if (which === 'sqlite' || which === 'both') dialects.push('sqlite');
if (which === 'postgres' || which === 'both') dialects.push('postgres');
const results = [];
for (const [i, name] of dialects.entries()) {
  const left = budgetMs - (Date.now() - started);
  // SQLite seeds about twice as fast as PostgreSQL: it gets 40% of what is left, PostgreSQL the rest.
  const share = dialects.length - i === 1 ? left : left * 0.4;
  const database = name === 'sqlite' ? sqliteDatabase() : await postgresDatabase();
  if (!database) {
    results.push([name, undefined]);
    continue;
  }
  try {
    results.push([name, await runDialect(name === 'sqlite' ? 'SQLite' : 'PostgreSQL', database, share)]);
  } finally {
    await database.drop();
  }
}

console.log(
  `Cost of five operations as the data grows: \`wechatpay-sandbox seed\` fills the built server's database in steps (${STEPS.map(k).join(', ')} coupons) and the database as it stands after each step is copied, so every size is served at once by its own server; each server is warmed up (${WARMUP_ROUNDS} rounds of all five operations on coupons they send), then every operation is timed ${runs} times per size, interleaved (rounds of ${BATCH} calls per size, the order rotating) so other work on the machine falls on every size alike, one request at a time, through the SDK's sandbox client over loopback (signed requests, verified answers). p50 (p99) in ms; the last column is the largest step's p50 over the first's (target ≤ 1.5×).`,
);
for (const [name, steps] of results) {
  if (!steps) console.log(`\n### PostgreSQL\n\nSkipped: ${PG_ADMIN} is not reachable.`);
  else printTable(name === 'sqlite' ? 'SQLite' : 'PostgreSQL', steps);
}
console.log(`\nThe whole script took ${((Date.now() - started) / 1000).toFixed(0)} s.`);
