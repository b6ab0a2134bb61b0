import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { AppConfig } from '../config.js';
import { errors, WechatError } from '../errors.js';
import { newRequestId } from '../request-id.js';

/**
 * Connection-level limits of the HTTP server: how long a client may take to send headers and a whole
 * request, how long an idle keep-alive connection stays open, and how errors Node's HTTP parser raises
 * before Fastify sees a request (timeouts, oversized headers, bad framing) are answered: in WeChat's
 * error shape with a Request-ID, then the connection closes.
 * @see docs/fidelity.md (Gateway)
 */

/** The timeout settings of {@link AppConfig}. */
export type ConnectionTimeouts = Pick<AppConfig, 'headersTimeoutMs' | 'requestTimeoutMs' | 'idleTimeoutMs'>;

/** Fastify constructor options that set the server's timeouts. */
export interface ServerTimeoutOptions {
  requestTimeout: number;
  keepAliveTimeout: number;
  http: {
    headersTimeout: number;
    requestTimeout: number;
    connectionsCheckingInterval: number;
  };
}

/**
 * How often Node looks for requests past their header or request timeout (its default, 30 s, would let
 * a 10 s timeout run to 40 s): a quarter of the headers timeout, between 10 ms and 1 s.
 */
export function connectionsCheckingIntervalMs(timeouts: ConnectionTimeouts): number {
  return Math.min(1000, Math.max(10, Math.floor(timeouts.headersTimeoutMs / 4)));
}

/**
 * Options for `Fastify({...})`. Fastify passes `http` to `http.createServer` and sets `requestTimeout`
 * and `keepAliveTimeout` on the server afterwards, so the request timeout goes in both places.
 * @example Fastify({ ...serverTimeoutOptions(config), clientErrorHandler: createClientErrorHandler(config) })
 */
export function serverTimeoutOptions(timeouts: ConnectionTimeouts): ServerTimeoutOptions {
  return {
    requestTimeout: timeouts.requestTimeoutMs,
    // Node keeps an idle socket open one second past this (the `Keep-Alive: timeout` it advertises), so
    // a client that reuses a socket just before the advertised end does not race the close.
    keepAliveTimeout: timeouts.idleTimeoutMs,
    http: {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      connectionsCheckingInterval: connectionsCheckingIntervalMs(timeouts),
    },
  };
}

/** Sockets whose request was already answered outside Node's response object (see body-too-large.ts). */
const answeredSockets = new WeakSet<Socket>();

/** Marks a socket as answered: a later timeout or parser error on it closes it without a second answer. */
export function markAnswered(socket: Socket): void {
  answeredSockets.add(socket);
}

/**
 * A complete HTTP/1.1 response carrying WeChat's error body, a Request-ID and `Connection: close`. The
 * answer to a HEAD request has the headers only (a body there would be read as the next response).
 */
export function rawErrorResponse(
  error: WechatError,
  requestId: string = newRequestId(),
  head = false,
): string {
  const body = JSON.stringify(error.toBody());
  return (
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n` +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    `Request-ID: ${requestId}\r\n` +
    'Connection: close\r\n\r\n' +
    (head ? '' : body)
  );
}

/** How long a connection we answered and half-closed waits for the client to close before it is destroyed. */
export const ANSWERED_LINGER_MS = 2_000;

/**
 * Half-closes the socket (FIN) after `response`, and destroys it once the client has closed its side or
 * after {@link ANSWERED_LINGER_MS}. Destroying at once would make the kernel reset the connection while
 * request bytes are still unread, and the client could lose the answer.
 */
export function endGracefully(socket: Socket, response = ''): void {
  socket.end(response);
  const timer = setTimeout(() => socket.destroy(), ANSWERED_LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/** An error Node's HTTP server reports through `clientError`. */
export interface ClientError extends Error {
  code?: string;
}

/** The answer to a client error: 408 for a timeout, 431 for oversized headers, else 400. */
export function clientErrorAnswer(error: ClientError, timeouts: ConnectionTimeouts): WechatError {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new WechatError('INVALID_REQUEST', 408, 'HTTP 请求超时', {
        issue: `the request headers must arrive within ${timeouts.headersTimeoutMs} ms and the whole request within ${timeouts.requestTimeoutMs} ms`,
      });
    case 'HPE_HEADER_OVERFLOW':
      return new WechatError('INVALID_REQUEST', 431, 'HTTP 请求头过大', {
        location: 'header',
        issue: `the request headers exceed the server limit (${maxHeaderSize} bytes)`,
      });
    default:
      return errors.INVALID_REQUEST('HTTP 请求格式错误');
  }
}

/**
 * Fastify's `clientErrorHandler`: answers in WeChat's shape when the socket can still be written and
 * nothing was answered on it yet, then closes the connection gracefully.
 */
export function createClientErrorHandler(
  timeouts: ConnectionTimeouts,
): (error: ClientError, socket: Socket) => void {
  return (error, socket) => {
    if (!socket.writable || answeredSockets.has(socket) || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    markAnswered(socket);
    // Node hands over the bytes it could not parse; a HEAD request's answer must not carry a body.
    const packet = (error as ClientError & { rawPacket?: Buffer }).rawPacket;
    const head = packet?.subarray(0, 5).toString('latin1') === 'HEAD ';
    endGracefully(socket, rawErrorResponse(clientErrorAnswer(error, timeouts), undefined, head));
  };
}
