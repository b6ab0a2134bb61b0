import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createSqliteDatabase,
  DIALECTS,
  rawRequest,
  startSandbox,
  type TestResponse,
  type TestSandbox,
} from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { runCli } from '../src/cli/commands.js';
import { resolveConfig } from '../src/config.js';
import { loadCredentials } from '../src/credentials/load.js';
import { openDatabase } from '../src/db/connect.js';
import { MerchantRepo } from '../src/db/merchant-repo.js';
import { type RunningServer, startServer } from '../src/server.js';
import {
  addStock,
  BASE,
  bindAppidWithUser,
  sendViaMiniapp,
  signedJson,
  trustPlatformKeys,
} from './busifavor-helpers.js';

/**
 * The dashboard (docs/dashboard.md) over real HTTP: its pages show what the services hold, its actions
 * run the simulation API's handlers, the live feed records calls (a 401 with its expected signing
 * string), and the access rules: loopback only by default, the token beyond loopback, the CSRF header and
 * Origin on every action, a loopback Host header without the token.
 */

const APPID = 'wx5d4c3b2a1f0e9d8c';

/** The page's CSRF secret, read from its meta tag as the page's script does. */
function csrfOf(page: TestResponse): string {
  const match = /<meta name="dashboard-csrf" content="([^"]+)">/.exec(page.text);
  expect(match, page.text.slice(0, 400)).not.toBeNull();
  return match?.[1] as string;
}

/** GET a dashboard page as a browser on loopback would. */
function get(url: string, path: string, headers: Record<string, string> = {}): Promise<TestResponse> {
  return rawRequest(url, { method: 'GET', path, headers: { Accept: 'text/html', ...headers } });
}

/** A dashboard action as the page's script sends it. */
function act(
  url: string,
  input: { method?: string; path: string; body?: object; csrf?: string; origin?: string; cookie?: string },
): Promise<TestResponse> {
  const host = new URL(url).host;
  const body = input.body === undefined ? undefined : JSON.stringify(input.body);
  return rawRequest(url, {
    method: input.method ?? 'POST',
    path: input.path,
    headers: {
      Accept: 'application/json',
      ...(body ? { 'Content-Type': 'application/json' } : {}),
      ...(input.csrf !== undefined ? { 'X-Dashboard-Csrf': input.csrf } : {}),
      Origin: input.origin ?? `http://${host}`,
      ...(input.cookie ? { Cookie: input.cookie } : {}),
    },
    ...(body ? { body } : {}),
  });
}

function expectNoAuth(res: TestResponse, issue: RegExp): void {
  expect(res.status, res.text).toBe(403);
  const body = res.json<{ code: string; detail?: { issue?: string } }>();
  expect(body.code).toBe('NO_AUTH');
  expect(body.detail?.issue).toMatch(issue);
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`dashboard pages and actions on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let csrf: string;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect, config: { dashboardFeedSize: 50 } });
      trustPlatformKeys(sandbox);
      csrf = csrfOf(await get(sandbox.url, '/dashboard'));
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    it('shows a stock created through the API, its coupons and counts, the user’s coupons and the COUPON.SEND notification', async () => {
      const mchid = sandbox.merchant.mchid;
      signedJson(
        sandbox,
        await sandbox.request({
          method: 'POST',
          path: `${BASE}/callbacks`,
          body: { mchid, notify_url: 'https://merchant.example/wxpay/busifavor' },
        }),
      );
      const stockId = await addStock(sandbox, { stock_name: '<b>&"x"</b>满10减1' });
      const user = await bindAppidWithUser(sandbox, APPID);
      const openid = user.openids[APPID] as string;
      const sent = signedJson<{ send_coupon_result: Array<{ coupon_code: string; code: string }> }>(
        sandbox,
        await sendViaMiniapp(sandbox, { appid: APPID, openid, stockId }),
      );
      const code = sent.send_coupon_result[0]?.coupon_code as string;
      expect(sent.send_coupon_result[0]?.code).toBe('SUCCESS');

      const merchants = await get(sandbox.url, '/dashboard/merchants');
      expect(merchants.status).toBe(200);
      expect(merchants.text).toContain(mchid);
      expect(merchants.text).toContain(sandbox.merchant.serialNo);
      expect(merchants.text).toContain('https://merchant.example/wxpay/busifavor');
      // Never a key: neither the APIv3 nor the APIv2 key appears on any page.
      expect(merchants.text).not.toContain(sandbox.merchant.apiV3Key);
      expect(merchants.text).not.toContain(sandbox.server.credentials.merchant.apiV2Key);

      const stocks = await get(sandbox.url, `/dashboard/stocks?mchid=${mchid}`);
      expect(stocks.status).toBe(200);
      expect(stocks.text).toContain(stockId);
      // Every value is escaped: the stock's name shows as text, never as markup.
      expect(stocks.text).toContain('&lt;b&gt;&amp;&quot;x&quot;&lt;/b&gt;满10减1');
      expect(stocks.text).not.toContain('<b>');

      const stock = await get(sandbox.url, `/dashboard/stocks/${stockId}`);
      expect(stock.status).toBe(200);
      expect(stock.text).toContain(code);
      expect(stock.text).toMatch(/id="stock-counts">1 sent, 0 used, 0 returned/);

      const coupons = await get(sandbox.url, `/dashboard/coupons?appid=${APPID}&openid=${openid}`);
      expect(coupons.text).toContain(code);
      const unknown = await get(sandbox.url, `/dashboard/coupons?appid=${APPID}&openid=oUNKNOWN`);
      expect(unknown.text).toContain('No simulated user has this openid');

      const list = await get(sandbox.url, '/dashboard/notifications?event_type=COUPON.SEND');
      expect(list.status).toBe(200);
      const id = /href="\/dashboard\/notifications\/([0-9a-f-]{36})/.exec(list.text)?.[1] as string;
      expect(id).toBeDefined();
      const none = await get(sandbox.url, '/dashboard/notifications?state=dead');
      expect(none.text).not.toContain(id);
      const detail = await get(sandbox.url, `/dashboard/notifications/${id}`);
      expect(detail.text).toContain(code);
      expect(detail.text).toContain('COUPON.SEND');

      // One-click replay: the simulation API's replay, for the merchant the page names.
      const replay = await act(sandbox.url, {
        path: `/dashboard/api/merchants/${mchid}/notifications/${id}/replay`,
        csrf,
      });
      expect(replay.status, replay.text).toBe(200);
      expect(replay.json()).toEqual({ replayed: [id] });
      const missing = await act(sandbox.url, {
        path: `/dashboard/api/merchants/${mchid}/notifications/00000000-0000-0000-0000-000000000000/replay`,
        csrf,
      });
      expect(missing.status).toBe(404);
      expect(missing.json().code).toBe('RESOURCE_NOT_EXISTS');
    });

    it('moves the clock and adds and deletes fault and subsidy outcome rules, with the simulation API’s checks', async () => {
      const mchid = sandbox.merchant.mchid;
      const api = `/dashboard/api/merchants/${mchid}`;
      const before = await get(sandbox.url, '/dashboard/simulation');
      expect(before.text).toContain('id="clock-mode">real');

      const frozen = await act(sandbox.url, { path: `${api}/clock`, body: { action: 'freeze' }, csrf });
      expect(frozen.status, frozen.text).toBe(200);
      const advanced = await act(sandbox.url, {
        path: `${api}/clock`,
        body: { action: 'advance', seconds: 86_400 },
        csrf,
      });
      const now = advanced.json<{ now_ms: number; mode: string }>();
      expect(now.mode).toBe('frozen');
      expect(now.now_ms - frozen.json<{ now_ms: number }>().now_ms).toBe(86_400_000);
      const bad = await act(sandbox.url, { path: `${api}/clock`, body: { action: 'advance' }, csrf });
      expect(bad.status).toBe(400);
      expect(bad.json().code).toBe('PARAM_ERROR');
      expect((await get(sandbox.url, '/dashboard/simulation')).text).toContain('id="clock-mode">frozen');
      expect(
        (
          await act(sandbox.url, {
            path: `${api}/clock`,
            body: { action: 'resume', allow_backwards: true },
            csrf,
          })
        ).status,
      ).toBe(200);

      const fault = await act(sandbox.url, {
        path: `${api}/faults`,
        body: { path: '/v3/marketing/busifavor/stocks/*', code: 'SYSTEM_ERROR', status: 500, count: 1 },
        csrf,
      });
      expect(fault.status, fault.text).toBe(200);
      const faultId = fault.json<{ id: string }>().id;
      expect((await get(sandbox.url, '/dashboard/simulation')).text).toContain(faultId);
      const deleted = await act(sandbox.url, { method: 'DELETE', path: `${api}/faults/${faultId}`, csrf });
      expect(deleted.status, deleted.text).toBe(204);
      expect((await get(sandbox.url, '/dashboard/simulation')).text).not.toContain(faultId);

      const outcome = await act(sandbox.url, {
        path: `${api}/subsidy-outcomes`,
        body: { fail_reason: 'PAY_RECEIPT_INSUFFICIENT_BALANCE', count: 2 },
        csrf,
      });
      expect(outcome.status, outcome.text).toBe(200);
      const outcomeId = outcome.json<{ id: string }>().id;
      expect((await get(sandbox.url, '/dashboard/simulation')).text).toContain(outcomeId);
      expect(
        (await act(sandbox.url, { method: 'DELETE', path: `${api}/subsidy-outcomes/${outcomeId}`, csrf }))
          .status,
      ).toBe(204);
      const unknown = await act(sandbox.url, {
        path: '/dashboard/api/merchants/1999999999/faults',
        body: { path: '/v3/*' },
        csrf,
      });
      expect(unknown.status).toBe(404);
    });

    it('records API calls in the feed, with the headers received and, for a 401, the expected signing string', async () => {
      const before = (await get(sandbox.url, '/dashboard/api/calls')).json<{ latest: number }>().latest;
      const bad = await sandbox.request({
        method: 'GET',
        path: `${BASE}/callbacks?mchid=${sandbox.merchant.mchid}`,
        signOver: (s) => s.replace(/\?mchid=\d+/, ''),
        headers: { Cookie: 'session=secret-cookie-value' },
      });
      expect(bad.status).toBe(401);
      const ok = await sandbox.request({ method: 'GET', path: '/sandbox/v1/appids' });
      expect(ok.status).toBe(200);
      // Dashboard pages are not recorded.
      await get(sandbox.url, '/dashboard/merchants');

      const feed = (await get(sandbox.url, `/dashboard/api/calls?after=${before}`)).json<{
        latest: number;
        data: Array<{
          seq: number;
          path: string;
          status: number;
          code?: string;
          mchid?: string;
          requestId: string;
          verification: string;
        }>;
      }>();
      expect(feed.data.map((c) => `${c.status} ${c.path}`)).toEqual([
        '200 /sandbox/v1/appids',
        `401 ${BASE}/callbacks`,
      ]);
      const [good, refused] = feed.data as [(typeof feed.data)[0], (typeof feed.data)[0]];
      expect(good.verification).toContain(`verified: signed by mchid ${sandbox.merchant.mchid}`);
      expect(good.requestId).toBe(ok.headers['request-id']);
      expect(refused).toMatchObject({ code: 'SIGN_ERROR', mchid: sandbox.merchant.mchid });
      expect(refused.requestId).toBe(bad.headers['request-id']);

      const page = await get(sandbox.url, `/dashboard/calls/${refused.seq}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain('id="expected-signing-string"');
      const expected = bad.json<{ detail: { expected_signing_string: string } }>().detail
        .expected_signing_string;
      expect(expected).toContain(`?mchid=${sandbox.merchant.mchid}`);
      const shown = /<pre id="expected-signing-string">([^<]*)<\/pre>/.exec(page.text)?.[1] ?? '';
      expect(shown.replace(/⏎\n/g, '\n')).toBe(expected);
      expect(page.text).toMatch(/id="diagnosis">query-dropped/);
      // Headers as received: the Authorization header is shown, the Cookie header is not.
      expect(page.text).toContain('WECHATPAY2-SHA256-RSA2048');
      expect(page.text).not.toContain('secret-cookie-value');
      expect(page.text).toContain('(hidden)');
      expect(page.text).not.toContain(sandbox.merchant.apiV3Key);
    });

    it('keeps only the configured number of calls', async () => {
      for (let i = 0; i < 60; i++) {
        await rawRequest(sandbox.url, { method: 'GET', path: '/v3/certificates', headers: {} });
      }
      const feed = (await get(sandbox.url, '/dashboard/api/calls')).json<{
        latest: number;
        data: unknown[];
      }>();
      expect(feed.data).toHaveLength(50);
      expect((await get(sandbox.url, `/dashboard/calls/${feed.latest - 50}`)).status).toBe(404);
      expect((await get(sandbox.url, `/dashboard/calls/${feed.latest - 49}`)).status).toBe(200);
    });
  });
}

describe('dashboard access', () => {
  const started: Array<{ close(): Promise<void> }> = [];
  const dir = join(tmpdir(), `wps-dashboard-${randomBytes(6).toString('hex')}`);
  afterAll(async () => {
    for (const s of started) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  async function start(host: string): Promise<RunningServer> {
    mkdirSync(dir, { recursive: true });
    const server = await startServer({
      dir,
      host,
      port: 0,
      dbUrl: `sqlite:${join(dir, `${randomBytes(4).toString('hex')}.db`)}`,
      config: { logLevel: 'silent', notifyDelivery: false },
    });
    started.push(server);
    return server;
  }
  const loopbackUrl = (server: RunningServer) => `http://127.0.0.1:${new URL(server.url).port}`;

  it('serves loopback clients without a token, only under a loopback Host name', async () => {
    const server = await start('127.0.0.1');
    expect(server.dashboardToken).toBeUndefined();
    expect(server.dashboardUrl).toBe(`${server.url}/dashboard`);
    const port = new URL(server.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost']) {
      expect((await get(server.url, '/dashboard', { Host: host })).status, host).toBe(200);
    }
    // A page whose own name resolves to 127.0.0.1 (DNS rebinding) is not the dashboard's origin.
    expectNoAuth(await get(server.url, '/dashboard', { Host: `evil.example:${port}` }), /Host header/);
    expectNoAuth(await get(server.url, '/dashboard/api/calls', { Host: 'evil.example' }), /Host header/);
  });

  it('refuses a dashboard action without the page’s CSRF header or from another origin, even on loopback', async () => {
    const server = await start('127.0.0.1');
    const csrf = csrfOf(await get(server.url, '/dashboard'));
    const mchid = server.credentials.merchant.mchid;
    const path = `/dashboard/api/merchants/${mchid}/clock`;
    const body = { action: 'freeze' };
    expectNoAuth(await act(server.url, { path, body }), /x-dashboard-csrf/);
    expectNoAuth(await act(server.url, { path, body, csrf: 'not-the-secret' }), /x-dashboard-csrf/);
    expectNoAuth(await act(server.url, { path, body, csrf, origin: 'http://evil.example' }), /origin/);
    // A form posted by another page carries no custom header; one without Origin is refused too.
    const noOrigin = await rawRequest(server.url, {
      method: 'POST',
      path,
      headers: { 'Content-Type': 'application/json', 'X-Dashboard-Csrf': csrf },
      body: JSON.stringify(body),
    });
    expectNoAuth(noOrigin, /origin/);
    const ok = await act(server.url, { path, body, csrf });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json().mode).toBe('frozen');
  });

  it('requires the token from every client when listening beyond loopback; ?token= sets an HttpOnly SameSite=Strict cookie', async () => {
    const server = await start('0.0.0.0');
    const token = server.dashboardToken as string;
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const url = loopbackUrl(server);
    expectNoAuth(await get(url, '/dashboard'), /token/);
    expectNoAuth(await get(url, '/dashboard/api/calls'), /token/);
    expectNoAuth(await get(url, '/dashboard?token=wrong'), /not the one/);
    expectNoAuth(await get(url, '/dashboard', { Cookie: 'wps_dashboard=wrong' }), /token/);

    const first = await get(url, `/dashboard?token=${token}`);
    expect(first.status).toBe(200);
    const cookie = first.headers['set-cookie'] as string;
    expect(cookie).toBe(`wps_dashboard=${token}; Path=/dashboard; HttpOnly; SameSite=Strict`);
    const jar = cookie.split(';')[0] as string;
    expect((await get(url, '/dashboard/api/calls', { Cookie: jar })).status).toBe(200);
    expect((await get(url, '/dashboard/merchants', { Cookie: `other=1; ${jar}` })).status).toBe(200);

    // Actions: the cookie and the CSRF header and the origin.
    const csrf = csrfOf(first);
    const path = `/dashboard/api/merchants/${server.credentials.merchant.mchid}/clock`;
    const body = { action: 'advance', seconds: 60 };
    expectNoAuth(await act(url, { path, body, csrf }), /token/);
    expectNoAuth(await act(url, { path: `${path}?token=${token}`, body, csrf }), /token/);
    expectNoAuth(await act(url, { path, body, cookie: jar }), /x-dashboard-csrf/);
    expect((await act(url, { path, body, csrf, cookie: jar })).status).toBe(200);
  });

  it('never serves a client that is not on loopback without the token', async () => {
    const address = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    const server = await start('0.0.0.0');
    const port = new URL(server.url).port;
    if (address) {
      // Over a real connection from this machine's own non-loopback address.
      const external = `http://${address}:${port}`;
      expectNoAuth(await get(external, '/dashboard'), /token/);
      expect((await get(external, `/dashboard?token=${server.dashboardToken}`)).status).toBe(200);
    }
    // A server on loopback never serves a remote client either (behind a proxy, say): Fastify's inject
    // gives the request the remote address a proxy's connection would have.
    mkdirSync(dir, { recursive: true });
    const database = await createSqliteDatabase();
    const handle = openDatabase(database.url);
    const { migrateToLatest } = await import('../src/db/migrate.js');
    await migrateToLatest(handle.db);
    const credentials = loadCredentials(dir);
    const repo = new MerchantRepo(handle.db);
    const built = await buildApp(
      { logLevel: 'silent', notifyDelivery: false },
      {
        db: handle,
        platform: credentials.platform,
        merchants: { findMerchantWithKeyPem: (m, s) => repo.findMerchantWithKeyPem(m, s) },
      },
    );
    started.push({
      close: async () => {
        await built.app.close();
        await handle.close();
        await database.drop();
      },
    });
    built.dashboard.listeningOn('127.0.0.1');
    const from = (remoteAddress: string) =>
      built.app.inject({
        method: 'GET',
        url: '/dashboard',
        remoteAddress,
        headers: { host: '127.0.0.1:8080' },
      });
    const remote = await from('203.0.113.7');
    expect(remote.statusCode).toBe(403);
    expect(remote.json().code).toBe('NO_AUTH');
    expect((await from('127.0.0.1')).statusCode).toBe(200);
  });

  it('prints the dashboard in the start banner, with the token when listening beyond loopback', async () => {
    for (const host of ['127.0.0.1', '0.0.0.0']) {
      const lines: string[] = [];
      let running: RunningServer | undefined;
      let stop: (signal: string) => void = () => {};
      const done = runCli(['start', '--dir', join(dir, 'cli'), '--host', host, '--port', '0'], {
        output: { out: (l) => lines.push(l), err: (l) => lines.push(l) },
        loadStartServer: async () => async (options) => {
          running = await startServer({ ...options, config: { ...options.config, logLevel: 'silent' } });
          return running;
        },
        stopSignal: () => new Promise((resolve) => (stop = resolve)),
        version: 'test',
      });
      const deadline = Date.now() + 20_000;
      while (!lines.some((l) => l.startsWith('Press Ctrl+C'))) {
        if (Date.now() > deadline) throw new Error(`start printed no banner:\n${lines.join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const server = running as RunningServer;
      const line = lines.find((l) => l.includes('dashboard:')) ?? '';
      if (host === '127.0.0.1') {
        expect(line).toBe(`  dashboard:       ${server.url}/dashboard`);
      } else {
        expect(line).toBe(`  dashboard:       ${server.url}/dashboard?token=${server.dashboardToken}`);
        const printed = new URL(line.trim().replace(/^dashboard: +/, ''));
        const res = await get(loopbackUrl(server), `/dashboard?token=${printed.searchParams.get('token')}`);
        expect(res.status).toBe(200);
      }
      stop('SIGTERM');
      expect(await done).toBe(0);
    }
  });

  it('refuses a feed size outside 1..100000 at startup', () => {
    expect(() => resolveConfig({ dashboardFeedSize: 0 })).toThrow(/dashboardFeedSize/);
    expect(() => resolveConfig({ dashboardFeedSize: 1.5 })).toThrow(/dashboardFeedSize/);
    expect(resolveConfig({}).dashboardFeedSize).toBe(500);
  });
});
