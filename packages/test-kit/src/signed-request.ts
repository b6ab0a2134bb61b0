import type { KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import {
  buildAuthorization,
  buildRequestSigningString,
  loadPrivateKey,
  signMessage,
  verifyResponseSignature,
} from '@wechatpay-sandbox/sdk/protocol';

/** A merchant as a test client sees it. */
export interface TestMerchant {
  mchid: string;
  serialNo: string;
  privateKey: KeyObject;
  apiV3Key: string;
}

/** The dev merchant of a sandbox directory (`credentials.json` and its key file), as a test client signs. */
export function devMerchantOf(dir: string): TestMerchant {
  const { merchant } = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8'));
  return {
    mchid: merchant.mchid,
    serialNo: merchant.serialNo,
    privateKey: loadPrivateKey(readFileSync(join(dir, merchant.privateKeyFile))),
    apiV3Key: merchant.apiV3Key,
  };
}

/** What to send. `path` is the raw request-target (path + query) exactly as put on the wire. */
export interface SignedRequestInput {
  method: string;
  path: string;
  /** A string is sent byte for byte; an object is JSON.stringify'd. */
  body?: string | object;
  headers?: Record<string, string>;
  /** Override signing inputs, for tamper tests. */
  timestamp?: number;
  nonce?: string;
  /** Change the signing string before it is signed (e.g. drop the query). */
  signOver?: (signingString: string) => string;
  /** Change the Authorization header after it is built. */
  authorization?: (header: string) => string | undefined;
  /** Sign as this merchant instead of the default one. */
  merchant?: TestMerchant;
  /** The body actually sent when different from the body signed (tamper tests). */
  sendBody?: string;
}

/** A response with its raw body. */
export interface TestResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/** Sends a request signed the way WeChat Pay clients sign, over real HTTP. */
export async function signedRequest(
  baseUrl: string,
  merchant: TestMerchant,
  input: SignedRequestInput,
): Promise<TestResponse> {
  const signer = input.merchant ?? merchant;
  const body =
    input.body === undefined ? '' : typeof input.body === 'string' ? input.body : JSON.stringify(input.body);
  const timestamp = input.timestamp ?? Math.floor(Date.now() / 1000);
  const nonce = input.nonce ?? randomBytes(16).toString('hex').toUpperCase();
  let message = buildRequestSigningString({
    method: input.method,
    canonicalUrl: input.path,
    timestamp,
    nonce,
    body,
  });
  if (input.signOver) message = input.signOver(message);
  let authorization: string | undefined = buildAuthorization({
    mchid: signer.mchid,
    serialNo: signer.serialNo,
    timestamp: String(timestamp),
    nonce,
    signature: signMessage(message, signer.privateKey),
  });
  if (input.authorization) authorization = input.authorization(authorization);
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'User-Agent': 'wechatpay-sandbox-tests/1.0',
    ...(body ? { 'Content-Type': 'application/json' } : {}),
    ...(authorization === undefined ? {} : { Authorization: authorization }),
    ...input.headers,
  };
  return rawRequest(baseUrl, {
    method: input.method,
    path: input.path,
    headers,
    body: input.sendBody ?? body,
  });
}

/** Sends an unsigned request with exactly these headers and body bytes. */
export function rawRequest(
  baseUrl: string,
  input: { method: string; path: string; headers: Record<string, string>; body?: string | Buffer },
): Promise<TestResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    // An explicit Content-Length: Node would otherwise send a GET body with no framing at all.
    const headers =
      input.body !== undefined && input.body.length > 0
        ? { 'Content-Length': String(Buffer.byteLength(input.body)), ...input.headers }
        : input.headers;
    const req = http.request(
      { host: url.hostname, port: url.port, method: input.method, path: input.path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers))
            headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
          resolve({ status: res.statusCode ?? 0, headers, text, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (input.body !== undefined && input.body.length > 0) req.write(input.body);
    req.end();
  });
}

/** Verifies a response's Wechatpay-* signature with the given key; returns the verification result. */
export function verifyTestResponse(
  response: TestResponse,
  key: KeyObject,
  nowSeconds = Math.floor(Date.now() / 1000),
) {
  return verifyResponseSignature({
    headers: response.headers,
    body: response.text,
    resolveKey: () => key,
    nowSeconds,
  });
}
