import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics (served at GET /metrics by its table entry): requests by route and status, and latency. One registry per app
 * (no global singleton), so several apps in one process (tests) do not share counters.
 */
export function registerMetrics(app: FastifyInstance): Registry {
  const registry = new Registry();
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

  return registry;
}
