import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { CallbackHttpClient, type ClientTarget } from '../../src/outbox/http-client.js';
import { receiverCertificate } from './fixtures.js';

/**
 * The callback HTTP client against real servers on loopback: node:http and node:https receivers and raw
 * TCP servers for the framings node:http does not produce on demand.
 */

const receiver = receiverCertificate();
const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

const request = (path = '/n', body = '{}') =>
  Buffer.from(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );

/** Listens on 127.0.0.1 and counts connections; closed after the test. */
async function listen(server: net.Server): Promise<{ target: ClientTarget; connections: () => number }> {
  let connections = 0;
  server.on(server instanceof tls.Server ? 'secureConnection' : 'connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    (server as http.Server).closeAllConnections?.();
    server.close();
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    target: { secure: server instanceof tls.Server, address: '127.0.0.1', port, servername: undefined },
    connections: () => connections,
  };
}

/** A TCP server that answers every request with `answer` (raw bytes), then maybe closes. */
function rawServer(answer: string, close = false): net.Server {
  return net.createServer((socket) => {
    let seen = '';
    socket.on('data', (d) => {
      seen += d.toString('latin1');
      const end = seen.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(seen)?.[1] ?? 0);
      if (seen.length < end + 4 + length) return;
      seen = seen.slice(end + 4 + length);
      if (close) socket.end(answer);
      else socket.write(answer);
    });
    socket.on('error', () => {});
  });
}

function client(options: ConstructorParameters<typeof CallbackHttpClient>[0] = {}) {
  const c = new CallbackHttpClient(options);
  closers.push(() => c.close());
  return c;
}

describe('CallbackHttpClient', () => {
  it('reuses one keep-alive connection and keeps the start of a Content-Length body', async () => {
    const server = await listen(
      http.createServer((req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(500, { 'Content-Type': 'text/plain' }).end('x'.repeat(3000)));
      }),
    );
    const c = client({ excerptBytes: 10 });
    for (let i = 0; i < 3; i++) {
      const answer = await c.send(server.target, request()).answer;
      expect(answer.status).toBe(500);
      expect(answer.excerpt.toString()).toBe('x'.repeat(10));
    }
    expect(server.connections()).toBe(1);
  });

  it('closes a connection idle for longer than idleTimeoutMs instead of reusing it', async () => {
    const server = await listen(
      http.createServer((req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(204).end());
      }),
    );
    const c = client({ idleTimeoutMs: 50 });
    expect((await c.send(server.target, request()).answer).status).toBe(204);
    expect((await c.send(server.target, request()).answer).status).toBe(204);
    expect(server.connections()).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    expect((await c.send(server.target, request()).answer).status).toBe(204);
    expect(server.connections()).toBe(2);
  });

  it('reads a chunked body and keeps the connection', async () => {
    const server = await listen(
      http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(200);
          res.write('{"code":');
          setTimeout(() => res.end('"SUCCESS"}'), 5);
        });
      }),
    );
    const c = client();
    for (let i = 0; i < 2; i++) {
      const answer = await c.send(server.target, request()).answer;
      expect(answer).toEqual({ status: 200, excerpt: Buffer.from('{"code":"SUCCESS"}') });
    }
    expect(server.connections()).toBe(1);
  });

  it('skips an interim 100 answer, reads a body that ends with the connection, and reconnects', async () => {
    const server = await listen(
      rawServer('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-A: b\r\n\r\nuntil close', true),
    );
    const c = client();
    for (let i = 0; i < 2; i++) {
      const answer = await c.send(server.target, request()).answer;
      expect(answer).toEqual({ status: 200, excerpt: Buffer.from('until close') });
    }
    expect(server.connections()).toBe(2);
  });

  it('does not reuse a connection the server asked to close', async () => {
    const server = await listen(rawServer('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n'));
    const c = client();
    expect((await c.send(server.target, request()).answer).status).toBe(204);
    expect((await c.send(server.target, request()).answer).status).toBe(204);
    expect(server.connections()).toBe(2);
  });

  it('fails a request whose connection closes before the answer, and one with a malformed answer', async () => {
    const hangUp = await listen(
      net.createServer((socket) => {
        socket.once('data', () => socket.destroy());
      }),
    );
    await expect(client().send(hangUp.target, request()).answer).rejects.toThrow(/socket hang up|ECONNRESET/);
    const garbage = await listen(rawServer('SMTP ready\r\n\r\n'));
    await expect(client().send(garbage.target, request()).answer).rejects.toThrow(
      'Parse Error: invalid status line',
    );
    const refused = { ...hangUp.target, port: 1 };
    await expect(client().send(refused, request()).answer).rejects.toThrow(/ECONNREFUSED/);
  });

  it('queues requests beyond maxSockets on the connections it has', async () => {
    const server = await listen(
      http.createServer((req, res) => {
        req.resume();
        req.on('end', () => setTimeout(() => res.writeHead(204).end(), 10));
      }),
    );
    const c = client({ maxSockets: 2 });
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => c.send(server.target, request()).answer),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(204));
    expect(server.connections()).toBe(2);
  });

  it('aborts a request in flight', async () => {
    const server = await listen(net.createServer(() => {}));
    const sent = client().send(server.target, request());
    setTimeout(() => sent.abort(), 20);
    await expect(sent.answer).rejects.toThrow();
  });

  it('verifies TLS against the trusted CA and the IP address, unless told not to', async () => {
    const server = await listen(
      https.createServer({ key: receiver.tls.keyPem, cert: receiver.tls.certPem }, (req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(204).end());
      }),
    );
    await expect(client().send(server.target, request()).answer).rejects.toThrow(/certificate/);
    const trusted = client({
      secureContext: tls.createSecureContext({ ca: [...tls.rootCertificates, receiver.tls.certPem] }),
    });
    expect((await trusted.send(server.target, request()).answer).status).toBe(204);
    // The certificate names 127.0.0.1 and localhost, not this name.
    const wrongName = { ...server.target, servername: 'example.com' };
    await expect(trusted.send(wrongName, request()).answer).rejects.toThrow(/example\.com/);
    const insecure = client({ rejectUnauthorized: false });
    expect((await insecure.send(server.target, request()).answer).status).toBe(204);
  });
});
