import type { KeyObject } from 'node:crypto';
import { verifyResponseSignature } from '@wechatpay-sandbox/sdk/protocol';
import type { FuzzRequest } from './cases.js';
import type { WireOutcome, WireResponse } from './client.js';

/** What an oracle can find wrong with one answer (or with the state after a batch). */
export const FINDING_KINDS = [
  '5xx',
  'crash',
  'hang-up',
  'malformed',
  'missing-request-id',
  'leak',
  'spelling-accepted',
  'state-change',
] as const;
/** One kind of finding. */
export type FindingKind = (typeof FINDING_KINDS)[number];

/** A failed oracle, with what it saw. */
export interface Finding {
  kind: FindingKind;
  detail: string;
}

/** WeChat's Request-ID: 48 upper-case hex characters. */
const REQUEST_ID = /^[0-9A-F]{48}$/;
/** A WeChat error code: upper-case words joined by underscores. */
const ERROR_CODE = /^[A-Z][A-Z0-9_]*$/;

/**
 * Things no answer may show a caller: stack frames, file paths with line numbers, framework error
 * codes, JavaScript error class names, SQL and driver errors. Checked on the raw text and on every
 * string of a JSON answer (a stack inside JSON has its newlines escaped).
 */
const LEAKS: ReadonlyArray<readonly [string, RegExp]> = [
  ['stack frame', /\bat (?:async )?[\w$.<>]+ \(?(?:file:|node:|\/)[^)\s]*:\d+:\d+\)?/],
  ['source position', /\.(?:js|ts|mjs|cjs):\d+:\d+/],
  ['node internals', /node:internal|node_modules\//],
  ['Fastify error code', /FST_ERR_[A-Z_]+/],
  [
    'JavaScript error name',
    /\b(?:TypeError|ReferenceError|RangeError|SyntaxError|EvalError|InternalError)\b/,
  ],
  ['stack overflow', /Maximum call stack size exceeded/],
  ['SQLite error', /SQLITE_[A-Z_]+|no such (?:table|column)|SqliteError/],
  [
    'PostgreSQL error',
    /\bviolates (?:not-null|unique|check|foreign key) constraint\b|relation "[^"]*" does not exist|invalid byte sequence for encoding|invalid input syntax for type|value too long for type|out of range for type|unterminated|syntax error at or near/,
  ],
  ['Kysely error', /\bkysely\b/i],
];

/** Every string inside a JSON value (keys included). */
function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      stringsOf(v, out);
    }
  }
  return out;
}

/** The internal details an answer shows, if any. Text the request itself carried is not a leak. */
export function leaksIn(response: WireResponse, request?: FuzzRequest): string | undefined {
  let decoded: string[] = [];
  try {
    decoded = stringsOf(JSON.parse(response.text));
  } catch {
    // not JSON: the raw text is checked below
  }
  const sent = request ? `${request.target}\n${request.signedBody}\n${JSON.stringify(request.headers)}` : '';
  for (const [name, pattern] of LEAKS) {
    for (const text of [response.text, ...decoded]) {
      const m = pattern.exec(text);
      if (m && !sent.includes(m[0]))
        return `${name}: ${JSON.stringify(text.slice(Math.max(0, m.index - 60), m.index + 100))}`;
    }
  }
  return undefined;
}

/** Whether the answer is an injected fault the request (or a rule it created) asked for. */
export function isInjectedFault(response: WireResponse): boolean {
  return response.headers['wechatpay-sandbox-injected-fault'] !== undefined;
}

/** Statuses a non-plain spelling of a signed route may get: none of them runs a handler. */
const SPELLING_REFUSALS = new Set([400, 401, 404, 405, 408, 413, 414, 431]);

/**
 * The per-answer oracles: an answer that is valid HTTP for the request, no 5xx (an injected fault is the caller's request, not a server error), no
 * dropped connection, a 48-hex Request-ID, errors in WeChat's `{"code","message"}` JSON, 2xx signed by
 * the platform key and 401 never signed, nothing internal shown, and a signed route's odd spelling
 * never answered by its handler.
 */
export function checkAnswer(request: FuzzRequest, outcome: WireOutcome, platformKey: KeyObject): Finding[] {
  if (outcome.kind === 'unsendable') return [];
  if (outcome.kind === 'transport-error') {
    // Node's parser refusing the answer (HPE_…) means bytes came back, just not valid HTTP for this request.
    return [{ kind: outcome.error.startsWith('HPE_') ? 'malformed' : 'hang-up', detail: outcome.error }];
  }
  const res = outcome.response;
  const findings: Finding[] = [];
  const fail = (kind: FindingKind, detail: string) => findings.push({ kind, detail });
  if (res.status >= 500 && !isInjectedFault(res)) fail('5xx', `${res.status} ${res.text.slice(0, 300)}`);
  const requestId = res.headers['request-id'];
  if (!requestId || !REQUEST_ID.test(requestId))
    fail('missing-request-id', `Request-ID ${JSON.stringify(requestId)}`);
  const withBody = request.method !== 'HEAD';
  const ok = res.status >= 200 && res.status < 300;
  if (!ok && withBody) {
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      body = undefined;
    }
    const { code, message } = (body ?? {}) as { code?: unknown; message?: unknown };
    if (typeof code !== 'string' || !ERROR_CODE.test(code) || typeof message !== 'string' || message === '') {
      fail('malformed', `${res.status} body is not {"code","message"}: ${res.text.slice(0, 300)}`);
    } else if (!/^application\/json\b/i.test(res.headers['content-type'] ?? '')) {
      fail('malformed', `${res.status} ${code} answered with Content-Type ${res.headers['content-type']}`);
    } else if (res.status === 401 && code !== 'SIGN_ERROR') {
      fail('malformed', `401 with code ${code}`);
    }
  }
  if (res.status === 401 && res.headers['wechatpay-signature'] !== undefined) {
    fail('malformed', '401 answer is signed (WeChat never signs an authentication failure)');
  }
  if (ok && withBody && request.route.auth === 'merchant' && request.spelling === 'plain') {
    const verified = verifyResponseSignature({
      headers: res.headers,
      body: res.text,
      resolveKey: () => platformKey,
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    if (!verified.ok) fail('malformed', `${res.status} answer does not verify: ${verified.message}`);
  }
  // Errors and JSON answers; a 2xx static asset (the API docs' JavaScript) may well say "RangeError".
  const json = /^application\/json\b/i.test(res.headers['content-type'] ?? '');
  const leak = !ok || json ? leaksIn(res, request) : undefined;
  if (leak) fail('leak', leak);
  if (
    request.spelling !== 'plain' &&
    request.route.auth === 'merchant' &&
    !SPELLING_REFUSALS.has(res.status)
  ) {
    fail(
      'spelling-accepted',
      `${request.spelling} spelling answered ${res.status} ${res.text.slice(0, 200)}`,
    );
  }
  return findings;
}
