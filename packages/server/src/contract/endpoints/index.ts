import { type Endpoint, type RateLimitRule, routePattern } from '../endpoint.js';
import { BUSIFAVOR_ENDPOINTS } from './busifavor.js';
import { NOTIFY_SETTING_ENDPOINTS } from './notify-settings.js';
import { PLATFORM_ENDPOINTS } from './platform.js';
import { SIMULATION_ENDPOINTS } from './simulation.js';

export { BUSIFAVOR_ENDPOINTS, NOTIFY_SETTING_ENDPOINTS, PLATFORM_ENDPOINTS, SIMULATION_ENDPOINTS };

/** Every operation the server serves, keyed by id. */
export const ENDPOINTS = {
  ...NOTIFY_SETTING_ENDPOINTS,
  ...PLATFORM_ENDPOINTS,
  ...BUSIFAVOR_ENDPOINTS,
  ...SIMULATION_ENDPOINTS,
} as const satisfies Record<string, Endpoint>;

/** The documented per-endpoint limits, keyed `METHOD /route/pattern` as `endpointRateLimits` is. */
export function documentedRateLimits(): Record<string, RateLimitRule> {
  const limits: Record<string, RateLimitRule> = {};
  for (const entry of Object.values(ENDPOINTS) as Endpoint[]) {
    if (entry.rateLimit) limits[`${entry.method} ${routePattern(entry.path)}`] = entry.rateLimit;
  }
  return limits;
}
