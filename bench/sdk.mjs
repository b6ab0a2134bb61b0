#!/usr/bin/env node
// SDK benchmark, one run, three parts, for our SDK (built dist), wechatpay-node-v3 and wechatpay-axios-plugin
// next to raw node:crypto / node:http bounds measured in the same run:
//  1. in process: request signing and notification verify+decrypt per second (each contender's output is
//     checked first: a signature must verify, a notification must decrypt);
//  2. against the same local sandbox server (built dist): signed GET /v3/marketing/busifavor/callbacks per
//     second at a fixed concurrency, each response checked (signature verified where the client can);
//  3. installed size and runtime dependency count.
// The machine is shared, so contenders are interleaved: in process in ~5 ms batches round-robin (the rate is
// taken from the median batch), over HTTP in slices of BENCH_HTTP_MS round-robin, BENCH_ROUNDS times.
// Defaults: BENCH_MS=800 (in-process time per contender and round), BENCH_HTTP_MS=1500, BENCH_ROUNDS=3,
// BENCH_CONCURRENCY=16 — about a minute in all. Run `npm run build` first (npm run bench does).
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox } from './lib/sandbox.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const sdkDist = join(root, 'packages', 'sdk', 'dist', 'index.js');
if (!existsSync(sdkDist)) {
  console.error('packages/sdk/dist is missing: run `npm run build` first');
  process.exit(1);
}
const sdk = await import(sdkDist);
const WxPay = require('wechatpay-node-v3');
const { Rsa, Aes, Formatter, Decorator, Wechatpay } = require('wechatpay-axios-plugin');
// wechatpay-node-v3's own HTTP client (its PayRequest uses it but drops the response headers it must verify).
const superagent = createRequire(require.resolve('wechatpay-node-v3'))('superagent');

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_MS = Number(process.env.BENCH_MS ?? 800);
const HTTP_SLICE_MS = Number(process.env.BENCH_HTTP_MS ?? 1500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const API_V3_KEY = 'TestApiV3Key0123456789abcdefABCD';
const MCHID = '1900000001';
const MCH_SERIAL = '5E3F1C2B4A6D8E9F01234567ABCDEF0011223344';
const PLATFORM_SERIAL = '3A6B2C9D1E4F50617283940A1B2C3D4E5F607182';

// Fresh RSA-2048 keys for this run: merchant (signs requests) and platform (signs notifications).
const pem = (k) => k.export({ type: 'pkcs8', format: 'pem' });
const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
const merchantPem = pem(merchant.privateKey);
const platformPubPem = platform.publicKey.export({ type: 'spki', format: 'pem' });
const merchantKey = createPrivateKey(merchantPem);
const platformPub = createPublicKey(platformPubPem);

// One request to sign and one notification to verify + decrypt, the same for every contender.
const requestPath = '/v3/marketing/busifavor/coupons/use';
const requestBody = JSON.stringify({
  coupon_code: '1234567890123456789012',
  stock_id: '128888000000001',
  appid: 'wx1234567890abcdef',
  use_time: '2025-01-01T08:00:00+08:00',
  use_request_no: '1900000001202501010000001',
});
const plaintext = JSON.stringify({
  event_type: 'EVENT_TYPE_BUSICOUPON_SEND',
  coupon_code: 'CODE0001',
  stock_id: '1212000000000001',
  send_time: '2025-01-01T08:00:00+08:00',
  openid: 'oTest_openid_0001',
  unionid: '',
  send_channel: 'BUSICOUPON_SEND_CHANNEL_API',
  send_merchant: MCHID,
});
const resourceNonce = 'k9x2LmQ7pR4s';
const cipher = createCipheriv('aes-256-gcm', Buffer.from(API_V3_KEY), Buffer.from(resourceNonce));
cipher.setAAD(Buffer.from('coupon'));
const ciphertext = Buffer.concat([
  cipher.update(plaintext, 'utf8'),
  cipher.final(),
  cipher.getAuthTag(),
]).toString('base64');
const notificationBody = JSON.stringify({
  id: '8b33f79f-8869-5ae5-b41b-3c0b59f957d0',
  create_time: '2025-01-01T08:00:05+08:00',
  resource_type: 'encrypt-resource',
  event_type: 'COUPON.SEND',
  summary: '商家券领券通知',
  resource: {
    original_type: 'coupon',
    algorithm: 'AEAD_AES_256_GCM',
    ciphertext,
    associated_data: 'coupon',
    nonce: resourceNonce,
  },
});
const ts = String(Math.floor(Date.now() / 1000));
const nonce = randomBytes(16).toString('hex');
const notificationSignature = sign(
  'sha256',
  Buffer.from(`${ts}\n${nonce}\n${notificationBody}\n`),
  platform.privateKey,
).toString('base64');
const headers = {
  'wechatpay-timestamp': ts,
  'wechatpay-nonce': nonce,
  'wechatpay-signature': notificationSignature,
  'wechatpay-serial': PLATFORM_SERIAL,
  'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
};

const median = (xs) => {
  const sorted = [...xs].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
};

/**
 * Ops per second of each contender, sampled in interleaved batches of about 5 ms each (sized per contender
 * from its warm-up), round-robin: a busy moment on the shared machine hits every contender alike. The rate
 * comes from the median batch.
 */
async function measureInterleaved(contenders) {
  const entries = Object.entries(contenders);
  const size = {};
  for (const [key, fn] of entries) {
    const start = performance.now();
    for (let i = 0; i < 50; i++) await fn();
    size[key] = Math.max(1, Math.round(5 / ((performance.now() - start) / 50)));
  }
  const batches = Object.fromEntries(entries.map(([k]) => [k, []]));
  const spent = Object.fromEntries(entries.map(([k]) => [k, 0]));
  for (let turn = 0; entries.some(([k]) => spent[k] < DURATION_MS * ROUNDS); turn++) {
    for (let j = 0; j < entries.length; j++) {
      const [key, fn] = entries[(turn + j) % entries.length];
      const start = performance.now();
      for (let i = 0; i < size[key]; i++) await fn();
      const ms = performance.now() - start;
      batches[key].push(ms / size[key]);
      spent[key] += ms;
    }
  }
  return Object.fromEntries(entries.map(([k]) => [k, 1000 / median(batches[k])]));
}

function check(name, ok) {
  if (!ok) {
    console.error(`${name} produced a wrong result; refusing to report its speed`);
    process.exit(1);
  }
}

// --- Raw node:crypto bound: cached KeyObjects, nothing else. -------------------------------------------
const rawSign = () =>
  sign(
    'sha256',
    Buffer.from(`POST\n${requestPath}\n${ts}\n${nonce}\n${requestBody}\n`),
    merchantKey,
  ).toString('base64');
const rawNotify = () => {
  const okSig = verify(
    'sha256',
    Buffer.from(`${ts}\n${nonce}\n${notificationBody}\n`),
    platformPub,
    Buffer.from(notificationSignature, 'base64'),
  );
  const r = JSON.parse(notificationBody).resource;
  const raw = Buffer.from(r.ciphertext, 'base64');
  const d = createDecipheriv('aes-256-gcm', Buffer.from(API_V3_KEY), Buffer.from(r.nonce));
  d.setAAD(Buffer.from(r.associated_data));
  d.setAuthTag(raw.subarray(raw.length - 16));
  const out = Buffer.concat([d.update(raw.subarray(0, raw.length - 16)), d.final()]).toString('utf8');
  return okSig && JSON.parse(out);
};
check('raw notify', rawNotify().coupon_code === 'CODE0001');

// --- Our SDK: the same signer and parser the client and the webhook adapters use. -----------------------
const ourSigner = sdk.createRequestSigner({ mchid: MCHID, serialNo: MCH_SERIAL, privateKey: merchantPem });
const ourSign = () =>
  ourSigner({ method: 'POST', canonicalUrl: requestPath, body: requestBody }).authorization;
const ourParser = sdk.createNotificationParser({
  apiV3Key: API_V3_KEY,
  keys: { publicKey: { keyId: 'PUB_KEY_ID_01', key: platformPubPem } },
});
const ourHeaders = { ...headers, 'wechatpay-serial': 'PUB_KEY_ID_01' };
const ourNotify = () => ourParser({ headers: ourHeaders, body: notificationBody });
check('sdk notify', (await ourNotify()).resource.coupon_code === 'CODE0001');

// --- wechatpay-node-v3: its documented calls (keys held as PEM buffers, as its constructor takes them). ---
const nodeV3 = new WxPay({
  appid: 'wx1234567890abcdef',
  mchid: MCHID,
  serial_no: MCH_SERIAL,
  publicKey: Buffer.from(platformPubPem),
  privateKey: Buffer.from(merchantPem),
  key: API_V3_KEY,
});
WxPay.certificates[PLATFORM_SERIAL] = platformPubPem; // what fetchCertificates stores
const nodeV3Sign = () =>
  nodeV3.buildAuthorization('POST', `https://api.mch.weixin.qq.com${requestPath}`, JSON.parse(requestBody));
const nodeV3Notify = async () => {
  const ok = await nodeV3.verifySign({
    timestamp: ts,
    nonce,
    body: notificationBody,
    serial: PLATFORM_SERIAL,
    signature: notificationSignature,
  });
  const r = JSON.parse(notificationBody).resource;
  return ok && nodeV3.decipher_gcm(r.ciphertext, r.associated_data, r.nonce);
};
check('wechatpay-node-v3 notify', (await nodeV3Notify()).coupon_code === 'CODE0001');

// --- wechatpay-axios-plugin: its request interceptor, and Rsa/Aes/Formatter for callbacks (README usage). --
const axiosSigner = Decorator.requestInterceptor();
const axiosKey = Rsa.from(merchantPem, Rsa.KEY_TYPE_PRIVATE); // Wechatpay's constructor converts once
const axiosSign = () =>
  axiosSigner({
    method: 'post',
    url: requestPath,
    baseURL: 'https://api.mch.weixin.qq.com/',
    data: JSON.parse(requestBody),
    headers: {},
    mchid: MCHID,
    serial: MCH_SERIAL,
    privateKey: axiosKey,
  }).headers.Authorization;
const axiosNotify = () => {
  const ok = Rsa.verify(
    Formatter.response(ts, nonce, notificationBody),
    notificationSignature,
    platformPubPem,
  );
  const r = JSON.parse(notificationBody).resource;
  return ok && JSON.parse(Aes.AesGcm.decrypt(r.ciphertext, API_V3_KEY, r.nonce, r.associated_data));
};
check('wechatpay-axios-plugin notify', axiosNotify().coupon_code === 'CODE0001');

/** Whether an Authorization header carries a signature of the request by the merchant key. */
function authorizationVerifies(authorization) {
  const fields = Object.fromEntries([...authorization.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  const message = `POST\n${requestPath}\n${fields.timestamp}\n${fields.nonce_str}\n${requestBody}\n`;
  return (
    authorization.startsWith('WECHATPAY2-SHA256-RSA2048 ') &&
    fields.mchid === MCHID &&
    fields.serial_no === MCH_SERIAL &&
    verify('sha256', Buffer.from(message), merchant.publicKey, Buffer.from(fields.signature ?? '', 'base64'))
  );
}
const rawAuthorization = () =>
  `WECHATPAY2-SHA256-RSA2048 mchid="${MCHID}",nonce_str="${nonce}",timestamp="${ts}",serial_no="${MCH_SERIAL}",signature="${rawSign()}"`;
check('raw sign', authorizationVerifies(rawAuthorization()));
check('sdk sign', authorizationVerifies(ourSign()));
check('wechatpay-node-v3 sign', authorizationVerifies(nodeV3Sign()));
check('wechatpay-axios-plugin sign', authorizationVerifies(axiosSign()));

// --- Installed size and runtime dependencies (transitive, from node_modules). -----------------------------
function dirSize(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules') continue;
      total += dirSize(p);
    } else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}
function packageDir(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}
function footprint(dir) {
  const seen = new Map();
  const walk = (pkgDir) => {
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      const depDir = packageDir(dep, pkgDir);
      if (!depDir || seen.has(depDir)) continue;
      seen.set(depDir, dirSize(depDir));
      walk(depDir);
    }
  };
  walk(dir);
  return { bytes: dirSize(dir) + [...seen.values()].reduce((a, b) => a + b, 0), deps: seen.size };
}
const sdkDir = join(root, 'packages', 'sdk');
const sizes = {
  sdk: {
    bytes: dirSize(join(sdkDir, 'dist')) + statSync(join(sdkDir, 'package.json')).size,
    deps: Object.keys(JSON.parse(readFileSync(join(sdkDir, 'package.json'), 'utf8')).dependencies ?? {})
      .length,
  },
  nodeV3: footprint(packageDir('wechatpay-node-v3', root)),
  axios: footprint(packageDir('wechatpay-axios-plugin', root)),
};

// --- Part 1, in process. ------------------------------------------------------------------------------
const results = await measureInterleaved({
  rawSign,
  rawNotify,
  ourSign,
  ourNotify,
  nodeV3Sign,
  nodeV3Notify,
  axiosSign,
  axiosNotify,
});

console.error(`in-process part done in ${(performance.now() / 1000).toFixed(0)} s`);

// --- Part 2, signed requests against the sandbox server (built dist, one process, loopback). --------------

const sandboxDir = mkdtempSync(join(tmpdir(), 'wps-bench-sdk-'));
const sandbox = await startSandbox(sandboxDir);
let httpResults;
try {
  const creds = JSON.parse(readFileSync(join(sandboxDir, 'credentials.json'), 'utf8'));
  const m = creds.merchant;
  const mPem = readFileSync(join(sandboxDir, m.privateKeyFile), 'utf8');
  const mKey = createPrivateKey(mPem);
  const keyId = creds.platform.publicKey.keyId;
  const pPem = readFileSync(join(sandboxDir, creds.platform.publicKey.publicKeyFile), 'utf8');
  const pKey = createPublicKey(pPem);
  const path = `/v3/marketing/busifavor/callbacks?mchid=${m.mchid}`;
  const notifyUrl = 'https://merchant.example.com/wxpay/busifavor';
  const expectBody = (data, who) => {
    if (data?.notify_url !== notifyUrl) throw new Error(`${who}: unexpected answer ${JSON.stringify(data)}`);
  };

  // Raw bound: node:http keep-alive + node:crypto sign and response verify with cached KeyObjects.
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const rawGet = () =>
    new Promise((resolve, reject) => {
      const t = String(Math.floor(Date.now() / 1000));
      const n = randomBytes(16).toString('hex');
      const sig = sign('sha256', Buffer.from(`GET\n${path}\n${t}\n${n}\n\n`), mKey).toString('base64');
      const authorization = `WECHATPAY2-SHA256-RSA2048 mchid="${m.mchid}",nonce_str="${n}",timestamp="${t}",serial_no="${m.serialNo}",signature="${sig}"`;
      const req = http.request(
        `${sandbox.url}${path}`,
        { agent, headers: { Authorization: authorization, Accept: 'application/json', 'User-Agent': 'raw' } },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const h = res.headers;
            const ok =
              res.statusCode === 200 &&
              h['wechatpay-serial'] === keyId &&
              verify(
                'sha256',
                Buffer.from(`${h['wechatpay-timestamp']}\n${h['wechatpay-nonce']}\n${text}\n`),
                pKey,
                Buffer.from(String(h['wechatpay-signature']), 'base64'),
              );
            if (!ok) reject(new Error(`raw: ${res.statusCode} or bad signature`));
            else resolve(expectBody(JSON.parse(text), 'raw'));
          });
        },
      );
      req.on('error', reject);
      req.end();
    });

  // Our client: verification on (public-key mode), no retries.
  const client = sdk.createWechatPayClient({
    mchid: m.mchid,
    serialNo: m.serialNo,
    privateKey: mPem,
    apiV3Key: m.apiV3Key,
    baseUrl: sandbox.url,
    verification: { publicKey: { keyId, key: pPem } },
    retry: false,
  });
  await client.busifavor.setCallback({ mchid: m.mchid, notify_url: notifyUrl });
  const ourGet = async () => expectBody(await client.busifavor.getCallback({ mchid: m.mchid }), 'sdk');

  // wechatpay-node-v3: buildAuthorization + getHeaders, its superagent, then its verifySign (it does not
  // verify responses by itself; a merchant has to call it).
  const pay = new WxPay({
    appid: 'wx1234567890abcdef',
    mchid: m.mchid,
    serial_no: m.serialNo,
    publicKey: Buffer.from(readFileSync(join(sandboxDir, m.certificateFile))),
    privateKey: Buffer.from(mPem),
    key: m.apiV3Key,
  });
  WxPay.certificates[keyId] = pPem; // it predates public keys: its verifier reads this serial→key map
  const nodeV3Get = async () => {
    // It signs the URL minus https://api.mch.weixin.qq.com only, so sign that URL and send to the sandbox.
    const authorization = pay.buildAuthorization('GET', `https://api.mch.weixin.qq.com${path}`);
    const res = await superagent.get(`${sandbox.url}${path}`).set(pay.getHeaders(authorization));
    const ok = await pay.verifySign({
      timestamp: res.headers['wechatpay-timestamp'],
      nonce: res.headers['wechatpay-nonce'],
      body: res.text,
      serial: res.headers['wechatpay-serial'],
      signature: res.headers['wechatpay-signature'],
    });
    if (!ok) throw new Error('wechatpay-node-v3: bad signature');
    expectBody(JSON.parse(res.text), 'wechatpay-node-v3');
  };

  // wechatpay-axios-plugin: its Wechatpay client verifies every response against `certs` itself.
  const wxpay = new Wechatpay({
    mchid: m.mchid,
    serial: m.serialNo,
    privateKey: mPem,
    certs: { [keyId]: pPem },
    baseURL: sandbox.url,
  });
  const axiosGet = async () =>
    expectBody(
      (await wxpay.v3.marketing.busifavor.callbacks.get({ params: { mchid: m.mchid } })).data,
      'axios',
    );

  /** Requests per second of `fn` at CONCURRENCY in flight for `ms`. */
  async function load(fn, ms) {
    let done = 0;
    const deadline = performance.now() + ms;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < deadline) {
          await fn();
          done++;
        }
      }),
    );
    return { done, ms: performance.now() - start };
  }
  const httpContenders = { rawGet, ourGet, nodeV3Get, axiosGet };
  for (const fn of Object.values(httpContenders)) await load(fn, 300); // warm-up, and fails fast if wrong
  const totals = Object.fromEntries(Object.keys(httpContenders).map((k) => [k, { done: 0, ms: 0 }]));
  for (let round = 0; round < ROUNDS; round++) {
    const keys = Object.keys(httpContenders);
    for (let j = 0; j < keys.length; j++) {
      const key = keys[(round + j) % keys.length];
      const r = await load(httpContenders[key], HTTP_SLICE_MS);
      totals[key].done += r.done;
      totals[key].ms += r.ms;
    }
  }
  agent.destroy();
  httpResults = Object.fromEntries(Object.entries(totals).map(([k, t]) => [k, (t.done * 1000) / t.ms]));
} finally {
  sandbox.child.kill('SIGTERM');
  await new Promise((r) => sandbox.child.once('exit', r));
  rmSync(sandboxDir, { recursive: true, force: true });
}

console.error(`HTTP part done at ${(performance.now() / 1000).toFixed(0)} s`);

// --- Output. ----------------------------------------------------------------------------------------------
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const ratio = (n, bound) => (n / bound).toFixed(2);
const kb = (b) => `${(b / 1024).toFixed(0)} KiB`;
const rows = [
  ['node:crypto bound', results.rawSign, results.rawNotify, '—', '—'],
  ['@wechatpay-sandbox/sdk', results.ourSign, results.ourNotify, kb(sizes.sdk.bytes), String(sizes.sdk.deps)],
  [
    'wechatpay-node-v3',
    results.nodeV3Sign,
    results.nodeV3Notify,
    kb(sizes.nodeV3.bytes),
    String(sizes.nodeV3.deps),
  ],
  [
    'wechatpay-axios-plugin',
    results.axiosSign,
    results.axiosNotify,
    kb(sizes.axios.bytes),
    String(sizes.axios.deps),
  ],
];
console.log(
  `SDK benchmark, node ${process.versions.node}, RSA-2048. In process: one core, median of ~5 ms batches ` +
    `interleaved over ${ROUNDS} × ${DURATION_MS} ms per contender.\n`,
);
console.log(
  '| client | sign request /s | ratio | verify+decrypt notification /s | ratio | installed size | runtime deps |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const [name, s, n, size, deps] of rows) {
  console.log(
    `| ${name} | ${fmt(s)} | ${ratio(s, results.rawSign)} | ${fmt(n)} | ${ratio(n, results.rawNotify)} | ${size} | ${deps} |`,
  );
}
console.log('\nSizes include transitive runtime dependencies; the SDK size is its built dist.');
console.log(
  `\nSigned GET /v3/marketing/busifavor/callbacks against one local sandbox process (same machine), ` +
    `${CONCURRENCY} in flight, ${ROUNDS} × ${HTTP_SLICE_MS} ms slices per client, every response checked ` +
    '(signature verified).\n',
);
console.log('| client | requests /s | ratio to raw node:http client | ratio to in-process sign bound |');
console.log('|---|---:|---:|---:|');
for (const [name, key] of [
  ['raw node:http + node:crypto', 'rawGet'],
  ['@wechatpay-sandbox/sdk', 'ourGet'],
  ['wechatpay-node-v3 (+ its verifySign)', 'nodeV3Get'],
  ['wechatpay-axios-plugin', 'axiosGet'],
]) {
  const rps = httpResults[key];
  console.log(
    `| ${name} | ${fmt(rps)} | ${ratio(rps, httpResults.rawGet)} | ${ratio(rps, results.rawSign)} |`,
  );
}
console.log(
  '\nThe server signs every response and the client signs every request, on the same 2 cores: the raw ' +
    'client is the bound for a client against this server.',
);
