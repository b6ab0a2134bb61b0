import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIALECTS, startSandbox, type TestMerchant, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMerchant, expectError, signedJson } from '../busifavor-helpers.js';
import {
  makeCertificate,
  scratchDir,
  startReceiver,
  type TestCertificate,
  type TestReceiver,
} from './fixtures.js';

/**
 * Every notification route of the simulation API over real HTTP with signed requests: list and inspect
 * with filters, replay one and many, pause/resume/dispatch, forwarding rules, delivery-plan events;
 * WeChat-shaped errors for bad input; and one merchant never seeing or touching another's notifications.
 * Delivery runs only through `POST /sandbox/v1/notifications-delivery/dispatch`, so every step is
 * deterministic.
 */

const scratch = scratchDir();
let tls: TestCertificate;
let caFile: string;
beforeAll(() => {
  tls = makeCertificate(scratch.dir, 'receiver');
  caFile = join(scratch.dir, 'ca.pem');
  writeFileSync(caFile, tls.certPem);
});
afterAll(() => scratch.remove());

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
          body: {
            event_type: 'PRODUCT_COUPON_SP.IMAGE_GENERATION',
            resource: {
              brand_id: '120344',
              task_id: taskId,
              image_generation_type: 'CUT_OUT',
              task_state: 'SUCCESS',
            },
          },
        }),
      ).notification_id;

    beforeAll(async () => {
      receiver = await startReceiver(tls, async () => {
        await gate;
        return status;
      });
      // Delivery off: only the dispatch route delivers, so the tests decide when.
      sandbox = await startSandbox({ dialect, config: { notifyCaFile: caFile, notifyDelivery: false } });
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

    it('refuses an unsigned request to the simulation API with 401 SIGN_ERROR', async () => {
      const res = await fetch(`${sandbox.url}/sandbox/v1/notifications`);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe('SIGN_ERROR');
    });
  });
}
