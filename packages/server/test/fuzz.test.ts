import { DIALECTS, rawRequest, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
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

const sqlite = DIALECTS.find((d) => d.name === 'sqlite');

// Property: nothing a caller can send makes the server answer 5xx, and every error is WeChat-shaped.
describe.skipIf(!sqlite)('fuzzing bodies and headers', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ dialect: sqlite as NonNullable<typeof sqlite> });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

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

  it('signed requests with arbitrary bodies never get a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENDPOINTS), jsonish, async ([method, path], body) => {
        const res = await sandbox.request({
          method,
          path,
          body: typeof body === 'string' ? body : JSON.stringify(body),
        });
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(res.json()).toHaveProperty('code');
      }),
      { numRuns: 150 },
    );
  });

  it('arbitrary headers, paths and bytes never get a 5xx', async () => {
    const headerValue = fc.string({ maxLength: 300 }).filter((s) => /^[\x20-\x7e]*$/.test(s));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ENDPOINTS),
        fc.dictionary(
          fc.constantFrom('Authorization', 'Content-Type', 'Accept', 'User-Agent', 'Wechatpay-Serial'),
          headerValue,
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
          expect(res.status).toBeLessThan(500);
          expect(res.json()).toHaveProperty('code');
        },
      ),
      { numRuns: 200 },
    );
  });
});
