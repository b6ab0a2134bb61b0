import {
  DIALECTS,
  rawRequest,
  startSandbox,
  type TestResponse,
  type TestSandbox,
} from '@wechatpay-sandbox/test-kit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ENDPOINTS = [
  ['POST', '/v3/marketing/busifavor/callbacks'],
  ['GET', '/v3/marketing/busifavor/callbacks'],
  ['POST', '/v3/marketing/partner/product-coupon/notify-configs'],
  ['GET', '/v3/marketing/partner/product-coupon/notify-configs'],
  ['POST', '/v3/marketing/partner/delivery-plan/1900000001/notify-url'],
  ['GET', '/v3/certificates'],
] as const;

/** Printable ASCII: what an HTTP client lets a caller put in a header value. */
const headerText = (maxLength: number) =>
  fc.string({ maxLength }).filter((s) => /^[\x20-\x7e]*$/.test(s) && s.trim() === s);

/**
 * Header names a fuzzed request may add. Framing and connection headers are left out: they change how
 * the bytes are read, which the malformed-HTTP tests cover, and the test client must still get an answer.
 */
const FRAMING = new Set([
  'authorization',
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'expect',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
]);
const extraHeaderName = fc
  .stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/)
  .filter((n) => !FRAMING.has(n.toLowerCase()));

/** A path under /v3/marketing/: a real endpoint, or segments mixing real names, dots and odd escapes. */
const marketingPath = fc.oneof(
  fc.constantFrom(...ENDPOINTS.map(([, p]) => p)),
  fc
    .array(
      fc.oneof(
        fc.string({ maxLength: 12 }).map(encodeURIComponent),
        fc.string({ unit: 'grapheme', maxLength: 6 }).map(encodeURIComponent),
        fc.constantFrom(
          '',
          '.',
          '..',
          '%2e%2e',
          '%ZZ',
          '%',
          '%00',
          ';a=b',
          'busifavor',
          'callbacks',
          'stocks',
          'coupons',
          'partner',
          'product-coupon',
          'notify-configs',
          'delivery-plan',
          'notify-url',
          '1900000001',
        ),
      ),
      { minLength: 1, maxLength: 5 },
    )
    .map((segments) => `/v3/marketing/${segments.join('/')}`),
);

/** A query string: none, well-formed pairs, raw text, or known awkward shapes. */
const queryString = fc.oneof(
  fc.constant(''),
  fc
    .dictionary(fc.string({ maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 20 }))
    .map((d) => new URLSearchParams(d).toString()),
  fc.string({ maxLength: 30 }).map((s) => encodeURI(s)),
  fc.constantFrom(
    'mchid=',
    'mchid=1900000001&mchid=1900000002',
    'mchid=%ZZ',
    'mchid=%E4%B8%AD',
    'mchid[]=1',
    '&&',
    '=',
    '?',
    'offset=-1&limit=1e309',
  ),
);

const jsonish = fc.oneof(
  fc.json(),
  fc.string(),
  fc.record({
    mchid: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.stringMatching(/^\d{8,15}$/)),
    notify_url: fc.oneof(
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.string(),
      fc.integer(),
    ),
  }),
);

/** Never a 5xx; every error is WeChat's {code, message}; no stack trace or internal error name leaks. */
function expectWechatShaped(res: TestResponse): void {
  expect(res.status, res.text).toBeLessThan(500);
  expect(res.text).not.toMatch(/\n\s+at |FST_ERR|TypeError|ReferenceError/);
  if (res.status >= 200 && res.status < 300) return;
  const body = res.json<{ code: unknown; message: unknown }>();
  expect(typeof body.code, res.text).toBe('string');
  expect(typeof body.message, res.text).toBe('string');
  expect(res.headers['request-id']).toMatch(/^[0-9A-F]{48}$/);
}

// Property: nothing a caller can send makes the server answer 5xx, and every error is WeChat-shaped.
for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`fuzzing bodies and headers on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    it('signed requests with arbitrary bodies never get a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...ENDPOINTS), jsonish, async ([method, path], body) => {
          const res = await sandbox.request({
            method,
            path,
            body: typeof body === 'string' ? body : JSON.stringify(body),
          });
          expectWechatShaped(res);
        }),
        { numRuns: 100 },
      );
    });

    it('signed requests with arbitrary headers, paths and queries never get a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
          marketingPath,
          queryString,
          fc.record(
            {
              // Mostly JSON, so that many requests get past the media-type checks to the routes.
              'Content-Type': fc.oneof(
                {
                  weight: 3,
                  arbitrary: fc.constantFrom(
                    'application/json',
                    'application/json; charset=utf-8',
                    'APPLICATION/JSON',
                  ),
                },
                headerText(60),
                fc.constantFrom(
                  'text/plain',
                  'multipart/form-data; boundary=x',
                  'application/x-www-form-urlencoded',
                ),
              ),
              Accept: fc.oneof(headerText(60), fc.constantFrom('*/*', 'text/html', 'application/xml')),
              'Wechatpay-Serial': fc.oneof(
                headerText(80),
                fc.stringMatching(/^[0-9A-Fa-f]{1,64}$/),
                fc.constant('PUB_KEY_ID_0000000000000000000000000000'),
              ),
              'User-Agent': headerText(80),
            },
            { requiredKeys: [] },
          ),
          fc.dictionary(extraHeaderName, headerText(100), { maxKeys: 4 }),
          fc.option(jsonish, { nil: undefined }),
          async (method, path, query, headers, extra, body) => {
            const res = await sandbox.request({
              method,
              path: query ? `${path}?${query}` : path,
              headers: { ...extra, ...headers },
              // A GET body is not read, so it would only ever fail the signature.
              ...(body === undefined || method === 'GET'
                ? {}
                : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
            });
            expectWechatShaped(res);
          },
        ),
        { numRuns: 150 },
      );
    });

    it('unsigned requests with arbitrary headers, paths and bytes never get a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...ENDPOINTS),
          fc.dictionary(
            fc.constantFrom('Authorization', 'Content-Type', 'Accept', 'User-Agent', 'Wechatpay-Serial'),
            headerText(300),
          ),
          fc.uint8Array({ maxLength: 512 }),
          fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s)),
          async ([method, path], headers, bytes, suffix) => {
            const res = await rawRequest(sandbox.url, {
              method,
              path: `${path}${suffix ? `?x=${suffix}` : ''}`,
              headers,
              body: method === 'POST' ? Buffer.from(bytes) : undefined,
            });
            expectWechatShaped(res);
          },
        ),
        { numRuns: 120 },
      );
    });
  });
}
