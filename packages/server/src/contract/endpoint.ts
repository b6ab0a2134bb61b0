import type { Static, TSchema } from '@sinclair/typebox';

/**
 * One operation of the sandbox's HTTP API, as data: the route table, authentication, request validation,
 * the OpenAPI document and the SDK's path list are all read from these entries, so a route cannot exist
 * without one. See ARCHITECTURE.md ("Adding an endpoint").
 */

/**
 * Who may call an operation: `merchant` (APIv3 signature, the default), `public` (no signature), or
 * `dashboard` (the browser dashboard's pages and calls: loopback or its token, and a CSRF header on
 * state changes; see http/dashboard/access.ts). Dashboard operations are not in the OpenAPI document.
 */
export type EndpointAuth = 'merchant' | 'public' | 'dashboard';

/** HTTP methods the platform uses. */
export type EndpointMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * The product family an operation belongs to: its rate-limit error code, its OpenAPI tag, and where its
 * handlers live.
 */
export type EndpointFamily =
  | 'busifavor'
  | 'product-coupon'
  | 'delivery-plan'
  | 'platform'
  | 'simulation'
  | 'operations';

/** A token bucket: `perSecond` sustained, `burst` at once. */
export interface RateLimitRule {
  perSecond: number;
  burst: number;
}

/** An operation. Schemas are TypeBox (JSON Schema), the same ones that validate requests. */
export interface Endpoint {
  /** Unique, stable name: the handler key and the OpenAPI operationId (e.g. `busifavor.createStock`). */
  readonly id: string;
  readonly method: EndpointMethod;
  /** OpenAPI-style template: `/v3/marketing/busifavor/stocks/{stock_id}`. */
  readonly path: string;
  readonly family: EndpointFamily;
  /** One line for the reference page (WeChat's own name in parentheses where it has one). */
  readonly summary: string;
  /** @default 'merchant' */
  readonly auth?: EndpointAuth;
  readonly params?: TSchema;
  readonly query?: TSchema;
  /** A JSON body; `multipart` for the image upload (a signed `meta` part and a `file`). */
  readonly body?: TSchema | 'multipart';
  /**
   * The success answer: a status and its body schema (`null`: no body, e.g. 204). Errors are WeChat's
   * `{code, message, detail?}` and are documented once for every operation.
   */
  readonly success: { readonly status: 200 | 204; readonly schema: TSchema | null };
  /** Content type of a 200 answer other than JSON (e.g. `/metrics`). @default 'application/json' */
  readonly produces?: string;
  /** A documented per-merchant limit of this operation (on top of the merchant-wide one). */
  readonly rateLimit?: RateLimitRule;
  /**
   * Error statuses a public operation answers besides 400 and 500 (503 of `/readyz`), for the OpenAPI
   * document; a signed operation already lists every status of the catalog.
   */
  readonly errorStatuses?: readonly number[];
}

/** Checks an entry's literal types while keeping them (ids, methods, schemas stay precise). */
export function endpoint<const E extends Endpoint>(entry: E): E {
  return entry;
}

/** `{stock_id}` → `:stock_id`: the route pattern Fastify matches. */
export function routePattern(path: string): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}

type StaticOr<S, Fallback> = S extends TSchema ? Static<S> : Fallback;

/** The validated parts of a request to operation `E`, typed from its schemas. */
export interface EndpointRequest<E extends Endpoint> {
  params: StaticOr<E['params'], Record<string, never>>;
  query: StaticOr<E['query'], Record<string, never>>;
  body: E['body'] extends TSchema ? Static<E['body']> : undefined;
}

/** What a handler of `E` resolves to: the success body, or nothing for a 204. */
export type EndpointResult<E extends Endpoint> = E['success']['schema'] extends TSchema
  ? Static<E['success']['schema']>
  : undefined;
