import { randomBytes } from 'node:crypto';
import {
  buildRequestSigningString,
  encryptAeadAes256Gcm,
  loadPublicKey,
  parseAuthorization,
  signResponse,
  verifyMessage,
} from '../src/index.js';
import { API_V3_KEY, type TestIdentity } from './fixtures.js';

/**
 * A scripted stand-in for WeChat Pay as a `fetch` function: it verifies each request's signature exactly as
 * the server must (raw request-target, raw body) and answers with signed responses. Used for retry, timeout
 * and rotation tests that need precise control; the real server covers behaviour in client-sandbox.test.ts.
 */
export interface SeenRequest {
  method: string;
  target: string;
  headers: Headers;
  body: string;
  bodyBytes: Uint8Array;
  authorization: { nonce: string; timestamp: string; signatureValid: boolean };
}

export type Reply =
  | {
      status: number;
      body?: unknown;
      headers?: Record<string, string>;
      sign?: boolean | 'bad';
      serial?: string;
      timestamp?: number;
    }
  | 'network-error'
  | 'hang';

export interface FakePlatform {
  fetch: typeof fetch;
  seen: SeenRequest[];
  /** Replies consumed in order; when empty, `fallback` answers. */
  queue: Reply[];
  fallback: (req: SeenRequest) => Reply;
  /** Which platform identity signs, and under which serial. */
  signer: { identity: TestIdentity; serial: string };
  /** Certificates served by /v3/certificates. */
  certificates: TestIdentity[];
  nowSeconds: () => number;
}

export function createFakePlatform(
  merchant: TestIdentity,
  signer: { identity: TestIdentity; serial: string },
  nowSeconds: () => number,
): FakePlatform {
  const merchantKey = loadPublicKey(merchant.certificatePem);
  const fake: FakePlatform = {
    seen: [],
    queue: [],
    signer,
    certificates: [signer.identity],
    nowSeconds,
    fallback: (req) => {
      if (req.target.startsWith('/v3/certificates')) {
        return {
          status: 200,
          body: {
            data: fake.certificates.map((c) => {
              const nonce = randomBytes(6).toString('hex');
              return {
                serial_no: c.serialNo,
                effective_time: '2020-01-01T00:00:00+08:00',
                expire_time: '2099-01-01T00:00:00+08:00',
                encrypt_certificate: {
                  algorithm: 'AEAD_AES_256_GCM',
                  nonce,
                  associated_data: 'certificate',
                  ciphertext: encryptAeadAes256Gcm({
                    apiV3Key: API_V3_KEY,
                    nonce,
                    associatedData: 'certificate',
                    plaintext: c.certificatePem,
                  }),
                },
              };
            }),
          },
        };
      }
      return { status: 200, body: { ok: true } };
    },
    fetch: async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const headers = new Headers(init?.headers);
      const raw = init?.body;
      const bodyBytes =
        raw === undefined || raw === null
          ? new Uint8Array()
          : typeof raw === 'string'
            ? Buffer.from(raw)
            : (raw as Uint8Array);
      const body = Buffer.from(bodyBytes).toString('utf8');
      const parsed = parseAuthorization(headers.get('authorization') ?? undefined);
      if (!parsed.ok) throw new Error(`fake platform: bad Authorization: ${parsed.reason}`);
      const target = url.pathname + url.search;
      const isUpload = (headers.get('content-type') ?? '').startsWith('multipart/');
      const signedBody = isUpload
        ? (/name="meta";\r\nContent-Type: application\/json\r\n\r\n(.*?)\r\n--/s.exec(body)?.[1] ?? '')
        : body;
      const message = buildRequestSigningString({
        method: init?.method ?? 'GET',
        canonicalUrl: target,
        timestamp: parsed.params.timestamp,
        nonce: parsed.params.nonce,
        body: signedBody,
      });
      const req: SeenRequest = {
        method: init?.method ?? 'GET',
        target,
        headers,
        body,
        bodyBytes,
        authorization: {
          nonce: parsed.params.nonce,
          timestamp: parsed.params.timestamp,
          signatureValid: verifyMessage(message, parsed.params.signature, merchantKey),
        },
      };
      fake.seen.push(req);
      const reply = fake.queue.shift() ?? fake.fallback(req);
      if (reply === 'network-error') throw new TypeError('fetch failed', { cause: new Error('ECONNRESET') });
      if (reply === 'hang') {
        return new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        });
      }
      const text =
        reply.body === undefined
          ? ''
          : typeof reply.body === 'string'
            ? reply.body
            : JSON.stringify(reply.body);
      const out: Record<string, string> = {
        'Request-ID': `req-${fake.seen.length}`,
        ...(text ? { 'Content-Type': 'application/json' } : {}),
      };
      const ok = reply.status >= 200 && reply.status < 300;
      if ((reply.sign ?? ok) !== false) {
        Object.assign(
          out,
          signResponse({
            body: reply.sign === 'bad' ? `${text}tampered` : text,
            timestamp: reply.timestamp ?? fake.nowSeconds(),
            nonce: randomBytes(16).toString('hex'),
            serial: reply.serial ?? fake.signer.serial,
            privateKey: fake.signer.identity.privateKey,
          }),
        );
      }
      Object.assign(out, reply.headers);
      return new Response(reply.status === 204 ? null : text, { status: reply.status, headers: out });
    },
  };
  return fake;
}
