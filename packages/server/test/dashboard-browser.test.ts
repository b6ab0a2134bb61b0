import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE, bindAppidWithUser, sendViaMiniapp, stockBody } from './busifavor-helpers.js';

/**
 * The dashboard in a real browser: Debian's chromium (`/usr/bin/chromium`, or WPS_CHROMIUM) driven by
 * playwright-core, which never downloads a browser. Without chromium the tests skip, except under
 * CI=true, where they must run (.ci/run installs chromium). Screenshots go to .test-tmp/dashboard/.
 */

const CHROMIUM = process.env.WPS_CHROMIUM ?? '/usr/bin/chromium';
const RUN = existsSync(CHROMIUM) || process.env.CI === 'true';
const SHOTS = resolve(import.meta.dirname, '../../../.test-tmp/dashboard');
const APPID = 'wx0a1b2c3d4e5f6a7b';
const FROM = 'https://merchant.example/wxpay';

// An unmodified WeChat Pay client, as merchants install it (CommonJS).
const require = createRequire(import.meta.url);
const { Wechatpay } = require('wechatpay-axios-plugin') as {
  Wechatpay: new (config: Record<string, unknown>) => { v3: unknown };
};

/** The axios plugin's chain for a path: `.post(body)` / `.get()`. */
function chain(client: { v3: unknown }, path: string) {
  let node = client as unknown as Record<string, unknown>;
  for (const segment of path.split('/').filter(Boolean)) node = node[segment] as Record<string, unknown>;
  return node as unknown as {
    post(body: unknown): Promise<{ status: number; data: Record<string, unknown> }>;
  };
}

/** A local notify receiver answering 200 and counting what arrives. */
async function startReceiver(): Promise<{ url: string; bodies: string[]; server: Server }> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"code":"SUCCESS","message":"成功"}');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, server };
}

/** Reloads until `locator` text matches (the delivery log is read from the database on each load). */
async function reloadUntil(page: Page, selector: string, pattern: RegExp, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const text = (await page.locator(selector).textContent()) ?? '';
    if (pattern.test(text)) return;
    if (Date.now() > until) throw new Error(`${selector} never matched ${pattern}: ${text}`);
    await page.waitForTimeout(300);
    await page.reload();
  }
}

const sqlite = DIALECTS.find((d) => d.name === 'sqlite');

describe.skipIf(!RUN || !sqlite)('dashboard in chromium', () => {
  let sandbox: TestSandbox;
  let browser: Browser;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    receiver = await startReceiver();
    sandbox = await startSandbox({
      dialect: sqlite as (typeof DIALECTS)[number],
      config: { notifyDelivery: true },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await sandbox?.close();
    receiver?.server.close();
  });

  it('shows a stock made by an unmodified client, the coupon send’s delivery, and a replay’s second attempt', async () => {
    const credentials = sandbox.server.credentials;
    const mchid = sandbox.merchant.mchid;
    const client = new Wechatpay({
      mchid,
      serial: sandbox.merchant.serialNo,
      privateKey: credentials.merchant.privateKeyPem,
      certs: { [credentials.platform.publicKey.keyId]: credentials.platform.publicKey.publicKeyPem },
      baseURL: sandbox.url,
    });
    const set = await chain(client, `${BASE}/callbacks`).post({ mchid, notify_url: `${FROM}/busifavor` });
    expect(set.status).toBe(200);
    const created = await chain(client, `${BASE}/stocks`).post(
      stockBody(mchid, { stock_name: '浏览器测试券' }),
    );
    const stockId = created.data.stock_id as string;
    expect(stockId).toMatch(/^\d+$/);
    // Deliveries to the public-looking notify URL go to the local receiver.
    const forward = await sandbox.request({
      method: 'POST',
      path: '/sandbox/v1/notification-forwards',
      body: { from_url: FROM, to_url: receiver.url },
    });
    expect(forward.status, forward.text).toBe(200);

    const page = await browser.newPage();
    await page.goto(`${sandbox.url}/dashboard/stocks`);
    const stocks = (await page.locator('#stocks').textContent()) ?? '';
    expect(stocks).toContain(stockId);
    expect(stocks).toContain('浏览器测试券');

    // The coupon send, as the mini-program plugin would.
    const user = await bindAppidWithUser(sandbox, APPID);
    const sent = await sendViaMiniapp(sandbox, {
      appid: APPID,
      openid: user.openids[APPID] as string,
      stockId,
    });
    expect(sent.status, sent.text).toBe(200);

    await page.goto(`${sandbox.url}/dashboard/notifications?event_type=COUPON.SEND`);
    await reloadUntil(page, '#notifications tbody', /delivered/);
    await page.locator('#notifications tbody a').first().click();
    await reloadUntil(page, '#attempts tbody', /delivered/);
    expect(await page.locator('#attempts tbody tr').count()).toBe(1);
    expect(receiver.bodies).toHaveLength(1);
    expect(receiver.bodies[0]).toContain('COUPON.SEND');

    // One click: the page's script posts the replay with its CSRF header, then reloads.
    await page.locator('button.replay').first().click();
    await reloadUntil(page, '#attempts tbody', /^(?=(?:[\s\S]*?delivered){2})/);
    expect(await page.locator('#attempts tbody tr').count()).toBe(2);
    expect(receiver.bodies).toHaveLength(2);
    await page.screenshot({ path: join(SHOTS, 'replay.png'), fullPage: true });
    await page.close();
  }, 60_000);

  it('shows a badly signed request live in the feed, with the signing string the server expected', async () => {
    const page = await browser.newPage();
    await page.goto(`${sandbox.url}/dashboard`);
    const bad = await sandbox.request({
      method: 'GET',
      path: `${BASE}/callbacks?mchid=${sandbox.merchant.mchid}`,
      signOver: (s) => s.replace(/\?mchid=\d+/, ''),
    });
    expect(bad.status).toBe(401);
    const expected = bad.json<{ detail: { expected_signing_string: string } }>().detail
      .expected_signing_string;
    // The row arrives without a reload (the page polls the feed).
    // The status cell must read 401 exactly: a Request-ID of a 200 row may contain "401" too.
    const row = page
      .locator('#feed tbody tr')
      .filter({ has: page.locator('td', { hasText: /^401$/ }) })
      .filter({ hasText: `${BASE}/callbacks` });
    await row.first().waitFor({ state: 'visible', timeout: 10_000 });
    await page.screenshot({ path: join(SHOTS, 'feed.png'), fullPage: true });
    await row.first().locator('a').click();
    const shown = (await page.locator('#expected-signing-string').textContent()) ?? '';
    expect(shown.replace(/⏎\n/g, '\n')).toBe(expected);
    expect(await page.locator('#diagnosis').textContent()).toContain('query-dropped');
    await page.screenshot({ path: join(SHOTS, 'signature.png'), fullPage: true });
    await page.close();
  }, 60_000);
});
