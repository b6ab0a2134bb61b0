import { Type } from '@sinclair/typebox';
import { endpoint } from '../endpoint.js';
import { CertificatesQuery, CertificatesResponse } from '../notify-settings.js';

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
    summary: 'Prometheus metrics: requests by route, status and WeChat code, and latency',
    auth: 'public',
    success: { status: 200, schema: Type.String() },
    produces: 'text/plain; version=0.0.4; charset=utf-8',
  }),
} as const;
