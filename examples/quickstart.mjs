// Quick start and worked example of the README, runnable as written against `npm start`:
//   node examples/quickstart.mjs
// SANDBOX_URL and SANDBOX_DIR point it at another server (default http://127.0.0.1:8080 and .sandbox).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signParamsHmacSha256 } from '@wechatpay-sandbox/sdk/protocol';
import { Wechatpay } from 'wechatpay-axios-plugin';

const baseURL = process.env.SANDBOX_URL ?? 'http://127.0.0.1:8080';
const dir = process.env.SANDBOX_DIR ?? '.sandbox';

const creds = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8'));
const file = (name) => readFileSync(join(dir, name), 'utf8');
const wxpay = new Wechatpay({
  mchid: creds.merchant.mchid,
  serial: creds.merchant.serialNo,
  privateKey: file(creds.merchant.privateKeyFile),
  certs: { [creds.platform.publicKey.keyId]: file(creds.platform.publicKey.publicKeyFile) },
  baseURL,
});

const set = await wxpay.v3.marketing.busifavor.callbacks.post({
  mchid: creds.merchant.mchid,
  notify_url: 'https://example.com/wxpay/busifavor',
});
console.log(set.status, set.data); // 200 { update_time: '…+08:00', notify_url: '…', mchid: '…' }
const got = await wxpay.v3.marketing.busifavor.callbacks.get();
console.log(got.data); // the response signature was verified with the WeChat Pay public key

// ---- Worked example: create a stock, send it to a simulated user, use it, query it ----
const mchid = creds.merchant.mchid;
const appid = 'wx1234567890abcdef';
const bj = (ms) => `${new Date(ms + 8 * 3600e3).toISOString().slice(0, 19)}+08:00`;
const now = Date.now();

// 1. Simulation API (/sandbox/v1, signed like /v3): bind an appid, create a user with an openid for it.
await wxpay.sandbox.v1.appids.post({ appid });
const { data: user } = await wxpay.sandbox.v1.users.post({ appids: [appid] });
const openid = user.openids[appid];

// 2. Create a stock (seed 002).
const { data: stock } = await wxpay.v3.marketing.busifavor.stocks.post({
  stock_name: '满50减5',
  belong_merchant: mchid,
  goods_name: '全场通用',
  stock_type: 'NORMAL',
  coupon_use_rule: {
    coupon_available_time: { available_begin_time: bj(now), available_end_time: bj(now + 30 * 86400e3) },
    fixed_normal_coupon: { discount_amount: 500, transaction_minimum: 5000 },
    use_method: 'OFF_LINE',
  },
  stock_send_rule: { max_coupons: 100, max_coupons_per_user: 1 },
  out_request_no: `stock${now}`,
  coupon_code_mode: 'WECHATPAY_MODE',
});
console.log('stock', stock.stock_id); // 15 digits

// 3. Send it as the mini-program plugin would: parameters signed with the APIv2 key (HMAC-SHA256).
const params = [{ stock_id: stock.stock_id, out_request_no: `send${now}` }];
const sign = signParamsHmacSha256(
  { send_coupon_merchant: mchid, stock_id0: stock.stock_id, out_request_no0: params[0].out_request_no },
  creds.merchant.apiV2Key,
);
const { data: sent } = await wxpay.sandbox.v1.busifavor.send.miniapp.post({
  appid,
  openid,
  send_coupon_merchant: mchid,
  send_coupon_params: params,
  sign,
});
const coupon_code = sent.send_coupon_result[0].coupon_code; // and a COUPON.SEND callback is queued
console.log('coupon', coupon_code, sent.send_coupon_result[0].code); // 22 digits, SUCCESS

// 4. Use it (核销), then 5. query it.
await wxpay.v3.marketing.busifavor.coupons.use.post({
  coupon_code,
  stock_id: stock.stock_id,
  appid,
  use_time: bj(Date.now()),
  use_request_no: `use${now}`,
});
const { data: coupon } =
  await wxpay.v3.marketing.busifavor.users._openid_.coupons._coupon_code_.appids._appid_.get({
    openid,
    coupon_code,
    appid,
  });
console.log(coupon.coupon_state); // USED
assert.equal(coupon.coupon_state, 'USED');

// The COUPON.SEND callback waits in the outbox (the notify URL above is not reachable from here).
const { data: queued } = await wxpay.sandbox.v1.notifications.get({ params: { event_type: 'COUPON.SEND' } });
console.log(queued.data.map((n) => `${n.event_type} ${n.id} ${n.state}`));
assert.ok(queued.data.some((n) => n.event_type === 'COUPON.SEND'));
