import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { type Endpoint, endpoint } from './endpoint.js';
import { buildOpenApiDocument, errorStatuses, SECURITY_SCHEME, toJsonSchema } from './openapi.js';

const INFO = { title: 'test', version: '1.2.3' };

const getThing = endpoint({
  id: 'getThing',
  method: 'GET',
  path: '/v3/things/{thing_id}',
  family: 'busifavor',
  summary: 'Query a thing',
  params: Type.Object({ thing_id: Type.String({ pattern: '^[0-9]+$', description: 'The thing' }) }),
  query: Type.Object({ appid: Type.String(), limit: Type.Optional(Type.Integer({ minimum: 1 })) }),
  success: { status: 200, schema: Type.Object({ thing_id: Type.String() }) },
  rateLimit: { perSecond: 5, burst: 5 },
});
const deleteThing = endpoint({
  id: 'deleteThing',
  method: 'DELETE',
  path: '/v3/things/{thing_id}',
  family: 'busifavor',
  summary: 'Delete a thing',
  params: Type.Object({ thing_id: Type.String() }),
  success: { status: 204, schema: null },
});
const upload = endpoint({
  id: 'upload',
  method: 'POST',
  path: '/v3/upload',
  family: 'busifavor',
  summary: 'Upload',
  body: 'multipart',
  success: { status: 200, schema: Type.Object({ media_url: Type.String() }) },
});
const health = endpoint({
  id: 'health',
  method: 'GET',
  path: '/health',
  family: 'operations',
  summary: 'Health',
  auth: 'public',
  success: { status: 200, schema: Type.String() },
  produces: 'text/plain; charset=utf-8',
});
const ready = endpoint({
  id: 'ready',
  method: 'GET',
  path: '/ready',
  family: 'operations',
  summary: 'Ready',
  auth: 'public',
  success: { status: 200, schema: Type.Object({ status: Type.String() }) },
  errorStatuses: [503],
});

describe('buildOpenApiDocument', () => {
  const doc = buildOpenApiDocument([getThing, deleteThing, upload, health, ready], INFO);

  it('puts operations sharing a path under one path item, keyed by lower-case method', () => {
    expect(Object.keys(doc.paths)).toEqual(['/v3/things/{thing_id}', '/v3/upload', '/health', '/ready']);
    expect(Object.keys(doc.paths['/v3/things/{thing_id}'] ?? {})).toEqual(['get', 'delete']);
    expect(doc.info).toMatchObject(INFO);
    expect(doc.tags.map((t) => t.name)).toEqual(['busifavor', 'operations']);
  });

  it('writes path parameters as required and query parameters as the schema requires them', () => {
    const op = doc.paths['/v3/things/{thing_id}']?.get;
    expect(op?.parameters).toEqual([
      {
        name: 'thing_id',
        in: 'path',
        required: true,
        description: 'The thing',
        schema: { type: 'string', pattern: '^[0-9]+$', description: 'The thing' },
      },
      { name: 'appid', in: 'query', required: true, schema: { type: 'string' } },
      { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1 } },
    ]);
    expect(op?.description).toContain('5 requests per second');
  });

  it('signs every operation but the public ones, whose security is empty', () => {
    expect(doc.paths['/v3/things/{thing_id}']?.get?.security).toEqual([{ [SECURITY_SCHEME]: [] }]);
    expect(doc.paths['/health']?.get?.security).toEqual([]);
    expect(doc.components.securitySchemes[SECURITY_SCHEME]).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'Authorization',
    });
  });

  it('answers a 204 without content, and a public text operation in its own type without signature headers', () => {
    const deleted = doc.paths['/v3/things/{thing_id}']?.delete?.responses['204'];
    expect(deleted).toBeDefined();
    expect(deleted && 'content' in deleted).toBe(false);
    const text = doc.paths['/health']?.get?.responses['200'];
    expect(text && 'content' in text ? Object.keys(text.content ?? {}) : []).toEqual(['text/plain']);
    expect(text && 'headers' in text ? Object.keys(text.headers ?? {}) : []).toEqual(['Request-ID']);
    expect(Object.keys(doc.paths['/health']?.get?.responses ?? {})).toEqual(['200', '400', '500']);
  });

  it('adds the error statuses a public entry names, such as the 503 of a readiness check', () => {
    expect(Object.keys(doc.paths['/ready']?.get?.responses ?? {})).toEqual(['200', '400', '500', '503']);
    expect(doc.paths['/ready']?.get?.responses['503']).toEqual({ $ref: '#/components/responses/Error503' });
  });

  it('gives signed operations every error status of the catalog, each with WeChat’s error body', () => {
    const statuses = errorStatuses();
    expect(statuses.find((s) => s.status === 400)?.codes).toEqual(
      expect.arrayContaining(['PARAM_ERROR', 'SYSTEM_ERROR']),
    );
    expect(statuses.find((s) => s.status === 401)?.codes).toEqual(['SIGN_ERROR']);
    const responses = doc.paths['/v3/upload']?.post?.responses ?? {};
    for (const { status } of statuses) {
      expect(responses[String(status)]).toEqual({ $ref: `#/components/responses/Error${status}` });
    }
    expect(doc.components.schemas.WechatError?.required).toEqual(['code', 'message']);
  });

  it('describes the image upload as multipart with a JSON meta part and a binary file', () => {
    const body = doc.paths['/v3/upload']?.post?.requestBody;
    expect(body?.required).toBe(true);
    expect(body?.content['multipart/form-data']?.schema).toMatchObject({
      required: ['meta', 'file'],
      properties: { meta: { contentMediaType: 'application/json' }, file: { format: 'binary' } },
    });
  });

  it('refuses two entries with the same method and path', () => {
    expect(() => buildOpenApiDocument([getThing, { ...getThing, id: 'again' } as Endpoint], INFO)).toThrow(
      /GET \/v3\/things\/\{thing_id\} is in the table twice/,
    );
  });

  it('documents a path parameter a params schema does not name as a string', () => {
    const bare = buildOpenApiDocument([{ ...deleteThing, params: undefined } as Endpoint], INFO);
    expect(bare.paths['/v3/things/{thing_id}']?.delete?.parameters).toEqual([
      { name: 'thing_id', in: 'path', required: true, schema: { type: 'string' } },
    ]);
  });
});

describe('toJsonSchema', () => {
  it('drops TypeBox symbols and $id, and keeps property names that look like keywords', () => {
    const schema = Type.Object(
      { type: Type.String(), minByteLength: Type.Optional(Type.Number()) },
      { $id: 'Thing', additionalProperties: false },
    );
    const converted = toJsonSchema(schema);
    expect(Object.getOwnPropertySymbols(converted)).toEqual([]);
    expect(converted).toEqual({
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: { type: { type: 'string' }, minByteLength: { type: 'number' } },
    });
  });

  it('writes a tuple with prefixItems and a Uint8Array as a binary string', () => {
    expect(toJsonSchema(Type.Tuple([Type.String(), Type.Integer()]))).toEqual({
      type: 'array',
      prefixItems: [{ type: 'string' }, { type: 'integer' }],
      items: false,
      minItems: 2,
      maxItems: 2,
    });
    expect(toJsonSchema(Type.Object({ data: Type.Uint8Array({ maxByteLength: 4 }) })).properties).toEqual({
      data: { type: 'string', contentMediaType: 'application/octet-stream' },
    });
  });

  it('refuses a TypeBox type that has no JSON form, naming where it is', () => {
    expect(() => toJsonSchema(Type.Object({ at: Type.Date() }), 'POST /x body')).toThrow(
      /POST \/x body\/properties\/at is a TypeBox Date/,
    );
  });
});
