import { writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindAppidWithUser, reqNo, stockBody } from '../../server/test/busifavor-helpers.js';
import { makeCertificate, scratchDir } from '../../server/test/notifications/fixtures.js';
import {
  createNodeHandler,
  createWechatPayClient,
  type NotificationEvent,
  type NotificationEventOf,
  type WechatPayClient,
} from '../src/index.js';

/**
 * Notifications produced by OUR server's outbox (real COUPON.SEND from a real API send, DELIVERY_PLAN.CHANGE
 * from the simulation API), delivered over HTTPS to a receiver built with createNodeHandler, verified with
 * the client's platform keys (downloaded /v3/certificates + the PUB_KEY_ID key) and decrypted with the
 * merchant's APIv3 key.
 */

const sqlite = DIALECTS.find((d) => d.name === 'sqlite');
const APPID = 'wx5d3c2b1a09f8e7d6';

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 250; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.skipIf(!sqlite?.available)("notifications from our server's outbox, received by the SDK", () => {
  let sandbox: TestSandbox;
  let client: WechatPayClient;
  let receiver: https.Server;
  let url = '';
  const received: NotificationEvent[] = [];
  const errors: unknown[] = [];
  const scratch = scratchDir();

  beforeAll(async () => {
    // A self-signed receiver certificate for 127.0.0.1; the sandbox trusts it as CA.
    const tls = makeCertificate(scratch.dir, 'receiver');
    const caFile = join(scratch.dir, 'ca.pem');
    writeFileSync(caFile, tls.certPem);
    sandbox = await startSandbox({
      dialect: sqlite as (typeof DIALECTS)[number],
      config: { notifyDelivery: true, notifyCaFile: caFile, targetPolicy: 'local' },
    });
    const m = sandbox.merchant;
    const pk = sandbox.server.credentials.platform.publicKey;
    client = createWechatPayClient({
      mchid: m.mchid,
      serialNo: m.serialNo,
      privateKey: m.privateKey,
      apiV3Key: m.apiV3Key,
      baseUrl: sandbox.url,
      verification: { publicKey: { keyId: pk.keyId, key: pk.publicKeyPem }, certificates: 'auto' },
      retry: false,
    });
    const handler = createNodeHandler(
      { apiV3Key: m.apiV3Key, keys: client.platformKeys, onError: (e) => errors.push(e) },
      (event) => {
        received.push(event);
      },
    );
    receiver = https.createServer({ key: tls.keyPem, cert: tls.certPem }, handler);
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(receiver.address() as AddressInfo).port}/wxpay/notify`;
  });
  afterAll(async () => {
    await sandbox?.close();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
    scratch.remove();
  });

  /** The server's record of a notification: state and attempt log. */
  async function recorded(id: string) {
    return waitFor(`notification ${id} to be delivered`, async () => {
      const res = await sandbox.request({ method: 'GET', path: `/sandbox/v1/notifications/${id}` });
      expect(res.status, res.text).toBe(200);
      const detail = res.json<{
        state: string;
        event_type: string;
        attempt_log: Array<{ attempt_no: number; outcome: string; status: number | null }>;
      }>();
      return detail.state === 'pending' ? undefined : detail;
    });
  }

  it('a coupon sent through POST /v3/marketing/busifavor/coupons/send arrives as a typed COUPON.SEND', async () => {
    await client.busifavor.setCallback({ notify_url: url });
    const mchid = sandbox.merchant.mchid;
    const openid = (await bindAppidWithUser(sandbox, APPID)).openids[APPID] as string;
    const stock = await sandbox.request({
      method: 'POST',
      path: '/v3/marketing/busifavor/stocks',
      // The callback carries the user's openid only when the stock names the appid to compute it under.
      body: stockBody(mchid, { notify_config: { notify_appid: APPID } }),
    });
    expect(stock.status, stock.text).toBe(200);
    const stockId = stock.json<{ stock_id: string }>().stock_id;
    const outRequestNo = reqNo('SEND');
    const sent = await sandbox.request({
      method: 'POST',
      path: '/v3/marketing/busifavor/coupons/send',
      body: { openid, appid: APPID, stock_id: stockId, out_request_no: outRequestNo },
    });
    expect(sent.status, sent.text).toBe(200);
    const couponCode = sent.json<{ coupon_code: string }>().coupon_code;

    const event = await waitFor('the COUPON.SEND callback', () =>
      received.find((e) => e.event_type === 'COUPON.SEND' && e.resource.coupon_code === couponCode),
    );
    expect(errors).toEqual([]);
    const send = event as NotificationEventOf<'COUPON.SEND'>;
    expect(send.resource).toMatchObject({
      event_type: 'EVENT_TYPE_BUSICOUPON_SEND',
      coupon_code: couponCode,
      stock_id: stockId,
      openid,
      send_channel: 'BUSICOUPON_SEND_CHANNEL_API',
      send_merchant: mchid,
    });
    expect(send.resource.send_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
    expect(send.original_type).toBe('coupon');
    expect(send.envelope.resource.algorithm).toBe('AEAD_AES_256_GCM');
    const platform = sandbox.server.credentials.platform;
    expect([platform.publicKey.keyId, ...platform.certificates.map((c) => c.serialNo)]).toContain(
      send.verifiedBy,
    );

    const detail = await recorded(send.id);
    expect(detail).toMatchObject({ state: 'delivered', event_type: 'COUPON.SEND' });
    expect(detail.attempt_log).toEqual([
      expect.objectContaining({ attempt_no: 1, outcome: 'delivered', status: 204 }),
    ]);
  });

  it('a DELIVERY_PLAN.CHANGE triggered through the simulation API arrives typed', async () => {
    await client.deliveryPlan.setNotifyUrl(sandbox.merchant.mchid, { notify_url: url });
    const trigger = await sandbox.request({
      method: 'POST',
      path: '/sandbox/v1/delivery-plan/events',
      body: { plan_id: 'PLAN0042', plan_state: 'PAUSED', audit_state: 'PASSED', change_reason: '预算不足' },
    });
    expect(trigger.status, trigger.text).toBe(200);
    const id = trigger.json<{ notification_id: string }>().notification_id;
    const event = await waitFor('the DELIVERY_PLAN.CHANGE callback', () => received.find((e) => e.id === id));
    if (event.event_type !== 'DELIVERY_PLAN.CHANGE') throw new Error(`unexpected ${event.event_type}`);
    expect(event.resource).toMatchObject({
      plan_id: 'PLAN0042',
      plan_state: 'PAUSED',
      audit_state: 'PASSED',
      change_reason: '预算不足',
    });
    expect(event.original_type).toBe('delivery_plan');
    const detail = await recorded(id);
    expect(detail.state).toBe('delivered');
    expect(detail.attempt_log.map((a) => a.status)).toEqual([204]);
  });
});
