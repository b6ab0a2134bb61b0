import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
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
 * run, so the raw-body helper plus a `parseAs` content-type parser is the way in). Express is the real thing
 * too (a devDependency): `express.raw()` on the route leaves req.body a Buffer and the stream consumed.
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

describe('Express (real) with express.raw() and createNodeHandler, as the README shows', () => {
  let server: http.Server;
  let base = '';
  const received: NotificationEvent[] = [];

  beforeAll(async () => {
    const app = express();
    // The README's recipe: the raw body on the webhook route only.
    app.post(
      '/wxpay/notify',
      express.raw({ type: 'application/json' }),
      createNodeHandler(byCertificate, (event) => {
        received.push(event);
      }),
    );
    // The mistake the adapter must catch: a global express.json() already turned the body into an object.
    app.post(
      '/wxpay/notify-parsed',
      express.json(),
      createNodeHandler(byCertificate, () => {}),
    );
    server = await new Promise<http.Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('verifies the Buffer body express.raw() leaves (the stream is already consumed) and answers 204', async () => {
    const body = envelope('COUPON.SEND', couponSend);
    const res = await post(`${base}/wxpay/notify`, body);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    const event = received.at(-1);
    expect(event?.event_type === 'COUPON.SEND' && event.resource.coupon_code).toBe('CODE0001');
  });

  it('answers 500 + FAIL JSON when the body is not the signed one', async () => {
    const body = envelope('COUPON.SEND', couponSend);
    const res = await post(`${base}/wxpay/notify`, body.replace('COUPON.SEND', 'COUPON.SENT'), signed(body));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ code: 'FAIL', message: FAILURE_REASONS.signature });
  });

  it('answers 500 + FAIL JSON, never 204, behind express.json() (the raw bytes are gone)', async () => {
    const body = envelope('COUPON.SEND', couponSend);
    const res = await post(`${base}/wxpay/notify-parsed`, body);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { code: string }).code).toBe('FAIL');
  });
});
