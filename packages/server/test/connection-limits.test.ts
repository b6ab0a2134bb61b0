import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIALECTS, startSandbox, type TestDialect, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOO_LARGE_DRAIN_BYTES } from '../src/http/body-too-large.js';
import { startServer } from '../src/server.js';

const CALLBACKS = '/v3/marketing/busifavor/callbacks';
/** Short timeouts, so each case takes well under a second or two. */
const TIMEOUTS = { headersTimeoutMs: 300, requestTimeoutMs: 600, idleTimeoutMs: 300 } as const;
/** Node's checking interval (a quarter of the headers timeout), scheduling on a busy machine, and Node's 1 s keep-alive buffer. */
const SLACK_MS = 2000;
const TEN_MB = 10 * 1024 * 1024;

/** What a raw TCP client saw: every byte, how long until the server closed, and any socket error. */
interface RawOutcome {
  data: string;
  closedAfterMs: number;
  error?: string;
}

/** Connects, writes `bytes` (nothing when empty) and waits until the server closes the connection. */
function rawSession(baseUrl: string, bytes: string | Buffer): Promise<RawOutcome> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(Number(port), hostname);
    let data = '';
    let error: string | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
    });
    socket.on('close', () => resolve({ data, closedAfterMs: Date.now() - started, error }));
    if (bytes.length > 0) socket.write(bytes);
  });
}

/** The status line, lower-cased headers and body of the first response in `raw`. */
function parseResponse(raw: string): { status: string; headers: Record<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const [status = '', ...lines] = raw.slice(0, end).split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => [
      line.slice(0, line.indexOf(':')).toLowerCase(),
      line.slice(line.indexOf(':') + 1).trim(),
    ]),
  );
  return { status, headers, body: raw.slice(end + 4) };
}

/** The outcome of an upload through node:http: the status and body read, or the client error. */
interface UploadOutcome {
  status?: number;
  headers?: Record<string, string | string[] | undefined>;
  body?: string;
  error?: string;
}

/**
 * POSTs `total` bytes in 64 KiB writes that wait for the socket to drain, as a streaming client does,
 * announced by Content-Length or sent chunked.
 */
function upload(
  baseUrl: string,
  total: number,
  framing: 'content-length' | 'chunked',
): Promise<UploadOutcome> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const outcome: UploadOutcome = {};
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      Accept: 'application/json',
    };
    if (framing === 'content-length') headers['Content-Length'] = String(total);
    const req = httpRequest(
      { host: hostname, port: Number(port), method: 'POST', path: CALLBACKS, headers, agent: false },
      (res) => {
        outcome.status = res.statusCode;
        outcome.headers = res.headers;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => {
          outcome.body = body;
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      outcome.error = err.code ?? err.message;
    });
    req.on('close', () => resolve(outcome));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    void (async () => {
      for (let sent = 0; sent < total && !req.destroyed; sent += chunk.length) {
        if (!req.write(chunk)) {
          await new Promise((next) => {
            req.once('drain', next);
            req.once('close', next);
          });
        }
      }
      if (!req.destroyed) req.end();
    })();
  });
}

function expectTooLarge(status: number | undefined, headers: Record<string, unknown>, body: string): void {
  expect(status).toBe(413);
  expect(headers['request-id']).toMatch(/^[0-9A-F]{48}$/);
  expect(headers.connection).toBe('close');
  expect(JSON.parse(body)).toEqual({
    code: 'PARAM_ERROR',
    message: '请求体过大',
    detail: { location: 'body', issue: `the request body is over the ${3 * 1024 * 1024}-byte limit` },
  });
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`connection limits on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect, config: TIMEOUTS });
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    it('answers 408 in WeChat shape and closes when a body stops after 5 of 100 announced bytes', async () => {
      const outcome = await rawSession(
        sandbox.url,
        `POST ${CALLBACKS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"no`,
      );
      const answer = parseResponse(outcome.data);
      expect(answer.status).toBe('HTTP/1.1 408 Request Timeout');
      expect(answer.headers['request-id']).toMatch(/^[0-9A-F]{48}$/);
      expect(answer.headers.connection).toBe('close');
      expect(JSON.parse(answer.body)).toEqual({
        code: 'INVALID_REQUEST',
        message: 'HTTP 请求超时',
        detail: {
          issue: 'the request headers must arrive within 300 ms and the whole request within 600 ms',
        },
      });
      expect(outcome.closedAfterMs).toBeGreaterThanOrEqual(TIMEOUTS.requestTimeoutMs - 50);
      expect(outcome.closedAfterMs).toBeLessThan(TIMEOUTS.requestTimeoutMs + SLACK_MS);
      expect(outcome.error).toBeUndefined();
    });

    it.each([
      ['headers that stop before their blank line', `GET ${CALLBACKS} HTTP/1.1\r\nHost: x\r\n`],
      ['a connection that sends nothing', ''],
    ])('answers 408 and closes on %s after the headers timeout', async (_name, bytes) => {
      const outcome = await rawSession(sandbox.url, bytes);
      expect(parseResponse(outcome.data).status).toBe('HTTP/1.1 408 Request Timeout');
      expect(outcome.closedAfterMs).toBeGreaterThanOrEqual(TIMEOUTS.headersTimeoutMs - 50);
      expect(outcome.closedAfterMs).toBeLessThan(TIMEOUTS.headersTimeoutMs + SLACK_MS);
    });

    it('closes an idle keep-alive connection after the idle timeout, without another answer', async () => {
      const outcome = await rawSession(sandbox.url, 'GET /no/such/path HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(outcome.data.match(/HTTP\/1\.1 /g)).toHaveLength(1);
      expect(parseResponse(outcome.data).status).toMatch(/^HTTP\/1\.1 404 /);
      expect(outcome.closedAfterMs).toBeGreaterThanOrEqual(TIMEOUTS.idleTimeoutMs - 50);
      expect(outcome.closedAfterMs).toBeLessThan(TIMEOUTS.idleTimeoutMs + SLACK_MS);
      expect(outcome.error).toBeUndefined();
    });

    it('answers headers over the size limit with 431 INVALID_REQUEST and a Request-ID', async () => {
      const outcome = await rawSession(
        sandbox.url,
        `GET ${CALLBACKS} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      );
      const answer = parseResponse(outcome.data);
      expect(answer.status).toBe('HTTP/1.1 431 Request Header Fields Too Large');
      expect(answer.headers['request-id']).toMatch(/^[0-9A-F]{48}$/);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'INVALID_REQUEST', message: 'HTTP 请求头过大' });
    });

    it.each(['content-length', 'chunked'] as const)(
      'answers a 10 MB upload (%s) with a readable 413 in WeChat shape, without EPIPE or ECONNRESET',
      async (framing) => {
        const outcome = await upload(sandbox.url, TEN_MB, framing);
        expect(outcome.error).toBeUndefined();
        expectTooLarge(outcome.status, outcome.headers ?? {}, outcome.body ?? '');
      },
    );

    it('answers a 10 MB fetch body with a readable 413', async () => {
      const res = await fetch(`${sandbox.url}${CALLBACKS}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: Buffer.alloc(TEN_MB, 0x20),
      });
      expectTooLarge(res.status, Object.fromEntries(res.headers), await res.text());
    });

    it('closes an oversized upload that stalls once the request timeout passes', async () => {
      const head = `POST ${CALLBACKS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${TEN_MB}\r\n\r\n`;
      const outcome = await rawSession(
        sandbox.url,
        Buffer.concat([Buffer.from(head), Buffer.alloc(4 << 20)]),
      );
      expect(parseResponse(outcome.data).status).toBe('HTTP/1.1 413 Payload Too Large');
      expect(outcome.closedAfterMs).toBeLessThan(TIMEOUTS.requestTimeoutMs + SLACK_MS);
    });

    it('still serves healthy signed requests', async () => {
      const set = await sandbox.request({
        method: 'POST',
        path: CALLBACKS,
        body: { notify_url: 'https://merchant.example.com/wxpay/limits' },
      });
      expect(set.status).toBe(200);
      const got = await sandbox.request({ method: 'GET', path: CALLBACKS });
      expect([got.status, got.json().notify_url]).toEqual([200, 'https://merchant.example.com/wxpay/limits']);
    });
  });
}

describe('oversized upload drain bound', () => {
  it(`stops reading an upload that goes on past ${TOO_LARGE_DRAIN_BYTES >> 20} MiB after the 413`, async () => {
    // The database plays no part here, so SQLite only; a long request timeout so that only the byte bound can cut.
    const sandbox = await startSandbox({
      dialect: DIALECTS[0] as TestDialect,
      config: { requestTimeoutMs: 20_000 },
    });
    try {
      // 1 GiB announced, 80 MiB sent, then the client stalls: only the byte bound closes it before the timeout.
      const size = TOO_LARGE_DRAIN_BYTES + (16 << 20);
      const head = `POST ${CALLBACKS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${1 << 30}\r\n\r\n`;
      const outcome = await rawSession(
        sandbox.url,
        Buffer.concat([Buffer.from(head), Buffer.alloc(size, 0x20)]),
      );
      expect(parseResponse(outcome.data).status).toBe('HTTP/1.1 413 Payload Too Large');
      expect(outcome.closedAfterMs).toBeLessThan(15_000);
    } finally {
      await sandbox.close();
    }
  });
});

describe('database file mode', () => {
  it('creates a SQLite database given by --db in another directory, and its -wal and -shm, as 0600', async () => {
    const root = join(tmpdir(), `wps-mode-${randomBytes(6).toString('hex')}`);
    const dir = join(root, 'sandbox');
    const dbPath = join(root, 'elsewhere', 'data.db');
    mkdirSync(dir, { recursive: true });
    const server = await startServer({
      dir,
      port: 0,
      dbUrl: `sqlite:${dbPath}`,
      config: { logLevel: 'silent', notifyDelivery: false },
    });
    try {
      for (const file of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) {
        expect([file, (statSync(file).mode & 0o777).toString(8)]).toEqual([file, '600']);
      }
    } finally {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
