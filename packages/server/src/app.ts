import { randomBytes, randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { type AppConfig, resolveConfig } from './config.js';
import { BUSIFAVOR_ENDPOINTS } from './contract/endpoints/busifavor.js';
import { DASHBOARD_ENDPOINTS } from './contract/endpoints/dashboard.js';
import { ENDPOINTS } from './contract/endpoints/index.js';
import { NOTIFY_SETTING_ENDPOINTS } from './contract/endpoints/notify-settings.js';
import { PLATFORM_ENDPOINTS } from './contract/endpoints/platform.js';
import {
  SIM_BUSIFAVOR_ENDPOINTS,
  SIM_INFRA_ENDPOINTS,
  SIM_NOTIFICATION_ENDPOINTS,
} from './contract/endpoints/simulation.js';
import type { PlatformIdentity } from './credentials/types.js';
import type { DatabaseHandle } from './db/connect.js';
import { NonceBatcher, NonceRepo } from './db/nonce-repo.js';
import type { Clock, IdGen } from './domain/ports.js';
import { errors } from './errors.js';
import { type MerchantDirectory, RequestAuthenticator } from './http/authenticate.js';
import { createClientErrorHandler, serverTimeoutOptions } from './http/connection-limits.js';
import type { ServerContext } from './http/context.js';
import { DashboardAccess } from './http/dashboard/access.js';
import { CallFeed, registerCallFeed } from './http/dashboard/feed.js';
import { registerEndpoints } from './http/endpoints.js';
import { handleError } from './http/error-handler.js';
import { registerGateway } from './http/gateway.js';
import { type LogOutput, logDestination } from './http/log-output.js';
import { registerMetrics } from './http/metrics.js';
import { RateLimiter } from './http/rate-limit.js';
import { registerRequestLog } from './http/request-log.js';
import { collectRoutes, type RegisteredRoute } from './http/route-auth.js';
import { busifavorHandlers } from './http/routes/busifavor.js';
import { certificatesHandler } from './http/routes/certificates.js';
import { dashboardHandlers } from './http/routes/dashboard.js';
import { healthHandlers } from './http/routes/health.js';
import { notifySettingHandlers } from './http/routes/notify-settings.js';
import { referenceHandlers, sandboxOpenApiDocument } from './http/routes/reference.js';
import { simBusifavorHandlers } from './http/routes/sim-busifavor.js';
import { registerSimInfraHooks, simInfraHandlers } from './http/routes/sim-infra.js';
import { simNotificationHandlers } from './http/routes/sim-notifications.js';
import { createValidatorCompiler } from './http/validation.js';
import type { DispatcherState } from './outbox/dispatcher.js';
import { newRequestId } from './request-id.js';
import { createBusifavorAdapters } from './services/busifavor.js';
import type { ServiceContext } from './services/context.js';
import { MerchantsService } from './services/merchants.js';
import { createNotificationDispatcher, NotificationsService } from './services/notifications.js';
import { createNotifySettingsDeps } from './services/notify-settings.js';
import { OperationsService } from './services/operations.js';
import { createSimInfra } from './services/simulation.js';
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
  /** Where the log goes (JSON lines; compact human lines on a terminal). @default process.stdout */
  log?: LogOutput;
  /** The dashboard token to accept (cluster workers share one). @default random */
  dashboardToken?: string;
}

/** The app, its context, and every route it registered (with each route's authentication). */
export interface BuiltApp {
  app: FastifyInstance;
  ctx: ServerContext;
  routes: readonly RegisteredRoute[];
  /** The callback dispatcher: started when the app listens (config.notifyDelivery), stopped on close. */
  dispatcher: { readonly state: DispatcherState; stop(): Promise<void> };
  /** The dashboard's access rules: its token, and {@link DashboardAccess.listeningOn} before listening. */
  dashboard: DashboardAccess;
}

/**
 * Builds the Fastify app with every route and hook, without listening (tests use it through real
 * HTTP via startServer, or inject()).
 */
export async function buildApp(configOverrides: Partial<AppConfig>, deps: AppDeps): Promise<BuiltApp> {
  const config = resolveConfig(configOverrides);
  const wallClock = deps.wallClock ?? Date.now;
  const sim = await createSimInfra(deps.db, { wallClock });
  // The composition root: the shared ports once; services get the database, routes get services.
  const services: ServiceContext = {
    config,
    db: deps.db,
    clock: deps.clock ?? sim.clock,
    wallClock,
    ids: deps.ids ?? systemIds,
    platform: deps.platform,
  };
  const { db: _database, ...ctx } = services;
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: ['req.headers.authorization'],
      stream: logDestination(deps.log),
    },
    // One line per request, ours (http/request-log.ts), instead of Fastify's incoming/completed pair.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    // Header, whole-request and keep-alive idle timeouts (slowloris).
    ...serverTimeoutOptions(config),
    genReqId: () => newRequestId(),
    // Malformed HTTP (400), a timeout (408) or oversized headers (431) still get WeChat's error shape and
    // a Request-ID, then the connection closes.
    clientErrorHandler: createClientErrorHandler(config),
    // A path Fastify cannot route (bad percent-encoding, an over-long parameter) gets WeChat's shape too.
    frameworkErrors: (error, request, reply) => {
      void reply.header('Request-ID', request.id);
      handleError(error, request, reply);
    },
  });
  app.setValidatorCompiler(createValidatorCompiler());
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    handleError(errors.RESOURCE_NOT_EXISTS('请求的接口不存在'), request, reply);
  });
  registerRequestLog(app);
  const feed = new CallFeed(config.dashboardFeedSize);
  registerCallFeed(app, feed, wallClock);
  const dashboard = new DashboardAccess(deps.dashboardToken);

  // Keep every body as raw bytes: the signature covers them exactly, and JSON is parsed only after it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    request.rawBody = body as Buffer;
    done(null, body);
  });

  const nonces = new NonceBatcher(
    new NonceRepo(deps.db.db, 2 * config.signatureWindowSeconds * 1000),
    wallClock,
  );
  const authenticator = new RequestAuthenticator({
    merchants: deps.merchants,
    admitNonce: (mchid, nonce) => nonces.admit(mchid, nonce),
    wallClock,
    windowSeconds: config.signatureWindowSeconds,
    diagnostics: config.signatureDiagnostics,
  });

  // Before any route, so every route is recorded.
  const routes = collectRoutes(app);
  registerGateway(app, {
    config,
    platform: ctx.platform,
    authenticator,
    limiter: new RateLimiter(wallClock),
    wallClock,
    dashboard,
  });

  // After authentication (faults need request.merchant), before the routes.
  registerSimInfraHooks(app, ctx, sim);
  const simInfra = simInfraHandlers(ctx, sim);
  registerEndpoints(app, SIM_INFRA_ENDPOINTS, simInfra);
  // The backlog is read at scrape time, from the operations service built below.
  const metrics = registerMetrics(app, { backlog: () => operations.backlog() });
  const notifySettings = createNotifySettingsDeps(services);
  registerEndpoints(app, NOTIFY_SETTING_ENDPOINTS, notifySettingHandlers(notifySettings));
  // Callback deliveries run only while the server listens (startServer), never under inject()-only tests.
  const dispatcher = createNotificationDispatcher(services, {
    subscribeClockChanges: (listener) => subscribeClockChanges(ctx.clock, listener),
  });
  dispatcher.observe({
    attempt: (row, result) => {
      if (result.attempt)
        metrics.recordDelivery(row.family, result.attempt.outcome, result.attempt.latency_ms);
    },
    error: loopErrorLog(app),
  });
  const operations = new OperationsService({
    db: deps.db,
    dispatcher,
    deliveryEnabled: config.notifyDelivery,
  });
  registerEndpoints(app, PLATFORM_ENDPOINTS, {
    listCertificates: certificatesHandler(ctx),
    metrics: async () => metrics.registry.metrics(),
    ...healthHandlers(operations),
    ...referenceHandlers(sandboxOpenApiDocument(Object.values(ENDPOINTS))),
  });
  const notifications = new NotificationsService({
    db: deps.db.db,
    clock: ctx.clock,
    wallClock,
    ids: ctx.ids,
    probe: {
      platform: ctx.platform,
      ids: ctx.ids,
      transport: dispatcher.deliveryTransport,
      policy: dispatcher.targetPolicy,
    },
    dispatcher,
  });
  const simNotifications = simNotificationHandlers(notifications, dispatcher);
  registerEndpoints(app, SIM_NOTIFICATION_ENDPOINTS, simNotifications);
  app.addHook('onListen', async () => {
    if (config.notifyDelivery) dispatcher.start();
  });
  app.addHook('onClose', async () => dispatcher.stop());
  const busifavor = createBusifavorAdapters(services);
  registerEndpoints(app, BUSIFAVOR_ENDPOINTS, busifavorHandlers(busifavor));
  const simBusifavor = simBusifavorHandlers(ctx, busifavor);
  registerEndpoints(app, SIM_BUSIFAVOR_ENDPOINTS, simBusifavor);
  registerEndpoints(
    app,
    DASHBOARD_ENDPOINTS,
    dashboardHandlers({
      access: dashboard,
      feed,
      merchants: new MerchantsService(deps.db.db),
      notifySettings: notifySettings.store,
      notifications,
      busifavor,
      sim: { infra: simInfra, notifications: simNotifications, busifavor: simBusifavor },
      wallClock,
    }),
  );
  return { app, ctx, routes, dispatcher, dashboard };
}

/** Logs delivery-loop errors at warn, the same message at most once a minute (the loop retries every poll). */
function loopErrorLog(app: FastifyInstance): (err: unknown) => void {
  let last = { message: '', at: Number.NEGATIVE_INFINITY };
  return (err) => {
    const message = err instanceof Error ? err.message : String(err);
    const now = Date.now();
    if (message === last.message && now - last.at < 60_000) return;
    last = { message, at: now };
    try {
      app.log.warn({ err }, 'callback delivery loop error');
    } catch {
      // Logging must never stop deliveries.
    }
  };
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
