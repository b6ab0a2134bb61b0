import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import {
  checkAnswer,
  type FuzzRequest,
  type FuzzRequestOptions,
  type FuzzRoute,
  type FuzzWorld,
  fillPattern,
  fuzzRequestArbitraries,
  percentEncode,
  sampleRequest,
  seedWorld,
  signRequest,
  WireClient,
  type WireOutcome,
  type WireRequest,
} from '@wechatpay-sandbox/test-kit/fuzz';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Properties over every route the server registers (`sandbox.server.routes`), so a new route is
 * fuzzed without editing this file: validly signed requests with mutated bodies, queries, path
 * parameters, path spellings and headers (generators and oracles from @wechatpay-sandbox/test-kit/fuzz,
 * which `npm run fuzz` runs at scale). Each property first sends one request per route (fast-check
 * `examples`), then random ones.
 */

/** What a failure message shows: the request as sent (minus the signature) and what came back. */
function describeCase(request: FuzzRequest, outcome: WireOutcome): string {
  const body = request.body?.toString('utf8') ?? '';
  const answer =
    outcome.kind === 'response'
      ? `${outcome.response.status} ${outcome.response.text.slice(0, 300)}`
      : outcome.error;
  return [
    `${request.method} ${JSON.stringify(request.target)} (route ${request.route.method} ${request.route.url}, ${request.spelling} spelling)`,
    `headers ${JSON.stringify(request.headers)}`,
    `body (${request.body?.length ?? 0} bytes) ${JSON.stringify(body.length > 300 ? `${body.slice(0, 300)}…` : body)}`,
    `→ ${answer}`,
  ].join('\n');
}

/**
 * Every route's generator, and examples for fast-check: one request per route drawn with a fixed
 * seed, so every route is fuzzed on every run before the random cases.
 */
function perRoute(
  routes: readonly FuzzRoute[],
  world: FuzzWorld,
  url: string,
  options: FuzzRequestOptions = {},
) {
  const arbitraries = fuzzRequestArbitraries(routes, world, url, options);
  const examples = arbitraries.map((arbitrary, i): [FuzzRequest] => {
    const [request] = fc.sample(arbitrary, { seed: 0x5eed + i, numRuns: 1 });
    return [request as FuzzRequest];
  });
  return { arbitrary: fc.oneof(...arbitraries), examples };
}

/** The request with no Authorization header at all. */
function unsigned(request: FuzzRequest): WireRequest {
  return {
    method: request.method,
    target: request.target,
    headers: request.headers,
    ...(request.body ? { body: request.body } : {}),
    chunked: request.chunked,
  };
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`fuzzing every route on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let client: WireClient;
    let world: FuzzWorld;
    let routes: readonly FuzzRoute[];
    let signedRoutes: readonly FuzzRoute[];
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      const credentials = sandbox.server.credentials;
      client = new WireClient(
        {
          url: sandbox.url,
          mchid: sandbox.merchant.mchid,
          serialNo: sandbox.merchant.serialNo,
          privateKey: sandbox.merchant.privateKey,
          apiV2Key: credentials.merchant.apiV2Key,
          platformKey: credentials.platform.publicKey.publicKey,
        },
        // The server shares this process's event loop: no kept-alive socket to race its idle close.
        { keepAlive: false },
      );
      world = await seedWorld(client);
      // The dashboard's pages are for browsers (dashboard.test.ts), not merchants' calls.
      routes = sandbox.server.routes.filter((route): route is FuzzRoute => route.auth !== 'dashboard');
      signedRoutes = routes.filter((r) => r.auth === 'merchant');
    });
    afterAll(async () => {
      client?.close();
      await sandbox?.close();
    });

    it('answers signed fuzzed requests to every route without a 5xx, in WeChat’s shape, with a Request-ID', async () => {
      expect(routes.length).toBeGreaterThan(50);
      const { arbitrary, examples } = perRoute(routes, world, sandbox.url);
      await fc.assert(
        fc.asyncProperty(arbitrary, async (request) => {
          const outcome = await client.send(signRequest(client, request));
          const findings = checkAnswer(request, outcome, client.target.platformKey);
          expect(findings, describeCase(request, outcome)).toEqual([]);
        }),
        { numRuns: routes.length + 20, examples },
      );
    });

    it('refuses a signature over any spelling of a signed route but its own, before the handler', async () => {
      const { arbitrary, examples } = perRoute(signedRoutes, world, sandbox.url, { plainWeight: 0 });
      await fc.assert(
        fc.asyncProperty(arbitrary, async (request) => {
          const outcome = await client.send(signRequest(client, request));
          const context = describeCase(request, outcome);
          expect(checkAnswer(request, outcome, client.target.platformKey), context).toEqual([]);
          if (outcome.kind !== 'response') return;
          // 401 SIGN_ERROR for the spelling, 404 when it matches no route, 400 when refused before
          // matching (a body on GET, a path the router cannot decode), 413 for a body over the limit.
          expect([400, 401, 404, 413], context).toContain(outcome.response.status);
          if (outcome.response.status === 401 && request.method !== 'HEAD') {
            expect(outcome.response.text, context).toContain('"code":"SIGN_ERROR"');
          }
        }),
        { numRuns: signedRoutes.length + 5, examples },
      );
    });

    it('never lets an unsigned request reach the handler of a signed route, however the path is spelled', async () => {
      const { arbitrary, examples } = perRoute(signedRoutes, world, sandbox.url, { plainWeight: 2 });
      await fc.assert(
        fc.asyncProperty(arbitrary, async (request) => {
          const outcome = await client.send(unsigned(request));
          const context = describeCase(request, outcome);
          expect(checkAnswer(request, outcome, client.target.platformKey), context).toEqual([]);
          if (outcome.kind !== 'response') return;
          expect([400, 401, 404, 413, 431], context).toContain(outcome.response.status);
          expect(outcome.response.headers['wechatpay-signature'], context).toBeUndefined();
        }),
        { numRuns: signedRoutes.length + 5, examples },
      );
    });

    it('answers a body nested 6,000 levels deep on every route that takes one without a 5xx', async () => {
      // Deeper than a recursive walk of the parsed body survives (it overflowed at 5,000).
      const depth = 6_000;
      // Arrays and objects in turn: every level is both to a walk over the parsed body.
      const body = `{"fuzz":${'[{"a":'.repeat(depth)}1${'}]'.repeat(depth)}}`;
      for (const route of routes.filter((r) => r.method === 'POST' || r.method === 'PATCH')) {
        const { params } = sampleRequest(route, world, { token: 'DEEP0000000000000000', pick: 0 });
        const segments = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, percentEncode(v)]));
        const path = fillPattern(route.url, segments);
        const res = await sandbox.request({ method: route.method, path, body });
        expect(res.status, `${route.method} ${path}: ${res.text.slice(0, 300)}`).toBeLessThan(500);
      }
    });
  });
}
