// A lean HTTP/1.1 load generator for the benches: keep-alive TCP connections that write pre-built,
// pre-signed request bytes and read just enough of each response (status line, Content-Length, body) to
// count it. Its own CPU cost per request is a few microseconds, so on a two-core machine the server's
// rate is not held down by the client (node:http's client costs about as much as the server's parsing).

import net from 'node:net';
import { Worker } from 'node:worker_threads';

/**
 * Serialises one request. `headers` are sent as given (Authorization included); Host, Content-Length
 * and Connection are added.
 */
export function buildRequest({ method, path, headers, body = '', host }) {
  const payload = Buffer.from(body, 'utf8');
  let head = `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  if (payload.length > 0 || method === 'POST' || method === 'PATCH' || method === 'PUT') {
    head += `Content-Length: ${payload.length}\r\n`;
  }
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), payload]);
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** One keep-alive connection that runs one request at a time. */
class Connection {
  constructor(port) {
    this.socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    this.buffer = Buffer.alloc(0);
    this.pending = undefined;
    this.socket.on('data', (chunk) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error('connection closed by the server')));
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
  }

  send(bytes) {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(bytes);
    });
  }

  onData(chunk) {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const end = this.buffer.indexOf(HEAD_END);
    if (end < 0) return;
    const head = this.buffer.subarray(0, end).toString('latin1');
    const match = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!match) return this.fail(new Error(`response without Content-Length:\n${head}`));
    const total = end + 4 + Number(match[1]);
    if (this.buffer.length < total) return;
    const status = Number(head.slice(9, 12));
    const body = this.buffer.subarray(end + 4, total);
    this.buffer = this.buffer.subarray(total);
    const pending = this.pending;
    this.pending = undefined;
    pending?.resolve({ status, body });
  }

  fail(err) {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(err);
  }

  close() {
    this.socket.removeAllListeners('close');
    this.socket.destroy();
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summarise(latencies, statuses, ms) {
  const sorted = Float64Array.from(latencies).sort();
  return {
    count: latencies.length,
    rate: latencies.length / (ms / 1000),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    statuses,
  };
}

/**
 * Closed loop: `concurrency` connections, each sending its next request as soon as the previous one is
 * answered, for `seconds` or until the requests run out. Resolves with the rate, p50/p99 (ms) and the
 * count of each status. `expect(status, body)` says whether an answer counts as a success.
 */
export async function closedLoop({ port, requests, concurrency, seconds, expect }) {
  const connections = Array.from({ length: concurrency }, () => new Connection(port));
  await Promise.all(connections.map((c) => c.ready));
  const latencies = [];
  const statuses = {};
  let next = 0;
  let failures = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    connections.map(async (connection) => {
      while (performance.now() < deadline && next < requests.length) {
        const bytes = requests[next++];
        const t0 = performance.now();
        const { status, body } = await connection.send(bytes);
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (expect(status, body)) latencies.push(performance.now() - t0);
        else if (failures++ < 3)
          console.error(`unexpected answer ${status}: ${body.toString().slice(0, 300)}`);
      }
    }),
  );
  const elapsed = performance.now() - started;
  for (const c of connections) c.close();
  if (next >= requests.length) console.error(`(ran out of ${requests.length} pre-signed requests)`);
  return summarise(latencies, statuses, elapsed);
}

/**
 * Open loop at a fixed `rate` per second: a request is due every 1/rate s whether or not earlier ones are
 * answered, and its latency counts from when it was due (so a stall shows up in p99 instead of hiding,
 * no coordinated omission). Requests wait for a free connection out of `concurrency`.
 */
export async function openLoop({ port, requests, concurrency, seconds, rate, expect }) {
  const connections = Array.from({ length: concurrency }, () => new Connection(port));
  await Promise.all(connections.map((c) => c.ready));
  const idle = [...connections];
  const waiting = [];
  const latencies = [];
  const statuses = {};
  let failures = 0;
  const total = Math.min(requests.length, Math.floor(rate * seconds));
  const interval = 1000 / rate;
  const started = performance.now();
  const inFlight = [];
  const run = async (index, due) => {
    const connection = idle.pop() ?? (await new Promise((resolve) => waiting.push(resolve)));
    const { status, body } = await connection.send(requests[index]);
    const handOver = waiting.shift();
    if (handOver) handOver(connection);
    else idle.push(connection);
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (expect(status, body)) latencies.push(performance.now() - due);
    else if (failures++ < 3) console.error(`unexpected answer ${status}: ${body.toString().slice(0, 300)}`);
  };
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    const dueCount = Math.min(total, Math.floor((now - started) / interval) + 1);
    while (sent < dueCount) {
      inFlight.push(run(sent, started + sent * interval));
      sent++;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  const elapsed = performance.now() - started;
  for (const c of connections) c.close();
  return summarise(latencies, statuses, elapsed);
}

/** RSA-2048 signatures per second on `threads` threads at once, each with a parsed KeyObject. */
export function signRate(threads, ms) {
  const loop = `
const { generateKeyPairSync, sign } = require('node:crypto');
const { parentPort, workerData } = require('node:worker_threads');
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const msg = Buffer.from('1735689601\\nf4c1a7d2e9b04c3f8a6d5e2b1c0f9a87\\n{"notify_url":"https://example.com/n"}\\n');
const end = Date.now() + workerData.ms; let n = 0;
while (Date.now() < end) { sign('sha256', msg, privateKey); n++; }
parentPort.postMessage(n / (workerData.ms / 1000));`;
  return Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise((resolve, reject) => {
          const w = new Worker(loop, { eval: true, workerData: { ms } });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  ).then((rates) => rates.reduce((a, b) => a + b, 0));
}

/**
 * Signs many APIv3 request signing strings on every core (worker threads), so preparing a run's requests
 * takes seconds, not the run's own length on one thread. Resolves with base64 signatures in order.
 */
export function signAll(messages, privateKeyPem, threads) {
  const code = `
const { createPrivateKey, sign } = require('node:crypto');
const { parentPort, workerData } = require('node:worker_threads');
const key = createPrivateKey(workerData.pem);
parentPort.postMessage(workerData.messages.map((m) => sign('sha256', Buffer.from(m), key).toString('base64')));`;
  const size = Math.ceil(messages.length / threads);
  const parts = Array.from({ length: threads }, (_, i) => messages.slice(i * size, (i + 1) * size));
  return Promise.all(
    parts.map(
      (part) =>
        new Promise((resolve, reject) => {
          const w = new Worker(code, { eval: true, workerData: { pem: privateKeyPem, messages: part } });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  ).then((chunks) => chunks.flat());
}
