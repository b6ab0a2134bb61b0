import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  type Endpoint,
  type EndpointRequest,
  type EndpointResult,
  routePattern,
} from '../contract/endpoint.js';
import { errors } from '../errors.js';
import type { AuthenticatedMerchant, MultipartPart } from './context.js';

/** Who called: the merchant whose signature verified, and the upload's parts for a multipart operation. */
export interface MerchantCaller {
  merchant: AuthenticatedMerchant;
  /** Parts of a multipart/form-data body (only for `body: 'multipart'` operations). */
  parts: readonly MultipartPart[] | undefined;
}

/** A public or dashboard operation has no merchant caller (the dashboard acts for the merchant it names). */
export type Caller<E extends Endpoint> = E['auth'] extends 'public' | 'dashboard'
  ? undefined
  : MerchantCaller;

/** Serves one operation: validated input in, the success body (or nothing, for 204) out. */
export type EndpointHandler<E extends Endpoint> = (
  request: EndpointRequest<E>,
  caller: Caller<E>,
) => Promise<EndpointResult<E>>;

/** One handler per entry of a table, by the entry's key. */
export type EndpointHandlers<T extends Record<string, Endpoint>> = { [K in keyof T]: EndpointHandler<T[K]> };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The table entry a route serves; every route has one (see {@link registerEndpoints}). */
    endpoint?: Endpoint;
  }
}

/**
 * Registers one route per table entry, validating params, query and body with the entry's schemas and
 * calling its handler. The route carries its entry in `config.endpoint`, which is where the gateway reads
 * its authentication, rate limit and family.
 */
export function registerEndpoints<T extends Record<string, Endpoint>>(
  app: FastifyInstance,
  table: T,
  handlers: EndpointHandlers<T>,
): void {
  for (const key of Object.keys(table) as (keyof T & string)[]) {
    registerEndpoint(app, table[key] as T[typeof key], handlers[key]);
  }
}

function registerEndpoint<E extends Endpoint>(app: FastifyInstance, entry: E, handler: EndpointHandler<E>) {
  const schema = {
    ...(entry.params ? { params: entry.params } : {}),
    ...(entry.query ? { querystring: entry.query } : {}),
    ...(entry.body && entry.body !== 'multipart' ? { body: entry.body } : {}),
  };
  app.route({
    method: entry.method,
    url: routePattern(entry.path),
    schema,
    config: { endpoint: entry },
    handler: async (request, reply) => {
      const input = requestOf<E>(request);
      const result = await handler(input, callerOf(entry, request));
      if (entry.produces) void reply.type(entry.produces);
      if (entry.success.status === 204) return reply.code(204).send();
      return result;
    },
  });
}

/**
 * The validated request. Fastify has validated each part against the entry's schemas before the handler
 * runs (the gateway parses the body after the signature, then Ajv validates it), so the parts are exactly
 * the schemas' static types; an absent schema means an empty part. This is the one place the static
 * types are asserted: a route built in a loop over a heterogeneous table cannot have them inferred
 * (Fastify's TypeBox type provider infers per literal route, so it would not remove this assertion, only
 * move it), and every handler receives them typed from its entry.
 */
function requestOf<E extends Endpoint>(request: FastifyRequest): EndpointRequest<E> {
  return {
    params: request.params ?? {},
    query: request.query ?? {},
    body: request.body,
  } as EndpointRequest<E>;
}

function callerOf<E extends Endpoint>(entry: E, request: FastifyRequest): Caller<E> {
  if (entry.auth === 'public' || entry.auth === 'dashboard') return undefined as Caller<E>;
  // The gateway authenticates every non-public route before validation; no merchant here is a wiring bug.
  if (!request.merchant) throw errors.SYSTEM_ERROR();
  return { merchant: request.merchant, parts: request.multipartParts } as Caller<E>;
}
