import { type KeyObject, randomBytes } from 'node:crypto';
import http from 'node:http';
import { buildAuthorization, buildRequestSigningString, signMessage } from '@wechatpay-sandbox/sdk/protocol';

/** The merchant the fuzzer signs as, and the key that verifies the sandbox's answers. */
export interface FuzzTarget {
  url: string;
  mchid: string;
  serialNo: string;
  privateKey: KeyObject;
  apiV2Key: string;
  /** The platform key 2xx answers are signed with (the dev merchant is in public-key mode). */
  platformKey: KeyObject;
}

/** Exactly what goes on the wire. Header values given as arrays are sent as repeated header lines. */
export interface WireRequest {
  method: string;
  /** The raw request-target: origin-form path and query, or an absolute URL. */
  target: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
  /** Send the body with `Transfer-Encoding: chunked` instead of a Content-Length. */
  chunked?: boolean;
}

/** An answer with its raw body. */
export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  text: string;
}

/**
 * What one request came back with: an answer, a failure of the connection (reset, hang-up, timeout),
 * or a request Node's client would not put on the wire.
 */
export type WireOutcome =
  | { kind: 'response'; response: WireResponse; ms: number }
  | { kind: 'transport-error'; error: string; ms: number }
  | { kind: 'unsendable'; error: string; ms: number };

/** Options of {@link WireClient}. */
export interface WireClientOptions {
  /** Requests in flight at once. @default 8 */
  concurrency?: number;
  /** A request unanswered after this long is a hang. @default 30000 */
  timeoutMs?: number;
  /**
   * Reuse connections. Off, every request opens its own: use that when the server runs in the same
   * process (a test), where a busy event loop can fire the server's idle close and the client's reuse
   * of that socket in the same tick. @default true
   */
  keepAlive?: boolean;
}

/**
 * Sends raw requests over keep-alive connections to one loopback server, and signs them like a WeChat
 * Pay client does. A connection the server closes is never reused for the next request (the
 * agent forgets idle sockets after 1 s, well before the server's keep-alive timeout), so a reset is the
 * server's doing, not a race with its idle timer.
 */
export class WireClient {
  private readonly agent: http.Agent;
  private readonly base: URL;
  private readonly timeoutMs: number;

  constructor(
    readonly target: FuzzTarget,
    options: WireClientOptions = {},
  ) {
    this.base = new URL(target.url);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.agent = new http.Agent({
      keepAlive: options.keepAlive ?? true,
      keepAliveMsecs: 500,
      maxSockets: options.concurrency ?? 8,
      timeout: 1_000,
    });
  }

  /** The Authorization header for a request (the body line is the signed text: the meta part for uploads). */
  authorization(method: string, target: string, signedBody: string, nonce = newNonce()): string {
    const timestamp = Math.floor(Date.now() / 1000);
    const message = buildRequestSigningString({
      method,
      canonicalUrl: target,
      timestamp,
      nonce,
      body: signedBody,
    });
    return buildAuthorization({
      mchid: this.target.mchid,
      serialNo: this.target.serialNo,
      timestamp: String(timestamp),
      nonce,
      signature: signMessage(message, this.target.privateKey),
    });
  }

  /** Sends the request exactly as given. */
  send(request: WireRequest): Promise<WireOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    return new Promise((resolve) => {
      let settled = false;
      const done = (outcome: WireOutcome) => {
        if (settled) return;
        settled = true;
        resolve(outcome);
      };
      const headers: Record<string, string | string[]> = { ...request.headers };
      const body = request.body;
      if (body && body.length > 0 && !hasHeader(headers, 'content-length')) {
        // Named explicitly: Node frames a GET, HEAD or DELETE body neither way by default.
        if (request.chunked) headers['Transfer-Encoding'] = 'chunked';
        else headers['Content-Length'] = String(body.length);
      }
      let req: http.ClientRequest;
      try {
        req = http.request({
          host: this.base.hostname,
          port: this.base.port,
          method: request.method,
          path: request.target,
          headers,
          agent: this.agent,
        });
      } catch (err) {
        // Node refuses some targets and header values before anything is sent: not the server's doing.
        done({ kind: 'unsendable', error: (err as Error).message, ms: elapsed() });
        return;
      }
      req.setTimeout(this.timeoutMs, () => {
        req.destroy(new Error(`no answer within ${this.timeoutMs} ms`));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers))
            out[k] = Array.isArray(v) ? v.join(', ') : String(v);
          done({
            kind: 'response',
            response: { status: res.statusCode ?? 0, headers: out, body: raw, text: raw.toString('utf8') },
            ms: elapsed(),
          });
        });
        res.on('error', (err) => done({ kind: 'transport-error', error: describe(err), ms: elapsed() }));
      });
      req.on('error', (err) => done({ kind: 'transport-error', error: describe(err), ms: elapsed() }));
      if (body && body.length > 0) req.write(body);
      req.end();
    });
  }

  /**
   * A signed JSON call over the plain spelling, for seeding and re-reading state (not fuzzed).
   * Throws on a connection failure.
   */
  async call(
    method: string,
    target: string,
    body?: unknown,
  ): Promise<{ status: number; text: string; json: unknown }> {
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'User-Agent': 'wechatpay-sandbox-fuzz/1.0',
      Authorization: this.authorization(method, target, text),
    };
    if (text) headers['Content-Type'] = 'application/json';
    const outcome = await this.send({
      method,
      target,
      headers,
      ...(text ? { body: Buffer.from(text) } : {}),
    });
    if (outcome.kind !== 'response') throw new Error(`${method} ${target}: ${outcome.error}`);
    const { status, text: answer } = outcome.response;
    let json: unknown;
    try {
      json = answer ? JSON.parse(answer) : undefined;
    } catch {
      json = undefined;
    }
    return { status, text: answer, json };
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}

/** A fresh nonce_str of 32 characters of [0-9A-F]. */
export function newNonce(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

function hasHeader(headers: Record<string, unknown>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message}` : String(e.message ?? err);
}
