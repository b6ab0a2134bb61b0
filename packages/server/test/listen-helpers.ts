import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSandbox, type TestDialect, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { expect } from 'vitest';
import { listenCommand } from '../src/cli/listen.js';
import { triggerCommand } from '../src/cli/trigger.js';
import type { CliOutput } from '../src/cli/usage.js';
import { signedJson } from './busifavor-helpers.js';

/**
 * Fixtures of the listen-session tests: plain-http receivers on loopback, a sandbox whose dispatcher
 * delivers and whose merchant's registered notify URL is https://example.com/…, forwarded by a rule to the
 * "registered" receiver (so where each callback went is observable), and the `trigger` and `listen`
 * commands run in-process on the sandbox's database as the CLI runs them.
 */

/** One request a receiver got. */
export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A plain-http receiver answering 200. */
export interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

export async function startHttpReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"code":"SUCCESS","message":"OK"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Polls `probe` every 25 ms until it returns a value (8 s at most). */
export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 8000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Captures a command's lines. */
export function capture(): CliOutput & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l) };
}

/** The notification id of a received callback. */
export const receivedId = (r: Received) => (JSON.parse(r.body) as { id: string }).id;

/** The registered busifavor notify URL of the fixture's merchant. */
export const REGISTERED_URL = 'https://example.com/wechatpay/notify';

/** What `trigger --json` prints. */
export interface Triggered {
  notification_id: string;
  created: Array<{ type: string; id: string }>;
}

/** A delivering sandbox with a listener receiver and the registered one. */
export interface ListenFixture {
  sandbox: TestSandbox;
  listener: Receiver;
  registered: Receiver;
  /** `--db URL --mchid N` of the sandbox's dev merchant. */
  db(): string[];
  /** `wechatpay-sandbox trigger EVENT --json`, parsed. */
  trigger(event: string): Promise<Triggered>;
  /** Runs `listen --forward-to LISTENER/hook` in-process until stop() sends it a signal. */
  runListen(
    extra: string[],
  ): Promise<{ out: ReturnType<typeof capture>; stop(signal: string): Promise<number> }>;
  /** Resolves with the request when `receiver` got notification `id`. */
  waitReceived(receiver: Receiver, id: string): Promise<Received>;
  close(): Promise<void>;
}

export async function startListenFixture(dialect: TestDialect): Promise<ListenFixture> {
  const sandbox = await startSandbox({ dialect, config: { notifyDelivery: true } });
  const listener = await startHttpReceiver();
  const registered = await startHttpReceiver();
  const mchid = sandbox.merchant.mchid;
  signedJson(
    sandbox,
    await sandbox.request({
      method: 'POST',
      path: '/v3/marketing/busifavor/callbacks',
      body: { mchid, notify_url: REGISTERED_URL },
    }),
  );
  signedJson(
    sandbox,
    await sandbox.request({
      method: 'POST',
      path: '/sandbox/v1/notification-forwards',
      body: { from_url: 'https://example.com/', to_url: `${registered.url}/` },
    }),
  );
  const db = () => ['--db', sandbox.dbUrl, '--mchid', mchid];
  return {
    sandbox,
    listener,
    registered,
    db,
    trigger: async (event) => {
      const out = capture();
      expect(await triggerCommand([event, ...db(), '--json'], out)).toBe(0);
      return JSON.parse(out.lines.join('\n')) as Triggered;
    },
    runListen: async (extra) => {
      const out = capture();
      let signal!: (name: string) => void;
      const stopped = new Promise<string>((r) => {
        signal = r;
      });
      const done = listenCommand(['--forward-to', `${listener.url}/hook`, ...db(), ...extra], {
        output: out,
        stopSignal: () => stopped,
      });
      await waitFor(() => (out.errors.some((l) => l.startsWith('Ready')) ? true : undefined), 'Ready');
      return {
        out,
        stop: (name) => {
          signal(name);
          return done;
        },
      };
    },
    waitReceived: (receiver, id) =>
      waitFor(() => receiver.received.find((r) => receivedId(r) === id), `${id} at ${receiver.url}`),
    close: async () => {
      await sandbox.close();
      await listener.close();
      await registered.close();
    },
  };
}
