import {
  decryptNotificationResource,
  parseNotificationEnvelope,
  verifyResponseSignature,
} from '@wechatpay-sandbox/sdk/protocol';
import { DIALECTS, startSandbox, type TestMerchant, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMerchant, expectError, signedJson } from '../busifavor-helpers.js';
import {
  imageGenerationResource,
  imageGenerationTrigger,
  receiverCertificate,
  startReceiver,
  type TestReceiver,
} from './fixtures.js';

/**
 * Every notification route of the simulation API over real HTTP with signed requests: list and inspect
 * with filters, replay one and many, pause/resume/dispatch, forwarding rules, delivery-plan events;
 * WeChat-shaped errors for bad input; and one merchant never seeing or touching another's notifications.
 * Delivery runs only through `POST /sandbox/v1/notifications-delivery/dispatch`, so every step is
 * deterministic.
 */

const receiverCert = receiverCertificate();

interface Summary {
  id: string;
  family: string;
  event_type: string;
  state: string;
  attempts: number;
  last_status: number | null;
}
interface Detail extends Summary {
  original_type: string;
  plaintext: Record<string, unknown>;
  attempt_log: Array<{
    attempt_no: number;
    outcome: string;
    status: number | null;
    response_excerpt: string | null;
    latency_ms: number;
  }>;
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`notification simulation routes over HTTP (${dialect.name})`, () => {
    let sandbox: TestSandbox;
    let receiver: TestReceiver;
    let status = 200;
    // The receiver answers once the gate opens: a test holds an attempt in flight with it.
    let gate: Promise<void> = Promise.resolve();
    let other: TestMerchant;
    const asB = (input: Parameters<TestSandbox['request']>[0]) =>
      sandbox.request({ ...input, merchant: other });
    const dispatch = async () =>
      signedJson<{ attempts: number }>(
        sandbox,
        await sandbox.request({ method: 'POST', path: '/sandbox/v1/notifications-delivery/dispatch' }),
      ).attempts;
    const detail = async (id: string) =>
      signedJson<Detail>(
        sandbox,
        await sandbox.request({ method: 'GET', path: `/sandbox/v1/notifications/${id}` }),
      );
    const trigger = async (taskId: string, request = sandbox.request) =>
      signedJson<{ notification_id: string }>(
        sandbox,
        await request({
          method: 'POST',
          path: '/sandbox/v1/product-coupon/events',
          body: imageGenerationTrigger(taskId),
        }),
      ).notification_id;

    beforeAll(async () => {
      receiver = await startReceiver(receiverCert.tls, async () => {
        await gate;
        return status;
      });
      // Delivery off: only the dispatch route delivers, so the tests decide when.
      sandbox = await startSandbox({
        dialect,
        config: { notifyCaFile: receiverCert.caFile, notifyDelivery: false },
      });
      other = await addMerchant(sandbox, '1900077001');
      const set = await sandbox.request({
        method: 'POST',
        path: '/v3/marketing/partner/product-coupon/notify-configs',
        body: { notify_url: receiver.url },
      });
      expect(set.status, set.text).toBe(200);
    }, 60_000);
    afterAll(async () => {
      await sandbox?.close();
      await receiver?.close();
    });

    let failed: string;
    let planId: string;

    it('records a failed attempt, then replays that one notification: same id, new attempt, delivered', async () => {
      status = 500;
      failed = await trigger('T1');
      expect(await dispatch()).toBe(1);
      expect(await detail(failed)).toMatchObject({
        state: 'pending',
        attempts: 1,
        last_status: 500,
        attempt_log: [{ attempt_no: 1, outcome: 'failed', status: 500 }],
      });
      // Not due again yet (60 s on the virtual clock): dispatch does nothing.
      expect(await dispatch()).toBe(0);
      status = 200;
      const replay = signedJson<{ replayed: string[] }>(
        sandbox,
        await sandbox.request({ method: 'POST', path: `/sandbox/v1/notifications/${failed}/replay` }),
      );
      expect(replay.replayed).toEqual([failed]);
      expect(await dispatch()).toBe(1);
      const d = await detail(failed);
      expect(d.state).toBe('delivered');
      expect(d.attempt_log.map((a) => [a.attempt_no, a.status])).toEqual([
        [1, 500],
        [2, 200],
      ]);
      expect(d.attempt_log[0]?.response_excerpt).toContain('FAIL');
      const ids = receiver.received.map((r) => (JSON.parse(r.body) as { id: string }).id);
      expect(ids).toEqual([failed, failed]);
    });

    it('queues a DELIVERY_PLAN.CHANGE event; without a notify URL it waits in no-target', async () => {
      const res = await sandbox.request({
        method: 'POST',
        path: '/sandbox/v1/delivery-plan/events',
        body: { plan_id: 'PLAN001', plan_state: 'PAUSED', audit_state: 'PASSED', change_reason: 'budget' },
      });
      planId = signedJson<{ notification_id: string }>(sandbox, res).notification_id;
      await dispatch();
      const d = await detail(planId);
      expect(d).toMatchObject({
        family: 'delivery-plan',
        event_type: 'DELIVERY_PLAN.CHANGE',
        state: 'no-target',
        attempts: 0,
        original_type: 'delivery_plan',
      });
      expect(d.plaintext).toMatchObject({ plan_id: 'PLAN001', plan_state: 'PAUSED', audit_state: 'PASSED' });
    });

    it.each([
      ['an unknown plan_state', { plan_id: 'P', plan_state: 'NAPPING', audit_state: 'PASSED' }],
      ['no plan_id', { plan_state: 'PAUSED', audit_state: 'PASSED' }],
      ['an empty plan_id', { plan_id: '', plan_state: 'PAUSED', audit_state: 'PASSED' }],
      ['an unknown field', { plan_id: 'P', plan_state: 'PAUSED', audit_state: 'PASSED', extra: 1 }],
    ])('refuses a delivery-plan event with %s as 400 PARAM_ERROR', async (_what, body) => {
      const res = await sandbox.request({ method: 'POST', path: '/sandbox/v1/delivery-plan/events', body });
      expectError(res, 400, 'PARAM_ERROR');
    });

    it('lists newest first with state, family and event-type filters, limit and offset', async () => {
      const second = await trigger('T2');
      await dispatch();
      const list = async (query: string) =>
        signedJson<{ total_count: number; offset: number; data: Summary[] }>(
          sandbox,
          await sandbox.request({ method: 'GET', path: `/sandbox/v1/notifications${query}` }),
        );
      const all = await list('');
      expect(all.total_count).toBe(3);
      expect(all.data.map((n) => n.id)).toEqual([second, planId, failed]);
      expect((await list('?state=delivered')).data.map((n) => n.id)).toEqual([second, failed]);
      expect((await list('?state=no-target')).data.map((n) => n.id)).toEqual([planId]);
      expect((await list('?family=delivery-plan')).data.map((n) => n.id)).toEqual([planId]);
      expect((await list('?event_type=PRODUCT_COUPON_SP.IMAGE_GENERATION')).total_count).toBe(2);
      const page = await list('?limit=1&offset=1');
      expect(page).toMatchObject({ total_count: 3, offset: 1 });
      expect(page.data.map((n) => n.id)).toEqual([planId]);
      expect((await list('?state=dead')).data).toEqual([]);
    });

    it.each([
      ['an unknown state', '?state=failed'],
      ['limit 0', '?limit=0'],
      ['limit over 500', '?limit=501'],
      ['a negative offset', '?offset=-1'],
      ['an unknown family', '?family=pay'],
      ['an unknown parameter', '?mchid=1900077001'],
    ])('refuses a list with %s as 400 PARAM_ERROR', async (_what, query) => {
      expectError(
        await sandbox.request({ method: 'GET', path: `/sandbox/v1/notifications${query}` }),
        400,
        'PARAM_ERROR',
      );
    });

    it('answers 404 RESOURCE_NOT_EXISTS for an unknown id on inspect and replay', async () => {
      expectError(
        await sandbox.request({ method: 'GET', path: '/sandbox/v1/notifications/nope' }),
        404,
        'RESOURCE_NOT_EXISTS',
      );
      expectError(
        await sandbox.request({ method: 'POST', path: '/sandbox/v1/notifications/nope/replay' }),
        404,
        'RESOURCE_NOT_EXISTS',
      );
    });

    it('replays many by ids or by state, and refuses an ambiguous or empty selection', async () => {
      const before = receiver.received.length;
      const byIds = signedJson<{ replayed: string[] }>(
        sandbox,
        await sandbox.request({
          method: 'POST',
          path: '/sandbox/v1/notifications/replay',
          body: { ids: [failed, 'nope'] },
        }),
      );
      expect(byIds.replayed).toEqual([failed]);
      const byState = signedJson<{ replayed: string[] }>(
        sandbox,
        await sandbox.request({
          method: 'POST',
          path: '/sandbox/v1/notifications/replay',
          body: { state: 'delivered' },
        }),
      );
      // `failed` is pending again after the first replay, so only the other delivered one is selected.
      expect(byState.replayed).toHaveLength(1);
      expect(await dispatch()).toBe(2);
      expect(receiver.received.length - before).toBe(2);
      for (const body of [
        { ids: [failed], state: 'dead' },
        {},
        { ids: [] },
        { state: 'gone' },
        { ids: [failed], extra: true },
      ]) {
        expectError(
          await sandbox.request({ method: 'POST', path: '/sandbox/v1/notifications/replay', body }),
          400,
          'PARAM_ERROR',
        );
      }
    });

    it('refuses to replay a notification while its attempt is in flight (no concurrent duplicate), then replays it', async () => {
      let release: () => void = () => {};
      gate = new Promise((r) => {
        release = r;
      });
      status = 200;
      const id = await trigger('T-INFLIGHT');
      const before = receiver.received.length;
      // Not awaited: the attempt is open at the receiver until the gate opens.
      const draining = dispatch();
      for (let i = 0; i < 200 && receiver.received.length === before; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(receiver.received.length).toBe(before + 1);

      const single = await sandbox.request({
        method: 'POST',
        path: `/sandbox/v1/notifications/${id}/replay`,
      });
      expectError(single, 400, 'INVALID_REQUEST', '通知正在投递中，请在本次投递结束后重试');
      expect(single.json<{ detail: unknown }>().detail).toMatchObject({
        field: 'id',
        location: 'path',
        value: [id],
      });
      // By ids it is all or nothing: `failed` (delivered, not in flight) is not replayed either.
      const many = await sandbox.request({
        method: 'POST',
        path: '/sandbox/v1/notifications/replay',
        body: { ids: [failed, id] },
      });
      expectError(many, 400, 'INVALID_REQUEST');
      expect(many.json<{ detail: unknown }>().detail).toMatchObject({ field: '/ids', value: [id] });
      expect((await detail(failed)).state).toBe('delivered');
      // By state the in-flight one is skipped: its open attempt is the delivery asked for.
      const byState = signedJson<{ replayed: string[] }>(
        sandbox,
        await sandbox.request({
          method: 'POST',
          path: '/sandbox/v1/notifications/replay',
          body: { state: 'pending' },
        }),
      );
      expect(byState.replayed).toEqual([]);

      release();
      gate = Promise.resolve();
      expect(await draining).toBe(1);
      // The refused replays sent nothing: one request, one attempt, delivered.
      expect(receiver.received.length).toBe(before + 1);
      expect(await detail(id)).toMatchObject({ state: 'delivered', attempts: 1 });

      const again = signedJson<{ replayed: string[] }>(
        sandbox,
        await sandbox.request({ method: 'POST', path: `/sandbox/v1/notifications/${id}/replay` }),
      );
      expect(again.replayed).toEqual([id]);
      expect(await dispatch()).toBe(1);
      const ids = receiver.received.slice(before).map((r) => (JSON.parse(r.body) as { id: string }).id);
      expect(ids).toEqual([id, id]);
      expect((await detail(id)).attempt_log.map((a) => [a.attempt_no, a.status])).toEqual([
        [1, 200],
        [2, 200],
      ]);
    });

    it('pauses a merchant: dispatch sends nothing until resumed', async () => {
      const paused = signedJson<{ paused: boolean; paused_time: string | null }>(
        sandbox,
        await sandbox.request({ method: 'POST', path: '/sandbox/v1/notifications-delivery/pause' }),
      );
      expect(paused.paused).toBe(true);
      expect(paused.paused_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
      const state = signedJson<{ paused: boolean }>(
        sandbox,
        await sandbox.request({ method: 'GET', path: '/sandbox/v1/notifications-delivery' }),
      );
      expect(state.paused).toBe(true);
      const id = await trigger('T3');
      const before = receiver.received.length;
      expect(await dispatch()).toBe(0);
      expect(receiver.received.length).toBe(before);
      expect((await detail(id)).state).toBe('pending');
      const resumed = signedJson<{ paused: boolean; paused_time: null }>(
        sandbox,
        await sandbox.request({ method: 'POST', path: '/sandbox/v1/notifications-delivery/resume' }),
      );
      expect(resumed).toEqual({ paused: false, paused_time: null });
      expect(await dispatch()).toBe(1);
      expect((await detail(id)).state).toBe('delivered');
    });

    it("isolates merchants: B sees, inspects, replays and pauses none of A's notifications", async () => {
      const aId = await trigger('T4');
      const listB = signedJson<{ total_count: number; data: Summary[] }>(
        sandbox,
        await asB({ method: 'GET', path: '/sandbox/v1/notifications' }),
      );
      expect(listB).toMatchObject({ total_count: 0, data: [] });
      expectError(
        await asB({ method: 'GET', path: `/sandbox/v1/notifications/${aId}` }),
        404,
        'RESOURCE_NOT_EXISTS',
      );
      expectError(
        await asB({ method: 'POST', path: `/sandbox/v1/notifications/${failed}/replay` }),
        404,
        'RESOURCE_NOT_EXISTS',
      );
      const many = signedJson<{ replayed: string[] }>(
        sandbox,
        await asB({ method: 'POST', path: '/sandbox/v1/notifications/replay', body: { ids: [failed, aId] } }),
      );
      expect(many.replayed).toEqual([]);
      const byState = signedJson<{ replayed: string[] }>(
        sandbox,
        await asB({ method: 'POST', path: '/sandbox/v1/notifications/replay', body: { state: 'delivered' } }),
      );
      expect(byState.replayed).toEqual([]);
      expect((await detail(failed)).state).toBe('delivered');
      // B pausing itself does not pause A.
      signedJson(sandbox, await asB({ method: 'POST', path: '/sandbox/v1/notifications-delivery/pause' }));
      expect(await dispatch()).toBe(1);
      expect((await detail(aId)).state).toBe('delivered');
      signedJson(sandbox, await asB({ method: 'POST', path: '/sandbox/v1/notifications-delivery/resume' }));
      // B's own event stays B's.
      const bId = await trigger('B1', asB);
      expect(
        signedJson<{ data: Summary[] }>(
          sandbox,
          await asB({ method: 'GET', path: '/sandbox/v1/notifications' }),
        ).data.map((n) => n.id),
      ).toEqual([bId]);
      expectError(
        await sandbox.request({ method: 'GET', path: `/sandbox/v1/notifications/${bId}` }),
        404,
        'RESOURCE_NOT_EXISTS',
      );
    });

    it('creates, lists, applies and deletes forwarding rules per merchant', async () => {
      const base = receiver.url.replace(/\/notify$/, '');
      // B's notify URL is public; a rule forwards it to the local receiver.
      const setB = await asB({
        method: 'POST',
        path: '/v3/marketing/partner/product-coupon/notify-configs',
        body: { notify_url: 'https://shop-b.example.com/wx/notify' },
      });
      expect(setB.status, setB.text).toBe(200);
      const rule = signedJson<{ id: string; from_url: string; to_url: string }>(
        sandbox,
        await asB({
          method: 'POST',
          path: '/sandbox/v1/notification-forwards',
          body: { from_url: 'https://shop-b.example.com/wx', to_url: base },
        }),
      );
      expect(rule).toMatchObject({ from_url: 'https://shop-b.example.com/wx', to_url: base });
      const listB = signedJson<{ data: Array<{ id: string }> }>(
        sandbox,
        await asB({ method: 'GET', path: '/sandbox/v1/notification-forwards' }),
      );
      expect(listB.data.map((r) => r.id)).toEqual([rule.id]);
      const listA = signedJson<{ data: unknown[] }>(
        sandbox,
        await sandbox.request({ method: 'GET', path: '/sandbox/v1/notification-forwards' }),
      );
      expect(listA.data).toEqual([]);
      // B's waiting event (from the previous test) now reaches the receiver through the rule.
      const before = receiver.received.length;
      expect(await dispatch()).toBe(1);
      expect(receiver.received.length).toBe(before + 1);
      const bDetail = signedJson<Detail & { attempt_log: Array<{ url: string }> }>(
        sandbox,
        await asB({
          method: 'GET',
          path: `/sandbox/v1/notifications/${(JSON.parse(receiver.received.at(-1)?.body ?? '{}') as { id: string }).id}`,
        }),
      );
      expect(bDetail.attempt_log[0]?.url).toBe(`${base}/notify`);
      expect(bDetail.state).toBe('delivered');

      // A cannot delete B's rule.
      expectError(
        await sandbox.request({ method: 'DELETE', path: `/sandbox/v1/notification-forwards/${rule.id}` }),
        404,
        'RESOURCE_NOT_EXISTS',
      );
      const del = await asB({ method: 'DELETE', path: `/sandbox/v1/notification-forwards/${rule.id}` });
      expect(del.status).toBe(204);
      expectError(
        await asB({ method: 'DELETE', path: `/sandbox/v1/notification-forwards/${rule.id}` }),
        404,
        'RESOURCE_NOT_EXISTS',
      );
    });

    it.each([
      ['a relative to_url', { from_url: 'https://a.example.com/x', to_url: '/local/path' }],
      ['an ftp from_url', { from_url: 'ftp://a.example.com/x', to_url: 'https://127.0.0.1:1/x' }],
      ['a missing to_url', { from_url: 'https://a.example.com/x' }],
      ['an unknown field', { from_url: 'https://a.example.com/x', to_url: 'https://b.example.com', x: 1 }],
    ])('refuses a forwarding rule with %s as 400 PARAM_ERROR', async (_what, body) => {
      expectError(
        await sandbox.request({ method: 'POST', path: '/sandbox/v1/notification-forwards', body }),
        400,
        'PARAM_ERROR',
      );
    });

    describe('product-coupon and delivery-plan events, decrypted on the receiver', () => {
      let c: TestMerchant;
      const asC = (input: Parameters<TestSandbox['request']>[0]) =>
        sandbox.request({ ...input, merchant: c });
      const countOfC = async () =>
        signedJson<{ total_count: number }>(
          sandbox,
          await asC({ method: 'GET', path: '/sandbox/v1/notifications' }),
        ).total_count;

      beforeAll(async () => {
        c = await addMerchant(sandbox, '1900077002');
        for (const [path, url] of [
          ['/v3/marketing/partner/product-coupon/notify-configs', `${receiver.url}`],
          [`/v3/marketing/partner/delivery-plan/${c.mchid}/notify-url`, `${receiver.url}`],
        ] as const) {
          const res = await asC({ method: 'POST', path, body: { notify_url: url } });
          expect(res.status, res.text).toBe(200);
        }
      });

      /** Triggers as C, dispatches, and returns the verified, decrypted delivery of that notification. */
      async function deliver(path: string, body: Record<string, unknown>) {
        status = 200;
        const { notification_id: id } = signedJson<{ notification_id: string }>(
          sandbox,
          await asC({ method: 'POST', path, body }),
        );
        expect(await dispatch()).toBe(1);
        const request = receiver.received.find((r) => (JSON.parse(r.body) as { id: string }).id === id);
        if (!request) throw new Error(`notification ${id} was not received`);
        const platform = sandbox.server.credentials.platform.publicKey;
        expect(request.headers['wechatpay-serial']).toBe(platform.keyId);
        const verified = verifyResponseSignature({
          headers: request.headers,
          body: request.body,
          resolveKey: (serial) => (serial === platform.keyId ? platform.publicKey : undefined),
          nowSeconds: Math.floor(Date.now() / 1000),
        });
        expect(verified).toEqual({ ok: true, serial: platform.keyId });
        const parsed = parseNotificationEnvelope(request.body);
        if (!parsed.ok) throw new Error(parsed.reason);
        const plaintext = JSON.parse(
          decryptNotificationResource(parsed.envelope.resource, c.apiV3Key),
        ) as Record<string, unknown>;
        return { id, envelope: parsed.envelope, plaintext };
      }

      const SEND = {
        brand_id: '120344',
        coupon_code: 'PC0000000001',
        product_coupon_id: '1000000013',
        stock_id: '1000000013001',
        stock_bundle_id: '1000000013000',
        user_coupon_bundle_id: 'UB0001',
        appid: 'wx1234567890abcdef',
        openid: 'o4GgauInH_RCEdvrrNGrntXDuXXX',
        unionid: 'oX9Yq5Ymi3EZ4Fu_IIcz4QXXXXXX',
        receive_time: '2025-01-01T08:00:05+08:00',
        send_request_no: 'SEND-20250101-0001',
        send_channel: 'RECEIVE_COMPONENT',
        valid_begin_time: '2025-01-01T00:00:00+08:00',
        valid_end_time: '2025-01-31T23:59:59+08:00',
        phone_number: 'pYn6bCm8Z0…encrypted',
        country_code: '86',
        attach: 'order=42',
        channel_custom_info: 'shelf-7',
      };

      it('delivers PRODUCT_COUPON_SP.SEND: every field of the resource, decrypted as sent', async () => {
        const { id, envelope, plaintext } = await deliver('/sandbox/v1/product-coupon/events', {
          event_type: 'PRODUCT_COUPON_SP.SEND',
          resource: SEND,
        });
        expect(envelope).toMatchObject({
          id,
          event_type: 'PRODUCT_COUPON_SP.SEND',
          resource_type: 'encrypt-resource',
          summary: '商品券发放通知',
          resource: {
            original_type: 'product_coupon',
            algorithm: 'AEAD_AES_256_GCM',
            associated_data: 'product_coupon',
          },
        });
        expect(Object.keys(plaintext).sort()).toEqual(Object.keys(SEND).sort());
        for (const [field, value] of Object.entries(SEND)) expect(plaintext[field], field).toBe(value);
      });

      it('delivers PRODUCT_COUPON_SP.SEND with only the required fields (no optional one is invented)', async () => {
        const required = Object.fromEntries(
          Object.entries(SEND).filter(
            ([k]) =>
              ![
                'stock_bundle_id',
                'user_coupon_bundle_id',
                'unionid',
                'phone_number',
                'country_code',
                'attach',
                'channel_custom_info',
              ].includes(k),
          ),
        );
        const { plaintext } = await deliver('/sandbox/v1/product-coupon/events', {
          event_type: 'PRODUCT_COUPON_SP.SEND',
          resource: { ...required, send_channel: 'API' },
        });
        expect(plaintext).toEqual({ ...required, send_channel: 'API' });
      });

      it.each([
        [
          'COMBINE_IMAGE',
          'SUCCESS',
          { combine_image_result: { image_url: 'https://wxpaylogo.qpic.cn/a.png' } },
        ],
        ['CUT_OUT', 'SUCCESS', { cut_out_result: { image_url: 'https://wxpaylogo.qpic.cn/b.png' } }],
        ['CUT_OUT', 'PROCESSING', {}],
        ['COMBINE_IMAGE', 'FAIL', {}],
      ] as const)(
        'delivers PRODUCT_COUPON_SP.IMAGE_GENERATION (%s, %s) field by field',
        async (type, state, extra) => {
          const resource = {
            brand_id: '120344',
            task_id: `TASK-${type}-${state}`,
            image_generation_type: type,
            task_state: state,
            ...extra,
          };
          const { envelope, plaintext } = await deliver('/sandbox/v1/product-coupon/events', {
            event_type: 'PRODUCT_COUPON_SP.IMAGE_GENERATION',
            resource,
          });
          expect(envelope).toMatchObject({
            event_type: 'PRODUCT_COUPON_SP.IMAGE_GENERATION',
            summary: '商品券图片生成通知',
            resource: { original_type: 'product_coupon', associated_data: 'product_coupon' },
          });
          expect(plaintext).toEqual(resource);
        },
      );

      it('delivers DELIVERY_PLAN.CHANGE: plan_id, plan_state, audit_state, change_reason, modify_time', async () => {
        const { envelope, plaintext } = await deliver('/sandbox/v1/delivery-plan/events', {
          plan_id: 'PLAN-C-001',
          plan_state: 'TERMINATED',
          audit_state: 'REJECTED',
          change_reason: '审核未通过',
        });
        expect(envelope).toMatchObject({
          event_type: 'DELIVERY_PLAN.CHANGE',
          summary: '投放计划状态变更通知',
          resource: { original_type: 'delivery_plan', associated_data: 'delivery_plan' },
        });
        expect(Object.keys(plaintext).sort()).toEqual([
          'audit_state',
          'change_reason',
          'modify_time',
          'plan_id',
          'plan_state',
        ]);
        expect(plaintext.plan_id).toBe('PLAN-C-001');
        expect(plaintext.plan_state).toBe('TERMINATED');
        expect(plaintext.audit_state).toBe('REJECTED');
        expect(plaintext.change_reason).toBe('审核未通过');
        // The change happened at the merchant's business time, which is also the notification's.
        expect(plaintext.modify_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
        expect(plaintext.modify_time).toBe(envelope.create_time);
      });

      const without = (field: string) =>
        Object.fromEntries(Object.entries(SEND).filter(([k]) => k !== field));
      const IMAGE = imageGenerationResource('T');
      it.each([
        [
          'SEND without coupon_code',
          'PRODUCT_COUPON_SP.SEND',
          without('coupon_code'),
          '/resource/coupon_code',
        ],
        ['SEND without openid', 'PRODUCT_COUPON_SP.SEND', without('openid'), '/resource/openid'],
        [
          'SEND without valid_end_time',
          'PRODUCT_COUPON_SP.SEND',
          without('valid_end_time'),
          '/resource/valid_end_time',
        ],
        [
          'SEND with an unknown send_channel',
          'PRODUCT_COUPON_SP.SEND',
          { ...SEND, send_channel: 'WECHAT' },
          '/resource/send_channel',
        ],
        [
          'SEND with a numeric stock_id',
          'PRODUCT_COUPON_SP.SEND',
          { ...SEND, stock_id: 1000000013001 },
          '/resource/stock_id',
        ],
        [
          'SEND with a receive_time that is not RFC 3339',
          'PRODUCT_COUPON_SP.SEND',
          { ...SEND, receive_time: '2025-01-01 08:00:05' },
          '/resource/receive_time',
        ],
        [
          'SEND ending before it begins',
          'PRODUCT_COUPON_SP.SEND',
          { ...SEND, valid_end_time: '2024-12-31T23:59:59+08:00' },
          '/resource/valid_end_time',
        ],
        [
          'SEND with an unknown field',
          'PRODUCT_COUPON_SP.SEND',
          { ...SEND, coupon_state: 'SENDED' },
          '/resource/coupon_state',
        ],
        [
          'IMAGE_GENERATION without task_id',
          'PRODUCT_COUPON_SP.IMAGE_GENERATION',
          { ...IMAGE, task_id: undefined },
          '/resource/task_id',
        ],
        [
          'IMAGE_GENERATION with an unknown task_state',
          'PRODUCT_COUPON_SP.IMAGE_GENERATION',
          { ...IMAGE, task_state: 'DONE' },
          '/resource/task_state',
        ],
        [
          "IMAGE_GENERATION with the other task type's result",
          'PRODUCT_COUPON_SP.IMAGE_GENERATION',
          { ...IMAGE, combine_image_result: { image_url: 'https://x.example.com/a.png' } },
          '/resource/combine_image_result',
        ],
        [
          'IMAGE_GENERATION with a result URL that is not a URL',
          'PRODUCT_COUPON_SP.IMAGE_GENERATION',
          { ...IMAGE, cut_out_result: { image_url: 'a.png' } },
          '/resource/cut_out_result/image_url',
        ],
        [
          'IMAGE_GENERATION with SEND fields',
          'PRODUCT_COUPON_SP.IMAGE_GENERATION',
          { ...IMAGE, coupon_code: 'PC1' },
          '/resource/coupon_code',
        ],
      ])('refuses %s as 400 PARAM_ERROR and enqueues nothing', async (_what, eventType, resource, field) => {
        const before = await countOfC();
        const res = await asC({
          method: 'POST',
          path: '/sandbox/v1/product-coupon/events',
          body: { event_type: eventType, resource: JSON.parse(JSON.stringify(resource)) },
        });
        expectError(res, 400, 'PARAM_ERROR');
        expect(res.json<{ detail: { field: string; location: string } }>().detail).toMatchObject({
          field,
          location: 'body',
        });
        expect(await countOfC()).toBe(before);
      });
    });

    it('refuses an unsigned request to the simulation API with 401 SIGN_ERROR', async () => {
      const res = await fetch(`${sandbox.url}/sandbox/v1/notifications`);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe('SIGN_ERROR');
    });
  });
}
