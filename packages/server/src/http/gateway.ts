import { signResponseAsync } from '@wechatpay-sandbox/sdk/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppConfig } from '../config.js';
import { selectSigningKey } from '../credentials/signing-keys.js';
import type { PlatformIdentity } from '../credentials/types.js';
import { errors } from '../errors.js';
import { randomHex } from '../request-id.js';
import { headerValue, type RequestAuthenticator } from './authenticate.js';
import type { DashboardGuard } from './dashboard/access.js';
import type { RateLimiter } from './rate-limit.js';
import { findForbiddenCharacter } from './request-text.js';
import { routeAuth, spellingIssue } from './route-auth.js';

/** What the gateway hooks need. */
export interface GatewayDeps {
  config: Readonly<AppConfig>;
  platform: PlatformIdentity;
  authenticator: RequestAuthenticator;
  limiter: RateLimiter;
  wallClock: () => number;
  /** Decides `auth: 'dashboard'` routes; without it they answer as unknown paths (never open). */
  dashboard?: DashboardGuard;
}

/** Methods whose requests carry no body: any bytes sent with them would not be covered by a rule. */
const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'DELETE']);

/** Target field names for the gateway's "mapped twice" message (seed 002's FAQ names the field). */
const PATH_PARAMETER_LABELS: Readonly<Record<string, string>> = {
  stock_id: '批次号',
  openid: '用户标识',
  coupon_code: '券code',
  appid: '公众账号ID',
  sp_mchid: '服务商商户号',
  subsidy_receipt_id: '补差付款唯一单号',
  subsidy_return_receipt_id: '补差回退唯一单号',
};

/**
 * The request gateway: Request-ID on every answer; for every matched route, the body/method rules and,
 * unless the route is declared public, the request-target spelling, the signature (before any JSON is
 * parsed), rate limits, then the JSON body; every answer to an identified merchant is signed.
 */
export function registerGateway(app: FastifyInstance, deps: GatewayDeps): void {
  const { config, authenticator, limiter, wallClock } = deps;

  app.addHook('onRequest', async (request, reply) => {
    reply.header('Request-ID', request.id);
  });

  app.addHook('preValidation', async (request, reply) => {
    // An unmatched path answers 404 from the not-found handler; nothing there reads or writes.
    if (request.is404) return;
    refuseBodyOnBodylessMethod(request);
    const route = request.routeOptions.url ?? '';
    const auth = routeAuth(request.routeOptions.config);
    if (auth === 'dashboard') {
      if (!deps.dashboard) throw errors.RESOURCE_NOT_EXISTS('请求的接口不存在');
      deps.dashboard.authorize(request, reply);
    } else if (auth === 'merchant') {
      // The signature covers the raw target, so it must spell the route that matched (else a signed
      // `/%73andbox/…` would be verified over one spelling and routed by another).
      const issue = spellingIssue(request.raw.url ?? request.url, route);
      if (issue) {
        throw errors.SIGN_ERROR(undefined, { location: 'header', field: 'Authorization', issue });
      }
      if (!headerValue(request.headers['user-agent'])) {
        throw errors.INVALID_REQUEST('HTTP头缺少User-Agent', { location: 'header', field: 'User-Agent' });
      }
      if (!headerValue(request.headers.accept)) {
        throw errors.INVALID_REQUEST('HTTP头缺少Accept', { location: 'header', field: 'Accept' });
      }
      request.merchant = await authenticator.authenticate(request);
      const endpoint = request.routeOptions.config.endpoint;
      const routeKey = `${request.method} ${route}`;
      const endpointRule = config.endpointRateLimits[routeKey];
      const limited =
        (endpointRule && !limiter.take(`${request.merchant.mchid}|${routeKey}`, endpointRule)) ||
        (route.startsWith('/v3/') && !limiter.take(request.merchant.mchid, config.rateLimit));
      if (limited) {
        // Seed 001 names RATELIMIT_EXCEEDED for the product-coupon family; the others answer FREQUENCY_LIMITED.
        throw endpoint?.family === 'product-coupon'
          ? errors.RATELIMIT_EXCEEDED()
          : errors.FREQUENCY_LIMITED();
      }
    }
    request.body = parseJsonBody(request);
    refuseForbiddenCharacters(request);
    refusePathParametersInBody(request);
  });

  // Every response to an identified merchant is signed (2xx always); 401s from failed authentication never.
  app.addHook('onSend', async (request, reply, payload) => {
    const merchant = request.merchant;
    if (!merchant || reply.statusCode === 401) return payload;
    const body =
      payload === undefined || payload === null ? '' : typeof payload === 'string' ? payload : null;
    const text = body ?? (Buffer.isBuffer(payload) ? payload.toString('utf8') : '');
    const key = selectSigningKey(
      deps.platform,
      merchant.signingMode,
      headerValue(request.headers['wechatpay-serial']),
      wallClock(),
    );
    // On libuv's thread pool: the RSA signature (most of an answer's CPU) runs on another core while
    // this thread parses, verifies and queries for the next requests.
    const headers = await signResponseAsync({
      body: text,
      timestamp: Math.floor(wallClock() / 1000),
      nonce: randomHex(16),
      serial: key.serial,
      privateKey: key.privateKey,
    });
    for (const [name, value] of Object.entries(headers)) reply.header(name, value);
    return payload;
  });
}

/**
 * GET, HEAD and DELETE carry no body in APIv3, and the signature of one covers an empty BODY line, so
 * bytes sent anyway would be unsigned input. An empty body (what wechatpay-axios-plugin sends on every
 * GET, with `Content-Type: application/json`) is fine.
 */
function refuseBodyOnBodylessMethod(request: FastifyRequest): void {
  if (!BODYLESS_METHODS.has(request.method)) return;
  const length = headerValue(request.headers['content-length']);
  const chunked = request.headers['transfer-encoding'] !== undefined;
  if (chunked || (length !== undefined && length !== '0') || (request.rawBody?.length ?? 0) > 0) {
    throw errors.INVALID_REQUEST(`${request.method} 请求不能携带请求体`, {
      location: 'body',
      issue: `a ${request.method} request must not carry a body (it is not covered by the signature)`,
    });
  }
}

/** Parses a JSON body after the signature verified; multipart bodies stay as parts. */
function parseJsonBody(request: FastifyRequest): unknown {
  const raw = request.rawBody;
  if (request.multipartParts || !raw || raw.length === 0) return undefined;
  const contentType = headerValue(request.headers['content-type']) ?? '';
  if (!/^application\/json\b/i.test(contentType)) {
    throw errors.INVALID_REQUEST('Content-Type 必须为 application/json', {
      location: 'header',
      field: 'Content-Type',
      value: contentType,
    });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw errors.PARAM_ERROR('请求体不是合法的UTF-8编码', { location: 'body', field: '/' });
  }
  if (/[\u{10000}-\u{10FFFF}]/u.test(text)) {
    // APIv3 supports only characters of 1-3 UTF-8 bytes (docs/fidelity.md, Gateway).
    throw errors.PARAM_ERROR('请求体包含不支持的4字节UTF-8字符', { location: 'body', field: '/' });
  }
  try {
    return JSON.parse(text);
  } catch {
    throw errors.PARAM_ERROR('请求体不是合法的JSON', { location: 'body', field: '/' });
  }
}

/**
 * NUL and other control characters in any path parameter, query value or body string (or member name)
 * answer 400 PARAM_ERROR naming the field, before anything reads or stores them, on every dialect.
 */
function refuseForbiddenCharacters(request: FastifyRequest): void {
  const inPath = findForbiddenCharacter(request.params);
  if (inPath) throw forbidden(inPath.field.slice(1), 'path', inPath.codePoint);
  const inQuery = findForbiddenCharacter(request.query);
  if (inQuery) throw forbidden(inQuery.field.slice(1).replace(/\/\d+$/, ''), 'query', inQuery.codePoint);
  const inBody = findForbiddenCharacter(request.body);
  if (inBody) throw forbidden(inBody.field, 'body', inBody.codePoint);
  const meta = request.multipartParts?.find((p) => p.name === 'meta');
  if (meta) {
    const text = meta.data.toString('utf8');
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: the upload's own validation answers; only the raw text is checked here.
    }
    const inMeta = findForbiddenCharacter(parsed);
    if (inMeta) throw forbidden(`/meta${inMeta.field === '/' ? '' : inMeta.field}`, 'body', inMeta.codePoint);
  }
}

function forbidden(field: string, location: 'path' | 'query' | 'body', codePoint: string) {
  const name = field || '/';
  return errors.PARAM_ERROR(`参数错误：${name} 包含不允许的控制字符 ${codePoint}`, {
    field: name,
    location,
    issue: `must not contain the control character ${codePoint}`,
  });
}

/**
 * WeChat's gateway maps each field from one source: a body member that repeats a path parameter is
 * refused with the mapper's own message (quoted in seed 002's FAQ for PATCH /stocks/{stock_id}), on every
 * route with path parameters.
 */
function refusePathParametersInBody(request: FastifyRequest): void {
  const body = request.body;
  const params = request.params;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return;
  if (!params || typeof params !== 'object') return;
  for (const name of Object.keys(params)) {
    if (!Object.hasOwn(body, name)) continue;
    const label = PATH_PARAMETER_LABELS[name] ?? name;
    throw errors.PARAM_ERROR(
      `无法将输入源“/body/${name}”映射到目标字段“${label}”中，此字段并非多重字段但被输入源“/uri_template/${name}”映射过了`,
      { field: `/${name}`, location: 'body', issue: `${name} belongs in the URL path only` },
    );
  }
}
