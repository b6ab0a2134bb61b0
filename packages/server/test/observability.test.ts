import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DIALECTS,
  rawRequest,
  signedRequest,
  type TestDatabase,
  type TestDialect,
  type TestMerchant,
  type TestResponse,
} from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppConfig, type BuiltApp, buildApp } from '../src/app.js';
import { openDatabase } from '../src/db/connect.js';
import { MerchantRepo } from '../src/db/merchant-repo.js';
import { prepareSandbox } from '../src/server.js';
import {
  imageGenerationTrigger,
  receiverCertificate,
  startReceiver,
  type TestReceiver,
} from './notifications/fixtures.js';

/**
 * Health, request logs and metrics of a listening app over real HTTP: /healthz, /readyz (200, then 503
 * naming the failed check when the dispatcher stops, a migration is missing or the database closes), one
 * JSON log line per request captured from the logger's destination, and /metrics after a callback is
 * delivered to a local HTTPS receiver.
 */

/** A listening app built the way startServer builds it, with its log captured and its parts at hand. */
interface ObservedApp {
  url: string;
  merchant: TestMerchant;
  built: BuiltApp;
  dbUrl: string;
  /** Every log line written so far, parsed. */
  lines: Record<string, unknown>[];
  /** The raw text written to the log. */
  text(): string;
  /** Closes the database under the running app. */
  closeDatabase(): Promise<void>;
  close(): Promise<void>;
}

async function startObserved(
  dialect: TestDialect,
  config: Partial<AppConfig>,
  pretty = false,
): Promise<ObservedApp> {
  const dir = join(tmpdir(), `wps-observe-${randomBytes(6).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const testDb: TestDatabase = await dialect.create();
  const { credentials, database } = await prepareSandbox({ dir, dbUrl: testDb.url });
  const merchants = new MerchantRepo(database.db);
  let raw = '';
  let databaseOpen = true;
  const closeDatabase = async () => {
    if (!databaseOpen) return;
    databaseOpen = false;
    await database.close();
  };
  const built = await buildApp(
    { logLevel: 'info', ...config },
    {
      db: database,
      platform: credentials.platform,
      merchants: {
        findMerchantWithKeyPem: (mchid, serial) => merchants.findMerchantWithKeyPem(mchid, serial),
      },
      log: {
        destination: {
          write: (line: string) => {
            raw += line;
          },
        },
        pretty,
      },
    },
  );
  await built.app.listen({ host: '127.0.0.1', port: 0 });
  const address = built.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const merchant = credentials.merchant;
  return {
    url: `http://127.0.0.1:${port}`,
    merchant: {
      mchid: merchant.mchid,
      serialNo: merchant.serialNo,
      privateKey: merchant.privateKey,
      apiV3Key: merchant.apiV3Key,
    },
    built,
    dbUrl: testDb.url,
    get lines() {
      return raw
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    text: () => raw,
    closeDatabase,
    close: async () => {
      await built.app.close();
      await closeDatabase();
      await testDb.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const get = (app: ObservedApp, path: string) =>
  rawRequest(app.url, {
    method: 'GET',
    path,
    headers: { Accept: 'application/json', 'User-Agent': 'observability-test/1.0' },
  });

/** The request lines (one per request) of a Request-ID. */
const requestLines = (app: ObservedApp, rid: string) =>
  app.lines.filter((l) => l.msg === 'request' && l.rid === rid);

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 150 && !done(value); i++) {
    await new Promise((r) => setTimeout(r, 20));
    value = await read();
  }
  return value;
}

const receiverCert = receiverCertificate();

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`health, logs and metrics on ${dialect.name}`, () => {
    let app: ObservedApp;
    let receiver: TestReceiver;
    beforeAll(async () => {
      // The first callback is received (200), every later one refused (500): one delivered, then a backlog.
      receiver = await startReceiver(receiverCert.tls, (_request, index) => (index === 0 ? 200 : 500));
      app = await startObserved(dialect, { notifyDelivery: true, notifyCaFile: receiverCert.caFile });
    });
    afterAll(async () => {
      await app?.close();
      await receiver?.close();
    });

    it('GET /healthz answers 200 without a signature', async () => {
      const res = await get(app, '/healthz');
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ status: 'ok', uptime_seconds: expect.any(Number) });
      expect(res.headers['request-id']).toBeTruthy();
    });

    it('GET /readyz answers 200 with every check while the dispatcher runs', async () => {
      const res = await get(app, '/readyz');
      expect(res.status, res.text).toBe(200);
      expect(res.json()).toEqual({
        status: 'ready',
        checks: {
          database: { ok: true, detail: `${dialect.name} reachable` },
          migrations: { ok: true, detail: 'all applied' },
          dispatcher: { ok: true, detail: 'running' },
        },
      });
      // The OpenAPI document lists the 503 beside the public operations' 400 and 500.
      const doc = (await get(app, '/openapi.json')).json<{
        paths: Record<string, { get?: { responses: Record<string, unknown> } }>;
      }>();
      expect(Object.keys(doc.paths['/readyz']?.get?.responses ?? {})).toEqual(['200', '400', '500', '503']);
      expect(Object.keys(doc.paths['/healthz']?.get?.responses ?? {})).toEqual(['200', '400', '500']);
    });

    it('logs exactly one line per request with method, path, status, ms, mchid and Request-ID', async () => {
      const ok = await signedRequest(app.url, app.merchant, {
        method: 'GET',
        path: `/sandbox/v1/notifications?limit=5`,
      });
      expect(ok.status, ok.text).toBe(200);
      const rid = ok.headers['request-id'] as string;
      const lines = requestLines(app, rid);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        level: 30,
        method: 'GET',
        path: '/sandbox/v1/notifications',
        status: 200,
        mchid: app.merchant.mchid,
        rid,
      });
      expect(lines[0]?.ms).toEqual(expect.any(Number));
      expect(lines[0]).not.toHaveProperty('code');
      // Fastify's own pair is off: nothing else carries this request's id.
      expect(app.lines.filter((l) => l.reqId === rid)).toEqual([]);
      expect(app.text()).not.toMatch(/incoming request|request completed/);
    });

    it('logs the WeChat code of an error answer, and no mchid when no signature verified', async () => {
      const bad = await signedRequest(app.url, app.merchant, {
        method: 'POST',
        path: '/v3/marketing/busifavor/callbacks',
        body: { mchid: app.merchant.mchid, notify_url: 'not a url' },
      });
      expect(bad.status).toBe(400);
      expect(requestLines(app, bad.headers['request-id'] as string)).toEqual([
        expect.objectContaining({ status: 400, code: 'PARAM_ERROR', mchid: app.merchant.mchid }),
      ]);
      const unsigned = await get(app, '/v3/certificates');
      expect(unsigned.status).toBe(401);
      const [line] = requestLines(app, unsigned.headers['request-id'] as string);
      expect(line).toMatchObject({ status: 401, code: 'SIGN_ERROR', path: '/v3/certificates' });
      expect(line).not.toHaveProperty('mchid');
      const missing = await get(app, '/nowhere?x=1');
      expect(requestLines(app, missing.headers['request-id'] as string)).toEqual([
        expect.objectContaining({ status: 404, code: 'RESOURCE_NOT_EXISTS', path: '/nowhere' }),
      ]);
    });

    it('never logs a signature, the Authorization header, a body, a key or the query', async () => {
      let authorization = '';
      const marker = `https://merchant.example.com/secret-${randomBytes(4).toString('hex')}`;
      const ok = await signedRequest(app.url, app.merchant, {
        method: 'POST',
        path: '/v3/marketing/busifavor/callbacks',
        body: { mchid: app.merchant.mchid, notify_url: marker },
        authorization: (header) => {
          authorization = header;
          return header;
        },
      });
      expect(ok.status, ok.text).toBe(200);
      // A refused signature is logged (warn) with why, never with the signature.
      let refusedAuthorization = '';
      const refused = await signedRequest(app.url, app.merchant, {
        method: 'GET',
        path: '/v3/certificates?token=query-secret-value',
        signOver: (s) => `${s}tampered`,
        authorization: (header) => {
          refusedAuthorization = header;
          return header;
        },
      });
      expect(refused.status).toBe(401);
      expect(app.lines.some((l) => l.msg === 'signature rejected')).toBe(true);
      const signatureOf = (header: string) => /signature="([^"]+)"/.exec(header)?.[1] as string;
      const log = app.text();
      for (const secret of [
        signatureOf(authorization),
        signatureOf(refusedAuthorization),
        authorization,
        marker,
        'query-secret-value',
        app.merchant.apiV3Key,
        app.merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().split('\n')[1] as string,
      ]) {
        expect(secret.length).toBeGreaterThan(10);
        expect(log).not.toContain(secret);
      }
    });

    it('counts a delivered callback, its latency, the backlog and Node process metrics on /metrics', async () => {
      const set = await signedRequest(app.url, app.merchant, {
        method: 'POST',
        path: '/v3/marketing/partner/product-coupon/notify-configs',
        body: { notify_url: receiver.url },
      });
      expect(set.status, set.text).toBe(200);
      const trigger = async (task: string) => {
        const res = await signedRequest(app.url, app.merchant, {
          method: 'POST',
          path: '/sandbox/v1/product-coupon/events',
          body: imageGenerationTrigger(task),
        });
        expect(res.status, res.text).toBe(200);
      };
      const metrics = () => get(app, '/metrics').then((r: TestResponse) => r.text);
      await trigger('M1');
      const delivered = await eventually(metrics, (t) =>
        t.includes('wps_notify_delivery_attempts_total{family="product-coupon",outcome="delivered"} 1'),
      );
      expect(delivered).toContain(
        'wps_notify_delivery_attempts_total{family="product-coupon",outcome="delivered"} 1',
      );
      expect(delivered).toContain('wps_notify_delivery_duration_seconds_count{family="product-coupon"} 1');
      expect(receiver.received).toHaveLength(1);
      // Node's default process metrics, on the app's own registry.
      expect(delivered).toMatch(/^process_cpu_user_seconds_total \d/m);
      expect(delivered).toMatch(/^nodejs_heap_size_used_bytes \d/m);
      expect(delivered).toMatch(
        /^wps_http_requests_total\{method="GET",route="\/healthz",status="200",code=""\} 1$/m,
      );

      // The second callback is refused by the receiver: a failed attempt, then a retry waits (backlog 1).
      await trigger('M2');
      const failed = await eventually(metrics, (t) =>
        t.includes('wps_notify_delivery_attempts_total{family="product-coupon",outcome="failed"} 1'),
      );
      expect(failed).toContain(
        'wps_notify_delivery_attempts_total{family="product-coupon",outcome="failed"} 1',
      );
      expect(failed).toContain('wps_notify_backlog{family="product-coupon"} 1');
      expect(failed).toContain('wps_notify_delivery_duration_seconds_count{family="product-coupon"} 2');
    });

    it('GET /readyz answers 503 naming the migrations when one is not applied', async () => {
      const other = openDatabase(app.dbUrl);
      try {
        const last = await other.db
          .selectFrom('kysely_migration' as never)
          .selectAll()
          .orderBy('name' as never, 'desc')
          .limit(1)
          .executeTakeFirstOrThrow();
        const row = last as { name: string; timestamp: string };
        await other.db
          .deleteFrom('kysely_migration' as never)
          .where('name' as never, '=', row.name as never)
          .execute();
        const res = await get(app, '/readyz');
        expect(res.status).toBe(503);
        expect(res.json()).toMatchObject({
          code: 'SERVICE_UNAVAILABLE',
          message: expect.stringContaining('migrations'),
          detail: {
            failed: ['migrations'],
            checks: {
              database: { ok: true },
              migrations: { ok: false, detail: `not applied: ${row.name}` },
              dispatcher: { ok: true },
            },
          },
        });
        await other.db
          .insertInto('kysely_migration' as never)
          .values(row as never)
          .execute();
        expect((await get(app, '/readyz')).status).toBe(200);
      } finally {
        await other.close();
      }
    });

    it('GET /readyz answers 503 naming the dispatcher once it stopped', async () => {
      await app.built.dispatcher.stop();
      expect(app.built.dispatcher.state).toBe('stopped');
      const res = await get(app, '/readyz');
      expect(res.status).toBe(503);
      expect(res.json()).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        message: expect.stringContaining('dispatcher'),
        detail: { failed: ['dispatcher'], checks: { dispatcher: { ok: false, detail: 'stopped' } } },
      });
      // Liveness does not depend on it.
      expect((await get(app, '/healthz')).status).toBe(200);
    });

    it('GET /readyz answers 503 naming the database once it is closed, and /metrics still answers', async () => {
      await app.closeDatabase();
      const res = await get(app, '/readyz');
      expect(res.status).toBe(503);
      const body = res.json<{
        code: string;
        detail: { failed: string[]; checks: Record<string, unknown> };
      }>();
      expect(body.code).toBe('SERVICE_UNAVAILABLE');
      expect(body.detail.failed).toEqual(['database', 'migrations', 'dispatcher']);
      expect(body.detail.checks.database).toMatchObject({ ok: false });
      expect(JSON.stringify(body.detail.checks.database)).toMatch(new RegExp(`${dialect.name} unreachable`));
      const metrics = await get(app, '/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.text).not.toContain('wps_notify_backlog{');
    });
  });
}

const sqlite = DIALECTS[0] as TestDialect;

describe.skipIf(!sqlite.available)(
  'readiness with callback delivery off, and the pretty log (sqlite)',
  () => {
    let app: ObservedApp;
    beforeAll(async () => {
      app = await startObserved(sqlite, { notifyDelivery: false }, true);
    });
    afterAll(async () => {
      await app?.close();
    });

    it('is ready without a running dispatcher when delivery is off', async () => {
      const res = await get(app, '/readyz');
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({
        checks: { dispatcher: { ok: true, detail: 'callback delivery is off (notifyDelivery)' } },
      });
    });

    it('writes one compact human line per request', async () => {
      const res = await signedRequest(app.url, app.merchant, {
        method: 'GET',
        path: `/sandbox/v1/notifications?limit=5`,
      });
      const rid = res.headers['request-id'] as string;
      const line = app
        .text()
        .split('\n')
        .filter((l) => l.includes(rid));
      expect(line).toEqual([
        expect.stringMatching(
          new RegExp(
            `^\\d\\d:\\d\\d:\\d\\d GET /sandbox/v1/notifications 200 \\d+\\.\\dms mchid=${app.merchant.mchid} rid=${rid}$`,
          ),
        ),
      ]);
      const missing = await get(app, '/nowhere');
      expect(app.text()).toContain(`GET /nowhere 404 RESOURCE_NOT_EXISTS `);
      expect(app.text()).toContain(`rid=${missing.headers['request-id']}`);
    });
  },
);
