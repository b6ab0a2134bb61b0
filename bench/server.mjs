#!/usr/bin/env node
// Server throughput benchmark: signed API requests per second end to end (every 2xx costs one RSA-2048
// signature), reported as a ratio to the all-core RSA-2048 signing bound measured in the same run.
// Loopback only, bounded in time. Run after `npm run build`: node bench/server.mjs [--seconds 5]
import { spawn } from 'node:child_process';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { buildAuthorization, buildRequestSigningString, signMessage } from '@wechatpay-sandbox/sdk/protocol';

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

async function startSandbox(dir) {
  const child = spawn(
    process.execPath,
    ['packages/server/dist/cli/main.js', 'start', '--dir', dir, '--port', '0'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  return { url, child };
}

const cores = availableParallelism();
const oneCore = await signRate(1, seconds * 1000);
const allCores = await signRate(cores, seconds * 1000);

const dir = mkdtempSync(join(tmpdir(), 'wps-bench-'));
const { url, child } = await startSandbox(dir);
try {
  const creds = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8'));
  const key = createPrivateKey(readFileSync(join(dir, creds.merchant.privateKeyFile)));
  const path = '/v3/marketing/busifavor/callbacks';
  // Pre-sign every request so the client's own RSA work is not timed (each needs a fresh nonce).
  const total = Math.ceil(oneCore * seconds * 1.5);
  const now = Math.floor(Date.now() / 1000);
  const requests = Array.from({ length: total }, () => {
    const nonce = randomBytes(16).toString('hex');
    const signature = signMessage(
      buildRequestSigningString({ method: 'GET', canonicalUrl: path, timestamp: now, nonce, body: '' }),
      key,
    );
    return buildAuthorization({
      mchid: creds.merchant.mchid,
      serialNo: creds.merchant.serialNo,
      timestamp: String(now),
      nonce,
      signature,
    });
  });
  // One warm-up setting so the GETs answer 200 (a signed 2xx).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const get = (authorization) =>
    new Promise((resolve, reject) => {
      const req = http.request(
        `${url}${path}`,
        {
          agent,
          headers: { Authorization: authorization, Accept: 'application/json', 'User-Agent': 'bench' },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        },
      );
      req.on('error', reject);
      req.end();
    });
  let next = 0;
  let ok = 0;
  let other = 0;
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (Date.now() < deadline && next < requests.length) {
        const status = await get(requests[next++]);
        if (status === 200 || status === 404) ok++;
        else other++;
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  const rps = ok / elapsed;
  agent.destroy();
  console.log('| measure | per second | ratio |');
  console.log('|---|---|---|');
  console.log(`| RSA-2048 sign bound, 1 core | ${oneCore.toFixed(0)} | |`);
  console.log(`| RSA-2048 sign bound, all ${cores} cores | ${allCores.toFixed(0)} | 1.00 |`);
  console.log(
    `| server: signed API responses (GET busifavor callbacks) | ${rps.toFixed(0)} | ${(rps / allCores).toFixed(2)} of all-core bound |`,
  );
  if (other > 0) console.log(`(${other} responses were neither 200 nor 404)`);
} finally {
  child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
