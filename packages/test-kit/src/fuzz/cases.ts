import fc from 'fast-check';
import { imageUploadBody } from '../multipart.js';
import type { WireClient, WireRequest } from './client.js';
import { anyText, hostileBodyBytes, type Json, mutationsArbitrary, writeJson } from './json.js';
import {
  type FuzzRoute,
  fillPattern,
  parameterNames,
  percentEncode,
  type Spelling,
  segmentArbitrary,
  spell,
  spellingArbitrary,
} from './paths.js';
import { knownParameterValues, type Sample, type SampleChoice, sampleRequest } from './samples.js';
import { type FuzzWorld, worldDictionary } from './world.js';

/**
 * One fuzzed request before it is signed: what the route was, how the path is spelled, the exact
 * headers and body bytes. The Authorization header is added at send time (fresh timestamp and nonce),
 * so a request can be sent again to reproduce it.
 */
export interface FuzzRequest {
  route: FuzzRoute;
  method: string;
  target: string;
  /** `plain` when the target spells the route as registered (parameter segments may be encoded). */
  spelling: Spelling;
  headers: Record<string, string | string[]>;
  body?: Buffer;
  /** The BODY line the signature covers: the body as UTF-8 text, or an upload's meta part. */
  signedBody: string;
  chunked: boolean;
  /** Where the Authorization header goes: alone, or next to a second, bogus one. */
  authorization: 'single' | 'bogus-first' | 'bogus-after';
  /** How the body was made (for the report). */
  bodyKind: 'none' | 'sample' | 'mutated' | 'bytes' | 'other-json' | 'multipart';
}

/** Methods sent with no body unless a case adds one on purpose. */
const BODYLESS = new Set(['GET', 'HEAD', 'DELETE']);

const FUZZ_USER_AGENT = 'wechatpay-sandbox-fuzz/1.0';

/** Header values Node's client sends: printable ASCII, tab, and Latin-1 bytes. */
function headerValue(maxLength: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ maxLength }).filter((s) => /^[\x20-\x7e]*$/.test(s)) },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.integer({ min: 0x20, max: 0xff }), { maxLength })
        .map((codes) => String.fromCharCode(...codes.filter((c) => c !== 0x7f))),
    },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '\t', 'a'.repeat(4000)) },
  );
}

/** Header names a case may add: framing headers are left to the `chunked` switch and Node. */
const FRAMING = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'expect',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'authorization',
]);

const extraHeaders = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      'X-Forwarded-For',
      'X-Real-IP',
      'Forwarded',
      'X-HTTP-Method-Override',
      'Origin',
      'Cookie',
      'Accept-Encoding',
      'Accept-Language',
      'Accept-Charset',
      'Content-Encoding',
      'Content-Language',
      'Request-ID',
      'Wechatpay-Timestamp',
      'Wechatpay-Nonce',
      'Wechatpay-Signature',
      'Range',
      'If-None-Match',
      'Referer',
    ),
    fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,30}$/).filter((n) => !FRAMING.has(n.toLowerCase())),
  ),
  headerValue(120),
  { maxKeys: 3 },
);

/** Values of the sandbox's fault header that answer 4xx, wait briefly, or are invalid (never a 5xx). */
const FAULT_HEADER_VALUES = [
  'SYSTEM_ERROR; status=400',
  'RULE_LIMIT',
  'FREQUENCY_LIMITED',
  'PARAM_ERROR',
  'delay=5',
  'delay=5; NO_AUTH',
  'delay=-1',
  'delay=99999999999',
  'SYSTEMERROR',
  'USER_GET_FAILED',
  'system_error',
  ';;',
  '',
  'SYSTEM_ERROR; status=999',
];

/** The headers of a case: each standard one kept, changed or dropped; a few extra. */
function headersArbitrary(hasBody: boolean, multipart: boolean) {
  const contentType = multipart
    ? fc.constant(undefined)
    : fc.oneof(
        { weight: 12, arbitrary: fc.constant(hasBody ? 'application/json' : undefined) },
        {
          weight: 3,
          arbitrary: fc.constantFrom(
            'application/json; charset=utf-8',
            'APPLICATION/JSON',
            'application/json;charset=gbk',
            'application/json ; charset=UTF-8',
            'application/jsonp',
            'application/json-patch+json',
            'text/plain',
            'text/json',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'multipart/form-data',
            '*/*',
            '',
          ),
        },
        { weight: 1, arbitrary: headerValue(60) },
        { weight: 1, arbitrary: fc.constant<string | undefined>(undefined) },
      );
  const keepOr = (standard: string, variants: string[]) =>
    fc.oneof(
      { weight: 14, arbitrary: fc.constant<string | undefined>(standard) },
      { weight: 2, arbitrary: fc.constantFrom<string | undefined>(...variants) },
      { weight: 1, arbitrary: headerValue(80) },
      { weight: 1, arbitrary: fc.constant<string | undefined>(undefined) },
    );
  return fc.record({
    contentType,
    accept: keepOr('application/json', ['*/*', 'text/html', 'application/xml', 'application/json;q=0', '']),
    userAgent: keepOr(FUZZ_USER_AGENT, [
      '',
      'Mozilla/5.0',
      'WechatPay-Go/0.2.20 (linux/amd64) go1.22',
      'x'.repeat(2000),
    ]),
    serial: fc.oneof(
      { weight: 10, arbitrary: fc.constant<string | undefined>(undefined) },
      {
        weight: 1,
        arbitrary: fc.constantFrom('PUB_KEY_ID_0000000000000000000000000000', '0', '00000000', ''),
      },
      { weight: 1, arbitrary: fc.stringMatching(/^[0-9A-Fa-f]{1,64}$/) },
      { weight: 1, arbitrary: headerValue(80) },
    ),
    fault: fc.oneof(
      { weight: 40, arbitrary: fc.constant<string | undefined>(undefined) },
      { weight: 1, arbitrary: fc.constantFrom(...FAULT_HEADER_VALUES) },
    ),
    extra: fc.oneof({ weight: 5, arbitrary: fc.constant({}) }, { weight: 2, arbitrary: extraHeaders }),
    duplicate: fc.oneof(
      { weight: 30, arbitrary: fc.constant<string | undefined>(undefined) },
      { weight: 1, arbitrary: fc.constantFrom('Content-Type', 'Accept', 'User-Agent', 'Wechatpay-Serial') },
    ),
    authorization: fc.oneof(
      { weight: 40, arbitrary: fc.constant<FuzzRequest['authorization']>('single') },
      { weight: 1, arbitrary: fc.constantFrom<FuzzRequest['authorization']>('bogus-first', 'bogus-after') },
    ),
    chunked: fc.oneof(
      { weight: 30, arbitrary: fc.constant(false) },
      { weight: 1, arbitrary: fc.constant(true) },
    ),
  });
}

/** A query string from pairs, each key and value percent-encoded. */
function writeQuery(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
}

/** Odd query texts, appended to the sample's query (short ones) or sent instead of it. */
const ODD_QUERIES = [
  '&&',
  '=',
  '?',
  '%',
  '%ZZ',
  'limit=%00',
  'appid',
  'appid=',
  'limit=1&limit=2',
  'limit[]=1',
  'limit[a]=1',
  'a.b=1',
  '__proto__[x]=1',
  'constructor=1',
  'offset=-1&limit=1e309',
  'limit=%EF%BC%91',
  'stock_id=%ED%A0%80',
  'appid=%F0%9F%98%80',
  'a=b#c',
  `x=${'a'.repeat(8000)}`,
  Array.from({ length: 300 }, (_, i) => `k${i}=${i}`).join('&'),
];
/** Raw Latin-1 octets in the target, which HTTP does not allow unencoded. */
const RAW_BYTE_QUERIES = ['\u00ff\u00fe=\u00e9', 'x=\u0080'];

/** A change to a sample's query pairs, built once and applied to any sample. */
type QueryPlan = (pairs: ReadonlyArray<readonly [string, string]>) => string;

/** The sample's query, kept, or with a value, key or the raw text made awkward. */
function queryPlanArbitrary(dictionary: readonly string[], rawBytes: boolean): fc.Arbitrary<QueryPlan> {
  const value = fc.oneof(
    fc.constantFrom(...dictionary),
    anyText(),
    fc.constantFrom(
      '',
      '-1',
      '0',
      '00',
      '0.5',
      ' 1',
      '51',
      '1e3',
      '1e300',
      '99999999999999999999',
      '9223372036854775807',
      '9223372036854775808',
      '-9223372036854775809',
      'true',
      'AVAILABLE',
      'global',
    ),
  );
  const key = fc.oneof(
    fc
      .nat()
      .map(
        (pick) => (pairs: ReadonlyArray<readonly [string, string]>) =>
          pairs[pick % Math.max(1, pairs.length)]?.[0] ?? 'x',
      ),
    fc
      .constantFrom('limit', 'offset', 'appid', 'mchid', 'stock_id', 'scope', 'state', 'x')
      .map((k) => () => k),
  );
  const odd = rawBytes ? [...ODD_QUERIES, ...RAW_BYTE_QUERIES] : ODD_QUERIES;
  return fc.oneof(
    { weight: 10, arbitrary: fc.constant<QueryPlan>((pairs) => writeQuery(pairs)) },
    {
      weight: 3,
      arbitrary: fc.tuple(fc.nat(), value).map<QueryPlan>(([pick, v]) => (pairs) => {
        if (pairs.length === 0) return writeQuery([['x', v]]);
        const i = pick % pairs.length;
        return writeQuery(pairs.map(([k, old], j) => [k, j === i ? v : old] as const));
      }),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(key, value, fc.boolean()).map<QueryPlan>(([k, v, before]) => (pairs) => {
        const extra = [k(pairs), v] as const;
        return writeQuery(before ? [extra, ...pairs] : [...pairs, extra]);
      }),
    },
    {
      weight: 1,
      arbitrary: fc
        .nat()
        .map<QueryPlan>(
          (pick) => (pairs) => writeQuery(pairs.filter((_, i) => i !== pick % Math.max(1, pairs.length))),
        ),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(...odd)
        .map<QueryPlan>(
          (raw) => (pairs) => (pairs.length > 0 && raw.length < 100 ? `${writeQuery(pairs)}&${raw}` : raw),
        ),
    },
  );
}

interface BodyPlan {
  kind: FuzzRequest['bodyKind'];
  body?: Buffer;
  signedBody: string;
  contentType?: string;
}

/** How to make a body from a route's sample, built once per kind of route and applied to any sample. */
type BodyMaker = (sample: Sample) => BodyPlan;

function textBody(kind: BodyPlan['kind'], value: Json): BodyPlan {
  const t = writeJson(value);
  return { kind, body: Buffer.from(t), signedBody: t };
}

function bytesBody(b: Buffer): BodyPlan {
  return { kind: 'bytes', body: b, signedBody: b.toString('utf8') };
}

/** The JSON a sample starts from (its meta for an upload). */
function baseOf(sample: Sample): Json {
  return sample.body ?? (sample.multipart ? sample.multipart.meta : {});
}

/**
 * The body of a case: none, the sample, a mutation of it, hostile bytes, other JSON, or (for the
 * upload) a multipart body whose meta part is mutated. GET, HEAD and DELETE mostly carry none.
 */
function bodyMakerArbitrary(
  kind: 'bodyless' | 'json' | 'upload',
  dictionary: readonly string[],
): fc.Arbitrary<BodyMaker> {
  const none = fc.constant<BodyMaker>(() => ({ kind: 'none', signedBody: '' }));
  const sample = fc.constant<BodyMaker>((s) => textBody('sample', baseOf(s)));
  const mutated = mutationsArbitrary(dictionary).map<BodyMaker>(
    (mutate) => (s) => textBody('mutated', mutate(baseOf(s))),
  );
  const bytes = hostileBodyBytes().map<BodyMaker>((make) => (s) => bytesBody(make(writeJson(baseOf(s)))));
  const other = fc.jsonValue({ maxDepth: 4 }).map<BodyMaker>((v) => () => textBody('other-json', v as Json));
  if (kind === 'bodyless') {
    return fc.oneof(
      { weight: 30, arbitrary: none },
      { weight: 1, arbitrary: mutated },
      { weight: 1, arbitrary: bytes },
    );
  }
  const json = fc.oneof(
    { weight: 4, arbitrary: sample },
    { weight: 12, arbitrary: mutated },
    { weight: 3, arbitrary: bytes },
    { weight: 2, arbitrary: other },
    { weight: 1, arbitrary: none },
  );
  if (kind === 'json') return json;
  const meta = fc.oneof(
    { weight: 2, arbitrary: fc.constant((m: Json) => writeJson(m)) },
    {
      weight: 5,
      arbitrary: mutationsArbitrary(dictionary).map((mutate) => (m: Json) => writeJson(mutate(m))),
    },
  );
  const file = fc.oneof(
    { weight: 4, arbitrary: fc.constant<Buffer | undefined>(undefined) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) },
    { weight: 1, arbitrary: fc.constantFrom(Buffer.alloc(0), Buffer.alloc(2 * 1024 * 1024 + 1, 1)) },
  );
  const order: fc.Arbitrary<readonly string[]> = fc.oneof(
    { weight: 6, arbitrary: fc.constant(['meta', 'file']) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(['file', 'meta'], ['meta'], ['file'], ['meta', 'meta', 'file'], []),
    },
  );
  const multipart = fc.tuple(meta, file, order).map<BodyMaker>(([writeMeta, f, o]) => (s) => {
    const upload = s.multipart ?? { meta: baseOf(s), file: Buffer.alloc(0) };
    const metaText = writeMeta(upload.meta);
    const { body, contentType } = imageUploadBody(metaText, f ?? upload.file, o);
    // The server signs over the meta part's text when it finds one, else over the whole body.
    return {
      kind: 'multipart',
      body,
      signedBody: o.includes('meta') ? metaText : body.toString('utf8'),
      contentType,
    };
  });
  return fc.oneof({ weight: 4, arbitrary: multipart }, { weight: 1, arbitrary: json });
}

/** A method other than the route's (the router answers 404 for a method it has no route for). */
const OTHER_METHODS = ['PUT', 'OPTIONS', 'PATCH', 'POST', 'DELETE', 'TRACE', 'PROPFIND', 'GET'];

/** Options of {@link fuzzRequestArbitrary}. */
export interface FuzzRequestOptions {
  /** Weight of the plain spelling against 2 for all the others together; 0 spells every path oddly. @default 8 */
  plainWeight?: number;
  /** Put raw non-ASCII octets (Latin-1) in some query strings, which HTTP does not allow. @default true */
  rawTargetBytes?: boolean;
}

/**
 * Fuzzed, validly signed requests over `routes`: the route's sample body mutated (types, sizes,
 * nesting, unicode, NUL, duplicate keys), its query and path parameters made awkward, the path spelled
 * another way, and the headers changed — each part independently, most of them close to valid so that
 * the handlers' business rules run.
 */
export function fuzzRequestArbitrary(
  routes: readonly FuzzRoute[],
  world: FuzzWorld,
  baseUrl: string,
  options: FuzzRequestOptions = {},
): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(...fuzzRequestArbitraries(routes, world, baseUrl, options));
}

/**
 * {@link fuzzRequestArbitrary} for each route on its own, in the order of `routes` (building them
 * together shares the parts they have in common).
 */
export function fuzzRequestArbitraries(
  routes: readonly FuzzRoute[],
  world: FuzzWorld,
  baseUrl: string,
  options: FuzzRequestOptions = {},
): fc.Arbitrary<FuzzRequest>[] {
  const { plainWeight = 8, rawTargetBytes = true } = options;
  const dictionary = worldDictionary(world);
  // Every part is built once; a case only picks and applies (building arbitraries per case is slow).
  const choice = fc.record<SampleChoice>({ token: fc.stringMatching(/^[0-9A-Za-z]{24}$/), pick: fc.nat() });
  const query = queryPlanArbitrary(dictionary, rawTargetBytes);
  const spelling = spellingArbitrary(plainWeight);
  const bodies = {
    bodyless: bodyMakerArbitrary('bodyless', dictionary),
    json: bodyMakerArbitrary('json', dictionary),
    upload: bodyMakerArbitrary('upload', dictionary),
  };
  const headerSets = {
    bodyless: headersArbitrary(false, false),
    json: headersArbitrary(true, false),
    upload: headersArbitrary(true, true),
  };
  const perRoute = routes.map((route) => {
    const kind = BODYLESS.has(route.method) ? 'bodyless' : hasUpload(route, world) ? 'upload' : 'json';
    const names = parameterNames(route.url);
    // A segment: the sample's own value (null), mostly, or another known or awkward one.
    const segments = fc.tuple(
      ...names.map((name) =>
        fc.oneof(
          { weight: 4, arbitrary: fc.constant<string | null>(null) },
          { weight: 1, arbitrary: segmentArbitrary(knownParameterValues(world, route, name)) },
        ),
      ),
    );
    const method = fc.oneof(
      { weight: 40, arbitrary: fc.constant(route.method) },
      { weight: 1, arbitrary: fc.constantFrom(...OTHER_METHODS) },
    );
    return fc
      .record({
        choice,
        method,
        segments,
        spelling,
        spellPick: fc.nat(),
        query,
        body: bodies[kind],
        headers: headerSets[kind],
      })
      .map((plan): FuzzRequest => {
        const sample = sampleRequest(route, world, plan.choice);
        const seg: Record<string, string> = {};
        names.forEach((name, i) => {
          seg[name] = plan.segments[i] ?? percentEncode(sample.params[name] ?? '');
        });
        const path = fillPattern(route.url, seg);
        const spelled = spell(path, route.url, plan.spelling, plan.spellPick, baseUrl);
        const queryText = plan.query(Object.entries(sample.query));
        const target = queryText ? `${spelled.path}?${queryText}` : spelled.path;
        const bodyPlan = plan.body(sample);
        const h = plan.headers;
        const headers: Record<string, string | string[]> = { ...h.extra };
        const set = (name: string, value: string | undefined) => {
          if (value !== undefined) headers[name] = value;
        };
        set('Accept', h.accept);
        set('User-Agent', h.userAgent);
        set('Content-Type', bodyPlan.contentType ?? h.contentType);
        set('Wechatpay-Serial', h.serial);
        set('Wechatpay-Sandbox-Fault', h.fault);
        if (h.duplicate && headers[h.duplicate] !== undefined) {
          headers[h.duplicate] = [headers[h.duplicate] as string, 'application/xml'];
        }
        return {
          route,
          method: plan.method,
          target,
          spelling: spelled.spelling,
          headers,
          ...(bodyPlan.body ? { body: bodyPlan.body } : {}),
          signedBody: bodyPlan.signedBody,
          chunked: h.chunked && bodyPlan.body !== undefined,
          authorization: h.authorization,
          bodyKind: bodyPlan.kind,
        };
      });
  });
  return perRoute;
}

/** Whether the route's sample is a multipart upload. */
function hasUpload(route: FuzzRoute, world: FuzzWorld): boolean {
  return sampleRequest(route, world, { token: 'x', pick: 0 }).multipart !== undefined;
}

/** The request on the wire: signed now by the client's merchant, over exactly the target and body sent. */
export function signRequest(client: WireClient, request: FuzzRequest): WireRequest {
  const authorization = client.authorization(request.method, request.target, request.signedBody);
  const bogus = 'WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="x",signature="x",timestamp="1",serial_no="x"';
  const value =
    request.authorization === 'single'
      ? authorization
      : request.authorization === 'bogus-first'
        ? [bogus, authorization]
        : [authorization, bogus];
  return {
    method: request.method,
    target: request.target,
    headers: { ...request.headers, Authorization: value },
    ...(request.body ? { body: request.body } : {}),
    chunked: request.chunked,
  };
}
