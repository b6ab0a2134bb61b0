import type { TSchema } from '@sinclair/typebox';
import { ERROR_CATALOG, type ErrorKey, wireCode } from '../errors.js';
import type { Endpoint, EndpointFamily } from './endpoint.js';

/**
 * The OpenAPI 3.1 document of the sandbox, built from the endpoint table: one operation per entry, its
 * TypeBox schemas as JSON Schema 2020-12, WeChat's error body and the APIv3 signature as a security
 * scheme. Pure: the same entries and info always give the same document.
 * @see docs/protocol.md §1 (request signing), §2 (response signing), §5 (errors)
 */

/** A JSON Schema 2020-12 object (what OpenAPI 3.1's Schema Object is). */
export type JsonSchema = { [keyword: string]: unknown };

/** An OpenAPI 3.1 Parameter Object, as this document writes them. */
export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

/** An OpenAPI 3.1 Header Object. */
export interface OpenApiHeader {
  description: string;
  required?: boolean;
  schema: JsonSchema;
}

/** An OpenAPI 3.1 Response Object, or a reference to one in `components.responses`. */
export type OpenApiResponse =
  | {
      description: string;
      headers?: Record<string, OpenApiHeader | { $ref: string }>;
      content?: Record<string, { schema: JsonSchema }>;
    }
  | { $ref: string };

/** An OpenAPI 3.1 Operation Object. */
export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security: Record<string, string[]>[];
  parameters?: OpenApiParameter[];
  requestBody?: {
    required: boolean;
    content: Record<string, { schema: JsonSchema; encoding?: Record<string, { contentType: string }> }>;
  };
  responses: Record<string, OpenApiResponse>;
}

/** The document: an OpenAPI 3.1.0 object. */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: {
    title: string;
    version: string;
    description: string;
    license?: { name: string; identifier: string };
  };
  tags: { name: string; description: string }[];
  security: Record<string, string[]>[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    securitySchemes: Record<string, { type: 'apiKey'; in: 'header'; name: string; description: string }>;
    schemas: Record<string, JsonSchema>;
    headers: Record<string, OpenApiHeader>;
    responses: Record<string, OpenApiResponse>;
  };
}

/** What the document says about the server itself. */
export interface OpenApiInfo {
  title: string;
  /** The server package's version. */
  version: string;
  /** Markdown after the built-in introduction (the signature scheme, errors). */
  description?: string;
}

/** The name of the APIv3 signature in `components.securitySchemes`. */
export const SECURITY_SCHEME = 'WechatPayV3';

/** What each family is, for its tag. Families no entry uses get no tag. */
const FAMILY_TAGS: Readonly<Record<EndpointFamily, string>> = {
  busifavor: 'Merchant coupons (商家券), `/v3/marketing/busifavor/…` and the marketing image upload.',
  'product-coupon': 'Product coupons (商品券): the notify-URL settings of the partner family.',
  'delivery-plan': 'Delivery plans (投放计划): the notify-URL setting of the partner family.',
  platform: 'Platform keys: the platform certificates, encrypted under the APIv3 key.',
  simulation:
    'The sandbox’s own simulation API under `/sandbox/v1/`, signed like `/v3`: simulated users and appids, ' +
    'coupon sends as the plugin, H5 page and pay-gift would make them, the business clock, fault injection, ' +
    'subsidy outcomes and the callback delivery log.',
  operations: 'Serving the sandbox: metrics, this document and its reference page. Public (no signature).',
};

const SECURITY_DESCRIPTION = `WeChat Pay APIv3 request signature (see docs/protocol.md §1).

Every request carries

\`\`\`
Authorization: WECHATPAY2-SHA256-RSA2048 mchid="1900000001",nonce_str="…",timestamp="1735689600",serial_no="…",signature="…"
\`\`\`

- \`mchid\`: the merchant number; \`serial_no\`: the serial of the merchant API certificate whose key signs;
  \`timestamp\`: Unix seconds, within 300 s of the server's clock; \`nonce_str\`: 1–32 characters of
  \`[0-9A-Za-z]\`, never reused within 10 minutes.
- \`signature\`: base64 SHA256withRSA (RSASSA-PKCS1-v1_5) under the merchant API private key over the
  signing string \`METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n\`: the upper-case method, the request target as
  sent (path and raw query, no host), the two header values, and the exact body bytes (empty for a GET;
  the \`meta\` part for the image upload). Each line ends in \`\\n\`, the last one included.
- Requests also need \`User-Agent\` and \`Accept\` headers.

A fresh timestamp, nonce and signature is needed for every request (retries included), so a static header
value cannot be entered here: sign with a WeChat Pay SDK or \`@wechatpay-sandbox/sdk\`.

Answers to an authenticated merchant are signed by the platform: \`Wechatpay-Timestamp\`,
\`Wechatpay-Nonce\`, \`Wechatpay-Signature\` (SHA256withRSA over \`TIMESTAMP\\nNONCE\\nBODY\\n\`) and
\`Wechatpay-Serial\` (the platform certificate serial or \`PUB_KEY_ID_…\` that verifies it). A client must
reject an unsigned or unverifiable 2xx (docs/protocol.md §2). A failed authentication is 401
\`SIGN_ERROR\` and is never signed.`;

const INTRODUCTION = `A self-hosted, stateful sandbox of WeChat Pay APIv3's marketing APIs. Point an unmodified WeChat
Pay client at it by changing only its base URL.

- **Signatures.** Every \`/v3\` and \`/sandbox/v1\` operation is signed with the merchant's API key, exactly
  as WeChat Pay expects: see the \`${SECURITY_SCHEME}\` security scheme (and docs/protocol.md §1–§3). Every
  answer to an authenticated merchant is signed with \`Wechatpay-*\` headers. Operations marked without
  security are public.
- **Errors** are WeChat's body \`{"code","message","detail"?}\` (the \`WechatError\` schema): branch on the
  status and \`code\`; \`message\` is human text (zh-CN). Every answer carries a \`Request-ID\`
  (docs/protocol.md §5, docs/errors.md).
- **Simulation.** \`/sandbox/v1/…\` drives what WeChat would do on its own: users, coupon sends, the
  business clock, injected faults, callback deliveries (docs/simulation.md).`;

/** Response headers, by name in `components.headers`. */
const HEADERS: Readonly<Record<string, OpenApiHeader>> = {
  'Request-ID': {
    description: 'Identifies the request in the sandbox log; on every answer, errors included.',
    required: true,
    schema: { type: 'string' },
  },
  'Wechatpay-Timestamp': {
    description: 'Unix seconds when the platform signed the answer.',
    required: true,
    schema: { type: 'string', pattern: '^[0-9]+$' },
  },
  'Wechatpay-Nonce': {
    description: 'A fresh random string, the second line of the signing string.',
    required: true,
    schema: { type: 'string' },
  },
  'Wechatpay-Signature': {
    description: 'base64 SHA256withRSA over `TIMESTAMP\\nNONCE\\nBODY\\n` (the raw body as sent).',
    required: true,
    schema: { type: 'string' },
  },
  'Wechatpay-Serial': {
    description:
      'The platform certificate serial, or the `PUB_KEY_ID_…` of the WeChat Pay public key, that verifies the signature.',
    required: true,
    schema: { type: 'string' },
  },
  'Wechatpay-Signature-Type': {
    description: 'The signature algorithm.',
    schema: { type: 'string', const: 'WECHATPAY2-SHA256-RSA2048' },
  },
};

const SIGNED_HEADERS = [
  'Wechatpay-Timestamp',
  'Wechatpay-Nonce',
  'Wechatpay-Signature',
  'Wechatpay-Serial',
  'Wechatpay-Signature-Type',
] as const;

/** WeChat's error body. */
const WECHAT_ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'WeChat Pay’s error body (docs/protocol.md §5.2).',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', description: 'The machine-readable code: branch on the status and this.' },
    message: { type: 'string', description: 'Human text (zh-CN); one code carries many messages.' },
    detail: {
      type: 'object',
      description:
        'Which input was refused and why (mostly on PARAM_ERROR, INVALID_REQUEST and SIGN_ERROR). The sandbox adds ' +
        'its own members to SIGN_ERROR: `mistake` and `expected_signing_string`.',
      properties: {
        field: {
          type: 'string',
          description: 'A JSON Pointer into the body, or a path/query parameter or header name.',
        },
        location: { type: 'string', enum: ['body', 'path', 'query', 'header'] },
        value: { description: 'The refused value.' },
        issue: { type: 'string', description: 'The specific reason.' },
      },
    },
  },
  examples: [
    {
      code: 'PARAM_ERROR',
      message: '参数错误：/stock_name 暂不支持修改',
      detail: { field: '/stock_name', issue: '暂不支持修改', location: 'body' },
    },
  ],
};

/** Error statuses a public operation can answer (no authentication, so no 401/403/429). */
const PUBLIC_ERROR_STATUSES: ReadonlySet<number> = new Set([400, 500]);

/**
 * The error statuses the catalog uses, each with the wire codes answered with it, in status order.
 * @see docs/errors.md
 */
export function errorStatuses(): { status: number; codes: string[] }[] {
  const byStatus = new Map<number, string[]>();
  for (const key of Object.keys(ERROR_CATALOG) as ErrorKey[]) {
    const status = ERROR_CATALOG[key].status;
    const codes = byStatus.get(status) ?? [];
    const code = wireCode(key);
    if (!codes.includes(code)) codes.push(code);
    byStatus.set(status, codes);
  }
  return [...byStatus].sort(([a], [b]) => a - b).map(([status, codes]) => ({ status, codes }));
}

const errorResponseName = (status: number) => `Error${status}`;

/**
 * Builds the OpenAPI 3.1.0 document of `endpoints`: an operation per entry under its path and method,
 * tagged by family, with `security` naming {@link SECURITY_SCHEME} unless the entry is public.
 * Throws when two entries share a method and path, or an entry's schema has no JSON Schema form.
 * @example buildOpenApiDocument(Object.values(ENDPOINTS), { title: 'wechatpay-sandbox', version: '0.1.0' })
 */
export function buildOpenApiDocument(endpoints: readonly Endpoint[], info: OpenApiInfo): OpenApiDocument {
  const statuses = errorStatuses();
  const paths: OpenApiDocument['paths'] = {};
  const families = new Set<EndpointFamily>();
  for (const entry of endpoints) {
    const methods = paths[entry.path] ?? {};
    const method = entry.method.toLowerCase();
    if (methods[method]) throw new Error(`openapi: ${entry.method} ${entry.path} is in the table twice`);
    methods[method] = operationOf(entry, statuses);
    paths[entry.path] = methods;
    families.add(entry.family);
  }
  const responses: Record<string, OpenApiResponse> = {};
  for (const { status, codes } of statuses) {
    responses[errorResponseName(status)] = {
      description: `Refused: ${codes.join(', ')} (WeChat’s error body). Business errors answered to an authenticated merchant are signed too; a 401 never is.`,
      headers: {
        'Request-ID': { $ref: '#/components/headers/Request-ID' },
        ...Object.fromEntries(
          SIGNED_HEADERS.map((name) => [name, { ...(HEADERS[name] as OpenApiHeader), required: false }]),
        ),
      },
      content: { 'application/json': { schema: { $ref: '#/components/schemas/WechatError' } } },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: info.title,
      version: info.version,
      description: info.description ? `${INTRODUCTION}\n\n${info.description}` : INTRODUCTION,
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: (Object.keys(FAMILY_TAGS) as EndpointFamily[])
      .filter((family) => families.has(family))
      .map((family) => ({ name: family, description: FAMILY_TAGS[family] })),
    security: [{ [SECURITY_SCHEME]: [] }],
    paths,
    components: {
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: SECURITY_DESCRIPTION,
        },
      },
      schemas: { WechatError: WECHAT_ERROR_SCHEMA },
      headers: { ...HEADERS },
      responses,
    },
  };
}

function operationOf(entry: Endpoint, statuses: readonly { status: number }[]): OpenApiOperation {
  const where = `${entry.method} ${entry.path}`;
  const signed = entry.auth !== 'public';
  const operation: OpenApiOperation = {
    operationId: entry.id,
    summary: entry.summary,
    tags: [entry.family],
    security: signed ? [{ [SECURITY_SCHEME]: [] }] : [],
    responses: {},
  };
  if (entry.rateLimit) {
    operation.description =
      `Documented limit: ${entry.rateLimit.perSecond} requests per second per merchant (burst ${entry.rateLimit.burst}), ` +
      `on top of the merchant-wide limit; over it the answer is 429.`;
  }
  const parameters = [...pathParameters(entry, where), ...queryParameters(entry, where)];
  if (parameters.length > 0) operation.parameters = parameters;
  if (entry.body === 'multipart') operation.requestBody = MULTIPART_BODY;
  else if (entry.body) {
    operation.requestBody = {
      required: true,
      content: { 'application/json': { schema: toJsonSchema(entry.body, `${where} body`) } },
    };
  }
  operation.responses[String(entry.success.status)] = successResponse(entry, signed, where);
  for (const { status } of statuses) {
    if (signed || PUBLIC_ERROR_STATUSES.has(status) || entry.errorStatuses?.includes(status)) {
      operation.responses[String(status)] = { $ref: `#/components/responses/${errorResponseName(status)}` };
    }
  }
  return operation;
}

/** The image upload (docs/protocol.md §7): the signature covers the `meta` part's exact bytes. */
const MULTIPART_BODY: NonNullable<OpenApiOperation['requestBody']> = {
  required: true,
  content: {
    'multipart/form-data': {
      schema: {
        type: 'object',
        required: ['meta', 'file'],
        properties: {
          meta: {
            type: 'string',
            contentMediaType: 'application/json',
            description:
              '`{"filename":"<name>","sha256":"<hex>"}`: the file name (jpg, jpeg, png or bmp) and the SHA-256 of the ' +
              'file. These exact bytes are the BODY line of the signing string.',
          },
          file: {
            type: 'string',
            format: 'binary',
            contentMediaType: 'application/octet-stream',
            description: 'The image bytes (PNG, JPEG or BMP, at most 2 MB).',
          },
        },
      },
      encoding: { meta: { contentType: 'application/json' } },
    },
  },
};

function successResponse(entry: Endpoint, signed: boolean, where: string): OpenApiResponse {
  const headers: Record<string, { $ref: string }> = {
    'Request-ID': { $ref: '#/components/headers/Request-ID' },
  };
  if (signed) {
    for (const name of SIGNED_HEADERS) headers[name] = { $ref: `#/components/headers/${name}` };
  }
  const { status, schema } = entry.success;
  if (status === 204 || schema === null) {
    return { description: 'Done (no body).', headers };
  }
  const contentType = (entry.produces ?? 'application/json').split(';', 1)[0]?.trim() || 'application/json';
  return {
    description: signed ? 'Success, signed by the platform.' : 'Success.',
    headers,
    content: { [contentType]: { schema: toJsonSchema(schema, `${where} ${status}`) } },
  };
}

function pathParameters(entry: Endpoint, where: string): OpenApiParameter[] {
  const names = [...entry.path.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1] as string);
  const properties = objectProperties(entry.params, `${where} params`);
  return names.map((name) => {
    const schema = properties.schemas[name];
    return {
      name,
      in: 'path',
      required: true,
      ...descriptionOf(schema),
      schema: schema ?? { type: 'string' },
    };
  });
}

function queryParameters(entry: Endpoint, where: string): OpenApiParameter[] {
  const properties = objectProperties(entry.query, `${where} query`);
  return Object.entries(properties.schemas).map(([name, schema]) => ({
    name,
    in: 'query',
    required: properties.required.has(name),
    ...descriptionOf(schema),
    schema,
  }));
}

function descriptionOf(schema: JsonSchema | undefined): { description?: string } {
  return typeof schema?.description === 'string' ? { description: schema.description } : {};
}

/** The properties of an object schema (params and query are objects), converted. */
function objectProperties(
  schema: TSchema | undefined,
  where: string,
): { schemas: Record<string, JsonSchema>; required: Set<string> } {
  if (!schema) return { schemas: {}, required: new Set() };
  const converted = toJsonSchema(schema, where);
  const properties = converted.properties;
  if (converted.type !== 'object' || !isRecord(properties)) {
    throw new Error(`openapi: ${where} must be an object schema with properties`);
  }
  const required = Array.isArray(converted.required) ? (converted.required as string[]) : [];
  return { schemas: properties as Record<string, JsonSchema>, required: new Set(required) };
}

/** Keywords TypeBox adds that are not JSON Schema (its symbols are dropped by the copy itself). */
const TYPEBOX_ONLY_KEYWORDS: ReadonlySet<string> = new Set([
  'minByteLength',
  'maxByteLength',
  'minimumTimestamp',
  'maximumTimestamp',
  'exclusiveMinimumTimestamp',
  'exclusiveMaximumTimestamp',
  'multipleOfTimestamp',
]);

/** TypeBox types with no JSON form (a JSON body cannot hold them). */
const NON_JSON_TYPES: ReadonlySet<string> = new Set([
  'undefined',
  'void',
  'bigint',
  'symbol',
  'function',
  'constructor',
  'promise',
  'Date',
  'RegExp',
  'AsyncIterator',
  'Iterator',
]);

const SCHEMA_MAP_KEYWORDS: ReadonlySet<string> = new Set([
  'properties',
  'patternProperties',
  '$defs',
  'dependentSchemas',
]);
const SCHEMA_KEYWORDS: ReadonlySet<string> = new Set([
  'items',
  'additionalProperties',
  'unevaluatedProperties',
  'unevaluatedItems',
  'propertyNames',
  'contains',
  'not',
  'if',
  'then',
  'else',
]);
const SCHEMA_LIST_KEYWORDS: ReadonlySet<string> = new Set(['anyOf', 'allOf', 'oneOf', 'prefixItems']);

/**
 * A TypeBox schema as JSON Schema 2020-12: a deep copy with string keys only (TypeBox's `Kind` and
 * `Optional` are symbols), TypeBox-only keywords dropped, a draft-07 tuple (`items: [...]`) rewritten as
 * `prefixItems`, and `Uint8Array` as a binary string. `$id` is dropped: the same schema appears under
 * several operations, and one id twice in a document is an error.
 */
export function toJsonSchema(schema: TSchema, where = 'schema'): JsonSchema {
  return convert(schema, where);
}

function convert(node: unknown, where: string): JsonSchema {
  if (typeof node === 'boolean') return node ? {} : { not: {} };
  if (!isRecord(node)) throw new Error(`openapi: ${where} is not a schema`);
  const type = node.type;
  if (type === 'Uint8Array') return { type: 'string', contentMediaType: 'application/octet-stream' };
  if (typeof type === 'string' && NON_JSON_TYPES.has(type)) {
    throw new Error(`openapi: ${where} is a TypeBox ${type}, which has no JSON Schema form`);
  }
  if (typeof node.$ref === 'string' && !node.$ref.startsWith('#/components/')) {
    throw new Error(`openapi: ${where} refers to ${node.$ref}, which the document does not define`);
  }
  const out: JsonSchema = {};
  for (const key of Object.keys(node)) {
    const value = node[key];
    if (TYPEBOX_ONLY_KEYWORDS.has(key) || key === '$id' || value === undefined) continue;
    if (key === 'items' && Array.isArray(value)) {
      out.prefixItems = value.map((item, i) => convert(item, `${where}/prefixItems/${i}`));
      if (node.additionalItems === false || node.additionalItems === undefined) out.items = false;
      continue;
    }
    if (key === 'additionalItems' && Array.isArray(node.items)) continue;
    if (SCHEMA_MAP_KEYWORDS.has(key) && isRecord(value)) {
      out[key] = Object.fromEntries(
        Object.keys(value).map((name) => [name, convert(value[name], `${where}/${key}/${name}`)]),
      );
    } else if (SCHEMA_KEYWORDS.has(key) && typeof value !== 'boolean') {
      out[key] = convert(value, `${where}/${key}`);
    } else if (SCHEMA_LIST_KEYWORDS.has(key) && Array.isArray(value)) {
      out[key] = value.map((item, i) => convert(item, `${where}/${key}/${i}`));
    } else {
      out[key] = copyJson(value);
    }
  }
  return out;
}

/** A plain JSON copy of a keyword's value (`const`, `enum`, `required`, `examples`…). */
function copyJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyJson);
  if (isRecord(value))
    return Object.fromEntries(Object.keys(value).map((key) => [key, copyJson(value[key])]));
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
