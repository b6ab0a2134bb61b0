import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics (served at GET /metrics by its table entry): requests by route and status, and
 * latency; callback delivery attempts by family and outcome, and their latency; the outbox backlog
 * (read from the database at scrape time, not per request); Node's default process metrics. One registry
 * per app (no global singleton), so several apps in one process (tests) do not share counters.
 */

/** What the metrics read at scrape time. */
export interface MetricsSources {
  /** Notifications waiting for delivery, per family (OperationsService.backlog). */
  backlog(): Promise<ReadonlyMap<string, number>>;
}

/** The app's metrics: the registry to serve, and what the dispatcher reports to. */
export interface AppMetrics {
  registry: Registry;
  /** One persisted delivery attempt: its family, outcome (`delivered`, `failed`, `refused`) and latency. */
  recordDelivery(family: string, outcome: string, latencyMs: number): void;
}

export function registerMetrics(app: FastifyInstance, sources: MetricsSources): AppMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'wps_http_requests_total',
    help: 'HTTP requests by method, route pattern, status and WeChat error code',
    labelNames: ['method', 'route', 'status', 'code'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'wps_http_request_duration_seconds',
    help: 'Time from request to response by route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const attempts = new Counter({
    name: 'wps_notify_delivery_attempts_total',
    help: 'Callback delivery attempts by family and outcome (delivered, failed, refused by the target policy)',
    labelNames: ['family', 'outcome'] as const,
    registers: [registry],
  });
  const deliveryLatency = new Histogram({
    name: 'wps_notify_delivery_duration_seconds',
    help: 'Time of a callback delivery attempt (connect to response) by family',
    labelNames: ['family'] as const,
    // Up to the 5 s budget of an attempt.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'wps_notify_backlog',
    help: 'Notifications waiting for delivery (pending, due or retrying) by family, read at scrape time',
    labelNames: ['family'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        for (const [family, count] of await sources.backlog()) this.set({ family }, count);
      } catch {
        // The database is unreachable: no backlog samples this scrape (/readyz says why); the rest still serve.
      }
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({
      method: request.method,
      route,
      status: String(reply.statusCode),
      code: request.errorCode ?? '',
    });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  return {
    registry,
    recordDelivery(family, outcome, latencyMs) {
      attempts.inc({ family, outcome });
      deliveryLatency.observe({ family }, latencyMs / 1000);
    },
  };
}
