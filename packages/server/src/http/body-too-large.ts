import type { FastifyReply, FastifyRequest } from 'fastify';
import { WechatError } from '../errors.js';
import { endGracefully, markAnswered, rawErrorResponse } from './connection-limits.js';

/**
 * The answer to a request body over the limit (`bodyLimitBytes`), whether its Content-Length announced
 * it or a chunked body crossed the limit mid-stream.
 *
 * Node would close the connection right after a `Connection: close` answer while the client is still
 * uploading; the kernel then resets it and most clients report EPIPE or ECONNRESET instead of the
 * answer. So the answer is written on the socket directly, and the rest of the upload is read and
 * discarded until the client stops (clients close once they have read the answer), the body ends,
 * {@link TOO_LARGE_DRAIN_BYTES} were discarded, or the request timeout (`requestTimeoutMs`) passes.
 * @see docs/fidelity.md (Gateway: oversized body)
 */

/** Bytes of an oversized upload read and discarded after the answer before the connection is cut. */
export const TOO_LARGE_DRAIN_BYTES = 64 * 1024 * 1024;

/** 413 `PARAM_ERROR` 请求体过大, in WeChat's shape. */
export function bodyTooLargeError(limitBytes?: number): WechatError {
  const limit = limitBytes === undefined ? 'the server limit' : `the ${limitBytes}-byte limit`;
  return new WechatError('PARAM_ERROR', 413, '请求体过大', {
    location: 'body',
    issue: `the request body is over ${limit}`,
  });
}

/** Answers 413 with a Request-ID and `Connection: close`, then drains the upload (see above). */
export function answerBodyTooLarge(request: FastifyRequest, reply: FastifyReply): void {
  void reply.hijack();
  const raw = request.raw;
  const socket = raw.socket;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  markAnswered(socket);
  socket.write(
    rawErrorResponse(
      bodyTooLargeError(request.routeOptions.bodyLimit),
      request.id,
      request.method === 'HEAD',
    ),
  );
  if (raw.complete) {
    endGracefully(socket);
    return;
  }
  let drained = 0;
  raw.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > TOO_LARGE_DRAIN_BYTES) socket.destroy();
  });
  raw.once('end', () => endGracefully(socket));
  // The client going away mid-upload is the expected way this ends.
  raw.on('error', () => {});
  raw.resume();
}
