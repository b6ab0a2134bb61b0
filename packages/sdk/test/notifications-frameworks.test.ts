import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNodeHandler,
  createRawNotificationHandler,
  FAILURE_REASONS,
  type NotificationEvent,
} from '../src/index.js';
import { byCertificate, couponSend, envelope, signed } from './notification-fixtures.js';

/**
 * The webhook adapters inside web frameworks. Fastify is the real thing (it parses bodies before handlers
 * run, so the raw-body helper plus a `parseAs` content-type parser is the way in). Express is not installed
 * in this repository: its pattern is tested with the request shape `express.raw()` leaves (req.body a Buffer,
 * stream consumed), on a real node:http server.
 */

const post = (url: string, body: string, headers: Record<string, string> = signed(body)) =>
  fetch(url, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body });

describe('Fastify (real) with createRawNotificationHandler', () => {
  let app: FastifyInstance;
  let base = '';
  const received: NotificationEvent[] = [];

  beforeAll(async () => {
    app = Fastify();
    const handle = createRawNotificationHandler(byCertificate, (event) => {
      if (event.event_type === 'COUPON.SEND' && event.resource.coupon_code === 'BOOM') throw new Error('db');
      received.push(event);
    });
    // The raw body only inside this plugin's scope; the rest of the app keeps Fastify's JSON parser.
    for (const parseAs of ['string', 'buffer'] as const) {
      await app.register(async (scope) => {
        scope.addContentTypeParser('application/json', { parseAs }, (_req, body, done) => done(null, body));
        scope.post(`/wxpay/notify-${parseAs}`, async (request, reply) => {
          const answer = await handle({ headers: request.headers, body: request.body as string | Buffer });
          return reply.code(answer.status).headers(answer.headers).send(answer.body);
        });
      });
    }
    app.post('/api/echo', async (request) => ({ parsed: request.body }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(() => app.close());

  it.each(['string', 'buffer'])('parseAs %s: 204 with an empty body and a typed event', async (parseAs) => {
    const body = envelope('COUPON.SEND', couponSend);
    const res = await post(`${base}/wxpay/notify-${parseAs}`, body);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    const event = received.at(-1);
    expect(event?.event_type === 'COUPON.SEND' && event.resource.coupon_code).toBe('CODE0001');
  });

  it('answers 500 + FAIL JSON to a bad signature and to a throwing handler', async () => {
    const body = envelope('COUPON.SEND', couponSend);
    const forged = await post(`${base}/wxpay/notify-string`, body, signed(`${body} `));
    expect(forged.status).toBe(500);
    expect(forged.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await forged.json()).toEqual({ code: 'FAIL', message: FAILURE_REASONS.signature });
    const boom = envelope('COUPON.SEND', { ...couponSend, coupon_code: 'BOOM' });
    const failed = await post(`${base}/wxpay/notify-buffer`, boom);
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ code: 'FAIL', message: FAILURE_REASONS.handler });
  });

  it('leaves JSON parsing of the other routes alone', async () => {
    const res = await post(`${base}/api/echo`, '{"a":1}', {});
    expect(await res.json()).toEqual({ parsed: { a: 1 } });
  });
});

describe('the Express pattern: express.raw() leaves req.body a Buffer', () => {
  let server: http.Server;
  let url = '';
  const received: NotificationEvent[] = [];

  beforeAll(async () => {
    const handler = createNodeHandler(byCertificate, (event) => {
      received.push(event);
    });
    // What express.raw({ type: 'application/json' }) does before the route handler: drain the stream into
    // one Buffer on req.body.
    const raw = async (req: IncomingMessage) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      return Object.assign(req, { body: Buffer.concat(chunks) });
    };
    server = http.createServer(async (req, res) => handler(await raw(req), res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/wxpay/notify`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('verifies the Buffer body (the stream is already consumed) and answers 204', async () => {
    const body = envelope('COUPON.SEND', couponSend);
    const res = await post(url, body);
    expect(res.status).toBe(204);
    expect(received.at(-1)?.event_type).toBe('COUPON.SEND');
  });

  it('answers 500 + FAIL JSON when the Buffer is not the signed body', async () => {
    const body = envelope('COUPON.SEND', couponSend);
    const res = await post(url, body.replace('COUPON.SEND', 'COUPON.SENT'), signed(body));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ code: 'FAIL', message: FAILURE_REASONS.signature });
  });
});
