// wechatpay-node-v3 against the sandbox (docs/clients.md), runnable as written against `npm start`:
//   node examples/wechatpay-node-v3.mjs
// The library hard-codes https://api.mch.weixin.qq.com. Its createHttp hook replaces the HTTP layer
// its own methods use; for APIs it has no method for (all of busifavor), sign with buildAuthorization
// and send the request yourself. Either way only the host changes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WxPay from 'wechatpay-node-v3';

const baseURL = process.env.SANDBOX_URL ?? 'http://127.0.0.1:8080';
const dir = process.env.SANDBOX_DIR ?? '.sandbox';
const WECHAT = 'https://api.mch.weixin.qq.com';

const creds = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8'));
const file = (name) => readFileSync(join(dir, name));
const pay = new WxPay({
  appid: 'wx1234567890abcdef',
  mchid: creds.merchant.mchid,
  publicKey: file(creds.merchant.certificateFile), // the merchant API certificate (the library reads its serial)
  privateKey: file(creds.merchant.privateKeyFile),
  key: creds.merchant.apiV3Key,
});
// The library predates WeChat Pay public keys: it verifies with a serial → PEM map, so put the
// public key there under its PUB_KEY_ID (certificate-mode merchants let get_certificates fill it).
WxPay.certificates[creds.platform.publicKey.keyId] = file(creds.platform.publicKey.publicKeyFile).toString();

// The HTTP layer: the same requests, sent to the sandbox instead of WeChat.
async function send(method, url, headers, body) {
  const res = await fetch(url.replace(WECHAT, baseURL), {
    method,
    headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, data: text ? JSON.parse(text) : undefined };
}
pay.createHttp({
  get: (url, headers) => send('GET', url, headers),
  post: (url, params, headers) => send('POST', url, headers, params),
  upload: () => {
    throw new Error('not used here');
  },
});

/** Signs with the library, sends to the sandbox, and verifies the response signature with the library. */
async function call(method, path, body) {
  const authorization = pay.buildAuthorization(method, `${WECHAT}${path}`, body);
  const res = await send(method, `${WECHAT}${path}`, pay.getHeaders(authorization), body);
  const verified = await pay.verifySign({
    timestamp: res.headers.get('wechatpay-timestamp'),
    nonce: res.headers.get('wechatpay-nonce'),
    serial: res.headers.get('wechatpay-serial'),
    signature: res.headers.get('wechatpay-signature'),
    body: res.text,
    apiSecret: creds.merchant.apiV3Key,
  });
  return { ...res, verified };
}

const mchid = creds.merchant.mchid;
const set = await call('POST', '/v3/marketing/busifavor/callbacks', {
  mchid,
  notify_url: 'https://example.com/wxpay/busifavor',
});
console.log(set.status, set.data, 'verified:', set.verified); // 200 { update_time, notify_url, mchid } verified: true
assert.equal(set.status, 200);
assert.equal(set.verified, true);

const got = await call('GET', `/v3/marketing/busifavor/callbacks?mchid=${mchid}`);
console.log(got.data, 'verified:', got.verified);
assert.deepEqual(got.data, { mchid, notify_url: 'https://example.com/wxpay/busifavor' });
assert.equal(got.verified, true);

// A refused request gets WeChat's error shape and changes nothing.
const bad = await call('POST', '/v3/marketing/busifavor/callbacks', {
  mchid,
  notify_url: 'http://example.com',
});
console.log(bad.status, bad.data); // 400 { code: 'PARAM_ERROR', message: '…' }
assert.equal(bad.status, 400);
