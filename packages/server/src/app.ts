import { randomBytes, randomUUID } from 'node:crypto';
import { signResponse } from '@wechatpay-sandbox/sdk/protocol';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { type AppConfig, resolveConfig } from './config.js';
import type { PlatformIdentity } from './credentials/types.js';
import type { DatabaseHandle } from './db/connect.js';
import { NonceRepo } from './db/nonce-repo.js';
import type { Clock, IdGen } from './domain/ports.js';
import { errors } from './errors.js';
import {
  headerValue,
  type MerchantDirectory,
  newRequestId,
  RequestAuthenticator,
} from './http/authenticate.js';
import type { ServerContext } from './http/context.js';
import { handleError } from './http/error-handler.js';
import { registerMetrics } from './http/metrics.js';
import { RateLimiter } from './http/rate-limit.js';
import { registerBusifavorRoutes } from './http/routes/busifavor.js';
import { registerCertificateRoutes } from './http/routes/certificates.js';
import { registerNotifySettingRoutes } from './http/routes/notify-settings.js';
import { createSimInfra, registerSimInfraRoutes } from './http/routes/sim-infra.js';
import {
  createNotificationDispatcher,
  registerSimNotificationRoutes,
} from './http/routes/sim-notifications.js';
import { selectSigningKey } from './http/signing-keys.js';
import { createValidatorCompiler } from './http/validation.js';
import { subscribeClockChanges } from './sim/clock.js';

export type { AppConfig } from './config.js';

/** Adapters buildApp wires to ports. */
export interface AppDeps {
  db: DatabaseHandle;
  platform: PlatformIdentity;
  merchants: MerchantDirectory;
  /** Business clock; defaults to the virtual clock of sim/clock.ts (a plain clock disables /sandbox/v1/clock). */
  clock?: Clock;
  /** Wall clock for signatures. @default Date.now */
  wallClock?: () => number;
  ids?: IdGen;
}

/** Paths that require a merchant signature. */
const AUTHENTICATED_PREFIXES = ['/v3/', '/sandbox/'];

/**
 * Builds the Fastify app with every route and hook, without listening (tests use it through real
 * HTTP via startServer, or inject()).
 */
export async function buildApp(
  configOverrides: Partial<AppConfig>,
  deps: AppDeps,
): Promise<{ app: FastifyInstance; ctx: ServerContext }> {
  const config = resolveConfig(configOverrides);
  const wallClock = deps.wallClock ?? Date.now;
  const sim = await createSimInfra(deps.db, { wallClock });
  const ctx: ServerContext = {
    config,
    db: deps.db,
    clock: deps.clock ?? sim.clock,
    wallClock,
    ids: deps.ids ?? systemIds,
    platform: deps.platform,
  };
  const app = Fastify({
    logger: { level: config.logLevel, redact: ['req.headers.authorization'] },
    bodyLimit: config.bodyLimitBytes,
    genReqId: () => newRequestId(),
    // Malformed HTTP (bad framing, oversized headers) still gets WeChat's error shape and a Request-ID,
    // then the socket closes.
    clientErrorHandler: (error, socket) => {
      if (!socket.writable) return socket.destroy(error);
      const body = JSON.stringify(errors.INVALID_REQUEST('HTTP 请求格式错误').toBody());
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nRequest-ID: ${newRequestId()}\r\nConnection: close\r\n\r\n${body}`,
      );
    },
    // A path Fastify cannot route (bad percent-encoding, an over-long parameter) gets WeChat's shape too.
    frameworkErrors: (error, request, reply) => {
      void reply.header('Request-ID', request.id);
      handleError(error, request, reply);
    },
  });
  app.setValidatorCompiler(createValidatorCompiler());
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send(errors.RESOURCE_NOT_EXISTS('请求的接口不存在').toBody());
  });

  // Keep every body as raw bytes: the signature covers them exactly, and JSON is parsed only after it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    request.rawBody = body as Buffer;
    done(null, body);
  });

  const nonces = new NonceRepo(deps.db.db, 2 * config.signatureWindowSeconds * 1000);
  const authenticator = new RequestAuthenticator({
    merchants: deps.merchants,
    rememberNonce: (mchid, nonce, now) => nonces.remember(mchid, nonce, now),
    wallClock,
    windowSeconds: config.signatureWindowSeconds,
    diagnostics: config.signatureDiagnostics,
  });
  const limiter = new RateLimiter(wallClock);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('Request-ID', request.id);
  });

  app.addHook('preValidation', async (request, reply) => {
    const path = request.url;
    if (!AUTHENTICATED_PREFIXES.some((p) => path.startsWith(p))) return;
    if (!headerValue(request.headers['user-agent'])) {
      throw errors.INVALID_REQUEST('HTTP头缺少User-Agent', { location: 'header', field: 'User-Agent' });
    }
    if (!headerValue(request.headers.accept)) {
      throw errors.INVALID_REQUEST('HTTP头缺少Accept', { location: 'header', field: 'Accept' });
    }
    request.merchant = await authenticator.authenticate(request);
    const routeKey = `${request.method} ${request.routeOptions.url ?? path}`;
    const endpointRule = config.endpointRateLimits[routeKey];
    const limited =
      (endpointRule && !limiter.take(`${request.merchant.mchid}|${routeKey}`, endpointRule)) ||
      (path.startsWith('/v3/') && !limiter.take(request.merchant.mchid, config.rateLimit));
    if (limited) {
      throw path.includes('/product-coupon/') ? errors.RATELIMIT_EXCEEDED() : errors.FREQUENCY_LIMITED();
    }
    request.body = parseJsonBody(request);
    void reply;
  });

  // Every response to an identified merchant is signed (2xx always); 401s from failed authentication never.
  app.addHook('onSend', async (request, reply, payload) => {
    const merchant = request.merchant;
    if (!merchant || reply.statusCode === 401) return payload;
    const body =
      payload === undefined || payload === null ? '' : typeof payload === 'string' ? payload : null;
    const text = body ?? (Buffer.isBuffer(payload) ? payload.toString('utf8') : '');
    const key = selectSigningKey(
      ctx.platform,
      merchant.signingMode,
      headerValue(request.headers['wechatpay-serial']),
      wallClock(),
    );
    const headers = signResponse({
      body: text,
      timestamp: Math.floor(wallClock() / 1000),
      nonce: randomBytes(16).toString('hex'),
      serial: key.serial,
      privateKey: key.privateKey,
    });
    for (const [name, value] of Object.entries(headers)) reply.header(name, value);
    return payload;
  });

  // After authentication (faults need request.merchant), before the routes.
  await registerSimInfraRoutes(app, ctx, sim);
  registerMetrics(app);
  await registerNotifySettingRoutes(app, ctx);
  await registerCertificateRoutes(app, ctx);
  // Callback deliveries run only while the server listens (startServer), never under inject()-only tests.
  const notifications = createNotificationDispatcher(ctx, {
    subscribeClockChanges: (listener) => subscribeClockChanges(ctx.clock, listener),
  });
  await registerSimNotificationRoutes(app, ctx, notifications);
  app.addHook('onListen', async () => {
    if (config.notifyDelivery) notifications.start();
  });
  app.addHook('onClose', async () => notifications.stop());
  await registerBusifavorRoutes(app, ctx);
  return { app, ctx };
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
    // APIv3 supports only characters of 1-3 UTF-8 bytes (protocol.md §8.1).
    throw errors.PARAM_ERROR('请求体包含不支持的4字节UTF-8字符', { location: 'body', field: '/' });
  }
  try {
    return JSON.parse(text);
  } catch {
    throw errors.PARAM_ERROR('请求体不是合法的JSON', { location: 'body', field: '/' });
  }
}

const TOKEN_CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Identifiers from the system CSPRNG. */
export const systemIds: IdGen = {
  token(length) {
    const bytes = randomBytes(length);
    let out = '';
    for (const b of bytes) out += TOKEN_CHARS[b % 62];
    return out;
  },
  uuid: () => randomUUID(),
  digits(count) {
    const bytes = randomBytes(count);
    let out = String(((bytes[0] as number) % 9) + 1); // no leading zero
    for (let i = 1; i < count; i++) out += String((bytes[i] as number) % 10);
    return out;
  },
};
