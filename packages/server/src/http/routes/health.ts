import type { PLATFORM_ENDPOINTS } from '../../contract/endpoints/platform.js';
import { errors } from '../../errors.js';
import type { OperationsService } from '../../services/operations.js';
import type { EndpointHandler } from '../endpoints.js';

type HealthEndpoints = Pick<typeof PLATFORM_ENDPOINTS, 'health' | 'readiness'>;

/**
 * GET /healthz (the process answers) and GET /readyz (ready to serve: 200 with the checks, or 503
 * SERVICE_UNAVAILABLE whose message and `detail.failed` name the failed checks, `detail.checks` all).
 */
export function healthHandlers(health: OperationsService): {
  [K in keyof HealthEndpoints]: EndpointHandler<HealthEndpoints[K]>;
} {
  return {
    health: async () => ({ status: 'ok', uptime_seconds: health.uptimeSeconds() }),
    readiness: async () => {
      const { ready, failed, checks } = await health.readiness();
      if (!ready) {
        throw errors.SERVICE_UNAVAILABLE(`服务未就绪：${failed.join(', ')}`, { failed, checks });
      }
      return { status: 'ready', checks };
    },
  };
}
