import { sign } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Aes } from 'wechatpay-axios-plugin';
import WxPay from 'wechatpay-node-v3';
import {
  createFetchHandler,
  createNodeHandler,
  createNotificationDispatcher,
  createNotificationParser,
  DecryptionError,
  FAILURE_REASONS,
  isEventType,
  type NotificationEvent,
  parseNotification,
  SignatureVerificationError,
} from '../src/index.js';
import { API_V3_KEY, MCHID, PUB_KEY_ID } from './fixtures.js';
import {
  byCertificate,
  byPublicKey,
  couponSend,
  envelope,
  NOW_S,
  platform,
  signed,
} from './notification-fixtures.js';

describe('parseNotification', () => {
  it('verifies and decrypts a COUPON.SEND built by our protocol code, typed by event_type', async () => {
    const body = envelope('COUPON.SEND', couponSend);
    const event = await parseNotification({ ...byCertificate, headers: signed(body), body });
    expect(event.event_type).toBe('COUPON.SEND');
    expect(isEventType(event, 'COUPON.SEND')).toBe(true);
    if (isEventType(event, 'COUPON.SEND')) {
      expect(event.resource.coupon_code).toBe('CODE0001');
      expect(event.resource.send_channel).toBe('BUSICOUPON_SEND_CHANNEL_API');
    }
    expect(event.verifiedBy).toBe(platform.serialNo);
    expect(event.summary).toBe('商家券领券通知');
  });

  it('works in public-key mode with the PUB_KEY_ID serial, and lower-case Node header names', async () => {
    const body = envelope(
      'DELIVERY_PLAN.CHANGE',
      { plan_id: 'P1', plan_state: 'DELIVERING', audit_state: 'PASSED' },
      'delivery_plan',
    );
    const headers = Object.fromEntries(
      Object.entries(signed(body, PUB_KEY_ID)).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const event = await parseNotification({ ...byPublicKey, headers, body: Buffer.from(body) });
    expect(event.event_type).toBe('DELIVERY_PLAN.CHANGE');
    expect(event.resource).toMatchObject({ plan_id: 'P1' });
  });

  it('accepts an envelope encrypted by wechatpay-axios-plugin Aes and signed by wechatpay-node-v3', async () => {
    const plaintext = JSON.stringify({
      brand_id: 'B1',
      task_id: 'T1',
      image_generation_type: 'CUT_OUT',
      task_state: 'SUCCESS',
    });
    const body = JSON.stringify({
      id: 'e1',
      create_time: '2025-01-01T08:00:05+08:00',
      resource_type: 'encrypt-resource',
      event_type: 'PRODUCT_COUPON_SP.IMAGE_GENERATION',
      summary: '图片生成',
      resource: {
        original_type: 'product_coupon',
        algorithm: 'AEAD_AES_256_GCM',
        ciphertext: Aes.AesGcm.encrypt(plaintext, API_V3_KEY, 'abcdefghijkl', 'product_coupon'),
        associated_data: 'product_coupon',
        nonce: 'abcdefghijkl',
      },
    });
    const peer = new WxPay({
      appid: 'wx1',
      mchid: MCHID,
      publicKey: Buffer.from(platform.certificatePem),
      privateKey: Buffer.from(platform.privateKeyPem),
    });
    const headers = {
      'Wechatpay-Timestamp': String(NOW_S),
      'Wechatpay-Nonce': 'n0nce',
      'Wechatpay-Serial': platform.serialNo,
      'Wechatpay-Signature': peer.sha256WithRsa(`${NOW_S}\nn0nce\n${body}\n`),
    };
    const event = await parseNotification({ ...byCertificate, headers, body });
    expect(event.plaintext).toBe(plaintext);
    expect(event.event_type).toBe('PRODUCT_COUPON_SP.IMAGE_GENERATION');
  });

  it('accepts an envelope signed with raw node:crypto and wechatpay-node-v3 decipher agrees with our plaintext', async () => {
    const body = envelope('PRODUCT_COUPON_SP.SEND', { brand_id: 'B', coupon_code: 'C' }, 'product_coupon');
    const sig = sign('sha256', Buffer.from(`${NOW_S}\nabc\n${body}\n`), platform.privateKey).toString(
      'base64',
    );
    const headers = {
      'Wechatpay-Timestamp': String(NOW_S),
      'Wechatpay-Nonce': 'abc',
      'Wechatpay-Serial': platform.serialNo,
      'Wechatpay-Signature': sig,
    };
    const event = await parseNotification({ ...byCertificate, headers, body });
    const peer = new WxPay({
      appid: 'wx1',
      mchid: MCHID,
      publicKey: Buffer.from(platform.certificatePem),
      privateKey: Buffer.from(platform.privateKeyPem),
      key: API_V3_KEY,
    });
    const { resource } = JSON.parse(body);
    expect(peer.decipher_gcm(resource.ciphertext, resource.associated_data, resource.nonce)).toEqual(
      event.resource,
    );
  });

  it("returns an unmodelled event type as event_type 'UNKNOWN' with the type WeChat sent", async () => {
    const body = envelope('COUPON.USE', { coupon_id: '1' });
    const event: NotificationEvent = await parseNotification({
      ...byCertificate,
      headers: signed(body),
      body,
    });
    expect(event.event_type).toBe('UNKNOWN');
    expect(event.event_type === 'UNKNOWN' && event.unknownEventType).toBe('COUPON.USE');
    expect(event.envelope.event_type).toBe('COUPON.USE');
    expect(event.resource).toEqual({ coupon_id: '1' });
  });

  it('narrows resource by switch (event.event_type) at runtime too', async () => {
    const body = envelope('COUPON.SEND', couponSend);
    const event = await parseNotification({ ...byCertificate, headers: signed(body), body });
    let code = '';
    switch (event.event_type) {
      case 'COUPON.SEND':
        code = event.resource.coupon_code; // compiles only because the case narrowed resource
        break;
      default:
        code = 'not narrowed';
    }
    expect(code).toBe('CODE0001');
  });

  it('refuses a WECHATPAY/SIGNTEST/ probe', async () => {
    const body = envelope('COUPON.SEND', couponSend);
    const headers = { ...signed(body), 'Wechatpay-Signature': 'WECHATPAY/SIGNTEST/AAAA' };
    await expect(parseNotification({ ...byCertificate, headers, body })).rejects.toThrow(/SIGNTEST/);
  });

  it('refuses a re-serialized body (whitespace added)', async () => {
    const body = envelope('COUPON.SEND', couponSend);
    const reserialized = JSON.stringify(JSON.parse(body), null, 1);
    await expect(
      parseNotification({ ...byCertificate, headers: signed(body), body: reserialized }),
    ).rejects.toThrow(/raw request body/);
  });

  it('rejects a timestamp 300 s old but accepts 299 s, and the window is configurable', async () => {
    const body = envelope('COUPON.SEND', couponSend);
    await expect(
      parseNotification({ ...byCertificate, headers: signed(body, platform.serialNo, NOW_S - 300), body }),
    ).rejects.toBeInstanceOf(SignatureVerificationError);
    await expect(
      parseNotification({ ...byCertificate, headers: signed(body, platform.serialNo, NOW_S - 299), body }),
    ).resolves.toBeTruthy();
    await expect(
      parseNotification({
        ...byCertificate,
        windowSeconds: 600,
        headers: signed(body, platform.serialNo, NOW_S - 500),
        body,
      }),
    ).resolves.toBeTruthy();
  });

  it('rejects an unknown serial and a missing header', async () => {
    const body = envelope('COUPON.SEND', couponSend);
    await expect(
      parseNotification({ ...byCertificate, headers: signed(body, 'ABCDEF'), body }),
    ).rejects.toThrow(/unknown-serial/);
    const { 'Wechatpay-Nonce': _n, ...rest } = signed(body);
    await expect(parseNotification({ ...byCertificate, headers: rest, body })).rejects.toThrow(
      /missing-headers/,
    );
  });

  it('throws DecryptionError for a wrong APIv3 key', async () => {
    const body = envelope('COUPON.SEND', couponSend);
    await expect(
      parseNotification({ ...byCertificate, apiV3Key: 'X'.repeat(32), headers: signed(body), body }),
    ).rejects.toBeInstanceOf(DecryptionError);
  });
});

describe('adapters', () => {
  const received: NotificationEvent[] = [];
  const errors: unknown[] = [];
  const dispatcher = createNotificationDispatcher()
    .on('COUPON.SEND', (e) => {
      // e.resource is CouponSendResource here: this line would not compile otherwise.
      if (e.resource.coupon_code === 'BOOM') throw new Error('database down');
      received.push(e);
    })
    .on('COUPON.USE', (e) => {
      received.push(e);
    })
    .otherwise((e) => {
      received.push(e);
    });
  const adapterOptions = { ...byCertificate, onError: (e: unknown) => errors.push(e) };
  let server: http.Server;
  let url = '';

  beforeAll(async () => {
    server = http.createServer(createNodeHandler(adapterOptions, dispatcher.dispatch));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('node:http answers 204 and dispatches a verified COUPON.SEND', async () => {
    const body = envelope('COUPON.SEND', couponSend);
    const res = await fetch(url, {
      method: 'POST',
      headers: { ...signed(body), 'Content-Type': 'application/json' },
      body,
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('content-type')).toBeNull();
    expect(await res.text()).toBe('');
    expect(received.at(-1)?.event_type).toBe('COUPON.SEND');
  });

  it('the dispatcher routes an unmodelled type by the name WeChat sent', async () => {
    const body = envelope('COUPON.USE', { coupon_id: '9' });
    const res = await fetch(url, { method: 'POST', headers: signed(body), body });
    expect(res.status).toBe(204);
    expect(received.at(-1)).toMatchObject({ event_type: 'UNKNOWN', unknownEventType: 'COUPON.USE' });
  });

  it('node:http answers 500 + FAIL JSON on a bad signature and on a SIGNTEST probe, and does not dispatch', async () => {
    const before = received.length;
    const body = envelope('COUPON.SEND', couponSend);
    const res = await fetch(url, { method: 'POST', headers: { ...signed(`${body} `) }, body });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ code: 'FAIL', message: FAILURE_REASONS.signature });
    const probe = await fetch(url, {
      method: 'POST',
      headers: { ...signed(body), 'Wechatpay-Signature': 'WECHATPAY/SIGNTEST/AAAA' },
      body,
    });
    expect(probe.status).toBe(500);
    expect(await probe.json()).toEqual({ code: 'FAIL', message: FAILURE_REASONS.signature });
    expect(received.length).toBe(before);
    expect(errors.at(-1)).toBeInstanceOf(SignatureVerificationError);
  });

  it('node:http answers 500 when the handler throws, without leaking its error text to WeChat', async () => {
    const body = envelope('COUPON.SEND', { ...couponSend, coupon_code: 'BOOM' });
    const res = await fetch(url, { method: 'POST', headers: signed(body), body });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ code: 'FAIL', message: 'the notification handler failed' });
    expect((errors.at(-1) as Error).message).toBe('database down');
  });

  it('node:http answers 500 + FAIL JSON to a GET, a non-envelope and an oversized body', async () => {
    const get = await fetch(url);
    expect(get.status).toBe(500);
    expect(await get.json()).toEqual({ code: 'FAIL', message: FAILURE_REASONS.method });
    const notEnvelope = '{"hello":"world"}';
    const bad = await fetch(url, { method: 'POST', headers: signed(notEnvelope), body: notEnvelope });
    expect(bad.status).toBe(500);
    expect(await bad.json()).toEqual({ code: 'FAIL', message: FAILURE_REASONS.envelope });
    const small = http.createServer(createNodeHandler({ ...adapterOptions, maxBodyBytes: 64 }, () => {}));
    await new Promise<void>((resolve) => small.listen(0, '127.0.0.1', resolve));
    try {
      const body = envelope('COUPON.SEND', couponSend);
      const big = await fetch(`http://127.0.0.1:${(small.address() as AddressInfo).port}/`, {
        method: 'POST',
        headers: signed(body),
        body,
      });
      expect(big.status).toBe(500);
      expect(await big.json()).toEqual({ code: 'FAIL', message: FAILURE_REASONS.tooLarge });
    } finally {
      await new Promise<void>((resolve) => small.close(() => resolve()));
    }
  });

  it('node adapter refuses an already-parsed JSON body, telling onError what to do', async () => {
    const told: unknown[] = [];
    const handler = createNodeHandler({ ...byCertificate, onError: (e) => told.push(e) }, () => {});
    const body = envelope('COUPON.SEND', couponSend);
    const req = Object.assign(new http.IncomingMessage(null as never), {
      method: 'POST',
      headers: signed(body),
      body: JSON.parse(body),
    });
    let status = 0;
    let text = '';
    const res = {
      writeHead: (s: number) => {
        status = s;
        return res;
      },
      end: (t?: string) => {
        text = t ?? '';
      },
    };
    await handler(req, res as never);
    expect(status).toBe(500);
    expect(JSON.parse(text)).toEqual({ code: 'FAIL', message: FAILURE_REASONS.alreadyParsed });
    expect(String(told[0])).toContain('express.raw');
  });

  it('the Fetch adapter answers 204 on success and 500 + FAIL JSON on an undecryptable resource', async () => {
    const handle = createFetchHandler(byCertificate, dispatcher.dispatch);
    const body = envelope('PRODUCT_COUPON_SP.SEND', { brand_id: 'B' }, 'product_coupon');
    const ok = await handle(new Request('http://x/notify', { method: 'POST', headers: signed(body), body }));
    expect(ok.status).toBe(204);
    expect(await ok.text()).toBe('');
    const wrongKey = createFetchHandler({ ...byCertificate, apiV3Key: 'Y'.repeat(32) }, () => {});
    const bad = await wrongKey(
      new Request('http://x/notify', { method: 'POST', headers: signed(body), body }),
    );
    expect(bad.status).toBe(500);
    expect(bad.headers.get('content-type')).toBe('application/json');
    expect(await bad.json()).toEqual({ code: 'FAIL', message: FAILURE_REASONS.decryption });
  });

  it('a prepared parser verifies many notifications with keys parsed once', async () => {
    const parse = createNotificationParser(byPublicKey);
    const body = envelope('COUPON.SEND', couponSend);
    const headers = signed(body, PUB_KEY_ID);
    for (let i = 0; i < 20; i++) expect((await parse({ headers, body })).id).toBeTruthy();
  });
});
