import { connect } from 'node:net';
import {
  DIALECTS,
  rawRequest,
  startSandbox,
  type TestResponse,
  type TestSandbox,
} from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Endpoint, routePattern } from '../src/contract/endpoint.js';
import { DASHBOARD_ENDPOINTS } from '../src/contract/endpoints/dashboard.js';
import { ENDPOINTS } from '../src/contract/endpoints/index.js';
import { BASE, bindAppid, expectError, reqNo, stockBody, trustPlatformKeys } from './busifavor-helpers.js';

/** The public operations' route patterns: /metrics and the API reference (/openapi.json, /docs…). */
const PUBLIC_ROUTES = (Object.values(ENDPOINTS) as Endpoint[])
  .filter((entry) => entry.auth === 'public')
  .map((entry) => routePattern(entry.path));

/** The dashboard's routes: neither signed nor public, but loopback or the dashboard token (dashboard.test.ts). */
const DASHBOARD_ROUTES = (Object.values(DASHBOARD_ENDPOINTS) as Endpoint[]).map((entry) =>
  routePattern(entry.path),
);

/**
 * Authentication belongs to the matched route: every route but the ones declared public refuses an
 * unsigned request however its path is spelled, and a signature is only accepted over the plain spelling.
 */

/** A value for each path parameter, so a route pattern becomes a path the router matches. */
const SAMPLE_PARAMS: Record<string, string> = {
  sp_mchid: '1900000109',
  stock_id: '1234567890',
  openid: 'oSAMPLEopenid',
  coupon_code: 'CODE123',
  appid: 'wx1234567890abcdef',
};
const concrete = (pattern: string) =>
  pattern.replace(/:([a-z_]+)/g, (_, name: string) => SAMPLE_PARAMS[name] ?? '1');

/** Each character of the static segments percent-encoded in turn (uppercase hex, as clients write). */
function percentSpellings(path: string, pattern: string): string[] {
  const spellings: string[] = [];
  const segments = path.split('/');
  const patternSegments = pattern.split('/');
  segments.forEach((segment, i) => {
    if (patternSegments[i]?.startsWith(':')) return;
    for (let c = 0; c < segment.length; c++) {
      const hex = `%${segment.charCodeAt(c).toString(16).toUpperCase().padStart(2, '0')}`;
      const spelled = [...segments];
      spelled[i] = segment.slice(0, c) + hex + segment.slice(c + 1);
      spellings.push(spelled.join('/'));
    }
  });
  return spellings;
}

/** The other ways to write the same path: absolute-form, dot segments, doubled slashes. */
function otherSpellings(baseUrl: string, path: string): string[] {
  const [first, ...rest] = path.slice(1).split('/');
  return [
    `${baseUrl}${path}`,
    `/${first}/./${rest.join('/')}`,
    `/${first}/x/../${rest.join('/')}`,
    `/${first}/%2e/${rest.join('/')}`,
    `/${first}/x/%2E%2E/${rest.join('/')}`,
    `/${path}`,
    `/${first}//${rest.join('/')}`,
    `${path}/`,
  ];
}

/** What an unsigned request may get: refused by the signature check, or matching no route at all. */
function expectRefusedUnsigned(res: TestResponse, target: string): void {
  const context = `${target} → ${res.status} ${res.text}`;
  expect([400, 401, 404], context).toContain(res.status);
  expect(res.headers['wechatpay-signature'], context).toBeUndefined();
  if (res.text === '') return; // HEAD: the status and headers are the whole answer
  const code = res.json<{ code: string }>().code;
  const allowed = { 400: 'INVALID_REQUEST', 401: 'SIGN_ERROR', 404: 'RESOURCE_NOT_EXISTS' } as const;
  expect(code, context).toBe(allowed[res.status as 400 | 401 | 404]);
  expect(res.headers['request-id'], context).toMatch(/^[0-9A-F]{48}$/);
}

/** A body on a bodyless method is refused before authentication, so the answer is not signed. */
function expectBodyRefused(res: TestResponse): void {
  expect(res.status, res.text).toBe(400);
  const body = res.json<{ code: string; message: string }>();
  expect(body.code).toBe('INVALID_REQUEST');
  expect(body.message).toMatch(/请求不能携带请求体/);
}

/** Runs `tasks` with a few requests in flight. */
async function inBatches<T>(items: readonly T[], task: (item: T) => Promise<void>, width = 16) {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(task));
}

const UNSIGNED_HEADERS = { Accept: 'application/json', 'User-Agent': 'route-auth-test/1.0' };

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`route authentication on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      trustPlatformKeys(sandbox);
    });
    afterAll(async () => {
      await sandbox?.close();
    });
    const signedRoutes = () => sandbox.server.routes.filter((r) => r.auth === 'merchant');

    it('registers every /v3 and /sandbox route as signed; only /metrics and the API reference are public', () => {
      const routes = sandbox.server.routes;
      expect(routes.length).toBeGreaterThan(50);
      expect(routes.filter((r) => r.auth === 'public').map((r) => `${r.method} ${r.url}`)).toEqual(
        expect.arrayContaining(['GET /metrics', 'GET /openapi.json', 'GET /docs']),
      );
      for (const route of routes) {
        if (route.url.startsWith('/v3/') || route.url.startsWith('/sandbox/')) {
          expect(route.auth, `${route.method} ${route.url}`).toBe('merchant');
        } else if (route.url === '/dashboard' || route.url.startsWith('/dashboard/')) {
          expect(DASHBOARD_ROUTES, `${route.method} ${route.url}`).toContain(route.url);
          expect(route.auth, `${route.method} ${route.url}`).toBe('dashboard');
        } else {
          expect(PUBLIC_ROUTES, `${route.method} ${route.url}`).toContain(route.url);
          expect(route.auth, `${route.method} ${route.url}`).toBe('public');
        }
      }
    });

    it('refuses unsigned requests to every signed route however the path is spelled', async () => {
      const probes: { method: string; target: string }[] = [];
      for (const route of signedRoutes()) {
        const path = concrete(route.url);
        for (const target of [
          path,
          ...percentSpellings(path, route.url),
          ...otherSpellings(sandbox.url, path),
        ]) {
          probes.push({ method: route.method, target });
        }
      }
      expect(probes.length).toBeGreaterThan(1000);
      let refusedBySignature = 0;
      await inBatches(probes, async ({ method, target }) => {
        const res = await rawRequest(sandbox.url, { method, path: target, headers: UNSIGNED_HEADERS });
        expectRefusedUnsigned(res, `${method} ${target}`);
        if (res.status === 401) refusedBySignature++;
      });
      // The plain and percent-encoded spellings all match their route, so most refusals are 401s.
      expect(refusedBySignature).toBeGreaterThan(probes.length / 2);
    });

    it('the reported bypasses answer 401 and reach nothing', async () => {
      const user = await sandbox.request({ method: 'POST', path: '/sandbox/v1/users', body: { appids: [] } });
      expect(user.status, user.text).toBe(200);
      const userId = user.json<{ user_id: string }>().user_id;
      for (const [method, target] of [
        ['GET', `/%73andbox/v1/users/${userId}`],
        ['GET', `/sandbox/v1/users/${userId}`],
        ['POST', '/%73andbox/v1/notifications-delivery/dispatch'],
        ['GET', '/v%33/certificates'],
        ['GET', `${sandbox.url}/v3/certificates`],
        ['GET', `${sandbox.url}/sandbox/v1/users/${userId}`],
      ] as const) {
        const res = await rawRequest(sandbox.url, { method, path: target, headers: UNSIGNED_HEADERS });
        expect(res.status, `${method} ${target} ${res.text}`).toBe(401);
        expect(res.json().code).toBe('SIGN_ERROR');
        expect(res.text).not.toContain('openids');
      }
    });

    it('refuses a signature over any spelling but the route’s own, even when it verifies', async () => {
      for (const target of [
        '/%73andbox/v1/appids',
        '/sandbox/v1/%61ppids',
        '/sandbox/./v1/appids',
        `${sandbox.url}/sandbox/v1/appids`,
        '/v%33/marketing/busifavor/callbacks',
      ]) {
        // Signed over exactly what is sent: the signature verifies, the spelling does not.
        const res = await sandbox.request({ method: 'GET', path: target });
        if (res.status === 404) continue; // the spelling matched no route at all
        expect(res.status, `${target} ${res.text}`).toBe(401);
        const body = res.json<{ code: string; detail: { issue: string } }>();
        expect(body.code).toBe('SIGN_ERROR');
        expect(body.detail.issue).toMatch(/spelled|origin-form/);
      }
      // The plain spelling works, and a parameter may be percent-encoded (its value is what is read).
      expect((await sandbox.request({ method: 'GET', path: '/sandbox/v1/appids' })).status).toBe(200);
      const res = await sandbox.request({ method: 'GET', path: `${BASE}/stocks/%31%32%33%34%35%36%37%38` });
      expect(res.status, res.text).toBe(404);
      expect(res.json().code).toBe('RESOURCE_NOT_EXISTS');
    });

    it('keeps /metrics public under any spelling the router matches', async () => {
      const res = await rawRequest(sandbox.url, { method: 'GET', path: '/metrics', headers: {} });
      expect(res.status).toBe(200);
      expect(res.text).toContain('wps_http_requests_total');
    });

    it('refuses a body on GET and DELETE (it is not covered by the signature) and accepts an empty one', async () => {
      const path = '/sandbox/v1/appids';
      for (const method of ['GET', 'DELETE'] as const) {
        const target = method === 'GET' ? path : `${path}/wx1234567890abcdef`;
        // Signed with an empty BODY line, as clients do for GET, but bytes sent anyway.
        const unsignedBytes = await sandbox.request({ method, path: target, sendBody: '{"a":1}' });
        expectBodyRefused(unsignedBytes);
        // Even when the signature covers the body.
        expectBodyRefused(await sandbox.request({ method, path: target, body: { a: 1 } }));
        // Or when the body is chunked.
        expectBodyRefused(
          await sandbox.request({ method, path: target, headers: { 'Transfer-Encoding': 'chunked' } }),
        );
      }
      // What wechatpay-axios-plugin sends on every GET: Content-Type: application/json, no body.
      const empty = await sandbox.request({
        method: 'GET',
        path,
        headers: { 'Content-Type': 'application/json' },
      });
      expect(empty.status, empty.text).toBe(200);
      const zeroLength = await sandbox.request({ method: 'GET', path, headers: { 'Content-Length': '0' } });
      expect(zeroLength.status, zeroLength.text).toBe(200);
    });

    it('refuses a body member that repeats a path parameter on every route with one', async () => {
      const mchid = sandbox.merchant.mchid;
      const created = await sandbox.request({
        method: 'POST',
        path: `${BASE}/stocks`,
        body: stockBody(mchid),
      });
      expect(created.status, created.text).toBe(200);
      const stockId = created.json<{ stock_id: string }>().stock_id;
      const cases: { method: string; path: string; body: Record<string, unknown>; name: string }[] = [
        {
          method: 'PATCH',
          path: `${BASE}/stocks/${stockId}/budget`,
          body: { stock_id: stockId, target_max_coupons: 200, modify_budget_request_no: reqNo() },
          name: 'stock_id',
        },
        {
          method: 'POST',
          path: `${BASE}/stocks/${stockId}/couponcodes`,
          body: { stock_id: stockId, coupon_code_list: ['ABC12345'], upload_request_no: reqNo() },
          name: 'stock_id',
        },
        {
          method: 'PATCH',
          path: `${BASE}/stocks/${stockId}`,
          body: { stock_id: stockId, out_request_no: reqNo(), stock_name: 'x' },
          name: 'stock_id',
        },
        {
          method: 'POST',
          path: '/v3/marketing/partner/delivery-plan/1900000109/notify-url',
          body: { sp_mchid: '1900000109', notify_url: 'https://merchant.example.com/plan' },
          name: 'sp_mchid',
        },
        {
          method: 'POST',
          path: '/sandbox/v1/busifavor/stocks/1234567890/state',
          body: { stock_id: '1234567890', stock_state: 'PAUSED' },
          name: 'stock_id',
        },
      ];
      for (const c of cases) {
        const res = await sandbox.request({ method: c.method, path: c.path, body: c.body });
        expectError(
          res,
          400,
          'PARAM_ERROR',
          new RegExp(`输入源“/body/${c.name}”.*“/uri_template/${c.name}”`),
        );
        expect(res.json<{ detail: { field: string } }>().detail.field).toBe(`/${c.name}`);
      }
      // Nothing changed: the stock keeps its budget and name.
      const stock = await sandbox.request({ method: 'GET', path: `${BASE}/stocks/${stockId}` });
      const view = stock.json<{ stock_name: string; stock_send_rule: { max_coupons: number } }>();
      expect(view.stock_name).toBe(stockBody(mchid).stock_name);
      expect(view.stock_send_rule.max_coupons).toBe(
        (stockBody(mchid).stock_send_rule as { max_coupons: number }).max_coupons,
      );
    });

    it('refuses a list offset past 64 bits with PARAM_ERROR, not a database error (found by npm run fuzz)', async () => {
      for (const offset of ['99999999999999999999', '9223372036854775808', '1e300']) {
        const res = await sandbox.request({
          method: 'GET',
          path: `/sandbox/v1/notifications?offset=${offset}`,
        });
        expectError(res, 400, 'PARAM_ERROR');
      }
    });

    it('answers a HEAD request the parser refuses with headers only, so the client can frame it', async () => {
      const { hostname, port } = new URL(sandbox.url);
      const answer = await new Promise<Buffer>((resolve, reject) => {
        const socket = connect(Number(port), hostname);
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('end', () => resolve(Buffer.concat(chunks)));
        socket.on('error', reject);
        socket.write(
          Buffer.concat([
            Buffer.from('HEAD /metrics?x='),
            Buffer.from([0x80]),
            Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n'),
          ]),
        );
      });
      const text = answer.toString('latin1');
      expect(text).toMatch(/^HTTP\/1\.1 400 /);
      expect(text).toMatch(/\r\nRequest-ID: [0-9A-F]{48}\r\n/);
      expect(text.endsWith('\r\n\r\n'), text).toBe(true);
    });

    it('refuses NUL and other control characters in every field with 400 PARAM_ERROR naming it', async () => {
      const mchid = sandbox.merchant.mchid;
      const appid = 'wx00000000000000a1';
      await bindAppid(sandbox, appid);
      const setting = await sandbox.request({
        method: 'POST',
        path: `${BASE}/callbacks`,
        body: { mchid, notify_url: 'https://merchant.example.com/before' },
      });
      expect(setting.status, setting.text).toBe(200);
      const cases: { method: string; path: string; body?: unknown; field: string }[] = [
        {
          method: 'POST',
          path: '/sandbox/v1/appids',
          body: { appid: 'wx00000000000\u0000a2' },
          field: '/appid',
        },
        {
          method: 'POST',
          path: '/sandbox/v1/users',
          body: { appids: [appid], natural_person_id: 'np\u0000' },
          field: '/natural_person_id',
        },
        {
          method: 'POST',
          path: `${BASE}/stocks`,
          body: stockBody(mchid, { out_request_no: `x\u0000${reqNo()}` }),
          field: '/out_request_no',
        },
        {
          method: 'POST',
          path: `${BASE}/stocks`,
          body: stockBody(mchid, { comment: 'a\u0001b' }),
          field: '/comment',
        },
        {
          method: 'POST',
          path: `${BASE}/coupons/use`,
          body: {
            coupon_code: 'C\u0000',
            stock_id: '1234567890',
            appid,
            use_time: '2026-12-01T10:00:00+08:00',
            use_request_no: reqNo(),
          },
          field: '/coupon_code',
        },
        {
          method: 'POST',
          path: `${BASE}/coupons/use`,
          body: {
            coupon_code: 'C1',
            stock_id: '1234567890',
            appid,
            use_time: '2026-12-01T10:00:00+08:00',
            use_request_no: 'u\u0000',
          },
          field: '/use_request_no',
        },
        {
          method: 'POST',
          path: `${BASE}/coupons/return`,
          body: { coupon_code: 'C1', stock_id: '1234567890', return_request_no: 'r\u0000' },
          field: '/return_request_no',
        },
        {
          method: 'POST',
          path: `${BASE}/coupons/deactivate`,
          body: { coupon_code: 'C1', stock_id: '1234567890', deactivate_request_no: 'd\u0000' },
          field: '/deactivate_request_no',
        },
        {
          method: 'POST',
          path: `${BASE}/callbacks`,
          body: { mchid, notify_url: 'https://merchant.example.com/\u0000' },
          field: '/notify_url',
        },
        {
          method: 'POST',
          path: '/sandbox/v1/faults',
          body: { path: `${BASE}/stocks`, error_code: 'SYSTEM_ERROR', message: 'boom\u0000' },
          field: '/message',
        },
        {
          method: 'POST',
          path: '/sandbox/v1/notification-forwards',
          body: { from_url: 'https://merchant.example.com/\u0000', to_url: 'http://127.0.0.1:9/x' },
          field: '/from_url',
        },
        { method: 'POST', path: '/sandbox/v1/appids', body: { 'app\u0000id': appid }, field: '/app\u0000id' },
        { method: 'GET', path: `${BASE}/stocks/12%00`, field: 'stock_id' },
        { method: 'GET', path: `${BASE}/callbacks?mchid=%00`, field: 'mchid' },
        { method: 'GET', path: `${BASE}/callbacks?mchid=1900000109%7F`, field: 'mchid' },
        { method: 'GET', path: `/sandbox/v1/users/ab%1Bc`, field: 'user_id' },
      ];
      for (const c of cases) {
        const res = await sandbox.request({ method: c.method, path: c.path, body: c.body as object });
        expectError(res, 400, 'PARAM_ERROR', /控制字符 U\+00(00|01|7F|1B)/);
        expect(res.json<{ detail: { field: string } }>().detail.field, c.path).toBe(c.field);
      }
      // Nothing was stored: the callback keeps its URL, the appid list is unchanged.
      const after = await sandbox.request({ method: 'GET', path: `${BASE}/callbacks` });
      expect(after.json().notify_url).toBe('https://merchant.example.com/before');
      const appids = await sandbox.request({ method: 'GET', path: '/sandbox/v1/appids' });
      expect(JSON.stringify(appids.json())).not.toContain('\\u0000');
      // Tab, LF and CR stay allowed in free text.
      const withNewline = await sandbox.request({
        method: 'POST',
        path: `${BASE}/stocks`,
        body: stockBody(mchid, { comment: 'one\ntwo\tend\r' }),
      });
      expect(withNewline.status, withNewline.text).toBe(200);
    });
  });
}
