import type { FastifyInstance, FastifyRequest } from 'fastify';
import { headerValue } from '../authenticate.js';
import { toWechatError } from '../error-handler.js';
import { requestLogFields } from '../request-log.js';
import { routeAuth } from '../route-auth.js';

/**
 * The dashboard's live feed: the last N API calls as the platform saw them, in a ring buffer (memory is
 * bounded by N and by the caps below; nothing is written to disk). One `onResponse` hook fills it; the
 * dashboard's own calls are not recorded. What an entry holds, and hides, is in docs/dashboard.md.
 */

/** One API call. */
export interface CallRecord {
  /** Increasing number of the call in this process (the feed's cursor). */
  seq: number;
  /** Wall-clock epoch ms of the answer. */
  at: number;
  method: string;
  /** Path without the query string (as in the request log). */
  path: string;
  /** The request-target as sent, query included (cut at {@link MAX_VALUE}). */
  target: string;
  status: number;
  /** WeChat error code of an error answer. */
  code?: string;
  ms: number;
  /** The merchant whose signature verified, else the mchid the Authorization header named. */
  mchid?: string;
  requestId: string;
  /** Request headers as received, in order; the `Cookie` header (the dashboard token) is hidden. */
  headers: Array<[string, string]>;
  /** How authentication went, in words. */
  verification: string;
  /** The error answered: its message and WeChat's `detail` (for a 401, the diagnosis). */
  error?: { message: string; issue?: string; mistake?: string };
  /** For a signature that did not verify: the signing string the server expected (from the 401's detail). */
  expectedSigningString?: string;
}

/** A call without its headers and signing string, as the feed's list shows it. */
export type CallSummary = Omit<CallRecord, 'headers' | 'expectedSigningString'>;

/** Longest header value or target kept; the rest is cut. */
const MAX_VALUE = 2048;
/** Most headers kept per call. */
const MAX_HEADERS = 40;
/** Longest expected signing string kept (it carries the request body). */
const MAX_SIGNING_STRING = 16_384;
/** Headers whose values are never kept: the dashboard token travels in `Cookie`. */
const HIDDEN_HEADERS = new Set(['cookie', 'x-dashboard-csrf']);

const cut = (text: string, max = MAX_VALUE) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** A bounded ring buffer of calls, newest last. */
export class CallFeed {
  private readonly ring: (CallRecord | undefined)[];
  private next = 1;

  constructor(readonly size: number) {
    this.ring = new Array<CallRecord | undefined>(size);
  }

  /** Records a call, dropping the oldest when full; returns its sequence number. */
  add(call: Omit<CallRecord, 'seq'>): number {
    const seq = this.next++;
    this.ring[seq % this.size] = { seq, ...call };
    return seq;
  }

  /** The newest sequence number recorded (0 before any). */
  get latest(): number {
    return this.next - 1;
  }

  /** One call, while it is still in the buffer. */
  get(seq: number): CallRecord | undefined {
    const call = this.ring[seq % this.size];
    return call?.seq === seq ? call : undefined;
  }

  /** The calls after `after` still in the buffer, newest first, at most `limit`. */
  since(after: number, limit: number): CallSummary[] {
    const out: CallSummary[] = [];
    const oldest = Math.max(after + 1, this.next - this.size);
    for (let seq = this.latest; seq >= oldest && out.length < limit; seq--) {
      const call = this.get(seq);
      if (call) out.push(summary(call));
    }
    return out;
  }
}

function summary(call: CallRecord): CallSummary {
  const { headers: _headers, expectedSigningString: _expected, ...rest } = call;
  return rest;
}

/** Records every answered request in `feed`, except the dashboard's own. */
export function registerCallFeed(app: FastifyInstance, feed: CallFeed, wallClock: () => number): void {
  const failures = new WeakMap<FastifyRequest, unknown>();
  app.addHook('onError', async (request, _reply, error) => {
    failures.set(request, error);
  });
  app.addHook('onResponse', async (request, reply) => {
    const auth = routeAuth(request.routeOptions.config);
    if (auth === 'dashboard') return;
    const fields = requestLogFields(request, reply);
    const failure = failures.has(request) ? toWechatError(failures.get(request)) : undefined;
    const detail = failure?.detail;
    const expected = detail?.expected_signing_string;
    const claimed = /mchid="(\d{1,32})"/.exec(headerValue(request.headers.authorization) ?? '')?.[1];
    const mchid = fields.mchid ?? claimed;
    feed.add({
      at: wallClock(),
      method: fields.method,
      path: fields.path,
      target: cut(request.raw.url ?? request.url),
      status: fields.status,
      ...(fields.code !== undefined ? { code: fields.code } : {}),
      ms: fields.ms,
      ...(mchid !== undefined ? { mchid } : {}),
      requestId: fields.rid,
      headers: receivedHeaders(request.raw.rawHeaders),
      verification: verification(request, auth, fields.code, detail?.issue),
      ...(failure
        ? {
            error: {
              message: failure.message,
              ...(typeof detail?.issue === 'string' ? { issue: detail.issue } : {}),
              ...(typeof detail?.mistake === 'string' ? { mistake: detail.mistake } : {}),
            },
          }
        : {}),
      ...(typeof expected === 'string' ? { expectedSigningString: cut(expected, MAX_SIGNING_STRING) } : {}),
    });
  });
}

function receivedHeaders(raw: readonly string[]): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length && headers.length < MAX_HEADERS; i += 2) {
    const name = raw[i] as string;
    const hidden = HIDDEN_HEADERS.has(name.toLowerCase());
    headers.push([cut(name, 256), hidden ? '(hidden)' : cut(raw[i + 1] as string)]);
  }
  return headers;
}

function verification(
  request: FastifyRequest,
  auth: string,
  code: string | undefined,
  issue: unknown,
): string {
  if (request.merchant) {
    return `verified: signed by mchid ${request.merchant.mchid} with the key of serial ${request.merchant.serialNo}`;
  }
  if (request.is404 || !request.routeOptions.url) return 'no route matched: nothing was verified';
  if (auth === 'public') return 'not required: a public route';
  if (code === 'SIGN_ERROR')
    return `refused: ${typeof issue === 'string' ? issue : 'the signature did not verify'}`;
  return `not verified: refused before the signature check (${code ?? 'no error code'})`;
}
