import { Type } from '@sinclair/typebox';
import { endpoint } from '../endpoint.js';
import { HealthResponse, ReadinessResponse } from '../health.js';
import { CertificatesQuery, CertificatesResponse } from '../notify-settings.js';
import type { OpenApiDocument } from '../openapi.js';

const JAVASCRIPT = 'text/javascript; charset=utf-8';

/**
 * The API reference: the OpenAPI document and a page that renders it, with the renderer's assets served
 * by the sandbox itself (no CDN, works offline). Public, like `/metrics`.
 */
export const REFERENCE_ENDPOINTS = {
  getOpenApiDocument: endpoint({
    id: 'getOpenApiDocument',
    method: 'GET',
    path: '/openapi.json',
    family: 'operations',
    summary: 'This OpenAPI 3.1 document: every operation of the sandbox, built from its endpoint table',
    auth: 'public',
    success: {
      status: 200,
      schema: Type.Unsafe<OpenApiDocument>({
        type: 'object',
        description: 'An OpenAPI 3.1.0 document',
        required: ['openapi', 'info', 'paths'],
        properties: {
          openapi: { type: 'string', const: '3.1.0' },
          info: { type: 'object' },
          paths: { type: 'object' },
        },
      }),
    },
    produces: 'application/json; charset=utf-8',
  }),
  getReferencePage: endpoint({
    id: 'getReferencePage',
    method: 'GET',
    path: '/docs',
    family: 'operations',
    summary: 'The API reference page (Swagger UI) rendering /openapi.json',
    auth: 'public',
    success: { status: 200, schema: Type.String({ description: 'An HTML page' }) },
    produces: 'text/html; charset=utf-8',
  }),
  getReferencePageStyles: endpoint({
    id: 'getReferencePageStyles',
    method: 'GET',
    path: '/docs/swagger-ui.css',
    family: 'operations',
    summary: 'The reference page’s style sheet (from the swagger-ui-dist package)',
    auth: 'public',
    success: { status: 200, schema: Type.String({ description: 'CSS' }) },
    produces: 'text/css; charset=utf-8',
  }),
  getReferencePageBundle: endpoint({
    id: 'getReferencePageBundle',
    method: 'GET',
    path: '/docs/swagger-ui-bundle.js',
    family: 'operations',
    summary:
      'The reference page’s renderer (Swagger UI’s standalone bundle, from the swagger-ui-dist package)',
    auth: 'public',
    success: { status: 200, schema: Type.String({ description: 'JavaScript' }) },
    produces: JAVASCRIPT,
  }),
  getReferencePageInitializer: endpoint({
    id: 'getReferencePageInitializer',
    method: 'GET',
    path: '/docs/swagger-initializer.js',
    family: 'operations',
    summary: 'The reference page’s start-up script: renders /openapi.json',
    auth: 'public',
    success: { status: 200, schema: Type.String({ description: 'JavaScript' }) },
    produces: JAVASCRIPT,
  }),
} as const;

/** Platform operations outside a product family: certificates, and the sandbox's own operations. */
export const PLATFORM_ENDPOINTS = {
  listCertificates: endpoint({
    id: 'listCertificates',
    method: 'GET',
    path: '/v3/certificates',
    family: 'platform',
    summary: 'Download the platform certificates (下载平台证书), each encrypted under the APIv3 key',
    query: CertificatesQuery,
    success: { status: 200, schema: CertificatesResponse },
  }),
  metrics: endpoint({
    id: 'metrics',
    method: 'GET',
    path: '/metrics',
    family: 'operations',
    summary:
      'Prometheus metrics: requests by route, status and WeChat code, latency, callback delivery attempts and latency, the outbox backlog, and Node process metrics',
    auth: 'public',
    success: { status: 200, schema: Type.String() },
    produces: 'text/plain; version=0.0.4; charset=utf-8',
  }),
  health: endpoint({
    id: 'health',
    method: 'GET',
    path: '/healthz',
    family: 'operations',
    summary: 'Liveness: the process is up (no database access)',
    auth: 'public',
    success: { status: 200, schema: HealthResponse },
  }),
  readiness: endpoint({
    id: 'readiness',
    method: 'GET',
    path: '/readyz',
    family: 'operations',
    summary:
      'Readiness: the database answers, every migration is applied and the callback dispatcher runs; 503 SERVICE_UNAVAILABLE naming the failed checks otherwise',
    auth: 'public',
    success: { status: 200, schema: ReadinessResponse },
    errorStatuses: [503],
  }),
  ...REFERENCE_ENDPOINTS,
} as const;
