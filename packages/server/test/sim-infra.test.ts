import { DIALECTS, startSandbox, type TestSandbox, verifyTestResponse } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CALLBACKS = '/v3/marketing/busifavor/callbacks';
const URL_A = 'https://merchant.example.com/notify/a';
const URL_B = 'https://merchant.example.com/notify/b';
const FAULTS = '/sandbox/v1/faults';
const CLOCK = '/sandbox/v1/clock';

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`simulation API over HTTP on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      const set = await sandbox.request({ method: 'POST', path: CALLBACKS, body: { notify_url: URL_A } });
      expect(set.status).toBe(200);
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    const currentUrl = async () =>
      (await sandbox.request({ method: 'GET', path: CALLBACKS })).json().notify_url;
    const setUrl = (url: string, headers?: Record<string, string>) =>
      sandbox.request({ method: 'POST', path: CALLBACKS, body: { notify_url: url }, headers });
    const addRule = (body: object) => sandbox.request({ method: 'POST', path: FAULTS, body });

    it('fails the next matching call with the chosen error, changes nothing, and lets the following call through', async () => {
      const created = await addRule({ method: 'POST', path: CALLBACKS, code: 'SYSTEM_ERROR', count: 1 });
      expect(created.status).toBe(200);
      const rule = created.json<{ id: string; remaining: number; status: number; scope: string }>();
      expect(rule).toMatchObject({ remaining: 1, status: 500, scope: 'merchant' });
      expect(verifyTestResponse(created, sandbox.server.credentials.platform.publicKey.publicKey).ok).toBe(
        true,
      );

      const failed = await setUrl(URL_B);
      expect(failed.status).toBe(500);
      expect(failed.json()).toEqual({ code: 'SYSTEM_ERROR', message: '系统错误' });
      expect(failed.headers['wechatpay-sandbox-injected-fault']).toBe(`rule=${rule.id}`);
      expect(await currentUrl()).toBe(URL_A);

      const ok = await setUrl(URL_B);
      expect(ok.status).toBe(200);
      expect(await currentUrl()).toBe(URL_B);
      const after = await sandbox.request({ method: 'GET', path: `${FAULTS}/${rule.id}` });
      expect(after.json()).toMatchObject({ remaining: 0, fired: 1, matched: 1 });
    });

    it('answers a rate-limit fault with 429 and a documented status override with that status', async () => {
      await addRule({ method: 'GET', path: CALLBACKS, code: 'FREQUENCY_LIMITED', count: 1 });
      await addRule({ method: 'GET', path: CALLBACKS, code: 'SYSTEM_ERROR', status: 400, count: 1 });
      const first = await sandbox.request({ method: 'GET', path: CALLBACKS });
      expect(first.status).toBe(429);
      expect(first.json()).toEqual({ code: 'FREQUENCY_LIMITED', message: '频率限制' });
      const second = await sandbox.request({ method: 'GET', path: CALLBACKS });
      expect(second.status).toBe(400);
      expect(second.json().code).toBe('SYSTEM_ERROR');
      expect((await sandbox.request({ method: 'GET', path: CALLBACKS })).status).toBe(200);
    });

    it('refuses a status the docs do not list for the code, and an unknown code', async () => {
      const badStatus = await addRule({ path: CALLBACKS, code: 'FREQUENCY_LIMITED', status: 500 });
      expect(badStatus.status).toBe(400);
      expect(badStatus.json()).toMatchObject({ code: 'PARAM_ERROR', detail: { field: '/status' } });
      const badCode = await addRule({ path: CALLBACKS, code: 'TEAPOT' });
      expect(badCode.json()).toMatchObject({ code: 'PARAM_ERROR', detail: { field: '/code' } });
      const extra = await addRule({ path: CALLBACKS, code: 'SYSTEM_ERROR', colour: 'red' });
      expect(extra.json().code).toBe('PARAM_ERROR');
    });

    it('matches {param} segments of the path', async () => {
      const created = await addRule({
        method: 'POST',
        path: '/v3/marketing/partner/delivery-plan/{sp_mchid}/notify-url',
        code: 'NO_AUTH',
        count: 1,
      });
      expect(created.status).toBe(200);
      const res = await sandbox.request({
        method: 'POST',
        path: `/v3/marketing/partner/delivery-plan/${sandbox.merchant.mchid}/notify-url`,
        body: { notify_url: URL_A },
      });
      expect(res.status).toBe(403);
      expect(res.json().code).toBe('NO_AUTH');
    });

    it('delays a call and then proceeds (delay-only rule)', async () => {
      await addRule({ method: 'GET', path: CALLBACKS, delay_ms: 400, count: 1 });
      const started = performance.now();
      const res = await sandbox.request({ method: 'GET', path: CALLBACKS });
      expect(res.status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(380);
    });

    it('lists, reads and deletes rules; a deleted rule stops firing', async () => {
      const { id } = (await addRule({ path: CALLBACKS, code: 'SERVICE_UNAVAILABLE', status: 502 })).json<{
        id: string;
      }>();
      const listed = await sandbox.request({ method: 'GET', path: FAULTS });
      expect(listed.json<{ data: { id: string }[] }>().data.map((r) => r.id)).toContain(id);
      expect((await sandbox.request({ method: 'GET', path: CALLBACKS })).status).toBe(502);
      const deleted = await sandbox.request({ method: 'DELETE', path: `${FAULTS}/${id}` });
      expect(deleted.status).toBe(204);
      expect((await sandbox.request({ method: 'GET', path: CALLBACKS })).status).toBe(200);
      const missing = await sandbox.request({ method: 'GET', path: `${FAULTS}/${id}` });
      expect(missing.status).toBe(404);
      expect(missing.json().code).toBe('RESOURCE_NOT_EXISTS');
    });

    it('a global rule applies to the merchant, and DELETE ?scope=global clears it', async () => {
      await addRule({ scope: 'global', method: 'GET', path: CALLBACKS, code: 'SYSTEM_ERROR' });
      expect((await sandbox.request({ method: 'GET', path: CALLBACKS })).status).toBe(500);
      // Simulation routes are never faulted, so the rule can always be removed.
      expect((await sandbox.request({ method: 'DELETE', path: `${FAULTS}?scope=global` })).status).toBe(204);
      expect((await sandbox.request({ method: 'GET', path: CALLBACKS })).status).toBe(200);
    });

    it('the Wechatpay-Sandbox-Fault header fails only this request and changes nothing', async () => {
      const before = await currentUrl();
      const failed = await setUrl(URL_A, { 'Wechatpay-Sandbox-Fault': 'SYSTEM_ERROR' });
      expect(failed.status).toBe(500);
      expect(failed.json()).toEqual({ code: 'SYSTEM_ERROR', message: '系统错误' });
      expect(failed.headers['wechatpay-sandbox-injected-fault']).toBe('header');
      expect(await currentUrl()).toBe(before);
      const started = performance.now();
      const delayed = await sandbox.request({
        method: 'GET',
        path: CALLBACKS,
        headers: { 'Wechatpay-Sandbox-Fault': 'delay=300' },
      });
      expect(delayed.status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(280);
      const bad = await sandbox.request({
        method: 'GET',
        path: CALLBACKS,
        headers: { 'Wechatpay-Sandbox-Fault': 'TEAPOT' },
      });
      expect(bad.status).toBe(400);
      expect(bad.json()).toMatchObject({ code: 'INVALID_REQUEST', detail: { location: 'header' } });
    });

    it('reports real time until the clock is changed', async () => {
      const res = await sandbox.request({ method: 'GET', path: CLOCK });
      expect(res.status).toBe(200);
      const body = res.json<{ now: string; now_ms: number; mode: string; source: string }>();
      expect(body.now).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
      expect(body).toMatchObject({ mode: 'real', source: 'real', merchant: null, global: null });
      expect(Math.abs(body.now_ms - Date.now())).toBeLessThan(5000);
    });

    it('freezes and advances business time while signatures keep using the wall clock', async () => {
      const frozen = await sandbox.request({
        method: 'POST',
        path: CLOCK,
        body: { action: 'freeze', time: '2030-06-01T10:00:00+08:00' },
      });
      expect(frozen.status).toBe(200);
      expect(frozen.json()).toMatchObject({
        now: '2030-06-01T10:00:00+08:00',
        mode: 'frozen',
        source: 'merchant',
      });
      const advanced = await sandbox.request({
        method: 'POST',
        path: CLOCK,
        body: { action: 'advance', seconds: 86_400 },
      });
      expect(advanced.json().now).toBe('2030-06-02T10:00:00+08:00');
      // The request was signed with the real time and verified; the business timestamp is virtual.
      const set = await setUrl(URL_A);
      expect(set.status).toBe(200);
      expect(set.json().update_time).toBe('2030-06-02T10:00:00+08:00');
      expect(Math.abs(Number(set.headers['wechatpay-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    });

    it('refuses to move time backwards unless allow_backwards is set', async () => {
      const back = await sandbox.request({
        method: 'POST',
        path: CLOCK,
        body: { action: 'set', time: '2030-01-01T00:00:00+08:00' },
      });
      expect(back.status).toBe(400);
      expect(back.json()).toMatchObject({ code: 'INVALID_REQUEST', detail: { field: '/allow_backwards' } });
      const missing = await sandbox.request({ method: 'POST', path: CLOCK, body: { action: 'set' } });
      expect(missing.json()).toMatchObject({ code: 'PARAM_ERROR', detail: { field: '/time' } });
      const badTime = await sandbox.request({
        method: 'POST',
        path: CLOCK,
        body: { action: 'set', time: 'tomorrow' },
      });
      expect(badTime.json()).toMatchObject({ code: 'PARAM_ERROR', detail: { field: '/time' } });
    });

    it('keeps the clock and fault rules across a restart, then resumes real time', async () => {
      const { id } = (
        await addRule({ method: 'GET', path: CALLBACKS, code: 'SYSTEM_ERROR', count: 1 })
      ).json<{
        id: string;
      }>();
      await sandbox.restart();
      const clock = await sandbox.request({ method: 'GET', path: CLOCK });
      expect(clock.json()).toMatchObject({ now: '2030-06-02T10:00:00+08:00', mode: 'frozen' });
      const faulted = await sandbox.request({ method: 'GET', path: CALLBACKS });
      expect(faulted.status).toBe(500);
      expect(faulted.headers['wechatpay-sandbox-injected-fault']).toBe(`rule=${id}`);
      const resumed = await sandbox.request({
        method: 'POST',
        path: CLOCK,
        body: { action: 'resume', allow_backwards: true },
      });
      expect(resumed.json()).toMatchObject({ mode: 'real', source: 'real' });
    });
  });
}
