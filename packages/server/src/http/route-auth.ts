import type { FastifyInstance } from 'fastify';

/**
 * Authentication is a property of the matched route, never of the URL string: the router matches the
 * percent-decoded path (and the path inside an absolute-form target), so a prefix test on the raw URL
 * let `/%73andbox/…` through unsigned. A route requires the merchant signature unless its endpoint-table
 * entry says `auth: 'public'` or `auth: 'dashboard'` (the dashboard's own access rules), so a route added
 * later is protected by default.
 */
export type RouteAuth = 'merchant' | 'public' | 'dashboard';

/** One registered route, as the router matches it. */
export interface RegisteredRoute {
  method: string;
  /** The route pattern, e.g. `/v3/marketing/busifavor/stocks/:stock_id`. */
  url: string;
  auth: RouteAuth;
}

/**
 * The route's authentication, from its table entry; anything but an explicit `'public'` or
 * `'dashboard'` means signed.
 */
export function routeAuth(config: { endpoint?: { auth?: unknown } } | undefined): RouteAuth {
  const auth = config?.endpoint?.auth;
  return auth === 'public' || auth === 'dashboard' ? auth : 'merchant';
}

/**
 * Records every route registered after this call (add it before any route) and refuses, at startup, a
 * route without an endpoint-table entry (registerEndpoints gives every route its entry) or with an `auth`
 * that is not `merchant`, `public` or `dashboard` (a typo must not silently mean any of them).
 */
export function collectRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (options) => {
    const entry = (options.config as { endpoint?: { auth?: unknown } } | undefined)?.endpoint;
    if (!entry) {
      throw new Error(
        `route ${options.method} ${options.url} has no endpoint-table entry (register it with registerEndpoints)`,
      );
    }
    const auth = entry.auth;
    if (auth !== undefined && auth !== 'merchant' && auth !== 'public' && auth !== 'dashboard') {
      throw new Error(
        `route ${options.url}: auth must be 'merchant', 'public' or 'dashboard', got ${String(auth)}`,
      );
    }
    const methods = Array.isArray(options.method) ? options.method : [options.method];
    for (const method of methods) {
      routes.push({ method, url: options.url ?? options.path, auth: routeAuth(options.config) });
    }
  });
  return routes;
}

/**
 * Why a raw request-target is not the plain spelling of the route it matched, or undefined when it is.
 * The signature covers the raw target, so the static segments must be spelled exactly as the route
 * (no percent-encoded letters, no dot segments, no doubled slash, origin-form only); a path parameter
 * segment may carry any percent-encoding, since its decoded value is what the handler reads.
 */
export function spellingIssue(rawUrl: string, pattern: string): string | undefined {
  if (!rawUrl.startsWith('/')) return 'the request-target must be a path (origin-form), not an absolute URL';
  const path = rawUrl.split('?', 1)[0] as string;
  const rawSegments = path.split('/');
  const routeSegments = pattern.split('/');
  if (rawSegments.length !== routeSegments.length) {
    return `the path must be spelled ${pattern} (no doubled slash or dot segments)`;
  }
  for (let i = 0; i < routeSegments.length; i++) {
    const expected = routeSegments[i] as string;
    const actual = rawSegments[i] as string;
    if (expected.startsWith(':')) {
      if (actual === '' || actual === '.' || actual === '..') {
        return `the path segment for ${expected.slice(1)} must not be empty or a dot segment`;
      }
    } else if (actual !== expected) {
      return `the path must be spelled ${pattern}: "${actual}" is not "${expected}"`;
    }
  }
  return undefined;
}
