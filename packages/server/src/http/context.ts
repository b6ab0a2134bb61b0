import type { MerchantRecord } from '../db/merchant-repo.js';
import type { ServiceContext } from '../services/context.js';

/**
 * The shared ports route modules may use, passed in by buildApp (no module-level singletons). No
 * database: routes get services, which the composition root builds over it.
 */
export type ServerContext = Omit<ServiceContext, 'db'>;

/** The merchant whose signature a request carried, and the serial of the key that signed it. */
export interface AuthenticatedMerchant extends MerchantRecord {
  serialNo: string;
}

/** One part of a multipart/form-data body. */
export interface MultipartPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the request signature verified. */
    merchant?: AuthenticatedMerchant;
    /** Raw entity bytes as received (before any parsing). */
    rawBody?: Buffer;
    /** Parts of a multipart/form-data body, when it was one. */
    multipartParts?: MultipartPart[];
    /** The WeChat error code answered, for metrics and the request log. */
    errorCode?: string;
  }
}

/** Route registration signature shared by every route module. */
export type RegisterRoutes = (
  app: import('fastify').FastifyInstance,
  ctx: ServerContext,
) => Promise<void> | void;
