import type { IncomingMessage, ServerResponse } from 'node:http';
import { DecryptionError, SignatureVerificationError } from '../errors.js';
import type { NotificationEvent } from './events.js';
import {
  createNotificationParser,
  InvalidNotificationError,
  type NotificationParserOptions,
} from './parse.js';

/**
 * Webhook adapters. Both answer WeChat the way it counts success: 204 after the handler resolved; on
 * failure 401 (signature), 400 (envelope or decryption) or 500 (handler threw), with
 * `{"code":"FAIL","message":…}`.
 * @see ../../../../shared/docs/protocol.md §6.4
 */

/** Called with each verified event; resolve to acknowledge, throw to have WeChat redeliver. */
export type NotificationHandler = (event: NotificationEvent) => void | Promise<void>;

/** Adapter options. */
export interface NotificationAdapterOptions extends NotificationParserOptions {
  /** Largest accepted body. @default 1048576 */
  maxBodyBytes?: number;
  /** Called with every refused notification (for logs). @default undefined */
  onError?: (error: unknown) => void;
}

/** A status and JSON body to answer with. */
interface Answer {
  status: number;
  body: string;
}

function failure(status: number, message: string): Answer {
  return { status, body: JSON.stringify({ code: 'FAIL', message }) };
}

function answerFor(error: unknown): Answer {
  if (error instanceof SignatureVerificationError) return failure(401, error.message);
  if (error instanceof InvalidNotificationError || error instanceof DecryptionError) {
    return failure(400, error.message);
  }
  return failure(500, error instanceof Error ? error.message : 'the notification handler failed');
}

function createCore(options: NotificationAdapterOptions, onEvent: NotificationHandler) {
  const parse = createNotificationParser(options);
  return async (
    headers: Parameters<typeof parse>[0]['headers'],
    body: string | Uint8Array,
  ): Promise<Answer> => {
    try {
      const event = await parse({ headers, body });
      await onEvent(event);
      return { status: 204, body: '' };
    } catch (error) {
      options.onError?.(error);
      return answerFor(error);
    }
  };
}

/** What frameworks leave on the request: a raw body (Buffer/string) or, wrongly, parsed JSON. */
type RequestWithBody = IncomingMessage & { rawBody?: unknown; body?: unknown };

/**
 * An adapter for node:http, Express, Koa-style and Fastify (`reply.raw`/`request.raw`) request handlers.
 * It reads the raw body itself, or uses `req.rawBody` / a Buffer or string `req.body` (e.g.
 * `express.raw({ type: 'application/json' })`). A parsed JSON `req.body` is refused: its bytes are gone.
 * @example
 * http.createServer(createNodeHandler({ apiV3Key, keys: client.platformKeys }, async (event) => { … }));
 */
export function createNodeHandler(
  options: NotificationAdapterOptions,
  onEvent: NotificationHandler,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const handle = createCore(options, onEvent);
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  return async (req, res) => {
    let answer: Answer;
    if (req.method !== 'POST') {
      answer = failure(405, 'notifications are POST requests');
    } else {
      const raw = await readRawBody(req as RequestWithBody, maxBodyBytes);
      answer = 'error' in raw ? raw.error : await handle(req.headers, raw.body);
    }
    if (answer.status === 204) {
      res.writeHead(204).end();
    } else {
      res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(answer.body);
    }
  };
}

async function readRawBody(
  req: RequestWithBody,
  maxBodyBytes: number,
): Promise<{ body: string | Uint8Array } | { error: Answer }> {
  for (const candidate of [req.rawBody, req.body]) {
    if (typeof candidate === 'string' || candidate instanceof Uint8Array) return { body: candidate };
  }
  if (req.body !== undefined && req.body !== null) {
    return {
      error: failure(
        500,
        'the request body was already parsed as JSON, so its signature cannot be checked; mount the handler ' +
          "before JSON middleware or use express.raw({ type: 'application/json' })",
      ),
    };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > maxBodyBytes) return { error: failure(413, `the body exceeds ${maxBodyBytes} bytes`) };
    chunks.push(buf);
  }
  return { body: Buffer.concat(chunks) };
}

/**
 * An adapter for the Fetch API: Hono, Next.js route handlers, Deno, Bun, edge runtimes.
 * @example
 * export const POST = createFetchHandler({ apiV3Key, keys: { publicKey: { keyId, key } } }, onEvent);
 */
export function createFetchHandler(
  options: NotificationAdapterOptions,
  onEvent: NotificationHandler,
): (request: Request) => Promise<Response> {
  const handle = createCore(options, onEvent);
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  return async (request) => {
    let answer: Answer;
    if (request.method !== 'POST') {
      answer = failure(405, 'notifications are POST requests');
    } else {
      const body = new Uint8Array(await request.arrayBuffer());
      answer =
        body.byteLength > maxBodyBytes
          ? failure(413, `the body exceeds ${maxBodyBytes} bytes`)
          : await handle(request.headers, body);
    }
    return answer.status === 204
      ? new Response(null, { status: 204 })
      : new Response(answer.body, { status: answer.status, headers: { 'Content-Type': 'application/json' } });
  };
}
