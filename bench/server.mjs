#!/usr/bin/env node
// Server throughput benchmark: signed API requests per second end to end (every 2xx costs one RSA-2048
// signature), reported as a ratio to the all-core RSA-2048 signing bound measured in the same run.
// Loopback only, bounded in time. Run after `npm run build`: node bench/server.mjs [--seconds 5]
import { createPrivateKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { buildAuthorization, buildRequestSigningString, signMessage } from '@wechatpay-sandbox/sdk/protocol';
import { startSandbox } from './lib/sandbox.mjs';

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 5;

/** RSA-2048 signatures per second on one thread with a cached KeyObject. */
const SIGN_LOOP = `
const { generateKeyPairSync, sign } = require('node:crypto');
const { parentPort, workerData } = require('node:worker_threads');
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const msg = Buffer.from('1735689601\\nf4c1a7d2e9b04c3f8a6d5e2b1c0f9a87\\n{"notify_url":"https://example.com/n"}\\n');
const end = Date.now() + workerData.ms; let n = 0;
while (Date.now() < end) { sign('sha256', msg, privateKey); n++; }
parentPort.postMessage(n / (workerData.ms / 1000));`;

function signRate(threads, ms) {
  return Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise((resolve, reject) => {
          const w = new Worker(SIGN_LOOP, { eval: true, workerData: { ms } });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  ).then((rates) => rates.reduce((a, b) => a + b, 0));
}

const cores = availableParallelism();
const oneCore = await signRate(1, seconds * 1000);
const allCores = await signRate(cores, seconds * 1000);

/** Requests per second answered with a signed response by a sandbox of `workers` processes. */
async function measureServer(workers) {
  const dir = mkdtempSync(join(tmpdir(), 'wps-bench-'));
  const { url, child } = await startSandbox(dir, workers);
  try {
    const creds = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8'));
    const key = createPrivateKey(readFileSync(join(dir, creds.merchant.privateKeyFile)));
    const path = '/v3/marketing/busifavor/callbacks';
    // Pre-sign every request so the client's own RSA work is not timed (each needs a fresh nonce).
    const total = Math.ceil(allCores * seconds * 1.2);
    const now = Math.floor(Date.now() / 1000);
    const requests = Array.from({ length: total }, () => {
      const nonce = randomBytes(16).toString('hex');
      const message = buildRequestSigningString({
        method: 'GET',
        canonicalUrl: path,
        timestamp: now,
        nonce,
        body: '',
      });
      const signature = signMessage(message, key);
      return buildAuthorization({
        mchid: creds.merchant.mchid,
        serialNo: creds.merchant.serialNo,
        timestamp: String(now),
        nonce,
        signature,
      });
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const get = (authorization) =>
      new Promise((resolve, reject) => {
        const headers = { Authorization: authorization, Accept: 'application/json', 'User-Agent': 'bench' };
        const req = http.request(`${url}${path}`, { agent, headers }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        });
        req.on('error', reject);
        req.end();
      });
    let next = 0;
    let signed = 0;
    let other = 0;
    const deadline = Date.now() + seconds * 1000;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (Date.now() < deadline && next < requests.length) {
          const status = await get(requests[next++]);
          // 404 (no URL set yet) is a signed error response to an identified merchant: one RSA signature too.
          if (status === 200 || status === 404) signed++;
          else other++;
        }
      }),
    );
    agent.destroy();
    return { rps: signed / ((Date.now() - started) / 1000), other };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

const single = await measureServer(1);
const multi = await measureServer(cores);
console.log('| measure | per second | ratio to all-core sign bound |');
console.log('|---|---|---|');
console.log(`| RSA-2048 sign bound, 1 core | ${oneCore.toFixed(0)} | ${(oneCore / allCores).toFixed(2)} |`);
console.log(`| RSA-2048 sign bound, all ${cores} cores | ${allCores.toFixed(0)} | 1.00 |`);
console.log(
  `| server, 1 process: signed responses | ${single.rps.toFixed(0)} | ${(single.rps / allCores).toFixed(2)} |`,
);
console.log(
  `| server, ${cores} worker processes: signed responses | ${multi.rps.toFixed(0)} | ${(multi.rps / allCores).toFixed(2)} |`,
);
for (const r of [single, multi])
  if (r.other > 0) console.log(`(${r.other} responses were neither 200 nor 404)`);
