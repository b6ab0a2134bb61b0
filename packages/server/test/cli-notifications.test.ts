import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  devMerchantOf,
  signedRequest,
  type TestMerchant,
  type TestResponse,
} from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageGenerationTrigger, makeCertificate, type TestCertificate } from './notifications/fixtures.js';

/**
 * `wechatpay-sandbox notifications …` as an operator runs it: the built bin in child processes next to a
 * running `wechatpay-sandbox start` on the same SQLite database, real receivers on loopback (plain http
 * behind a forwarding rule, and a lax HTTPS receiver with an openssl certificate for the probe).
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'packages/server/dist/cli/main.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], cwd: string): Promise<Run> {
  return new Promise((done) => {
    execFile('node', [BIN, ...args], { cwd, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** A receiver answering with the current `status`; records every body. */
interface Receiver {
  url: string;
  bodies: string[];
  status: number;
  gate?: Promise<void>;
  close(): Promise<void>;
}

async function listen(
  server: http.Server | https.Server,
  scheme: string,
  receiver: Omit<Receiver, 'url' | 'close'>,
) {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(receiver, {
    url: `${scheme}://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  }) as Receiver;
}

/** `gate`, when set, holds every answer until it resolves (an attempt in flight). */
function handler(receiver: { bodies: string[]; status: number; gate?: Promise<void> }) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      receiver.bodies.push(Buffer.concat(chunks).toString('utf8'));
      await receiver.gate;
      res.writeHead(receiver.status, { 'Content-Type': 'text/plain' });
      res.end(receiver.status === 200 ? 'ok' : 'receiver says no');
    });
  };
}

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A notification as `notifications list --json` prints it: the simulation API's NotificationSummaryView. */
interface ListedItem {
  id: string;
  state: string;
  attempts: number;
  last_status: number | null;
}

let work: string;
let dir: string;
let server: ChildProcess;
let baseUrl: string;
let merchant: TestMerchant;
let plain: Receiver;
let lax: Receiver;
let laxTls: TestCertificate;
let laxCa: string;
const request = (input: Parameters<typeof signedRequest>[2]): Promise<TestResponse> =>
  signedRequest(baseUrl, merchant, input);

/** A `wechatpay-sandbox start` child on its own DIR, once it printed where it listens. */
interface StartedCli {
  child: ChildProcess;
  url: string;
  /** Everything it printed until it listened. */
  banner: string;
  merchant: TestMerchant;
}

async function startCli(sandboxDir: string, extra: string[] = []): Promise<StartedCli> {
  const child = spawn('node', [BIN, 'start', '--dir', sandboxDir, '--port', '0', ...extra], {
    cwd: work,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((done, fail) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)[\s\S]*Press Ctrl\+C/.exec(output);
      if (match?.[1]) done(match[1]);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => fail(new Error(`start exited with ${code}:\n${output}`)));
  });
  return { child, url, banner: output, merchant: devMerchantOf(sandboxDir) };
}

/** An HTTPS receiver with the lax certificate (trusted only through `laxCa`) answering 200 to anything. */
function laxReceiver(): Promise<Receiver> {
  const state = { bodies: [] as string[], status: 200 };
  return listen(
    https.createServer({ key: laxTls.keyPem, cert: laxTls.certPem }, handler(state)),
    'https',
    state,
  );
}

function stopCli(child: ChildProcess | undefined): Promise<void> {
  return new Promise<void>((r) => {
    if (!child || child.exitCode !== null) return r();
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

beforeAll(async () => {
  execFileSync('npx', ['tsc', '-b', 'packages/sdk', 'packages/server'], { cwd: ROOT, stdio: 'pipe' });
  expect(existsSync(BIN)).toBe(true);
  work = mkdtempSync(join(tmpdir(), 'wps-cli-notify-'));
  dir = join(work, 'sbx');
  const started = await startCli(dir);
  server = started.child;
  baseUrl = started.url;
  merchant = started.merchant;
  const plainState = { bodies: [] as string[], status: 500 };
  plain = await listen(http.createServer(handler(plainState)), 'http', plainState);
  // The lax receiver: a self-signed certificate made with openssl, and 200 for anything.
  laxTls = makeCertificate(work, 'lax');
  laxCa = join(work, 'lax-ca.pem');
  writeFileSync(laxCa, laxTls.certPem);
  lax = await laxReceiver();
}, 180_000);

afterAll(async () => {
  await stopCli(server);
  await plain?.close();
  await lax?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function listJson(args: string[] = []): Promise<ListedItem[]> {
  const run = await cli(['notifications', 'list', '--dir', dir, '--json', ...args], work);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return (JSON.parse(run.stdout) as { data: ListedItem[] }).data;
}

async function triggerEvent(taskId: string): Promise<string> {
  const res = await request({
    method: 'POST',
    path: '/sandbox/v1/product-coupon/events',
    body: imageGenerationTrigger(taskId),
  });
  expect(res.status).toBe(200);
  return res.json<{ notification_id: string }>().notification_id;
}

describe('wechatpay-sandbox notifications', () => {
  let failedId: string;
  let ruleId: string;

  it('adds a forwarding rule that a running server applies, and lists it', async () => {
    const add = await cli(
      [
        'notifications',
        'forward',
        'add',
        '--dir',
        dir,
        '--mchid',
        merchant.mchid,
        '--from',
        'https://merchant.example.com/wx',
        '--to',
        `${plain.url}/local`,
      ],
      work,
    );
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    ruleId = add.stdout.split(/\s+/)[0] as string;
    expect(ruleId).toMatch(/^[0-9a-f-]{36}$/);
    const list = await cli(
      ['notifications', 'forward', 'list', '--dir', dir, '--mchid', merchant.mchid],
      work,
    );
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(`${ruleId}  https://merchant.example.com/wx -> ${plain.url}/local`);

    const set = await request({
      method: 'POST',
      path: '/v3/marketing/partner/product-coupon/notify-configs',
      body: { notify_url: 'https://merchant.example.com/wx/notify' },
    });
    expect(set.status).toBe(200);
  });

  it('lists a failed delivery and shows its attempt with status, latency and response excerpt', async () => {
    failedId = await triggerEvent('T-FAIL');
    const item = await waitFor(async () => {
      const items = await listJson();
      return items.find((n) => n.id === failedId && n.attempts === 1);
    }, 'the first attempt');
    expect(item).toMatchObject({ state: 'pending', last_status: 500 });
    expect(plain.bodies).toHaveLength(1);
    expect(JSON.parse(plain.bodies[0] as string).id).toBe(failedId);

    const table = await cli(['notifications', 'list', '--dir', dir, '--state', 'pending'], work);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      new RegExp(`${failedId}\\s+pending\\s+PRODUCT_COUPON_SP.IMAGE_GENERATION\\s+attempts\\s+1\\s+last 500`),
    );
    const none = await cli(['notifications', 'list', '--dir', dir, '--state', 'dead'], work);
    expect(none.stdout).toMatch(/No notifications of merchant \d+ in state dead/);

    // By a unique prefix of its id, as an operator copies it from the list.
    const show = await cli(['notifications', 'show', failedId.slice(0, 13), '--dir', dir], work);
    expect(show.stderr).toBe('');
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`of merchant ${merchant.mchid}`);
    expect(show.stdout).toMatch(/#1 failed\s+status 500\s+\d+ ms/);
    expect(show.stdout).toContain(`${plain.url}/local/notify`);
    expect(show.stdout).toContain('response: receiver says no');
    expect(show.stdout).toContain('"task_id":"T-FAIL"');
  });

  it('replays a notification by id: the receiver gets the same id again and it is delivered', async () => {
    plain.status = 200;
    const run = await cli(['notifications', 'replay', failedId, '--dir', dir], work);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`replayed ${failedId}`);
    const item = await waitFor(
      async () => (await listJson()).find((n) => n.id === failedId && n.state === 'delivered'),
      'delivery',
    );
    expect(item.attempts).toBe(2);
    expect(plain.bodies.map((b) => JSON.parse(b).id)).toEqual([failedId, failedId]);
  });

  it('replays several ids in one call: each is delivered again under its own id', async () => {
    plain.status = 500;
    const first = await triggerEvent('T-MANY-1');
    const second = await triggerEvent('T-MANY-2');
    await waitFor(async () => {
      const items = (await listJson()).filter((n) => n.id === first || n.id === second);
      return items.length === 2 && items.every((n) => n.attempts === 1) ? items : undefined;
    }, 'the first attempts');
    plain.status = 200;
    const run = await cli(['notifications', 'replay', first, second, first, '--dir', dir], work);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // A repeated id is replayed once.
    expect(run.stdout.match(/^replayed .+$/gm)?.sort()).toEqual(
      [`replayed ${first}`, `replayed ${second}`].sort(),
    );
    expect(run.stdout).toContain('2 notification(s) queued');
    const items = await waitFor(async () => {
      const all = (await listJson()).filter((n) => n.id === first || n.id === second);
      return all.length === 2 && all.every((n) => n.state === 'delivered') ? all : undefined;
    }, 'both replayed deliveries');
    expect(items.map((n) => [n.attempts, n.last_status])).toEqual([
      [2, 200],
      [2, 200],
    ]);
    const received = plain.bodies.map((b) => JSON.parse(b).id as string);
    expect(received.filter((id) => id === first)).toHaveLength(2);
    expect(received.filter((id) => id === second)).toHaveLength(2);
  });

  it('refuses to replay a notification whose attempt is in flight, so no duplicate is sent alongside it', async () => {
    let release: () => void = () => {};
    plain.gate = new Promise((r) => {
      release = r;
    });
    plain.status = 200;
    const id = await triggerEvent('T-INFLIGHT');
    await waitFor(
      () => (plain.bodies.some((b) => JSON.parse(b).id === id) ? true : undefined),
      'the open attempt',
    );
    const run = await cli(['notifications', 'replay', id, '--dir', dir], work);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `error: notification ${id} has a delivery attempt in flight; nothing was replayed`,
    );
    release();
    plain.gate = undefined;
    const item = await waitFor(
      async () => (await listJson()).find((n) => n.id === id && n.state === 'delivered'),
      'the open attempt to finish',
    );
    expect(item.attempts).toBe(1);
    // Over two poll intervals of the server: the refused replay queued nothing.
    await new Promise((r) => setTimeout(r, 600));
    expect(plain.bodies.filter((b) => JSON.parse(b).id === id)).toHaveLength(1);
    const again = await cli(['notifications', 'replay', id, '--dir', dir], work);
    expect(again.code, again.stderr).toBe(0);
    await waitFor(
      async () => (await listJson()).find((n) => n.id === id && n.attempts === 2 && n.state === 'delivered'),
      'the replay',
    );
  });

  it('refuses unknown ids atomically and bad selections as usage errors', async () => {
    const unknown = await cli(['notifications', 'replay', failedId, 'no-such-id', '--dir', dir], work);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no notification no-such-id; nothing was replayed');
    expect((await listJson()).find((n) => n.id === failedId)?.state).toBe('delivered');
    const other = await cli(
      ['notifications', 'replay', failedId, '--mchid', '1900000999', '--dir', dir],
      work,
    );
    expect(other.code).toBe(1);
    const both = await cli(['notifications', 'replay', failedId, '--all-failed', '--dir', dir], work);
    expect(both.code).toBe(2);
    const neither = await cli(['notifications', 'replay', '--dir', dir], work);
    expect(neither.code).toBe(2);
    const state = await cli(['notifications', 'list', '--state', 'failed', '--dir', dir], work);
    expect(state.code).toBe(2);
    expect(state.stderr).toContain('--state must be one of pending, no-target, delivered, dead');
    const limit = await cli(['notifications', 'list', '--limit', '0', '--dir', dir], work);
    expect(limit.code).toBe(2);
    const missing = await cli(['notifications', 'show', 'no-such-id', '--dir', dir], work);
    expect(missing.code).toBe(1);
    const pause = await cli(['notifications', 'pause', '--dir', dir], work);
    expect(pause.code).toBe(2);
    expect(pause.stderr).toContain('--mchid is required');
  });

  it('pauses a merchant: events accumulate; resume delivers them', async () => {
    const paused = await cli(['notifications', 'pause', '--mchid', merchant.mchid, '--dir', dir], work);
    expect(paused.code).toBe(0);
    expect(paused.stdout).toContain('are paused since');
    const before = plain.bodies.length;
    const id = await triggerEvent('T-PAUSED');
    // Several poll intervals of the running server (250 ms): nothing may go out while paused.
    await new Promise((r) => setTimeout(r, 1200));
    expect(plain.bodies).toHaveLength(before);
    expect((await listJson(['--state', 'pending'])).map((n) => n.id)).toContain(id);
    const resumed = await cli(['notifications', 'resume', '--mchid', merchant.mchid, '--dir', dir], work);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('run');
    await waitFor(
      async () => (await listJson()).find((n) => n.id === id && n.state === 'delivered'),
      'delivery after resume',
    );
    expect(JSON.parse(plain.bodies.at(-1) as string).id).toBe(id);
  });

  it('replays every dead notification with --all-failed after the schedule ran out on the virtual clock', async () => {
    plain.status = 503;
    const id = await triggerEvent('T-DEAD');
    await waitFor(
      async () => (await listJson()).find((n) => n.id === id && n.attempts === 1),
      'first attempt',
    );
    // Fast-forward through the ten retries, one minute at a time.
    for (let i = 0; i < 10; i++) {
      const before = (await listJson()).find((n) => n.id === id)?.attempts ?? 0;
      const adv = await request({
        method: 'POST',
        path: '/sandbox/v1/clock',
        body: { action: 'advance', seconds: 61 },
      });
      expect(adv.status).toBe(200);
      await waitFor(
        async () => (await listJson()).find((n) => n.id === id && n.attempts > before),
        `retry ${i + 1}`,
      );
    }
    expect((await listJson(['--state', 'dead'])).map((n) => n.id)).toEqual([id]);
    plain.status = 204;
    const run = await cli(['notifications', 'replay', '--all-failed', '--dir', dir], work);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`replayed ${id}`);
    await waitFor(
      async () => (await listJson()).find((n) => n.id === id && n.state === 'delivered'),
      'replayed delivery',
    );
  }, 60_000);

  it('removes the forwarding rule', async () => {
    const run = await cli(
      ['notifications', 'forward', 'remove', ruleId, '--mchid', merchant.mchid, '--dir', dir],
      work,
    );
    expect(run.code).toBe(0);
    const again = await cli(
      ['notifications', 'forward', 'remove', ruleId, '--mchid', merchant.mchid, '--dir', dir],
      work,
    );
    expect(again.code).toBe(1);
    const list = await cli(
      ['notifications', 'forward', 'list', '--mchid', merchant.mchid, '--dir', dir],
      work,
    );
    expect(list.stdout).toContain('No forwarding rules');
  });

  it('probe: names every forgery a lax HTTPS receiver accepted and exits 3', async () => {
    const run = await cli(
      [
        'notifications',
        'probe',
        '--mchid',
        merchant.mchid,
        '--url',
        `${lax.url}/notify`,
        '--ca-file',
        laxCa,
        '--dir',
        dir,
      ],
      work,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(3);
    for (const forgery of [
      'bad-signature',
      'signtest-signature',
      'wrong-serial',
      'stale-timestamp',
      'wrong-apiv3-key',
      'tampered-ciphertext',
    ]) {
      expect(run.stdout).toMatch(
        new RegExp(`FAIL\\s+${forgery}\\s+HTTP 200\\s+forged notification ACCEPTED`),
      );
    }
    expect(run.stdout).toMatch(/ok\s+correct\s+HTTP 200\s+accepted/);
    expect(run.stdout).toContain('accepted 6 forged notification(s)');
    // Seven requests, each its own notification id.
    expect(new Set(lax.bodies.map((b) => JSON.parse(b).id)).size).toBe(7);

    const json = await cli(
      [
        'notifications',
        'probe',
        '--mchid',
        merchant.mchid,
        '--url',
        `${lax.url}/notify`,
        '--insecure',
        '--json',
        '--dir',
        dir,
      ],
      work,
    );
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ passed: false, rejected_correct: false });
  });

  it('probe: an untrusted certificate, a strict policy and bad options are failures, not passes', async () => {
    const untrusted = await cli(
      ['notifications', 'probe', '--mchid', merchant.mchid, '--url', `${lax.url}/notify`, '--dir', dir],
      work,
    );
    // Nothing reached the endpoint, so nothing was accepted: the correct notification failed → exit 1.
    expect(untrusted.code).toBe(1);
    expect(untrusted.stdout).toContain('The endpoint did not answer the correct notification with 200/204.');
    const strict = await cli(
      [
        'notifications',
        'probe',
        '--mchid',
        merchant.mchid,
        '--url',
        `${lax.url}/notify`,
        '--policy',
        'strict',
        '--dir',
        dir,
      ],
      work,
    );
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/error: cannot probe: /);
    const noUrl = await cli(
      ['notifications', 'probe', '--mchid', merchant.mchid, '--family', 'delivery-plan', '--dir', dir],
      work,
    );
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain('has no delivery-plan notify URL; pass --url');
    const badUrl = await cli(
      ['notifications', 'probe', '--mchid', merchant.mchid, '--url', 'ftp://x', '--dir', dir],
      work,
    );
    expect(badUrl.code).toBe(2);
    const unknownMerchant = await cli(
      ['notifications', 'probe', '--mchid', '1900000999', '--url', `${lax.url}/n`, '--dir', dir],
      work,
    );
    expect(unknownMerchant.code).toBe(2);
  });
});

describe('wechatpay-sandbox start --notify-policy / --notify-ca-file / --notify-insecure-tls', () => {
  interface Detail {
    id: string;
    state: string;
    attempt_log: Array<{ outcome: string; status: number | null; error: string | null }>;
  }
  let selfSigned: Receiver;
  let withCa: StartedCli;
  let insecure: StartedCli;
  let strict: StartedCli;
  const dirs = { ca: '', insecure: '', strict: '' };

  beforeAll(async () => {
    // The same openssl certificate as the lax receiver, on a receiver of its own that accepts anything.
    selfSigned = await laxReceiver();
    dirs.ca = join(work, 'sbx-ca');
    dirs.insecure = join(work, 'sbx-insecure');
    dirs.strict = join(work, 'sbx-strict');
    [withCa, insecure, strict] = await Promise.all([
      startCli(dirs.ca, ['--notify-ca-file', laxCa]),
      startCli(dirs.insecure, ['--notify-insecure-tls']),
      startCli(dirs.strict, ['--notify-policy', 'strict']),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([stopCli(withCa?.child), stopCli(insecure?.child), stopCli(strict?.child)]);
    await selfSigned?.close();
  });

  /** `notifications show ID --json` on a sandbox's database once it has `attempts` attempts. */
  async function shown(sandboxDir: string, id: string, attempts = 1): Promise<Detail> {
    return waitFor(async () => {
      const run = await cli(['notifications', 'show', id, '--dir', sandboxDir, '--json'], work);
      expect(run.code, run.stderr).toBe(0);
      const detail = JSON.parse(run.stdout) as Detail;
      return detail.attempt_log.length >= attempts ? detail : undefined;
    }, `attempt ${attempts} of ${id}`);
  }

  async function setProductCouponUrl(started: StartedCli, url: string): Promise<TestResponse> {
    return signedRequest(started.url, started.merchant, {
      method: 'POST',
      path: '/v3/marketing/partner/product-coupon/notify-configs',
      body: { notify_url: url },
    });
  }

  async function imageEvent(started: StartedCli, taskId: string): Promise<string> {
    const res = await signedRequest(started.url, started.merchant, {
      method: 'POST',
      path: '/sandbox/v1/product-coupon/events',
      body: imageGenerationTrigger(taskId),
    });
    expect(res.status, res.text).toBe(200);
    return res.json<{ notification_id: string }>().notification_id;
  }

  const receivedIds = () => selfSigned.bodies.map((b) => (JSON.parse(b) as { id: string }).id);

  it('prints the policy and TLS trust it runs with', () => {
    // The policy is about delivery targets (after forwarding rules); it never lets a notify_url be http.
    expect(withCa.banner).toContain(
      'notify policy:   local (delivery targets after forwarding rules may be loopback/private or http; notify_url itself must be https)',
    );
    expect(withCa.banner).toContain(`notify TLS:      system CAs + ${laxCa}`);
    expect(insecure.banner).toContain('notify TLS:      certificates NOT verified (--notify-insecure-tls)');
    expect(strict.banner).toMatch(/notify policy: +strict \(delivery targets: public https only/);
    expect(strict.banner).toMatch(/notify TLS: +system CAs\n/);
  });

  it('--notify-ca-file: a self-signed HTTPS receiver gets the delivery', async () => {
    expect((await setProductCouponUrl(withCa, `${selfSigned.url}/ca/notify`)).status).toBe(200);
    const id = await imageEvent(withCa, 'T-CA');
    const detail = await shown(dirs.ca, id);
    expect(detail.state).toBe('delivered');
    expect(detail.attempt_log).toMatchObject([{ outcome: 'delivered', status: 200, error: null }]);
    expect(receivedIds()).toContain(id);
  });

  it('--notify-insecure-tls: the same receiver gets the delivery without any CA', async () => {
    expect((await setProductCouponUrl(insecure, `${selfSigned.url}/insecure/notify`)).status).toBe(200);
    const id = await imageEvent(insecure, 'T-INSECURE');
    const detail = await shown(dirs.insecure, id);
    expect(detail.attempt_log).toMatchObject([{ outcome: 'delivered', status: 200 }]);
    expect(receivedIds()).toContain(id);
  });

  it('without either flag the attempt fails with the TLS error in the delivery log', async () => {
    // The first sandbox was started without notify flags; its delivery-plan URL points at the receiver.
    const set = await request({
      method: 'POST',
      path: `/v3/marketing/partner/delivery-plan/${merchant.mchid}/notify-url`,
      body: { notify_url: `${selfSigned.url}/plain/notify` },
    });
    expect(set.status, set.text).toBe(200);
    const event = await request({
      method: 'POST',
      path: '/sandbox/v1/delivery-plan/events',
      body: { plan_id: 'PLAN-TLS', plan_state: 'DELIVERING', audit_state: 'PASSED' },
    });
    expect(event.status, event.text).toBe(200);
    const id = event.json<{ notification_id: string }>().notification_id;
    const detail = await shown(dir, id);
    expect(detail.state).toBe('pending');
    expect(detail.attempt_log).toHaveLength(1);
    expect(detail.attempt_log[0]).toMatchObject({ outcome: 'failed', status: null });
    expect(detail.attempt_log[0]?.error).toMatch(/self[- ]signed certificate/);
    expect(receivedIds()).not.toContain(id);
  });

  it('--notify-policy strict: refuses a loopback notify URL, and a forwarded loopback target at delivery', async () => {
    const loopback = await setProductCouponUrl(strict, `${selfSigned.url}/strict/notify`);
    expect(loopback.status).toBe(400);
    expect(loopback.json<{ code: string }>().code).toBe('PARAM_ERROR');
    // A public URL is accepted; a forwarding rule then points it at the loopback receiver.
    expect((await setProductCouponUrl(strict, 'https://merchant.example.com/wx/notify')).status).toBe(200);
    const rule = await cli(
      [
        'notifications',
        'forward',
        'add',
        '--dir',
        dirs.strict,
        '--mchid',
        strict.merchant.mchid,
        '--from',
        'https://merchant.example.com/wx',
        '--to',
        `${selfSigned.url}/strict`,
      ],
      work,
    );
    expect(rule.code, rule.stderr).toBe(0);
    const id = await imageEvent(strict, 'T-STRICT');
    const detail = await shown(dirs.strict, id);
    expect(detail.state).toBe('pending');
    expect(detail.attempt_log[0]).toMatchObject({ outcome: 'refused', status: null });
    expect(detail.attempt_log[0]?.error).toMatch(
      /127\.0\.0\.1 resolves to 127\.0\.0\.1 \(loopback\), refused by the strict target policy/,
    );
    expect(receivedIds()).not.toContain(id);
  });
});
