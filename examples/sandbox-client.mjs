// The SDK's sandbox client (packages/sdk/README.md, "Sandbox client"), runnable as written against
// `npm start` after `npm run build`:
//   node examples/sandbox-client.mjs
// SANDBOX_URL and SANDBOX_DIR point it at another server (default http://127.0.0.1:8080 and .sandbox).
import { createSandboxClient, formatBeijingTime } from '@wechatpay-sandbox/sdk';

const sandbox = createSandboxClient({
  dir: process.env.SANDBOX_DIR ?? '.sandbox', // what `wechatpay-sandbox init` wrote
  baseUrl: process.env.SANDBOX_URL ?? 'http://127.0.0.1:8080',
  onRetry: (e) => console.log(`retried ${e.method} ${e.url}: ${e.status} ${e.code} (${e.injectedFault})`),
});

// A simulated user under an appid bound to the merchant.
const appid = 'wxsandboxclient001';
await sandbox.appids.bind({ appid });
const user = await sandbox.users.create({ appids: [appid] });
const openid = user.openids[appid];

// A stock, through the APIv3 client of the same merchant (sandbox.api).
const { stock_id } = await sandbox.api.busifavor.createStock({
  stock_name: '满10减1',
  belong_merchant: sandbox.mchid,
  goods_name: '全场通用',
  stock_type: 'NORMAL',
  coupon_use_rule: {
    coupon_available_time: {
      available_begin_time: formatBeijingTime(Date.now()),
      available_end_time: formatBeijingTime(Date.now() + 7 * 86400_000),
    },
    fixed_normal_coupon: { discount_amount: 100, transaction_minimum: 1000 },
    use_method: 'OFF_LINE',
  },
  stock_send_rule: { max_coupons: 100, max_coupons_per_user: 1 },
  out_request_no: `stock-${Date.now()}`,
  coupon_code_mode: 'WECHATPAY_MODE',
});

// One injected 500: the client's retry absorbs it, and onRetry shows it (with the rule's id).
const rule = await sandbox.faults.create({
  method: 'GET',
  path: '/v3/marketing/busifavor/stocks/{stock_id}',
  code: 'SYSTEM_ERROR',
  count: 1,
});
await sandbox.api.busifavor.getStock(stock_id);
await sandbox.faults.delete(rule.id);

// The mini-program plugin's sendCoupon; the client signs the APIv2 HMAC.
const sent = await sandbox.send.miniapp({
  appid,
  openid,
  send_coupon_params: [{ stock_id, out_request_no: `mini-${Date.now()}` }],
});
const [{ code, coupon_code }] = sent.send_coupon_result;
console.log(sent.errcode, code, coupon_code); // OK SUCCESS 1234567890123456789012

// The COUPON.SEND callback it queued, decrypted.
const { data: newest } = await sandbox.notifications.list({ event_type: 'COUPON.SEND', limit: 1 });
const notification = await sandbox.notifications.show(newest[0].id);
console.log(notification.event_type, notification.plaintext.coupon_code === coupon_code); // COUPON.SEND true

// Eight days later the coupon reads EXPIRED; then back to wall time.
await sandbox.clock.advance(8 * 86400);
const coupon = await sandbox.api.busifavor.getUserCoupon({ openid, coupon_code, appid });
console.log(coupon.coupon_state); // EXPIRED
await sandbox.clock.resume({ allow_backwards: true });
