import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reqNo } from '../../server/test/busifavor-helpers.js';
import {
  ApiError,
  type CreateStockRequest,
  createNodeHandler,
  createSandboxClient,
  formatBeijingTime,
  type NotificationEvent,
  type RetryEvent,
  readSandboxCredentials,
  SANDBOX_METHODS,
  type SandboxClient,
  SandboxCredentialsError,
  SIMULATION_OPERATIONS,
} from '../src/index.js';
import { track } from './method-tracking.js';

/**
 * The sandbox client (`createSandboxClient`) against the real sandbox server over real HTTP, built from
 * the credentials directory the server was started with: appids, users, fault rules with `onRetry`
 * showing an absorbed injected 500, the three send channels signing their APIv2 HMAC, the delivery log
 * (list, show, dispatch to a local receiver behind a forwarding rule, replay, probe), subsidy outcome
 * rules and the clock. The last test checks that every method was called.
 */

const APPID = 'wxsandboxsdk000001';
const APPID2 = 'wxsandboxsdk000002';
const NOTIFY_URL = 'https://merchant.example.com/wxpay/busifavor';
const FAMILIES = [
  'clock',
  'faults',
  'subsidyOutcomes',
  'appids',
  'users',
  'send',
  'busifavor',
  'notifications',
  'forwards',
  'listen',
] as const;

/** Resolves once `check` returns something, polling (deliveries end after the answer was sent). */
async function eventually<T>(check: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`sandbox client against the sandbox on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let sim: SandboxClient;
    let receiver: Server;
    let receiverUrl: string;
    const received: NotificationEvent[] = [];
    const retries: RetryEvent[] = [];
    const called = new Set<string>();
    let openid: string;
    let stockId: string;

    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      const plain = createSandboxClient({
        dir: sandbox.dir,
        baseUrl: sandbox.url,
        retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
        onRetry: (event) => retries.push(event),
      });
      const families = Object.fromEntries(FAMILIES.map((f) => [f, track(f, plain[f], called)]));
      sim = { ...plain, ...families } as SandboxClient;
      receiver = createServer(
        createNodeHandler(
          { apiV3Key: plain.credentials.merchant.apiV3Key, keys: plain.api.platformKeys },
          (e) => {
            received.push(e);
          },
        ),
      );
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/notify`;
    });
    afterAll(async () => {
      await new Promise((r) => receiver?.close(r));
      await sandbox?.close();
    });

    const stockRequest = (overrides: Partial<CreateStockRequest> = {}): CreateStockRequest => ({
      stock_name: '沙箱满10减1',
      belong_merchant: sim.mchid,
      comment: 'sandbox client test',
      goods_name: '全场通用',
      stock_type: 'NORMAL',
      coupon_use_rule: {
        coupon_available_time: {
          available_begin_time: formatBeijingTime(Date.now() - 3600_000),
          available_end_time: formatBeijingTime(Date.now() + 30 * 86400_000),
        },
        fixed_normal_coupon: { discount_amount: 100, transaction_minimum: 1000 },
        use_method: 'OFF_LINE',
      },
      stock_send_rule: { max_coupons: 100, max_coupons_per_user: 10 },
      out_request_no: reqNo('SIMSTOCK'),
      coupon_code_mode: 'WECHATPAY_MODE',
      ...overrides,
    });

    it('signs as the dev merchant of credentials.json and verifies with its platform keys', async () => {
      expect(sim.mchid).toBe(sandbox.merchant.mchid);
      expect(sim.credentials.merchant.serialNo).toBe(sandbox.merchant.serialNo);
      expect(sim.credentials.merchant.apiV2Key).toMatch(/^\S{32}$/);
      expect(sim.credentials.platform.publicKey.keyId).toMatch(/^PUB_KEY_ID_\d+$/);
      expect(sim.credentials.platform.certificatePems[0]).toContain('BEGIN CERTIFICATE');
      expect(sim.baseUrl).toBe(sandbox.url);
      // The APIv3 client of the same merchant works too (a verified answer).
      await sim.api.busifavor.setCallback({ notify_url: NOTIFY_URL });
      expect(await sim.api.busifavor.getCallback()).toMatchObject({
        mchid: sim.mchid,
        notify_url: NOTIFY_URL,
      });
      expect(() => readSandboxCredentials(`${sandbox.dir}/nothing-here`)).toThrow(SandboxCredentialsError);
      expect(() => readSandboxCredentials(`${sandbox.dir}/nothing-here`)).toThrow(
        /nothing-here\/credentials\.json.*wechatpay-sandbox init/,
      );
    });

    it('binds, lists and unbinds appids', async () => {
      expect(await sim.appids.bind({ appid: APPID })).toEqual({ appid: APPID, mchid: sim.mchid });
      await sim.appids.bind({ appid: APPID2 });
      expect((await sim.appids.list()).data).toEqual(expect.arrayContaining([APPID, APPID2]));
      await sim.appids.unbind(APPID2);
      const after = (await sim.appids.list()).data;
      expect(after).toContain(APPID);
      expect(after).not.toContain(APPID2);
    });

    it('creates a user, reads it and makes its openid under another appid', async () => {
      const user = await sim.users.create({ appids: [APPID] });
      expect(Object.keys(user.openids)).toEqual([APPID]);
      openid = user.openids[APPID] as string;
      expect(await sim.users.get(user.user_id)).toEqual(user);
      const other = await sim.users.openid(user.user_id, APPID2);
      expect(other.appid).toBe(APPID2);
      expect(other.openid).not.toBe(openid);
      expect((await sim.users.get(user.user_id)).openids).toEqual({
        [APPID]: openid,
        [APPID2]: other.openid,
      });
      await expect(sim.users.get('no-such-user')).rejects.toMatchObject({ status: 404 });
    });

    it('adds a fault rule whose 500 the APIv3 client retries away, onRetry showing it; lists and deletes it', async () => {
      stockId = (await sim.api.busifavor.createStock(stockRequest())).stock_id;
      const rule = await sim.faults.create({
        method: 'GET',
        path: '/v3/marketing/busifavor/stocks/{stock_id}',
        code: 'SYSTEM_ERROR',
        count: 1,
      });
      expect(rule).toMatchObject({ scope: 'merchant', method: 'GET', code: 'SYSTEM_ERROR', remaining: 1 });
      expect(retries).toEqual([]);

      expect((await sim.api.busifavor.getStock(stockId)).stock_id).toBe(stockId);
      expect(retries).toHaveLength(1);
      expect(retries[0]).toMatchObject({
        method: 'GET',
        url: `/v3/marketing/busifavor/stocks/${stockId}`,
        attempt: 1,
        maxAttempts: 3,
        reason: 'status',
        status: 500,
        code: 'SYSTEM_ERROR',
        injectedFault: `rule=${rule.id}`,
      });
      expect(retries[0]?.error).toBeInstanceOf(ApiError);
      expect(retries[0]?.delayMs).toBeGreaterThanOrEqual(0);

      expect(await sim.faults.get(rule.id)).toMatchObject({ id: rule.id, fired: 1, remaining: 0 });
      expect((await sim.faults.list()).data.map((r) => r.id)).toContain(rule.id);
      await sim.faults.delete(rule.id);
      expect((await sim.faults.list()).data.map((r) => r.id)).not.toContain(rule.id);
      await expect(sim.faults.get(rule.id)).rejects.toMatchObject({
        status: 404,
        code: 'RESOURCE_NOT_EXISTS',
      });

      // Without a rule nothing is retried; deleteAll removes the caller's rules.
      await sim.api.busifavor.getStock(stockId);
      expect(retries).toHaveLength(1);
      await sim.faults.create({ path: '/v3/marketing/busifavor/coupons/use', code: 'SYSTEM_ERROR' });
      await sim.faults.create({ path: '/v3/marketing/busifavor/coupons/return', delay_ms: 1 });
      expect((await sim.faults.list()).total_count).toBe(2);
      await sim.faults.deleteAll();
      expect(await sim.faults.list()).toEqual({ total_count: 0, data: [] });
      await expect(sim.faults.create({ path: '/v3/x', code: 'NO_SUCH_CODE' })).rejects.toMatchObject({
        status: 400,
        code: 'PARAM_ERROR',
      });
    });

    it('routes callbacks to a local receiver with a forwarding rule (add, list)', async () => {
      const forward = await sim.forwards.add({ from_url: NOTIFY_URL, to_url: receiverUrl });
      expect(forward).toMatchObject({ from_url: NOTIFY_URL, to_url: receiverUrl });
      expect((await sim.forwards.list()).data).toContainEqual(forward);
    });

    it('sends through the mini-program plugin, signing the APIv2 HMAC, and the coupon exists', async () => {
      const result = await sim.send.miniapp({
        appid: APPID,
        openid,
        send_coupon_params: [{ stock_id: stockId, out_request_no: reqNo('SIMMINI') }],
      });
      expect(result.errcode).toBe('OK');
      expect(result.send_coupon_result).toHaveLength(1);
      const item = result.send_coupon_result[0];
      expect(item?.code).toBe('SUCCESS');
      const coupon = await sim.api.busifavor.getUserCoupon({
        openid,
        coupon_code: item?.coupon_code as string,
        appid: APPID,
      });
      expect(coupon).toMatchObject({ stock_id: stockId, coupon_state: 'SENDED' });

      // The sign is really checked: another APIv2 key is SIGN_ERROR, and no coupon is sent.
      const wrong = await sim.send.miniapp(
        {
          appid: APPID,
          openid,
          send_coupon_params: [{ stock_id: stockId, out_request_no: reqNo('SIMBAD') }],
        },
        { apiV2Key: 'x'.repeat(32) },
      );
      expect(wrong).toMatchObject({ errcode: 'SIGN_ERROR', send_coupon_result: [] });

      // A fault rule on the send path answers the plugin's SYSTEMERROR once.
      const rule = await sim.faults.create({
        path: '/sandbox/v1/busifavor/send/miniapp',
        code: 'SYSTEMERROR',
        count: 1,
      });
      const faulted = await sim.send.miniapp({
        appid: APPID,
        openid,
        send_coupon_params: [{ stock_id: stockId, out_request_no: reqNo('SIMFAULT') }],
      });
      expect(faulted).toMatchObject({ errcode: 'SYSTEMERROR', send_coupon_result: [] });
      await sim.faults.delete(rule.id);
    });

    it('sends through the H5 page (a signed URL) and as a payment gift', async () => {
      const params = { stock_id: stockId, out_request_no: reqNo('SIMH5'), open_id: openid };
      const url = sim.send.h5Url(params);
      expect(url).toMatch(
        /^https:\/\/action\.weixin\.qq\.com\/busifavor\/getcouponinfo\?stock_id=.*&sign=[0-9A-F]{64}#wechat_redirect$/,
      );
      expect(new URL(url).searchParams.get('send_coupon_merchant')).toBe(sim.mchid);
      const h5 = await sim.send.h5(params);
      expect(h5.errcode).toBe('OK');
      expect(h5.send_coupon_result[0]?.code).toBe('SUCCESS');
      // The URL as is: the same out_request_no for the same user is the same coupon.
      const again = await sim.send.h5({ url });
      expect(again.send_coupon_result[0]).toMatchObject({
        code: 'DUPREQUEST',
        coupon_code: h5.send_coupon_result[0]?.coupon_code,
      });
      expect((await sim.send.h5({ url: url.replace('#wechat_redirect', '') })).errcode).toBe(268435461);

      const gift = await sim.send.paygift({
        stock_id: stockId,
        appid: APPID,
        openid,
        transaction_id: '4200000913202101152566792388',
        out_request_no: reqNo('SIMGIFT'),
      });
      expect(gift.errcode).toBe('OK');
      expect(gift.send_coupon_result[0]?.code).toBe('SUCCESS');
    });

    it('lists, shows, dispatches, replays and probes notifications', async () => {
      const list = await sim.notifications.list({ event_type: 'COUPON.SEND', family: 'busifavor' });
      // miniapp, H5 and pay-gift sends each queued one (the refused sends none).
      expect(list.total_count).toBe(3);
      expect(list.offset).toBe(0);
      const newest = list.data[0];
      expect(newest).toMatchObject({ family: 'busifavor', event_type: 'COUPON.SEND', state: 'pending' });
      const id = newest?.id as string;
      const detail = await sim.notifications.show(id);
      expect(detail).toMatchObject({
        id,
        original_type: 'coupon',
        associated_data: 'coupon',
        attempt_log: [],
      });
      expect(detail.plaintext).toMatchObject({
        stock_id: stockId,
        send_channel: 'BUSICOUPON_SEND_CHANNEL_PAYGIFT',
      });

      expect(await sim.notifications.deliveryState()).toEqual({ paused: false, paused_time: null });
      expect((await sim.notifications.dispatch()).attempts).toBe(3);
      await eventually(() => (received.length === 3 ? true : undefined), 'three deliveries');
      expect(received.every((e) => e.event_type === 'COUPON.SEND')).toBe(true);
      const delivered = await sim.notifications.show(id);
      expect(delivered.state).toBe('delivered');
      expect(delivered.attempt_log).toHaveLength(1);
      expect(delivered.attempt_log[0]).toMatchObject({ url: receiverUrl, status: 204 });

      expect(await sim.notifications.replay(id)).toEqual({ replayed: [id] });
      expect((await sim.notifications.dispatch()).attempts).toBe(1);
      await eventually(() => (received.length === 4 ? true : undefined), 'the replayed delivery');
      // A replay is the same notification again (same id), freshly signed.
      expect(received.slice(0, 3).map((e) => e.id)).toContain(received[3]?.id);
      expect((await sim.notifications.show(id)).attempts).toBe(2);
      expect(await sim.notifications.replayMany({ ids: [id] })).toEqual({ replayed: [id] });

      // Paused: an event queues up and dispatch delivers nothing until resumed.
      expect((await sim.notifications.pause()).paused).toBe(true);
      const plan = await sim.notifications.deliveryPlanEvent({
        plan_id: 'plan-1',
        plan_state: 'DELIVERING',
        audit_state: 'PASSED',
      });
      expect(plan.notification_id).toMatch(/\S/);
      expect((await sim.notifications.show(plan.notification_id)).event_type).toBe('DELIVERY_PLAN.CHANGE');
      expect((await sim.notifications.resume()).paused).toBe(false);
      const product = await sim.notifications.productCouponEvent({
        event_type: 'PRODUCT_COUPON_SP.IMAGE_GENERATION',
        resource: {
          brand_id: '120344',
          task_id: 'task-1',
          image_generation_type: 'CUT_OUT',
          task_state: 'PROCESSING',
        },
      });
      expect((await sim.notifications.show(product.notification_id)).family).toBe('product-coupon');

      // The probe: the receiver (the SDK's own handler) accepts the correct callback and no forgery.
      const report = await sim.notifications.probe({ url: receiverUrl });
      expect(report).toMatchObject({
        url: receiverUrl,
        passed: true,
        accepted_forgeries: [],
        rejected_correct: false,
      });
      expect(report.results.find((r) => r.case === 'correct')).toMatchObject({
        expected: 'accept',
        accepted: true,
      });
      // Without a URL: the busifavor notify URL after forwarding, i.e. the same receiver.
      expect((await sim.notifications.probe()).url).toBe(receiverUrl);
    });

    it('opens, lists, renews, polls and closes a listen session', async () => {
      const session = await sim.listen.open({
        target_url: receiverUrl,
        event_types: ['DELIVERY_PLAN.CHANGE'],
        lease_seconds: 60,
      });
      expect(session).toMatchObject({
        target_url: receiverUrl,
        event_types: ['DELIVERY_PLAN.CHANGE'],
        lease_seconds: 60,
      });
      expect((await sim.listen.list()).data.map((s) => s.id)).toEqual([session.id]);
      expect((await sim.listen.renew(session.id)).id).toBe(session.id);

      const before = received.length;
      const plan = await sim.notifications.deliveryPlanEvent({
        plan_id: 'plan-listen',
        plan_state: 'PAUSED',
        audit_state: 'PASSED',
      });
      await sim.notifications.dispatch();
      await eventually(() => (received.length > before ? true : undefined), 'the delivery to the session');
      const { data, next_since } = await sim.listen.deliveries(session.id);
      expect(data.map((d) => d.notification_id)).toContain(plan.notification_id);
      expect(data.find((d) => d.notification_id === plan.notification_id)).toMatchObject({
        event_type: 'DELIVERY_PLAN.CHANGE',
        outcome: 'delivered',
        url: receiverUrl,
      });
      expect(next_since).toBeGreaterThan(0);
      expect(
        (await sim.listen.deliveries(session.id, { since: next_since, limit: 10 })).data.length,
      ).toBeLessThan(data.length + 1);

      await sim.listen.close(session.id);
      expect((await sim.listen.list()).data).toEqual([]);
      await expect(sim.listen.renew(session.id)).rejects.toMatchObject({
        status: 404,
        code: 'RESOURCE_NOT_EXISTS',
      });
    });

    it('deletes a forwarding rule', async () => {
      const [rule] = (await sim.forwards.list()).data;
      await sim.forwards.delete(rule?.id as string);
      expect((await sim.forwards.list()).data).toEqual([]);
      await expect(sim.forwards.delete(rule?.id as string)).rejects.toMatchObject({ status: 404 });
    });

    it('runs the busifavor hooks: stock state and a user deleting a coupon', async () => {
      const sent = await sim.send.miniapp({
        appid: APPID,
        openid,
        send_coupon_params: [{ stock_id: stockId, out_request_no: reqNo('SIMDEL') }],
      });
      const couponCode = sent.send_coupon_result[0]?.coupon_code as string;
      await sim.busifavor.deleteCoupon({ stock_id: stockId, coupon_code: couponCode });
      expect(
        (await sim.api.busifavor.getUserCoupon({ openid, coupon_code: couponCode, appid: APPID }))
          .coupon_state,
      ).toBe('DELETED');
      expect(await sim.busifavor.setStockState(stockId, { stock_state: 'PAUSED' })).toEqual({
        stock_id: stockId,
        stock_state: 'PAUSED',
      });
      expect((await sim.api.busifavor.getStock(stockId)).stock_state).toBe('PAUSED');
    });

    it('adds, reads, lists and deletes subsidy outcome rules', async () => {
      const rule = await sim.subsidyOutcomes.create({
        fail_reason: 'PAY_RECEIPT_INSUFFICIENT_BALANCE',
        count: 1,
      });
      expect(rule).toMatchObject({ scope: 'merchant', receipt_type: 'PAY_RECEIPT', remaining: 1, fired: 0 });
      expect(await sim.subsidyOutcomes.get(rule.id)).toEqual(rule);
      await sim.subsidyOutcomes.create({ fail_reason: 'RETURN_RECEIPT_OTHER', stock_id: stockId });
      expect((await sim.subsidyOutcomes.list()).total_count).toBe(2);
      await sim.subsidyOutcomes.delete(rule.id);
      expect((await sim.subsidyOutcomes.list()).data.map((r) => r.receipt_type)).toEqual(['RETURN_RECEIPT']);
      await sim.subsidyOutcomes.deleteAll();
      expect((await sim.subsidyOutcomes.list()).total_count).toBe(0);
      await expect(sim.subsidyOutcomes.create({ fail_reason: 'INSUFFICIENT_BALANCE' })).rejects.toMatchObject(
        {
          status: 400,
          code: 'PARAM_ERROR',
        },
      );
    });

    it('reads, advances, freezes, sets and resumes the business clock', async () => {
      const start = await sim.clock.get();
      expect(start).toMatchObject({
        mchid: sim.mchid,
        mode: 'real',
        source: 'real',
        merchant: null,
        global: null,
      });
      const advanced = await sim.clock.advance(86400);
      expect(advanced).toMatchObject({ mode: 'running', source: 'merchant' });
      expect(advanced.now_ms - start.now_ms).toBeGreaterThanOrEqual(86400_000);
      expect(advanced.now_ms - start.now_ms).toBeLessThan(86400_000 + 60_000);
      // Back to real time is backwards: refused unless asked for.
      await expect(sim.clock.resume()).rejects.toMatchObject({ status: 400, code: 'INVALID_REQUEST' });
      const frozen = await sim.clock.freeze('2030-06-01T10:00:00+08:00');
      expect(frozen).toMatchObject({ mode: 'frozen', now: '2030-06-01T10:00:00+08:00' });
      expect((await sim.clock.advance(60)).now).toBe('2030-06-01T10:01:00+08:00');
      const set = await sim.clock.set({ action: 'set', time: '2031-01-01T00:00:00+08:00' });
      expect(set.mode).toBe('running');
      expect((await sim.clock.resume({ allow_backwards: true })).mode).toBe('real');
    });

    it('called every sandbox client method, and SANDBOX_METHODS names one per simulation operation', () => {
      const all: string[] = [];
      for (const f of FAMILIES) {
        for (const [k, v] of Object.entries(sim[f])) if (typeof v === 'function') all.push(`${f}.${k}`);
      }
      expect([...called].sort()).toEqual(all.sort());
      expect(Object.keys(SANDBOX_METHODS).sort()).toEqual(Object.keys(SIMULATION_OPERATIONS).sort());
      for (const method of Object.values(SANDBOX_METHODS)) expect(all).toContain(method);
    });
  });
}
