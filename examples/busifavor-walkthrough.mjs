// docs/busifavor-walkthrough.md, step by step, runnable as written against `npm start`:
//   node examples/busifavor-walkthrough.mjs
// SANDBOX_URL and SANDBOX_DIR point it at another server (default http://127.0.0.1:8080 and .sandbox).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wechatpay } from 'wechatpay-axios-plugin';

const baseURL = process.env.SANDBOX_URL ?? 'http://127.0.0.1:8080';
const dir = process.env.SANDBOX_DIR ?? '.sandbox';

const c = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8'));
const file = (f) => readFileSync(join(dir, f));
const mchid = c.merchant.mchid;
const wxpay = new Wechatpay({
  mchid,
  serial: c.merchant.serialNo,
  privateKey: file(c.merchant.privateKeyFile),
  certs: { [c.platform.publicKey.keyId]: file(c.platform.publicKey.publicKeyFile) },
  baseURL,
});
const appid = 'wx1234567890abcdef';
const now = Date.now();
const bj = (ms) => `${new Date(ms + 8 * 3600e3).toISOString().slice(0, 19)}+08:00`;

// ---- 1. Bind an appid and create a simulated user ----
await wxpay.sandbox.v1.appids.post({ appid });
const { data: user } = await wxpay.sandbox.v1.users.post({ appids: [appid] });
const openid = user.openids[appid];
// { user_id, unionid, natural_person_id, suspicious: false, openids: { wx1234…: 'o…' } }

// ---- 2. Create a stock ----
const { data: stock } = await wxpay.v3.marketing.busifavor.stocks.post({
  stock_name: '8月1日活动券',
  belong_merchant: mchid,
  goods_name: '全场通用',
  stock_type: 'NORMAL',
  coupon_use_rule: {
    coupon_available_time: { available_begin_time: bj(now), available_end_time: bj(now + 30 * 86400e3) },
    fixed_normal_coupon: { discount_amount: 500, transaction_minimum: 5000 },
    use_method: 'OFF_LINE',
  },
  stock_send_rule: { max_coupons: 100, max_coupons_per_user: 1 },
  out_request_no: `${mchid}20260801${now}`,
  coupon_code_mode: 'WECHATPAY_MODE',
  notify_config: { notify_appid: appid }, // COUPON.SEND then carries openid/unionid
});
// { stock_id: '123456789012345', create_time: '…+08:00' }

// ---- 3. Send the coupon as the mini-program plugin would ----
// The plugin's parameters are signed with the APIv2 key: HMAC-SHA256 over the flattened, sorted
// parameters followed by `&key=…`, upper-case hex (our SDK: signParamsHmacSha256(flat, apiV2Key)).
function pluginSign(flat, key) {
  const text = `${Object.keys(flat)
    .sort()
    .map((k) => `${k}=${flat[k]}`)
    .join('&')}&key=${key}`;
  return createHmac('sha256', key).update(text).digest('hex').toUpperCase();
}
async function sendCoupon(toOpenid, outRequestNo) {
  const params = [{ stock_id: stock.stock_id, out_request_no: outRequestNo }];
  const flat = { send_coupon_merchant: mchid, stock_id0: stock.stock_id, out_request_no0: outRequestNo };
  const { data } = await wxpay.sandbox.v1.busifavor.send.miniapp.post({
    appid,
    openid: toOpenid,
    send_coupon_merchant: mchid,
    send_coupon_params: params,
    sign: pluginSign(flat, c.merchant.apiV2Key),
  });
  // { errcode: 'OK', msg: 'OK', send_coupon_result: [{ stock_id, out_request_no, coupon_code, code: 'SUCCESS', message }] }
  assert.equal(data.send_coupon_result[0].code, 'SUCCESS');
  return data.send_coupon_result[0].coupon_code;
}
const couponCode = await sendCoupon(openid, `send${now}`);

// ---- 4. Use (核销) the coupon ----
const { data: used } = await wxpay.v3.marketing.busifavor.coupons.use.post({
  coupon_code: couponCode,
  stock_id: stock.stock_id,
  appid,
  use_time: bj(Date.now()),
  use_request_no: `use${now}`,
});
// { stock_id, openid, wechatpay_use_time }
assert.equal(used.openid, openid);

// ---- 5. Query ----
// Openids contain upper-case letters: pass them as placeholders, not as chain segments.
const { data: one } =
  await wxpay.v3.marketing.busifavor.users._openid_.coupons._coupon_code_.appids._appid_.get({
    openid,
    coupon_code: couponCode,
    appid,
  });
assert.equal(one.coupon_state, 'USED');
const { data: list } = await wxpay.v3.marketing.busifavor.users._openid_.coupons.get({
  openid,
  params: { appid, creator_merchant: mchid, coupon_state: 'USED', offset: 0, limit: 20 },
});
assert.equal(list.total_count, 1);
const { data: info } = await wxpay.v3.marketing.busifavor.stocks[stock.stock_id].get();
assert.deepEqual(info.send_count_information, { total_send_num: 1, total_send_amount: 500 });

// ---- 6. Rehearse retries with injected faults ----
await wxpay.v3.marketing.busifavor.coupons.return.post({
  coupon_code: couponCode,
  stock_id: stock.stock_id,
  return_request_no: `ret${now}`,
}); // USED → SENDED, as after a refund
await wxpay.sandbox.v1.faults.post({
  method: 'POST',
  path: '/v3/marketing/busifavor/coupons/use',
  code: 'SYSTEM_ERROR',
  count: 1,
});
const body = {
  coupon_code: couponCode,
  stock_id: stock.stock_id,
  appid,
  use_time: bj(Date.now()),
  use_request_no: `use2${now}`,
};
const failed = await wxpay.v3.marketing.busifavor.coupons.use.post(body).catch((e) => e.response);
assert.equal(failed.status, 500); // SYSTEM_ERROR, nothing changed
const retried = await wxpay.v3.marketing.busifavor.coupons.use.post(body); // 200, the coupon is USED
const again = await wxpay.v3.marketing.busifavor.coupons.use.post(body); // 200 again, same answer
assert.deepEqual(again.data, retried.data);

// ---- 7. Move business time ----
// A second user gets a coupon that stays SENDED; 31 days later it reads EXPIRED.
const { data: other } = await wxpay.sandbox.v1.users.post({ appids: [appid] });
const otherOpenid = other.openids[appid];
const unusedCode = await sendCoupon(otherOpenid, `send2${now}`);
await wxpay.sandbox.v1.clock.post({ action: 'advance', seconds: 31 * 86400 });
const { data: later } =
  await wxpay.v3.marketing.busifavor.users._openid_.coupons._coupon_code_.appids._appid_.get({
    openid: otherOpenid,
    coupon_code: unusedCode,
    appid,
  });
assert.equal(later.coupon_state, 'EXPIRED');
const late = await wxpay.v3.marketing.busifavor.coupons.use
  .post({
    coupon_code: unusedCode,
    stock_id: stock.stock_id,
    appid,
    use_time: bj(now + 31 * 86400e3),
    use_request_no: `use3${now}`,
  })
  .catch((e) => e.response);
assert.equal(late.status, 403);
assert.equal(late.data.code, 'RULE_LIMIT');
await wxpay.sandbox.v1.clock.post({ action: 'resume', allow_backwards: true }); // back to wall time

console.log(
  `walkthrough done: stock ${stock.stock_id}, coupons ${couponCode} (USED) and ${unusedCode} (EXPIRED)`,
);
