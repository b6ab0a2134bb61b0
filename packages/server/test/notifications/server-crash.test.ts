import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decryptNotificationResource,
  parseNotificationEnvelope,
  verifyResponseSignature,
} from '@wechatpay-sandbox/sdk/protocol';
import {
  DIALECTS,
  devMerchantOf,
  type SignedRequestInput,
  signedRequest,
  type TestResponse,
} from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { reqNo, stockBody } from '../busifavor-helpers.js';

/**
 * kill -9 of the real server (`wechatpay-sandbox start`, the built bin) twice in the middle of a burst of
 * events that the test drives through the server's own API while the server is delivering them: busifavor
 * coupon sends (coupon and COUPON.SEND written in one transaction), product-coupon and delivery-plan events
 * of the simulation API. Each kill lands while requests are in flight and the dispatcher has a backlog; the
 * server is restarted on the same database and the burst goes on. At the end:
 * - every event the API acknowledged (2xx) reached the receiver, with the notification id it answered;
 * - a request cut off by the kill either committed (delivered, with a single id) or left no trace;
 * - an event is never split into two notifications, and a coupon exists exactly when its COUPON.SEND does;
 * - duplicates carry the same id and are only deliveries that were in flight at a kill (at most the
 *   dispatcher's concurrency per kill).
 * The restarted server retakes the killed one's leased rows when their lease runs out (`start
 * --notify-lease-seconds`, shortened here from the 30 s default), which is the bulk of this test's duration.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const BIN = join(ROOT, 'packages/server/dist/cli/main.js');
/** API calls in the burst; all but the few cut off by the kills are acknowledged events. */
const CALLS = 2100;
/** Kills land once this many calls were acknowledged (plus a random jitter, so the point varies). */
const KILL_AT = [600, 1300];
/** Requests the test keeps in flight against the server. */
const CLIENT_CONCURRENCY = 32;
/** The dispatcher's deliveries in flight at once (its default, which `start` uses). */
const DISPATCH_CONCURRENCY = resolveConfig({ logLevel: 'silent' }).notifyConcurrency;
/** Lease of a claimed delivery: the shortest `start` allows (above the 5 s delivery timeout). */
const LEASE_SECONDS = 6;
const APPID = 'wxcrash0000000001';
const USERS = 10;
/** Sends spread over several stocks: one stock's row lock would serialise them all. */
const STOCKS = 4;
const FROM = 'https://merchant.example.com/wx';

type Kind = 'busifavor' | 'product-coupon' | 'delivery-plan';
const KINDS: readonly Kind[] = ['busifavor', 'product-coupon', 'delivery-plan'];

/** One API call of the burst and what the test learnt about it. */
interface Call {
  kind: Kind;
  /** Unique per call: task_id / plan_id in the event, out_request_no of a send. */
  key: string;
  outcome?: 'acked' | 'in-doubt' | 'rejected';
  /** From the 2xx answer: the notification id (sim events) or the coupon code (sends). */
  notificationId?: string;
  couponCode?: string;
  answer?: string;
}

/** One delivery the receiver got. */
interface Delivery {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** performance.now() when the body was complete. */
  at: number;
  wallMs: number;
}

interface Receiver {
  url: string;
  deliveries: Delivery[];
  /** Distinct notification ids received. */
  ids: Set<string>;
  close(): Promise<void>;
}

/** A plain-HTTP receiver on loopback (reached through a forwarding rule) that accepts everything at once. */
async function startReceiver(): Promise<Receiver> {
  const deliveries: Delivery[] = [];
  const ids = new Set<string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      deliveries.push({
        path: req.url ?? '',
        headers: req.headers,
        body,
        at: performance.now(),
        wallMs: Date.now(),
      });
      ids.add((JSON.parse(body) as { id: string }).id);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    deliveries,
    ids,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

interface RunningServer {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** `wechatpay-sandbox start` on a free port; resolves once it prints its URL. */
function startServer(dir: string, dbUrl: string, cwd: string): Promise<RunningServer> {
  const child = spawn(
    'node',
    [
      BIN,
      'start',
      '--dir',
      dir,
      '--db',
      dbUrl,
      '--port',
      '0',
      '--notify-lease-seconds',
      String(LEASE_SECONDS),
    ],
    {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  return new Promise((done, fail) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) done({ child, url: match[1], output: () => output });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => fail(new Error(`start exited (${code ?? signal}):\n${output}`)));
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null)
      done({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => done({ code, signal }));
  });
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The request of one burst call. */
function callRequest(call: Call, users: string[], stocks: string[], i: number): SignedRequestInput {
  switch (call.kind) {
    case 'busifavor':
      return {
        method: 'POST',
        path: '/v3/marketing/busifavor/coupons/send',
        body: {
          openid: users[i % users.length] as string,
          appid: APPID,
          stock_id: stocks[i % stocks.length] as string,
          out_request_no: call.key,
        },
      };
    case 'product-coupon':
      return {
        method: 'POST',
        path: '/sandbox/v1/product-coupon/events',
        body: {
          event_type: 'PRODUCT_COUPON_SP.IMAGE_GENERATION',
          resource: {
            brand_id: '120344',
            task_id: call.key,
            image_generation_type: 'CUT_OUT',
            task_state: 'SUCCESS',
          },
        },
      };
    case 'delivery-plan':
      return {
        method: 'POST',
        path: '/sandbox/v1/delivery-plan/events',
        body: {
          plan_id: call.key,
          plan_state: 'DELIVERING',
          audit_state: 'PASSED',
          change_reason: 'crash test',
        },
      };
  }
}

let work: string;
beforeAll(() => {
  // The bin is what operators run, so test the build.
  execFileSync('npx', ['tsc', '-b', 'packages/sdk', 'packages/server'], { cwd: ROOT, stdio: 'pipe' });
  expect(existsSync(BIN)).toBe(true);
  work = mkdtempSync(join(tmpdir(), 'wps-server-crash-'));
}, 180_000);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`server crash safety on ${dialect.name}`, () => {
    it(`loses no acknowledged event when the server is killed with SIGKILL twice mid-burst of ${CALLS} API events`, async () => {
      const started = performance.now();
      const database = await dialect.create();
      const dir = mkdtempSync(join(work, `${dialect.name}-`));
      const sandboxDir = join(dir, 'sandbox');
      const receiver = await startReceiver();
      let server = await startServer(sandboxDir, database.url, dir);
      const servers = [server];
      try {
        const credentials = JSON.parse(readFileSync(join(sandboxDir, 'credentials.json'), 'utf8'));
        const merchant = devMerchantOf(sandboxDir);
        const platformKeys = new Map<string, KeyObject>([
          [
            credentials.platform.certificate.serialNo,
            new X509Certificate(
              readFileSync(join(sandboxDir, credentials.platform.certificate.certificateFile)),
            ).publicKey,
          ],
          [
            credentials.platform.publicKey.keyId,
            createPublicKey(readFileSync(join(sandboxDir, credentials.platform.publicKey.publicKeyFile))),
          ],
        ]);
        const request = (input: SignedRequestInput): Promise<TestResponse> =>
          signedRequest(server.url, merchant, input);
        const ok = async <T = Record<string, unknown>>(input: SignedRequestInput): Promise<T> => {
          const res = await request(input);
          expect(res.status, `${input.method} ${input.path}: ${res.text}`).toBeLessThan(300);
          return (res.text ? res.json<T>() : {}) as T;
        };

        // Notify URLs of all three families on a public-looking host, forwarded to the local receiver.
        await ok({
          method: 'POST',
          path: '/sandbox/v1/notification-forwards',
          body: { from_url: FROM, to_url: `${receiver.url}/local` },
        });
        await ok({
          method: 'POST',
          path: '/v3/marketing/busifavor/callbacks',
          body: { mchid: merchant.mchid, notify_url: `${FROM}/busifavor` },
        });
        await ok({
          method: 'POST',
          path: '/v3/marketing/partner/product-coupon/notify-configs',
          body: { notify_url: `${FROM}/product-coupon` },
        });
        await ok({
          method: 'POST',
          path: `/v3/marketing/partner/delivery-plan/${merchant.mchid}/notify-url`,
          body: { notify_url: `${FROM}/delivery-plan` },
        });
        // Stocks and enough simulated users for the sends (at most 100 coupons per user and stock).
        const stocks: string[] = [];
        for (let k = 0; k < STOCKS; k++) {
          const created = await ok<{ stock_id: string }>({
            method: 'POST',
            path: '/v3/marketing/busifavor/stocks',
            body: stockBody(merchant.mchid, {
              stock_send_rule: { max_coupons: 10_000, max_coupons_per_user: 100 },
            }),
          });
          stocks.push(created.stock_id);
        }
        await ok({ method: 'POST', path: '/sandbox/v1/appids', body: { appid: APPID } });
        const users: string[] = [];
        for (let u = 0; u < USERS; u++) {
          const user = await ok<{ openids: Record<string, string> }>({
            method: 'POST',
            path: '/sandbox/v1/users',
            body: { appids: [APPID] },
          });
          users.push(user.openids[APPID] as string);
        }

        const calls: Call[] = Array.from({ length: CALLS }, (_, i) => ({
          kind: KINDS[i % KINDS.length] as Kind,
          key: reqNo('CRASH'),
        }));
        const killAt = KILL_AT.map((n) => n + Math.floor(Math.random() * 100));
        /** What was going on at each kill, and when the successor was spawned. */
        const kills: Array<{
          acked: number;
          inFlight: number;
          epochDeliveries: number;
          backlog: number;
          respawnAt: number;
        }> = [];
        const ackedIds = new Set<string>();
        let acked = 0;
        let inFlight = 0;
        let next = 0;
        let epochStart = 0;
        let down: Promise<void> | undefined;
        const restartMs: number[] = [];

        // Closes the gate (no new calls), kills the server while calls and deliveries are in flight,
        // restarts it on the same database and opens the gate again.
        const crash = async (): Promise<void> => {
          const received = receiver.ids;
          const snapshot = {
            acked,
            inFlight,
            epochDeliveries: receiver.deliveries.length - epochStart,
            backlog: [...ackedIds].filter((id) => !received.has(id)).length,
          };
          server.child.kill('SIGKILL');
          expect((await exited(server.child)).signal).toBe('SIGKILL');
          const respawnAt = performance.now();
          kills.push({ ...snapshot, respawnAt });
          epochStart = receiver.deliveries.length;
          server = await startServer(sandboxDir, database.url, dir);
          servers.push(server);
          restartMs.push(performance.now() - respawnAt);
        };
        const maybeCrash = () => {
          const at = killAt[kills.length];
          if (down || at === undefined || acked < at || receiver.deliveries.length === epochStart) return;
          // Kill only while some acknowledged event still waits for delivery: a dispatcher that keeps up
          // with the burst can have delivered every one by the time its API answer is read.
          const received = receiver.ids;
          if (![...ackedIds].some((id) => !received.has(id))) return;
          down = crash().finally(() => {
            down = undefined;
          });
        };
        const worker = async () => {
          for (;;) {
            while (down) await down;
            const i = next++;
            const call = calls[i];
            if (!call) return;
            inFlight++;
            try {
              const res = await request(callRequest(call, users, stocks, i));
              call.answer = `${res.status} ${res.text}`;
              if (res.status >= 200 && res.status < 300) {
                const body = res.json<{ notification_id?: string; coupon_code?: string }>();
                call.outcome = 'acked';
                call.notificationId = body.notification_id;
                call.couponCode = body.coupon_code;
                if (body.notification_id) ackedIds.add(body.notification_id);
                acked++;
              } else call.outcome = 'rejected';
            } catch (err) {
              // Cut off by the kill: it may or may not have committed.
              call.outcome = 'in-doubt';
              call.answer = String(err);
            } finally {
              inFlight--;
            }
            maybeCrash();
          }
        };
        await Promise.all(Array.from({ length: CLIENT_CONCURRENCY }, worker));
        const burstMs = performance.now() - started;

        // Both kills happened mid-burst, with API calls in flight and deliveries both done and pending.
        expect(kills).toHaveLength(KILL_AT.length);
        for (const kill of kills) {
          expect(kill.inFlight).toBeGreaterThan(0);
          expect(kill.epochDeliveries).toBeGreaterThan(0);
          expect(kill.backlog).toBeGreaterThan(0);
          expect(kill.acked).toBeLessThan(CALLS - CLIENT_CONCURRENCY);
        }
        // Nothing but the kills disturbed the burst: no answer other than a 2xx.
        expect(calls.filter((c) => c.outcome === 'rejected').map((c) => c.answer)).toEqual([]);
        const inDoubt = calls.filter((c) => c.outcome === 'in-doubt');
        expect(inDoubt.length).toBeLessThanOrEqual(CLIENT_CONCURRENCY * KILL_AT.length);
        expect(acked).toBeGreaterThanOrEqual(2000);

        // The restarted server delivers everything: the acknowledged events, and whatever the cut-off
        // calls committed (its outbox has nothing left to do).
        const count = async (state: string) =>
          (
            await ok<{ total_count: number }>({
              method: 'GET',
              path: `/sandbox/v1/notifications?state=${state}&limit=1`,
            })
          ).total_count;
        let pending = -1;
        await waitFor(
          async () => {
            if ([...ackedIds].some((id) => !receiver.ids.has(id))) return false;
            pending = await count('pending');
            return pending === 0;
          },
          90_000,
          () => `delivery: ${receiver.ids.size} distinct received, ${pending} pending`,
        );
        const drainedMs = performance.now() - started;
        expect(await count('no-target')).toBe(0);
        expect(await count('dead')).toBe(0);
        // The delivery log, page by page: the notification ids and their persisted attempt counts.
        const attemptsById = new Map<string, number>();
        for (let offset = 0; ; offset += 500) {
          const page = await ok<{ data: Array<{ id: string; attempts: number }> }>({
            method: 'GET',
            path: `/sandbox/v1/notifications?state=delivered&limit=500&offset=${offset}`,
          });
          for (const n of page.data) attemptsById.set(n.id, n.attempts);
          if (page.data.length < 500) break;
        }
        let coupons = 0;
        for (const stockId of stocks) {
          const stock = await ok<{ send_count_information: { total_send_num: number } }>({
            method: 'GET',
            path: `/v3/marketing/busifavor/stocks/${stockId}`,
          });
          coupons += stock.send_count_information.total_send_num;
        }
        server.child.kill('SIGTERM');
        expect((await exited(server.child)).code).toBe(0);

        // Every delivery is authentic and decrypts; per id, one event (the same plaintext every time).
        const byId = new Map<string, { kind: Kind; plaintext: string; ats: number[] }>();
        for (const d of receiver.deliveries) {
          const verified = verifyResponseSignature({
            headers: d.headers,
            body: d.body,
            resolveKey: (serial) => platformKeys.get(serial),
            nowSeconds: Math.floor(d.wallMs / 1000),
          });
          expect(verified.ok).toBe(true);
          const parsed = parseNotificationEnvelope(d.body);
          if (!parsed.ok) throw new Error(parsed.reason);
          const kind = d.path.replace(/^\/local\//, '') as Kind;
          expect(KINDS).toContain(kind);
          const plaintext = decryptNotificationResource(parsed.envelope.resource, merchant.apiV3Key);
          const seen = byId.get(parsed.envelope.id);
          if (seen) {
            expect({ kind, plaintext }).toEqual({ kind: seen.kind, plaintext: seen.plaintext });
            seen.ats.push(d.at);
          } else byId.set(parsed.envelope.id, { kind, plaintext, ats: [d.at] });
        }
        // The server's log agrees with the receiver, and every notification took one persisted attempt:
        // an attempt cut off by a kill leaves no log row, so a duplicate is never a logged retry.
        expect(new Set(attemptsById.keys())).toEqual(new Set(byId.keys()));
        expect([...attemptsById.values()].filter((n) => n !== 1)).toEqual([]);

        // Each delivered event belongs to exactly one call, acknowledged or cut off, and no call produced
        // two notifications.
        const callByKey = new Map(calls.map((c) => [c.key, c]));
        const callByCoupon = new Map(
          calls.flatMap((c) => (c.couponCode ? [[c.couponCode, c] as const] : [])),
        );
        const idOfCall = new Map<Call, string>();
        let unattributedSends = 0;
        for (const [id, n] of byId) {
          const plain = JSON.parse(n.plaintext) as Record<string, unknown>;
          const call =
            n.kind === 'busifavor'
              ? callByCoupon.get(plain.coupon_code as string)
              : callByKey.get((n.kind === 'product-coupon' ? plain.task_id : plain.plan_id) as string);
          if (!call) {
            // A send that committed though its answer was lost: the answer carried the coupon code.
            expect(n.kind).toBe('busifavor');
            unattributedSends++;
            continue;
          }
          expect(call.kind).toBe(n.kind);
          expect(idOfCall.get(call), `${call.key} sent as two notifications`).toBeUndefined();
          idOfCall.set(call, id);
        }
        expect(unattributedSends).toBeLessThanOrEqual(inDoubt.filter((c) => c.kind === 'busifavor').length);
        // Every acknowledged call was delivered, under the id its answer named.
        for (const call of calls.filter((c) => c.outcome === 'acked')) {
          const id = idOfCall.get(call);
          expect(id, `acknowledged ${call.kind} ${call.key} was never delivered`).toBeDefined();
          if (call.notificationId) expect(id).toBe(call.notificationId);
        }
        // A coupon exists exactly when its COUPON.SEND does (same transaction).
        const sends = [...byId.values()].filter((n) => n.kind === 'busifavor').length;
        expect(coupons).toBe(sends);

        // Duplicates: only deliveries in flight at a kill, at most the dispatcher's concurrency per kill.
        const duplicatedPerKill = kills.map(() => 0);
        let extra = 0;
        for (const n of byId.values()) {
          if (n.ats.length === 1) continue;
          extra += n.ats.length - 1;
          const first = Math.min(...n.ats);
          const kill = kills.findIndex((k) => first < k.respawnAt);
          expect(kill, 'a duplicate whose first delivery came after the last kill').toBeGreaterThanOrEqual(0);
          duplicatedPerKill[kill] = (duplicatedPerKill[kill] ?? 0) + 1;
          expect(n.ats.length).toBeLessThanOrEqual(1 + kills.length - kill);
        }
        for (const d of duplicatedPerKill) expect(d).toBeLessThanOrEqual(DISPATCH_CONCURRENCY);

        console.log(
          `[${dialect.name}] ${acked} acknowledged, ${inDoubt.length} cut off (${byId.size - acked} of them committed), ` +
            `${byId.size} delivered, ${extra} duplicate deliveries (per kill ${duplicatedPerKill.join('/')}); ` +
            `kills at ${kills.map((k) => `${k.acked} acked/${k.inFlight} in flight/${k.backlog} backlog`).join(', ')}; ` +
            `restarts ${restartMs.map((ms) => (ms / 1000).toFixed(1)).join('/')} s; burst ${(burstMs / 1000).toFixed(1)} s, all delivered at ${(drainedMs / 1000).toFixed(1)} s`,
        );
      } finally {
        for (const s of servers)
          if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
        await Promise.all(servers.map((s) => exited(s.child)));
        await receiver.close();
        await database.drop();
      }
    }, 180_000);
  });
}
