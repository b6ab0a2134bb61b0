#!/usr/bin/env node
// Signed API throughput and latency of the server as `npm start` runs it (the default `start`), on SQLite
// and PostgreSQL, for four operations: a notify-setting read, GET user coupons (a user with 100
// coupons), coupon use and a plugin send. Every answer costs the server one RSA-2048 signature, so the
// all-core signing rate of node:crypto, measured in the same run, is the bound each rate is divided by.
// Requests are pre-signed on every core before each run (the client's own RSA work is not timed) and
// sent by a lean keep-alive client (bench/lib/load.mjs). The load is spread over 16 merchants so no
// merchant passes WeChat's own limits (1,000 calls/s, coupon use 500/s per merchant), which the sandbox
// enforces. Peak: 32 requests in flight for 2 s. Half load: an open loop at half the peak rate for 2 s,
// latency counted from when each request was due. Then two peers under the same load: servers that do
// only the verification and the signature (bench/lib/peer-server.mjs). The one-process server runs under
// V8's CPU profiler, which says where each operation's event-loop time went (bench/lib/profile.mjs).
// Loopback only, about a minute per dialect.
// Run after `npm run build`: node bench/server.mjs [--seconds 2] [--db sqlite|postgres|both] [--only use,send]
// Environment: BENCH_THREADS=1 prints CPU per answer by thread; BENCH_NO_PROFILE=1 runs without the
// profiler; BENCH_IN_FLIGHT sets the peak's requests in flight; BENCH_SERVER_NODE_ARGS adds node options.
import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createSandboxClient, formatBeijingTime, readSandboxCredentials } from '@wechatpay-sandbox/sdk';
import { buildAuthorization, buildRequestSigningString } from '@wechatpay-sandbox/sdk/protocol';
import { signPluginSend } from '@wechatpay-sandbox/sdk/sandbox';
import pg from 'pg';
import { buildRequest, closedLoop, openLoop, signAll, signRate } from './lib/load.mjs';
import { cpuUsByThread, postgresCpuByPid, postgresCpuUsBetween, processCpuUs } from './lib/proc.mjs';
import { CATEGORIES, readProfile, sharesIn } from './lib/profile.mjs';
import { startSandbox } from './lib/sandbox.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const seconds = Number(arg('seconds', 2));
const which = arg('db', 'both');
/** `--only use,send`: some of callbacks, user-coupons, use, send (all by default). */
const only = arg('only', '').split(',').filter(Boolean);
const wanted = (name) => only.length === 0 || only.includes(name);
const MERCHANTS = 16;
/** BENCH_THREADS=1: CPU per answer of each thread, printed to stderr. */
const byTid = Boolean(process.env.BENCH_THREADS);
/** Requests in flight at peak (BENCH_IN_FLIGHT to try others; 64 measured no faster on the quiet machine). */
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 32);
/** Share of the all-core bound the pre-signed requests of a peak run suffice for. */
const PEAK_SHARE = 0.8;
const cores = availableParallelism();
const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', 'packages/server/dist/cli/main.js');
const PEER = join(import.meta.dirname, 'lib', 'peer-server.mjs');

const oneCore = await signRate(1, 2000);
const allCores = await signRate(cores, 2000);

/** The best ratio to the all-core bound that this much CPU per answer (server and client) allows. */
function ceiling(peak) {
  return (cores * 1e6) / (peak.cpuPerAnswerUs + peak.clientCpuPerAnswerUs) / allCores;
}

/** Resident set size of a process in MB (Linux), or NaN. */
function rssMb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** Registers `count` merchants besides the dev one with `merchant add`, each with its own key pair. */
async function addMerchants(dir, dbUrl, count) {
  const merchants = [];
  await inLanes(count, cores * 2, async (i) => {
    const mchid = String(1900100000 + i);
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pubFile = join(dir, `m${i}.pub.pem`);
    writeFileSync(pubFile, publicKey.export({ type: 'spki', format: 'pem' }));
    const serialNo = randomBytes(20).toString('hex').toUpperCase();
    const apiV3Key = randomBytes(16).toString('hex');
    const apiV2Key = randomBytes(16).toString('hex');
    await run(process.execPath, [
      BIN,
      'merchant',
      'add',
      '--mchid',
      mchid,
      '--public-key',
      pubFile,
      '--serial',
      serialNo,
      '--api-v3-key',
      apiV3Key,
      '--api-v2-key',
      apiV2Key,
      '--dir',
      dir,
      '--db',
      dbUrl,
    ]);
    merchants[i] = {
      mchid,
      serialNo,
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      apiV3Key,
      apiV2Key,
    };
  });
  return merchants;
}

/** In `parallel` lanes, runs `task(i)` for i in 0..count-1. */
async function inLanes(count, parallel, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/** A merchant's stock, appid and users, and coupons sent to them through the plugin. */
async function prepareMerchant(merchant, credentials, url) {
  const sandbox = createSandboxClient({
    baseUrl: url,
    credentials: {
      ...credentials,
      merchant: { ...credentials.merchant, ...merchant, signingMode: 'pubkey' },
    },
  });
  const appid = `wxbench${merchant.mchid}`;
  await sandbox.appids.bind({ appid });
  const now = Date.now();
  const { stock_id } = await sandbox.api.busifavor.createStock({
    stock_name: '压测券',
    belong_merchant: merchant.mchid,
    goods_name: '全场通用',
    stock_type: 'NORMAL',
    coupon_use_rule: {
      coupon_available_time: {
        available_begin_time: formatBeijingTime(now),
        available_end_time: formatBeijingTime(now + 7 * 86400_000),
      },
      fixed_normal_coupon: { discount_amount: 100, transaction_minimum: 1000 },
      use_method: 'OFF_LINE',
    },
    stock_send_rule: { max_coupons: 10_000_000, max_coupons_per_user: 100 },
    out_request_no: `bench-${merchant.mchid}-${now}`,
    coupon_code_mode: 'WECHATPAY_MODE',
  });
  return { ...merchant, sandbox, appid, stock_id };
}

/** Creates users of `m` and gives each `perUser` coupons; resolves with [{ openid, codes }]. */
async function usersWithCoupons(m, users, perUser, tag) {
  const made = [];
  await inLanes(users, 8, async (u) => {
    const user = await m.sandbox.users.create({ appids: [m.appid] });
    const openid = user.openids[m.appid];
    const codes = [];
    for (let batch = 0; batch < perUser; batch += 10) {
      const params = Array.from({ length: Math.min(10, perUser - batch) }, (_, k) => ({
        stock_id: m.stock_id,
        out_request_no: `${tag}-${u}-${batch + k}`,
      }));
      const sent = await m.sandbox.send.miniapp({ appid: m.appid, openid, send_coupon_params: params });
      for (const r of sent.send_coupon_result) codes.push(r.coupon_code);
    }
    made.push({ openid, codes });
  });
  return made;
}

/** Signs and serialises requests: `make(i)` gives { merchant, method, path, body }. */
async function presign(count, make, host) {
  const specs = Array.from({ length: count }, (_, i) => make(i));
  const timestamp = Math.floor(Date.now() / 1000);
  const nonces = specs.map(() => randomBytes(16).toString('hex'));
  const byMerchant = new Map();
  specs.forEach((s, i) => {
    const list = byMerchant.get(s.merchant) ?? [];
    list.push(i);
    byMerchant.set(s.merchant, list);
  });
  const signatures = new Array(count);
  for (const [merchant, indexes] of byMerchant) {
    const messages = indexes.map((i) =>
      buildRequestSigningString({
        method: specs[i].method,
        canonicalUrl: specs[i].path,
        timestamp,
        nonce: nonces[i],
        body: specs[i].body ?? '',
      }),
    );
    const signed = await signAll(messages, merchant.privateKeyPem, cores);
    indexes.forEach((i, k) => {
      signatures[i] = signed[k];
    });
  }
  return specs.map((s, i) =>
    buildRequest({
      method: s.method,
      path: s.path,
      host,
      body: s.body ?? '',
      headers: {
        Authorization: buildAuthorization({
          mchid: s.merchant.mchid,
          serialNo: s.merchant.serialNo,
          timestamp: String(timestamp),
          nonce: nonces[i],
          signature: signatures[i],
        }),
        Accept: 'application/json',
        'User-Agent': 'wechatpay-sandbox-bench',
        ...(s.body ? { 'Content-Type': 'application/json' } : {}),
      },
    }),
  );
}

/** Peak (closed loop) and half-load (open loop) runs of one operation. */
async function measure(name, port, host, makeFor, expect, pid, rss) {
  // Enough for 0.8 of the bound for the whole run; a faster server uses them up a little early, and its
  // rate (answers over the time taken) is as true.
  const peakCount = Math.ceil(allCores * seconds * PEAK_SHARE);
  const peakRequests = await presign(peakCount, (i) => makeFor('peak', i), host);
  const sampler = setInterval(() => {
    rss.peak = Math.max(rss.peak, rssMb(pid));
  }, 100);
  const cpuBefore = processCpuUs(pid);
  const threadsBefore = cpuUsByThread(pid, { byTid });
  const clientBefore = process.cpuUsage();
  const databaseBefore = postgresCpuByPid();
  const startUs = Number(process.hrtime.bigint() / 1000n);
  const peak = await closedLoop({ port, requests: peakRequests, concurrency: IN_FLIGHT, seconds, expect });
  peak.windowUs = [startUs, Number(process.hrtime.bigint() / 1000n)];
  // The server's CPU per answer hardly moves when other processes share the cores; the rate does.
  const answered = Object.values(peak.statuses).reduce((a, b) => a + b, 0);
  peak.cpuPerAnswerUs = (processCpuUs(pid) - cpuBefore) / answered;
  peak.postgresCpuPerAnswerUs =
    (postgresCpuUsBetween(databaseBefore, postgresCpuByPid()) ?? Number.NaN) / answered;
  const client = process.cpuUsage(clientBefore);
  peak.clientCpuPerAnswerUs = (client.user + client.system) / answered;
  const threadsAfter = cpuUsByThread(pid, { byTid });
  peak.threads = Object.fromEntries(
    Object.entries(threadsAfter).map(([name, us]) => [name, (us - (threadsBefore[name] ?? 0)) / answered]),
  );
  peak.mainCpuPerAnswerUs = peak.threads.main ?? Number.NaN;
  if (byTid) console.error(name, Math.round(peak.rate), peak.threads);
  const halfRate = peak.rate / 2;
  const halfRequests = await presign(Math.ceil(halfRate * seconds) + 10, (i) => makeFor('half', i), host);
  const half = await openLoop({
    port,
    requests: halfRequests,
    concurrency: IN_FLIGHT * 2,
    seconds,
    rate: halfRate,
    expect,
  });
  clearInterval(sampler);
  return { name, peak, half };
}

async function runDialect(dialect, { workers = 1, ops } = {}) {
  const measured = (name) => (ops ? ops.includes(name) : wanted(name));
  const dir = mkdtempSync(join(tmpdir(), 'wps-bench-server-'));
  let dbUrl = `sqlite:${join(dir, 'data.db')}`;
  let dropDatabase = async () => {};
  if (dialect === 'postgres') {
    const name = `wps_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    dbUrl = `postgres://postgres@127.0.0.1:5432/${name}`;
    dropDatabase = async () => {
      const a = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    };
  }
  // `start` initialises the directory and migrates; merchants are added beside the running server. The
  // one-process server is profiled (V8's sampler, a sample every 4 ms: at 1 ms the sampler cost the
  // server up to a tenth of its rate) to say where its event loop's time goes; the profile is written
  // when it exits. BENCH_NO_PROFILE=1 runs it without.
  const profileDir = join(dir, 'profile');
  const { url, child } = await startSandbox(dir, workers, ['--db', dbUrl, '--log-level', 'info'], {
    extraNodeArgs:
      workers === 1 && !process.env.BENCH_NO_PROFILE
        ? ['--cpu-prof', '--cpu-prof-interval=4000', `--cpu-prof-dir=${profileDir}`]
        : [],
  });
  const results = [];
  try {
    const port = Number(new URL(url).port);
    const host = `127.0.0.1:${port}`;
    const credentials = readSandboxCredentials(dir);
    const merchants = await Promise.all(
      (await addMerchants(dir, dbUrl, MERCHANTS)).map((m) => prepareMerchant(m, credentials, url)),
    );
    const rss = { idle: rssMb(child.pid), peak: 0 };
    const ok200 = (status) => status === 200;
    const pick = (i) => merchants[i % MERCHANTS];

    if (measured('callbacks')) {
      // 1. Notify-setting read (the URL set, so every answer is 200 with a body).
      for (const m of merchants) {
        await m.sandbox.api.busifavor.setCallback({ notify_url: `https://merchant.example.com/${m.mchid}` });
      }
      results.push(
        await measure(
          'GET /v3/marketing/busifavor/callbacks',
          port,
          host,
          (_run, i) => ({ merchant: pick(i), method: 'GET', path: '/v3/marketing/busifavor/callbacks' }),
          ok200,
          child.pid,
          rss,
        ),
      );
    }

    if (measured('user-coupons')) {
      // 2. GET user coupons of a user holding 100 coupons (the default page of 20, and the total).
      const holders = [];
      await inLanes(MERCHANTS, 4, async (k) => {
        const [holder] = await usersWithCoupons(merchants[k], 1, 100, 'holder');
        holders[k] = holder;
      });
      results.push(
        await measure(
          'GET /v3/marketing/busifavor/users/{openid}/coupons (100 held)',
          port,
          host,
          (_run, i) => {
            const k = i % MERCHANTS;
            const m = merchants[k];
            return {
              merchant: m,
              method: 'GET',
              path: `/v3/marketing/busifavor/users/${holders[k].openid}/coupons?appid=${m.appid}&creator_merchant=${m.mchid}`,
            };
          },
          ok200,
          child.pid,
          rss,
        ),
      );
    }

    if (measured('use')) {
      // 3. Coupon use: every request redeems a different coupon, sent beforehand.
      const needed = Math.ceil((allCores * seconds * (PEAK_SHARE * 1.5 + 0.05)) / MERCHANTS);
      const usable = [];
      await inLanes(MERCHANTS, 4, async (k) => {
        const owners = await usersWithCoupons(merchants[k], Math.ceil(needed / 100), 100, 'use');
        usable[k] = owners.flatMap((o) => o.codes.map((code) => ({ code, openid: o.openid })));
      });
      const useTime = formatBeijingTime(Date.now());
      const taken = new Array(MERCHANTS).fill(0);
      results.push(
        await measure(
          'POST /v3/marketing/busifavor/coupons/use',
          port,
          host,
          (_run, i) => {
            const k = i % MERCHANTS;
            const m = merchants[k];
            const coupon = usable[k][taken[k]++];
            if (!coupon) throw new Error('not enough coupons sent for the use run');
            return {
              merchant: m,
              method: 'POST',
              path: '/v3/marketing/busifavor/coupons/use',
              body: JSON.stringify({
                coupon_code: coupon.code,
                stock_id: m.stock_id,
                appid: m.appid,
                use_time: useTime,
                use_request_no: `use-${coupon.code}`,
              }),
            };
          },
          ok200,
          child.pid,
          rss,
        ),
      );
    }

    if (measured('send')) {
      // 4. Plugin send (one coupon per call) to fresh users, 100 per user at most (the stock's limit).
      const perMerchant = Math.ceil((allCores * seconds * (PEAK_SHARE * 1.5 + 0.05)) / MERCHANTS);
      const recipients = [];
      await inLanes(MERCHANTS, 4, async (k) => {
        const m = merchants[k];
        const list = [];
        await inLanes(Math.ceil(perMerchant / 100), 4, async () => {
          const user = await m.sandbox.users.create({ appids: [m.appid] });
          list.push(user.openids[m.appid]);
        });
        recipients[k] = list;
      });
      const sends = new Array(MERCHANTS).fill(0);
      results.push(
        await measure(
          'POST /sandbox/v1/busifavor/send/miniapp (1 coupon)',
          port,
          host,
          (run, i) => {
            const k = i % MERCHANTS;
            const m = merchants[k];
            const n = sends[k]++;
            const params = [{ stock_id: m.stock_id, out_request_no: `send-${run}-${n}` }];
            return {
              merchant: m,
              method: 'POST',
              path: '/sandbox/v1/busifavor/send/miniapp',
              body: JSON.stringify({
                appid: m.appid,
                openid: recipients[k][Math.floor(n / 100)],
                send_coupon_params: params,
                send_coupon_merchant: m.mchid,
                sign: signPluginSend(m.mchid, params, m.apiV2Key),
              }),
            };
          },
          (status, body) => status === 200 && body.includes('"SUCCESS"'),
          child.pid,
          rss,
        ),
      );
    }

    return { dialect, results, rss };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const profile = workers === 1 ? readProfile(profileDir) : undefined;
    for (const r of results) r.shares = profile && sharesIn(profile, ...r.peak.windowUs);
    rmSync(dir, { recursive: true, force: true });
    await dropDatabase();
  }
}

/**
 * The notify-setting read's load against a peer (bench/lib/peer-server.mjs): a server that only verifies
 * the request and signs the answer, as the sandbox does, in plain node:http or in Fastify. Its ratio is
 * the most a signed answer allows on this machine with this load generator sharing the cores.
 */
async function runPeer(kind) {
  const merchants = Array.from({ length: MERCHANTS }, (_, i) => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return {
      mchid: String(1900200000 + i),
      serialNo: randomBytes(20).toString('hex').toUpperCase(),
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }),
    };
  });
  const child = spawn(process.execPath, [PEER, kind], {
    env: {
      ...process.env,
      UV_THREADPOOL_SIZE: String(cores),
      PEER_KEYS: JSON.stringify(Object.fromEntries(merchants.map((m) => [m.mchid, m.publicKeyPem]))),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise((resolve, reject) => {
      child.stdout.once('data', (d) => resolve(String(d).trim()));
      child.once('exit', (code) => reject(new Error(`peer ${kind} exited ${code}`)));
    });
    const port = Number(new URL(url).port);
    return await measure(
      kind === 'http' ? 'node:http, verify + sign only' : 'Fastify, verify + sign hooks only',
      port,
      `127.0.0.1:${port}`,
      (_run, i) => ({
        merchant: merchants[i % MERCHANTS],
        method: 'GET',
        path: '/v3/marketing/busifavor/callbacks',
      }),
      (status) => status === 200,
      child.pid,
      { peak: 0 },
    );
  } finally {
    child.kill();
  }
}

async function postgresReachable() {
  const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

const dialects = [];
if (which !== 'postgres') dialects.push('sqlite');
if (which !== 'sqlite' && (await postgresReachable())) dialects.push('postgres');
const runs = [];
for (const d of dialects) runs.push(await runDialect(d));
// The other way to use every core, for comparison: one process per core (`start --workers N`), each
// signing on its own event loop. RSS is then that of the primary, so it is left out below.
const perProcess =
  cores > 1 && wanted('callbacks') && dialects.includes('sqlite')
    ? await runDialect('sqlite', { workers: cores, ops: ['callbacks'] })
    : undefined;

const peers = wanted('callbacks') ? [await runPeer('http'), await runPeer('fastify')] : [];

const f0 = (n) => n.toFixed(0);
const f1 = (n) => n.toFixed(1);
console.log(
  `RSA-2048 signing bound: ${f0(oneCore)}/s on one core, **${f0(allCores)}/s on all ${cores} cores**.`,
);
console.log('');
console.log(
  '| dialect | operation | signed answers/s at peak | ratio to all-core bound (target ≥ 0.6) | p50 / p99 at peak (ms) | p50 / p99 at half load (ms, target p99 < 25) | server CPU µs per answer: all / event loop / other threads | CPU-bound ceiling (ratio) |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const run of runs) {
  for (const r of run.results) {
    console.log(
      `| ${run.dialect} | ${r.name} | ${f0(r.peak.rate)} | ${(r.peak.rate / allCores).toFixed(2)} | ${f1(r.peak.p50)} / ${f1(r.peak.p99)} | ${f1(r.half.p50)} / ${f1(r.half.p99)} | ${f0(r.peak.cpuPerAnswerUs)} / ${f0(r.peak.mainCpuPerAnswerUs)} / ${f0(r.peak.cpuPerAnswerUs - r.peak.mainCpuPerAnswerUs)} | ${ceiling(r.peak).toFixed(2)} |`,
    );
  }
}
if (perProcess) {
  const [r] = perProcess.results;
  console.log(
    `| sqlite, \`--workers ${cores}\` (one process per core, for comparison) | ${r.name} | ${f0(r.peak.rate)} | ${(r.peak.rate / allCores).toFixed(2)} | ${f1(r.peak.p50)} / ${f1(r.peak.p99)} | ${f1(r.half.p50)} / ${f1(r.half.p99)} | (primary process only) | — |`,
  );
}
const profiled = runs.flatMap((run) => run.results.filter((r) => r.shares).map((r) => ({ run, r })));
if (profiled.length > 0) {
  console.log('');
  console.log(
    "Where each answer's event-loop time goes (the \"event loop\" CPU above, split by the share of the server's CPU profile samples in each category during the peak run; `node --cpu-prof`, a sample every 4 ms, on during the whole run: it costs the server a few percent of the rates above; samples in native code V8 cannot name are left out, so their time is spread over the columns). The RSA column is the verification and the hand-over of each signature to the thread pool, which the samples overstate: a hand-over wakes a signing thread that may take the core from the event loop. The other threads' CPU is the signatures themselves and V8's garbage collector helpers. On PostgreSQL the last column is what the database server's own processes spent per answer, on the same cores.",
  );
  console.log('');
  console.log(
    `| dialect | operation | event loop µs per answer | ${CATEGORIES.join(' | ')} | PostgreSQL server µs per answer |`,
  );
  console.log(`|---|---|---|${CATEGORIES.map(() => '---|').join('')}---|`);
  for (const { run, r } of profiled) {
    const main = r.peak.mainCpuPerAnswerUs;
    const cells = CATEGORIES.map((c) => f0((r.shares.get(c) ?? 0) * main));
    const database = run.dialect === 'postgres' ? f0(r.peak.postgresCpuPerAnswerUs) : '—';
    console.log(`| ${run.dialect} | ${r.name} | ${f0(main)} | ${cells.join(' | ')} | ${database} |`);
  }
}
if (peers.length > 0) {
  console.log('');
  console.log(
    "Peers, in the same run with the same load (the notify-setting read, 16 merchants, pre-signed): servers that only verify the request and sign the answer, the work every signed answer needs, and nothing else (bench/lib/peer-server.mjs). Their ratio is the most this machine allows a Node.js server with this load generator on the same cores; the last column is the sandbox's notify-setting read as a share of the peer's rate.",
  );
  console.log('');
  console.log(
    '| peer | signed answers/s at peak | ratio to all-core bound | p50 / p99 at peak (ms) | p50 / p99 at half load (ms) | server CPU µs per answer: all / event loop / other threads | sandbox notify-setting read / peer (per dialect) |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const p of peers) {
    const shares = runs
      .map((run) => {
        const read = run.results.find((r) => r.name === 'GET /v3/marketing/busifavor/callbacks');
        return read ? `${run.dialect} ${(read.peak.rate / p.peak.rate).toFixed(2)}` : undefined;
      })
      .filter(Boolean)
      .join(', ');
    console.log(
      `| ${p.name} | ${f0(p.peak.rate)} | ${(p.peak.rate / allCores).toFixed(2)} | ${f1(p.peak.p50)} / ${f1(p.peak.p99)} | ${f1(p.half.p50)} / ${f1(p.half.p99)} | ${f0(p.peak.cpuPerAnswerUs)} / ${f0(p.peak.mainCpuPerAnswerUs)} / ${f0(p.peak.cpuPerAnswerUs - p.peak.mainCpuPerAnswerUs)} | ${shares} |`,
    );
  }
}
if (peers.length > 0 && runs.length > 0) {
  const best = peers.reduce((a, b) => (b.peak.rate > a.peak.rate ? b : a));
  const client = runs[0]?.results[0]?.peak.clientCpuPerAnswerUs ?? best.peak.clientCpuPerAnswerUs;
  const budget = (cores * 1e6) / (0.6 * allCores);
  const left = budget - client - best.peak.cpuPerAnswerUs;
  console.log('');
  console.log(
    `Distance to the target, per answer: at 0.6 of the bound the ${cores} cores have ${f0(budget)} µs of CPU per answer; the load generator takes ${f0(client)} and the best peer (${best.name}) ${f0(best.peak.cpuPerAnswerUs)}, so a server may spend about ${f0(left)} µs beyond the verification and the signature and still reach 0.6. What each operation spends beyond the best peer (event loop / other threads, µs per answer; on PostgreSQL also the database server's processes, on the same cores):`,
  );
  console.log('');
  for (const run of runs) {
    for (const r of run.results) {
      const loop = r.peak.mainCpuPerAnswerUs - best.peak.mainCpuPerAnswerUs;
      const others =
        r.peak.cpuPerAnswerUs -
        r.peak.mainCpuPerAnswerUs -
        (best.peak.cpuPerAnswerUs - best.peak.mainCpuPerAnswerUs);
      const database = run.dialect === 'postgres' ? ` + ${f0(r.peak.postgresCpuPerAnswerUs)} PostgreSQL` : '';
      console.log(
        `- ${run.dialect}, ${r.name}: ${(r.peak.rate / allCores).toFixed(2)} of the bound, ${(r.peak.rate / best.peak.rate).toFixed(2)} of the peer; ${f0(loop)} / ${f0(others)}${database}.`,
      );
    }
  }
}
console.log('');
console.log(
  `How to read it: one signature costs ${f0(1e6 / oneCore)} µs of one core here; the server spends the "all" CPU per answer (the event loop parsing, verifying the merchant, querying and answering; the other threads signing on the thread pool, plus V8's GC helpers), and this load generator about ${f0(runs[0]?.results[0]?.peak.clientCpuPerAnswerUs ?? Number.NaN)} µs more. With every core busy the rate cannot pass ${cores} cores ÷ (server + client CPU per answer): the ceiling column, as a ratio to the bound. A ratio below its ceiling is time the cores sat idle (waiting on the database or on a hand-over between threads); a ceiling below 0.6 is CPU spent outside the signature. On PostgreSQL the database's own processes use the same cores and are not counted, so its ceilings are higher than the truth.`,
);
console.log('');
console.log('| dialect | server RSS idle (MB, target < 150) | server RSS peak under load (MB) |');
console.log('|---|---|---|');
for (const run of runs) console.log(`| ${run.dialect} | ${f0(run.rss.idle)} | ${f0(run.rss.peak)} |`);
const odd = runs.flatMap((run) =>
  run.results.flatMap((r) =>
    [r.peak, r.half].flatMap((x) =>
      Object.entries(x.statuses)
        .filter(([s]) => s !== '200')
        .map(([s, n]) => `${run.dialect} ${r.name}: ${n} × ${s}`),
    ),
  ),
);
if (odd.length > 0) console.log(`\nAnswers other than 200: ${odd.join('; ')}.`);
