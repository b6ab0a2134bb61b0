import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { REQUEST_LOG_MESSAGE } from './log-output.js';

/**
 * The request log: one line per request when its answer is sent, at `info` (Fastify's own "incoming
 * request" / "request completed" pair is turned off in app.ts). Only what identifies the call is logged:
 * never a header value, a body, a signature or a key, and the path without its query string.
 */

/** The fields of one request line. */
export interface RequestLogFields {
  method: string;
  /** The request path as sent, without the query string (which may carry values not meant for logs). */
  path: string;
  status: number;
  /** The WeChat error code answered, when the answer is an error. */
  code?: string;
  /** Milliseconds from the request's arrival to its answer. */
  ms: number;
  /** The merchant whose signature verified, when one did. */
  mchid?: string;
  /** The Request-ID of the answer. */
  rid: string;
}

/** Longest path logged; the rest is cut (a request-target may be kilobytes long). */
const MAX_PATH_LENGTH = 512;

/** The request line's fields. */
export function requestLogFields(request: FastifyRequest, reply: FastifyReply): RequestLogFields {
  const path = (request.raw.url ?? request.url).split('?', 1)[0] as string;
  return {
    method: request.method,
    path: path.length > MAX_PATH_LENGTH ? `${path.slice(0, MAX_PATH_LENGTH)}…` : path,
    status: reply.statusCode,
    ...(request.errorCode !== undefined ? { code: request.errorCode } : {}),
    ms: Math.round(reply.elapsedTime * 10) / 10,
    ...(request.merchant ? { mchid: request.merchant.mchid } : {}),
    rid: String(request.id),
  };
}

/** Logs one line per request at `info` when its answer has been sent. */
export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    app.log.info(requestLogFields(request, reply), REQUEST_LOG_MESSAGE);
  });
}
