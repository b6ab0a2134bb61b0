import type { IncomingMessage, ServerResponse } from 'node:http';
import { DecryptionError, SignatureVerificationError } from '../protocol/errors.js';
import type { NotificationEvent } from './events.js';
import {
  createNotificationParser,
  InvalidNotificationError,
  type NotificationParserOptions,
  type RawNotification,
} from './parse.js';

/**
 * Webhook adapters. They answer WeChat the way it counts success: 204 with an empty body once the handler
 * resolved; every failure is 500 with `{"code":"FAIL","message":…}` (WeChat's documented failure answer),
 * so WeChat redelivers. The message is a fixed reason, never the error text: a handler's error may name a
 * database, a key or a customer. The error itself goes to `onError`.
 * @see docs/protocol.md §6.4
 */

/** Called with each verified event; resolve to acknowledge, throw to have WeChat redeliver. */
export type NotificationHandler = (event: NotificationEvent) => void | Promise<void>;

/** Adapter options. */
export interface NotificationAdapterOptions extends NotificationParserOptions {
  /** Largest accepted body. @default 1048576 */
  maxBodyBytes?: number;
  /** Called with every refused notification and every handler error (for logs). @default undefined */
  onError?: (error: unknown) => void;
}

/** What to answer WeChat: 204 and no body, or 500 and a FAIL JSON body. */
export interface NotificationAnswer {
  status: 204 | 500;
  /** `Content-Type: application/json` on a failure, nothing on success. */
  headers: Record<string, string>;
  /** Empty on success. */
  body: string;
}

/** The fixed reasons sent to WeChat (the `message` of the FAIL body). */
export const FAILURE_REASONS = {
  method: 'notifications are POST requests',
  tooLarge: 'the notification body is too large',
  alreadyParsed: 'the notification body was parsed before its signature could be checked',
  signature: 'signature verification failed',
  envelope: 'the notification is not a valid APIv3 envelope',
  decryption: 'the notification resource could not be decrypted',
  handler: 'the notification handler failed',
} as const;

const SUCCESS: NotificationAnswer = { status: 204, headers: {}, body: '' };

function failure(reason: string): NotificationAnswer {
  return {
    status: 500,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code: 'FAIL', message: reason }),
  };
}

function reasonFor(error: unknown): string {
  if (error instanceof SignatureVerificationError) return FAILURE_REASONS.signature;
  if (error instanceof InvalidNotificationError) return FAILURE_REASONS.envelope;
  if (error instanceof DecryptionError) return FAILURE_REASONS.decryption;
  return FAILURE_REASONS.handler;
}

/**
 * The framework-neutral core: give it the headers and the raw body (string or bytes, exactly as received),
 * send back what it answers. Use it where the framework owns the body, e.g. Fastify with a `parseAs: 'string'`
 * content-type parser (see the README).
 * @example
 * const handle = createRawNotificationHandler(options, events.dispatch);
 * const answer = await handle({ headers: request.headers, body: request.body as string });
 * reply.code(answer.status).headers(answer.headers).send(answer.body);
 */
export function createRawNotificationHandler(
  options: NotificationAdapterOptions,
  onEvent: NotificationHandler,
): (raw: RawNotification) => Promise<NotificationAnswer> {
  const parse = createNotificationParser(options);
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  return async (raw) => {
    const size = typeof raw.body === 'string' ? Buffer.byteLength(raw.body) : raw.body.byteLength;
    if (size > maxBodyBytes) return failure(FAILURE_REASONS.tooLarge);
    let event: NotificationEvent;
    try {
      event = await parse(raw);
    } catch (error) {
      options.onError?.(error);
      return failure(reasonFor(error));
    }
    try {
      await onEvent(event);
      return SUCCESS;
    } catch (error) {
      options.onError?.(error);
      return failure(FAILURE_REASONS.handler);
    }
  };
}

/** What frameworks leave on the request: a raw body (Buffer/string) or, wrongly, parsed JSON. */
type RequestWithBody = IncomingMessage & { rawBody?: unknown; body?: unknown };

/**
 * An adapter for node:http and Express-style `(req, res)` handlers. It reads the raw body from the stream,
 * or uses `req.rawBody` / a Buffer or string `req.body` (Express: `express.raw({ type: 'application/json' })`
 * on the route). A parsed JSON `req.body` is refused: its bytes, and so its signature, are gone.
 * For Fastify use `createRawNotificationHandler` (Fastify consumes the stream before handlers run).
 * @example
 * http.createServer(createNodeHandler({ apiV3Key, keys: client.platformKeys }, async (event) => { … }));
 */
export function createNodeHandler(
  options: NotificationAdapterOptions,
  onEvent: NotificationHandler,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const handle = createRawNotificationHandler(options, onEvent);
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  return async (req, res) => {
    let answer: NotificationAnswer;
    if (req.method !== 'POST') {
      answer = failure(FAILURE_REASONS.method);
    } else {
      const raw = await readRawBody(req as RequestWithBody, maxBodyBytes);
      if ('problem' in raw) {
        options.onError?.(new InvalidNotificationError(BODY_PROBLEMS[raw.problem]));
        answer = failure(FAILURE_REASONS[raw.problem]);
      } else {
        answer = await handle({ headers: req.headers, body: raw.body });
      }
    }
    res.writeHead(answer.status, answer.headers).end(answer.body || undefined);
  };
}

/** What `onError` is told (the developer's side; WeChat gets the short reason). */
const BODY_PROBLEMS = {
  tooLarge: 'the notification body exceeds maxBodyBytes',
  alreadyParsed:
    'the request body was already parsed as JSON, so its signature cannot be checked; mount the handler ' +
    "before JSON middleware or use express.raw({ type: 'application/json' }) on its route",
} as const;

async function readRawBody(
  req: RequestWithBody,
  maxBodyBytes: number,
): Promise<{ body: string | Uint8Array } | { problem: 'tooLarge' | 'alreadyParsed' }> {
  for (const candidate of [req.rawBody, req.body]) {
    if (typeof candidate === 'string' || candidate instanceof Uint8Array) return { body: candidate };
  }
  // Parsed JSON (express.json() ran first): re-serialising it would not give back the signed bytes.
  if (req.body !== undefined && req.body !== null) return { problem: 'alreadyParsed' };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > maxBodyBytes) return { problem: 'tooLarge' };
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
  const handle = createRawNotificationHandler(options, onEvent);
  return async (request) => {
    const answer =
      request.method === 'POST'
        ? await handle({ headers: request.headers, body: new Uint8Array(await request.arrayBuffer()) })
        : failure(FAILURE_REASONS.method);
    return new Response(answer.status === 204 ? null : answer.body, {
      status: answer.status,
      headers: answer.headers,
    });
  };
}
