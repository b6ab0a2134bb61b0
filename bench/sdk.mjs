#!/usr/bin/env node
// SDK benchmark: request signing and notification verify+decrypt per second for our SDK (built dist),
// wechatpay-node-v3 and wechatpay-axios-plugin, next to the raw node:crypto bound measured in the same run;
// plus installed size and runtime dependency count of each package. Each measurement runs for a fixed time
// (BENCH_MS, default 500 ms) after a warm-up, BENCH_ROUNDS (default 3) times, interleaved. Run `npm run build` first (npm run bench does).
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
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const sdkDist = join(root, 'packages', 'sdk', 'dist', 'index.js');
if (!existsSync(sdkDist)) {
  console.error('packages/sdk/dist is missing: run `npm run build` first');
  process.exit(1);
}
const sdk = await import(sdkDist);
const WxPay = require('wechatpay-node-v3');
const { Rsa, Aes, Formatter, Decorator } = require('wechatpay-axios-plugin');

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_MS = Number(process.env.BENCH_MS ?? 500);
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

async function measure(fn) {
  for (let i = 0; i < 100; i++) await fn();
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < DURATION_MS) {
    for (let i = 0; i < 20; i++) await fn();
    ops += 20;
    elapsed = performance.now() - start;
  }
  return (ops * 1000) / elapsed;
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

// --- Run: contenders interleaved over ROUNDS rounds, best round kept (the machine is shared; a busy moment
// then penalises no contender in particular). ----------------------------------------------------------------
const contenders = {
  rawSign,
  rawNotify,
  ourSign,
  ourNotify,
  nodeV3Sign,
  nodeV3Notify,
  axiosSign,
  axiosNotify,
};
const results = Object.fromEntries(Object.keys(contenders).map((k) => [k, 0]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [key, fn] of Object.entries(contenders))
    results[key] = Math.max(results[key], await measure(fn));
}

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
  `SDK benchmark (one core, best of ${ROUNDS} × ${DURATION_MS} ms per contender, RSA-2048, node ${process.versions.node})\n`,
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
