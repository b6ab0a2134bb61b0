import tls from 'node:tls';
import {
  buildNotification,
  formatBeijingTime,
  type NotificationEnvelope,
  type SignResponseInput,
  signResponse,
  signResponseAsync,
  type WechatpaySignatureHeaders,
} from '@wechatpay-sandbox/sdk/protocol';
import { DELIVERY_TIMEOUT_MS, type TargetPolicy } from '../config.js';
import { type SigningKey, selectSigningKey } from '../credentials/signing-keys.js';
import type { PlatformIdentity, SigningMode } from '../credentials/types.js';
import type { IdGen } from '../domain/ports.js';
import { newRequestId, randomHex } from '../request-id.js';
import type { AttemptOutcome } from './complete.js';
import { applyForwarding } from './forwarding.js';
import { CallbackHttpClient } from './http-client.js';
import { listenTargetFor, resolveListenTarget } from './listen-sessions.js';
import type { DeliveryContext } from './lookup.js';
import { nextRetryAt, type RetrySchedule } from './retry-schedules.js';
import type { NotificationAttemptsTable, NotificationOutboxTable } from './tables.js';
import { type HostResolver, type ResolvedTarget, resolveTarget } from './target-policy.js';

/**
 * One delivery attempt: build WeChat's envelope from the stored plaintext (fresh resource nonce, fresh
 * timestamp and signature, same notification id), POST it, and classify the answer. Success is only
 * 200 or 204 within the total timeout; every other answer (3xx included) or error is a failure.
 * @see docs/protocol.md §6
 */

/** The stored row a delivery is built from. */
export type NotificationRow = NotificationOutboxTable;

/** Success statuses (docs/protocol.md §6.4). */
export const SUCCESS_STATUSES: ReadonlySet<number> = new Set([200, 204]);

export { DELIVERY_TIMEOUT_MS };

/** Longest response excerpt kept in the delivery log. */
export const RESPONSE_EXCERPT_CHARS = 256;

/**
 * The platform key that signs a callback for a merchant.
 * - `pubkey`: the WeChat Pay public key identity (PUB_KEY_ID_…).
 * - `certificate`: the newest usable platform certificate.
 * - `migrating`: alternates per attempt (odd attempts the public key, even ones the newest certificate),
 *   because during WeChat's switch-over callbacks may come signed either way and a receiver must accept
 *   both; a retried notification therefore exercises both keys (docs/fidelity.md "Notifications").
 */
export function callbackSigningKey(
  platform: PlatformIdentity,
  mode: SigningMode,
  attemptNo: number,
  wallMs: number,
): SigningKey {
  if (mode === 'migrating') {
    return attemptNo % 2 === 1
      ? selectSigningKey(platform, 'pubkey', undefined, wallMs)
      : selectSigningKey(platform, 'certificate', undefined, wallMs);
  }
  return selectSigningKey(platform, mode, undefined, wallMs);
}

/** A notification ready to send: the exact body bytes and headers. */
export interface ComposedNotification {
  envelope: NotificationEnvelope;
  body: string;
  headers: Readonly<Record<string, string>> & WechatpaySignatureHeaders & { 'Request-ID': string };
}

/** Inputs of {@link composeNotification}. */
export interface ComposeInput {
  row: Pick<
    NotificationRow,
    'id' | 'event_type' | 'summary' | 'original_type' | 'associated_data' | 'plaintext' | 'create_time'
  >;
  apiV3Key: string;
  key: SigningKey;
  /** Wall-clock ms for Wechatpay-Timestamp (signature windows are never virtual). */
  wallMs: number;
  ids: IdGen;
}

/** Builds, encrypts and signs one delivery of a notification. */
export function composeNotification(input: ComposeInput): ComposedNotification {
  const { envelope, body, signing } = envelopeOf(input);
  return { envelope, body, headers: { ...signResponse(signing), 'Request-ID': newRequestId() } };
}

/**
 * {@link composeNotification} with the RSA signature computed on libuv's thread pool. Signing is the
 * largest single cost of a delivery (about a third of the dispatcher thread's time); off the event loop
 * it runs beside the HTTP, JSON and SQL work of the other deliveries in flight, on another core.
 */
export async function composeNotificationOffThread(input: ComposeInput): Promise<ComposedNotification> {
  const { envelope, body, signing } = envelopeOf(input);
  return { envelope, body, headers: { ...(await signResponseAsync(signing)), 'Request-ID': newRequestId() } };
}

function envelopeOf(input: ComposeInput): {
  envelope: NotificationEnvelope;
  body: string;
  signing: SignResponseInput;
} {
  const envelope = buildNotification({
    id: input.row.id,
    createTime: formatBeijingTime(Number(input.row.create_time)),
    eventType: input.row.event_type,
    summary: input.row.summary,
    originalType: input.row.original_type,
    associatedData: input.row.associated_data,
    // A fresh IV for every encryption: GCM under one key must never reuse one.
    resourceNonce: input.ids.token(12),
    apiV3Key: input.apiV3Key,
    plaintext: input.row.plaintext,
  });
  const body = JSON.stringify(envelope);
  const signing: SignResponseInput = {
    body,
    timestamp: Math.floor(input.wallMs / 1000),
    nonce: input.ids.token(32),
    serial: input.key.serial,
    privateKey: input.key.privateKey,
  };
  return { envelope, body, signing };
}

/** What one HTTP POST produced. */
export interface HttpAttempt {
  /** The HTTP status, if a response arrived. */
  status: number | undefined;
  latencyMs: number;
  /** Start of the response body, control characters removed. */
  excerpt: string | undefined;
  /** Transport error or timeout, if any. */
  error: string | undefined;
  /** Whether this counts as received (200/204 in time). */
  ok: boolean;
}

/** Connection settings shared by every attempt of a dispatcher. */
export interface TransportOptions {
  /** Extra trusted CA certificates (PEM), for self-signed local receivers. */
  caPem?: string | undefined;
  /** Skip TLS verification entirely (explicit opt-in for self-signed receivers). @default false */
  insecureTls?: boolean | undefined;
  /** @default DELIVERY_TIMEOUT_MS */
  timeoutMs?: number | undefined;
  /** Keep-alive sockets per host. @default 32 */
  maxSockets?: number | undefined;
}

/** Keep-alive connections for one dispatcher (TLS handshakes would otherwise dominate a burst). */
export class Transport {
  readonly timeoutMs: number;
  private readonly client: CallbackHttpClient;

  constructor(options: TransportOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS;
    this.client = new CallbackHttpClient({
      maxSockets: options.maxSockets ?? 32,
      rejectUnauthorized: options.insecureTls !== true,
      // One secure context for every connection. Keeping the roots means public receivers still verify
      // next to the extra CA.
      secureContext: options.caPem
        ? tls.createSecureContext({ ca: [...tls.rootCertificates, options.caPem] })
        : undefined,
      excerptBytes: RESPONSE_EXCERPT_CHARS * 4,
    });
  }

  /** POSTs a body to a checked target, connecting to the checked address only. */
  post(
    target: ResolvedTarget,
    body: string,
    headers: Readonly<Record<string, string>>,
  ): Promise<HttpAttempt> {
    const started = performance.now();
    const secure = target.url.protocol === 'https:';
    const port = target.url.port ? Number(target.url.port) : secure ? 443 : 80;
    let request: Buffer;
    try {
      request = requestBytes(target.url, body, headers);
    } catch (err) {
      return Promise.resolve({
        status: undefined,
        latencyMs: 0,
        excerpt: undefined,
        error: (err as Error).message,
        ok: false,
      });
    }
    return new Promise<HttpAttempt>((resolve) => {
      let settled = false;
      const finish = (result: Omit<HttpAttempt, 'latencyMs' | 'ok'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const ok =
          result.error === undefined && result.status !== undefined && SUCCESS_STATUSES.has(result.status);
        resolve({ ...result, ok, latencyMs: Math.round(performance.now() - started) });
      };
      // The checked IP, never the name: a second DNS lookup could return another address.
      const sent = this.client.send(
        { secure, address: target.address, port, servername: secure ? target.servername : undefined },
        request,
      );
      const timer = setTimeout(() => {
        finish({
          status: undefined,
          excerpt: undefined,
          error: `no complete answer within ${this.timeoutMs} ms`,
        });
        sent.abort();
      }, this.timeoutMs);
      sent.answer.then(
        (answer) => finish({ status: answer.status, excerpt: excerptOf(answer.excerpt), error: undefined }),
        (err: Error) => finish({ status: undefined, excerpt: undefined, error: err.message }),
      );
    });
  }

  /** Closes the keep-alive connections. */
  close(): void {
    this.client.close();
  }
}

/** The bytes of a callback POST: head and body. */
function requestBytes(url: URL, body: string, headers: Readonly<Record<string, string>>): Buffer {
  const payload = Buffer.from(body, 'utf8');
  let head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    // A name or value that could end the line early is refused, as node:http does.
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) {
      throw new Error(`invalid character in the ${name.slice(0, 40)} header`);
    }
    head += `${name}: ${value}\r\n`;
  }
  head +=
    'Content-Type: application/json\r\n' +
    `Content-Length: ${payload.length}\r\n` +
    'Accept: */*\r\n' +
    'User-Agent: Mozilla/4.0 (compatible; wechatpay-sandbox notify)\r\n' +
    'Connection: keep-alive\r\n\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), payload]);
}

function excerptOf(bytes: Buffer): string | undefined {
  if (bytes.length === 0) return undefined;
  // Control characters would garble logs; the excerpt is for humans, not replay.
  return bytes
    .toString('utf8')
    .slice(0, RESPONSE_EXCERPT_CHARS)
    .replace(/\p{Cc}/gu, ' ');
}

/** A random hex id for attempt rows. */
export function attemptId(): string {
  return randomHex(16);
}

/** What a dispatcher passes to every attempt. */
export interface DeliveryEnv {
  platform: PlatformIdentity;
  ids: IdGen;
  transport: Transport;
  policy: TargetPolicy;
  resolver?: HostResolver | undefined;
  /** Business time of a merchant (virtual clock), for the retry schedule. */
  businessNow: (mchid: string) => number;
  wallClock: () => number;
  schedule: (family: string) => RetrySchedule;
  instanceId: string;
}

/** The result of one attempt, ready to persist with completeAttempt. */
export interface DeliveryResult {
  outcome: AttemptOutcome;
  attempt: NotificationAttemptsTable | undefined;
  lastStatus: number | null;
  lastError: string | null;
}

/**
 * Makes one attempt for a claimed row and decides what happens next. Never throws: every failure,
 * including a bug while composing, becomes a logged failed attempt on the family's schedule.
 */
export async function deliverNotification(
  row: NotificationRow,
  context: DeliveryContext,
  env: DeliveryEnv,
): Promise<DeliveryResult> {
  const attemptNo = row.attempts + 1;
  const startedWall = env.wallClock();
  // A live listen session that takes the event type replaces the registered (and forwarded) URL.
  const listen = listenTargetFor(context.listens, row.event_type, startedWall);
  if (listen === undefined && context.notifyUrl === undefined) {
    return {
      outcome: { kind: 'no-target' },
      attempt: undefined,
      lastStatus: null,
      lastError: 'no notify URL set',
    };
  }
  const url = listen ? listen.targetUrl : applyForwarding(context.notifyUrl as string, context.forwards);
  let http: HttpAttempt;
  let targetAddress: string | null = null;
  let requestId: string | null = null;
  let refused = false;
  try {
    if (!context.merchant) throw new Error(`merchant ${row.mchid} does not exist`);
    const target = listen
      ? await resolveListenTarget(url, env.policy, env.resolver)
      : await resolveTarget(url, env.policy, env.resolver);
    if ('refused' in target) {
      refused = true;
      http = { status: undefined, latencyMs: 0, excerpt: undefined, error: target.reason, ok: false };
    } else {
      targetAddress = target.address;
      const composed = await composeNotificationOffThread({
        row,
        apiV3Key: context.merchant.apiV3Key,
        key: callbackSigningKey(env.platform, context.merchant.signingMode, attemptNo, env.wallClock()),
        wallMs: env.wallClock(),
        ids: env.ids,
      });
      requestId = composed.headers['Request-ID'];
      http = await env.transport.post(target, composed.body, composed.headers);
    }
  } catch (err) {
    http = {
      status: undefined,
      latencyMs: 0,
      excerpt: undefined,
      error: `internal: ${(err as Error).message}`,
      ok: false,
    };
  }
  const error = http.error ?? (http.ok ? null : `HTTP ${http.status}: only 200 or 204 count as received`);
  let outcome: AttemptOutcome;
  if (http.ok) outcome = { kind: 'delivered' };
  else {
    const at = nextRetryAt(env.schedule(row.family), row.round_attempts + 1, env.businessNow(row.mchid));
    outcome = at === undefined ? { kind: 'dead' } : { kind: 'retry-at', atMs: at };
  }
  return {
    outcome,
    attempt: {
      id: attemptId(),
      notification_id: row.id,
      attempt_no: attemptNo,
      outcome: http.ok ? 'delivered' : refused ? 'refused' : 'failed',
      url: url.slice(0, 512),
      target_address: targetAddress,
      status: http.status ?? null,
      error: error === null ? null : error.slice(0, 512),
      latency_ms: http.latencyMs,
      response_excerpt: http.excerpt ?? null,
      request_id: requestId,
      instance_id: env.instanceId,
      business_at: env.businessNow(row.mchid),
      started_at: startedWall,
      listen_session_id: listen?.id ?? null,
    },
    lastStatus: http.status ?? null,
    lastError: error === null ? null : error.slice(0, 512),
  };
}
