import type { AppConfig } from '../config.js';
import type { PlatformIdentity } from '../credentials/types.js';
import type { DatabaseHandle } from '../db/connect.js';
import type { MerchantRecord } from '../db/merchant-repo.js';
import type { Clock, IdGen } from '../domain/ports.js';

/** Everything route modules need, passed in by buildApp (no module-level singletons). */
export interface ServerContext {
  config: Readonly<AppConfig>;
  db: DatabaseHandle;
  /** Business time (virtual clock per merchant). */
  clock: Clock;
  /** Wall-clock epoch ms for signatures and their windows; never virtual. */
  wallClock: () => number;
  ids: IdGen;
  platform: PlatformIdentity;
}

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
