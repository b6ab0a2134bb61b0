import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageGenerationTrigger, receiverCertificate, startReceiver, type TestReceiver } from './fixtures.js';

/** The pipeline inside a running sandbox: notify URL set through /v3, events and operations through /sandbox/v1. */

const receiverCert = receiverCertificate();

const sqlite = DIALECTS[0];

describe.skipIf(!sqlite?.available)('notifications in a running sandbox (sqlite)', () => {
  let sandbox: TestSandbox;
  let receiver: TestReceiver;
  beforeAll(async () => {
    receiver = await startReceiver(receiverCert.tls, () => 200);
    sandbox = await startSandbox({
      dialect: sqlite as (typeof DIALECTS)[number],
      config: { notifyCaFile: receiverCert.caFile, notifyDelivery: true },
    });
  });
  afterAll(async () => {
    await sandbox.close();
    await receiver.close();
  });

  it('delivers a product-coupon event triggered through the simulation API to the URL set through /v3', async () => {
    const set = await sandbox.request({
      method: 'POST',
      path: '/v3/marketing/partner/product-coupon/notify-configs',
      body: { notify_url: receiver.url },
    });
    expect(set.status).toBe(200);
    const trigger = await sandbox.request({
      method: 'POST',
      path: '/sandbox/v1/product-coupon/events',
      body: imageGenerationTrigger('T1'),
    });
    expect(trigger.status).toBe(200);
    const { notification_id } = trigger.json<{ notification_id: string }>();
    for (let i = 0; i < 200 && receiver.received.length === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(receiver.received).toHaveLength(1);
    expect(JSON.parse(receiver.received[0]?.body ?? '{}')).toMatchObject({
      id: notification_id,
      event_type: 'PRODUCT_COUPON_SP.IMAGE_GENERATION',
    });
    let detail = await sandbox.request({
      method: 'GET',
      path: `/sandbox/v1/notifications/${notification_id}`,
    });
    for (let i = 0; i < 50 && detail.json<{ state: string }>().state !== 'delivered'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      detail = await sandbox.request({ method: 'GET', path: `/sandbox/v1/notifications/${notification_id}` });
    }
    expect(detail.json()).toMatchObject({
      state: 'delivered',
      attempt_log: [{ attempt_no: 1, status: 200 }],
    });
    const list = await sandbox.request({
      method: 'GET',
      path: '/sandbox/v1/notifications?family=product-coupon',
    });
    expect(list.json()).toMatchObject({ total_count: 1 });
  });

  it('runs the conformance probe through the API and names the forgeries a lax endpoint accepted', async () => {
    const probe = await sandbox.request({
      method: 'POST',
      path: '/sandbox/v1/notifications/probe',
      body: { family: 'product-coupon' },
    });
    expect(probe.status).toBe(200);
    const report = probe.json<{ passed: boolean; accepted_forgeries: string[] }>();
    expect(report.passed).toBe(false);
    expect(report.accepted_forgeries).toContain('bad-signature');
    expect(report.accepted_forgeries).toContain('signtest-signature');
  });
});
