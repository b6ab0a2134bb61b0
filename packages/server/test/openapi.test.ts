import { Validator } from '@seriousme/openapi-schema-validator';
import { DIALECTS, rawRequest, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import Ajv2020Module from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoint } from '../src/contract/endpoint.js';
import { ENDPOINTS } from '../src/contract/endpoints/index.js';
import {
  errorStatuses,
  type JsonSchema,
  type OpenApiDocument,
  type OpenApiOperation,
  SECURITY_SCHEME,
} from '../src/contract/openapi.js';

/**
 * `GET /openapi.json` documents every operation of the endpoint table as OpenAPI 3.1 (validated with a
 * maintained validator), and `/docs` renders it from assets the sandbox serves itself.
 */

// CJS default-export interop under NodeNext.
const Ajv2020 = Ajv2020Module.default ?? Ajv2020Module;

const TABLE = Object.values(ENDPOINTS) as Endpoint[];
const toOpenApiPath = (pattern: string) => pattern.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Every `{"$ref":"#/components/schemas/X"}` replaced by X, so a schema compiles on its own. */
function inlineRefs(node: unknown, schemas: Record<string, JsonSchema>): unknown {
  if (Array.isArray(node)) return node.map((item) => inlineRefs(item, schemas));
  if (typeof node !== 'object' || node === null) return node;
  const ref = (node as { $ref?: unknown }).$ref;
  if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) {
    const target = schemas[ref.slice('#/components/schemas/'.length)];
    if (!target) throw new Error(`unresolved ${ref}`);
    return inlineRefs(target, schemas);
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, inlineRefs(v, schemas)]));
}

/** Every Schema Object of an operation: parameters, request bodies, response contents. */
function operationSchemas(operation: OpenApiOperation): { where: string; schema: JsonSchema }[] {
  const found: { where: string; schema: JsonSchema }[] = [];
  for (const p of operation.parameters ?? []) found.push({ where: `${p.in} ${p.name}`, schema: p.schema });
  for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
    found.push({ where: `body ${type}`, schema: media.schema });
  }
  for (const [status, response] of Object.entries(operation.responses)) {
    if ('$ref' in response) continue;
    for (const [type, media] of Object.entries(response.content ?? {})) {
      found.push({ where: `${status} ${type}`, schema: media.schema });
    }
  }
  return found;
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`OpenAPI document and reference page on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let document: OpenApiDocument;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      const res = await rawRequest(sandbox.url, { method: 'GET', path: '/openapi.json', headers: {} });
      expect(res.status, res.text).toBe(200);
      document = res.json<OpenApiDocument>();
    });
    afterAll(async () => {
      await sandbox?.close();
    });
    const operation = (path: string, method: string) => document.paths[path]?.[method.toLowerCase()];

    it('answers /openapi.json unsigned, as JSON, and it validates as OpenAPI 3.1', async () => {
      const res = await rawRequest(sandbox.url, { method: 'GET', path: '/openapi.json', headers: {} });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json\b/);
      expect(res.headers['request-id']).toMatch(/^[0-9A-F]{48}$/);
      expect(res.headers['wechatpay-signature']).toBeUndefined();

      const validator = new Validator();
      const result = await validator.validate(res.json());
      expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
      expect(result.valid).toBe(true);
      expect(validator.version).toBe('3.1');
      expect(document.openapi).toBe('3.1.0');
      expect(document.info.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(document.info.description).toContain(SECURITY_SCHEME);
    });

    it('documents every table entry under its path and method, with its success and error responses', () => {
      const signedErrors = errorStatuses().map(({ status }) => String(status));
      expect(signedErrors).toEqual(expect.arrayContaining(['400', '401', '403', '404', '429', '500']));
      for (const entry of TABLE) {
        const op = operation(entry.path, entry.method);
        const where = `${entry.method} ${entry.path}`;
        expect(op, where).toBeDefined();
        if (!op) continue;
        expect(op.operationId, where).toBe(entry.id);
        expect(op.summary, where).toBe(entry.summary);
        expect(op.tags, where).toEqual([entry.family]);
        const success = op.responses[String(entry.success.status)];
        expect(success, where).toBeDefined();
        if (success && !('$ref' in success)) {
          expect(success.headers?.['Request-ID'], where).toBeDefined();
          if (entry.success.status === 204) expect(success.content, where).toBeUndefined();
          else {
            const type = (entry.produces ?? 'application/json').split(';')[0] as string;
            expect(Object.keys(success.content ?? {}), where).toEqual([type]);
          }
          if (entry.auth !== 'public') {
            for (const header of [
              'Wechatpay-Signature',
              'Wechatpay-Serial',
              'Wechatpay-Timestamp',
              'Wechatpay-Nonce',
            ]) {
              expect(success.headers?.[header], `${where} ${header}`).toBeDefined();
            }
          }
        }
        const errors = entry.auth === 'public' ? ['400', '500'] : signedErrors;
        for (const status of errors) {
          expect(op.responses[status], `${where} ${status}`).toEqual({
            $ref: `#/components/responses/Error${status}`,
          });
        }
        for (const name of entry.path.match(/\{[A-Za-z0-9_]+\}/g) ?? []) {
          const parameter = op.parameters?.find((p) => p.in === 'path' && `{${p.name}}` === name);
          expect(parameter?.required, `${where} ${name}`).toBe(true);
        }
        if (entry.body) expect(op.requestBody?.required, where).toBe(true);
        else expect(op.requestBody, where).toBeUndefined();
      }
      for (const { status } of errorStatuses()) {
        const response = document.components.responses[`Error${status}`];
        expect(response && 'content' in response && response.content?.['application/json']?.schema).toEqual({
          $ref: '#/components/schemas/WechatError',
        });
      }
      expect(document.components.schemas.WechatError?.required).toEqual(['code', 'message']);
      const count = Object.values(document.paths).reduce((n, methods) => n + Object.keys(methods).length, 0);
      expect(count).toBe(TABLE.length);
    });

    it('documents every route the server registered (HEAD and the browser dashboard aside)', () => {
      const routes = sandbox.server.routes.filter(
        (route) => route.method !== 'HEAD' && route.auth !== 'dashboard',
      );
      expect(sandbox.server.routes.some((route) => route.auth === 'dashboard')).toBe(true);
      expect(document.paths['/dashboard']).toBeUndefined();
      expect(routes.length).toBeGreaterThan(30);
      for (const route of routes) {
        expect(
          operation(toOpenApiPath(route.url), route.method),
          `${route.method} ${route.url}`,
        ).toBeDefined();
      }
    });

    it('names the WechatPayV3 signature on every non-public operation and none on public ones', () => {
      const scheme = document.components.securitySchemes[SECURITY_SCHEME];
      expect(scheme).toMatchObject({ type: 'apiKey', in: 'header', name: 'Authorization' });
      expect(scheme?.description).toContain('WECHATPAY2-SHA256-RSA2048 mchid=');
      expect(scheme?.description).toContain('METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n');
      expect(scheme?.description).toContain('Wechatpay-Signature');
      expect(document.security).toEqual([{ [SECURITY_SCHEME]: [] }]);
      let signed = 0;
      for (const route of sandbox.server.routes.filter(
        (r) => r.method !== 'HEAD' && r.auth !== 'dashboard',
      )) {
        const op = operation(toOpenApiPath(route.url), route.method);
        const where = `${route.method} ${route.url}`;
        if (route.auth === 'public') expect(op?.security, where).toEqual([]);
        else {
          expect(op?.security, where).toEqual([{ [SECURITY_SCHEME]: [] }]);
          signed++;
        }
      }
      expect(signed).toBeGreaterThan(25);
      for (const entry of TABLE) {
        const expected = entry.auth === 'public' ? [] : [{ [SECURITY_SCHEME]: [] }];
        expect(operation(entry.path, entry.method)?.security, entry.id).toEqual(expected);
      }
    });

    it('writes every schema as JSON Schema 2020-12 (Ajv strict mode compiles each one)', () => {
      const ajv = new Ajv2020({ strict: true, validateFormats: false, allErrors: false });
      const schemas = document.components.schemas;
      let compiled = 0;
      const compile = (where: string, schema: JsonSchema) => {
        expect(() => ajv.compile(inlineRefs(schema, schemas) as object), where).not.toThrow();
        compiled++;
      };
      for (const [name, schema] of Object.entries(schemas)) compile(`components ${name}`, schema);
      for (const [path, methods] of Object.entries(document.paths)) {
        for (const [method, op] of Object.entries(methods)) {
          for (const { where, schema } of operationSchemas(op)) compile(`${method} ${path} ${where}`, schema);
        }
      }
      expect(compiled).toBeGreaterThan(TABLE.length);
    });

    it('serves /docs as an HTML page whose assets all come from the sandbox, each with its content type', async () => {
      const page = await rawRequest(sandbox.url, { method: 'GET', path: '/docs', headers: {} });
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      const references = [...page.text.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1] as string);
      const assets = references.filter((ref) => ref !== 'data:,');
      expect(assets.length).toBeGreaterThanOrEqual(3);
      const pageUrl = new URL('/docs', sandbox.url);
      const typeByPath = new Map(TABLE.map((entry) => [entry.path, entry.produces ?? 'application/json']));
      for (const ref of assets) {
        const url = new URL(ref, pageUrl);
        expect(url.origin, ref).toBe(pageUrl.origin);
        const res = await rawRequest(sandbox.url, { method: 'GET', path: url.pathname, headers: {} });
        expect(res.status, ref).toBe(200);
        expect(res.headers['content-type'], ref).toBe(typeByPath.get(url.pathname));
        expect(res.text.length, ref).toBeGreaterThan(100);
        // Nothing the page loads fetches from elsewhere: no remote style sheets, fonts or source maps.
        expect(res.text, ref).not.toMatch(/@import|url\(\s*["']?(https?:)?\/\/|sourceMappingURL=/);
      }
      const initializer = assets.find((ref) => ref.endsWith('swagger-initializer.js'));
      expect(initializer).toBeDefined();
      const script = await rawRequest(sandbox.url, {
        method: 'GET',
        path: new URL(initializer as string, pageUrl).pathname,
        headers: {},
      });
      expect(script.text).toContain("'openapi.json'");
      expect(script.text).toContain('validatorUrl: null');
      // The document the page loads is this server's.
      expect(new URL('openapi.json', pageUrl).pathname).toBe('/openapi.json');
    });
  });
}
