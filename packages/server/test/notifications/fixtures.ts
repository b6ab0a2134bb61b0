import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll } from 'vitest';
import type { PlatformIdentity, SigningMode } from '../../src/credentials/types.js';
import type { DatabaseSchema } from '../../src/db/schema.js';
import type { Clock, IdGen, NotificationEvent, NotifyFamily } from '../../src/domain/ports.js';

/** Test fixtures for the notification pipeline: keys and certificates from the openssl CLI, receivers. */

/** A scratch directory removed by the returned function. */
export function scratchDir(): { dir: string; remove: () => void } {
  const dir = join(tmpdir(), `wps-notify-${randomBytes(6).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A self-signed certificate and its key, made by `openssl req -x509`. */
export interface TestCertificate {
  keyPem: string;
  certPem: string;
  serialHex: string;
}

/** Makes a self-signed RSA-2048 certificate (SAN 127.0.0.1 and localhost by default). */
export function makeCertificate(dir: string, name: string, cn = 'localhost'): TestCertificate {
  const serialHex = randomBytes(16).toString('hex').toUpperCase().replace(/^0/, '1');
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-set_serial',
      `0x${serialHex}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { keyPem: readFileSync(key, 'utf8'), certPem: readFileSync(cert, 'utf8'), serialHex };
}

/** A platform identity: one certificate (legacy mode) and a WeChat Pay public key (PUB_KEY_ID_…). */
export function makePlatform(dir: string): {
  platform: PlatformIdentity;
  certPem: string;
  publicKeyPem: string;
} {
  const cert = makeCertificate(dir, 'platform-cert', 'Tenpay.com Root CA');
  const pub = makeCertificate(dir, 'platform-pub');
  const x509 = new X509Certificate(cert.certPem);
  const pubKey = createPublicKey(pub.keyPem);
  const publicKeyPem = pubKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    platform: {
      certificates: [
        {
          serialNo: x509.serialNumber.toUpperCase(),
          privateKey: createPrivateKey(cert.keyPem),
          publicKey: x509.publicKey,
          certificatePem: cert.certPem,
          notBefore: new Date(x509.validFrom),
          notAfter: new Date(x509.validTo),
          expireTime: new Date(x509.validTo),
        },
      ],
      publicKey: {
        keyId: `PUB_KEY_ID_0${randomBytes(12).toString('hex').toUpperCase()}`.slice(0, 42),
        privateKey: createPrivateKey(pub.keyPem),
        publicKey: pubKey,
        publicKeyPem,
      },
    },
    certPem: cert.certPem,
    publicKeyPem,
  };
}

/** A per-merchant frozen clock for tests: time moves only when the test moves it. */
export class TestClock implements Clock {
  private readonly times = new Map<string, number>();
  private readonly listeners = new Set<() => void>();
  constructor(private base: number) {}
  now(mchid?: string): number {
    return (mchid === undefined ? undefined : this.times.get(mchid)) ?? this.base;
  }
  /** Moves one merchant's (or every merchant's) time forward. */
  advance(ms: number, mchid?: string): void {
    if (mchid === undefined) this.base += ms;
    else this.times.set(mchid, this.now(mchid) + ms);
    for (const l of this.listeners) l();
  }
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}

const CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Random ids for tests. */
export const testIds: IdGen = {
  token: (n) => Array.from(randomBytes(n), (b) => CHARS[b % 62]).join(''),
  uuid: () => crypto.randomUUID(),
  digits: (n) => Array.from(randomBytes(n), (b) => String(b % 10)).join(''),
};

/** Registers a merchant and (optionally) its notify URL directly in the database. */
export async function seedMerchant(
  db: Kysely<DatabaseSchema>,
  input: {
    mchid: string;
    apiV3Key: string;
    signingMode: SigningMode;
    notifyUrls?: Partial<Record<NotifyFamily, string>>;
  },
): Promise<void> {
  await db
    .insertInto('merchants')
    .values({
      mchid: input.mchid,
      name: `merchant ${input.mchid}`,
      api_v3_key: input.apiV3Key,
      api_v2_key: null,
      signing_mode: input.signingMode,
      parent_mchid: null,
      created_at: Date.now(),
    })
    .execute();
  for (const [family, url] of Object.entries(input.notifyUrls ?? {})) {
    await setNotifyUrl(db, input.mchid, family as NotifyFamily, url);
  }
}

/** Sets a notify URL the way the gateway's notify-setting endpoints store it. */
export async function setNotifyUrl(
  db: Kysely<DatabaseSchema>,
  mchid: string,
  family: NotifyFamily,
  url: string,
): Promise<void> {
  await db
    .insertInto('notify_settings')
    .values({ mchid, family, notify_url: url, set_by: mchid, update_time: Date.now() })
    .onConflict((oc) => oc.columns(['mchid', 'family']).doUpdateSet({ notify_url: url }))
    .execute();
}

/** A successful CUT_OUT image generation of task `taskId`: a PRODUCT_COUPON_SP.IMAGE_GENERATION resource. */
export function imageGenerationResource(taskId: string) {
  return { brand_id: '120344', task_id: taskId, image_generation_type: 'CUT_OUT', task_state: 'SUCCESS' };
}

/** The body of POST /sandbox/v1/product-coupon/events that makes one IMAGE_GENERATION notification. */
export function imageGenerationTrigger(taskId: string) {
  return { event_type: 'PRODUCT_COUPON_SP.IMAGE_GENERATION', resource: imageGenerationResource(taskId) };
}

/** A COUPON.SEND event as the busifavor send path writes it. */
export function couponSendEvent(mchid: string, couponCode: string): NotificationEvent {
  return {
    mchid,
    family: 'busifavor',
    eventType: 'COUPON.SEND',
    summary: '商家券领券通知',
    originalType: 'coupon',
    associatedData: 'coupon',
    plaintext: {
      event_type: 'EVENT_TYPE_BUSICOUPON_SEND',
      coupon_code: couponCode,
      stock_id: '1212',
      send_time: '2025-01-01T08:00:05+08:00',
      send_channel: 'BUSICOUPON_SEND_CHANNEL_API',
      send_merchant: mchid,
    },
  };
}

/** One request a receiver got. */
export interface ReceivedRequest {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  at: number;
}

/** An HTTPS receiver answering with `answer(req, index)` (status code). */
export interface TestReceiver {
  url: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * A receiver certificate for the test file and a CA file trusting it (for `notifyCaFile`), made in
 * beforeAll and removed in afterAll; read them inside tests or hooks.
 */
export function receiverCertificate(): { readonly tls: TestCertificate; readonly caFile: string } {
  const scratch = scratchDir();
  let made: { tls: TestCertificate; caFile: string } | undefined;
  beforeAll(() => {
    const tls = makeCertificate(scratch.dir, 'receiver');
    const caFile = join(scratch.dir, 'ca.pem');
    writeFileSync(caFile, tls.certPem);
    made = { tls, caFile };
  });
  afterAll(() => scratch.remove());
  const get = () => {
    if (!made) throw new Error('receiverCertificate() is read before its beforeAll ran');
    return made;
  };
  return {
    get tls() {
      return get().tls;
    },
    get caFile() {
      return get().caFile;
    },
  };
}

/** Starts an HTTPS receiver on 127.0.0.1 with the given certificate. */
export async function startReceiver(
  tls: TestCertificate,
  answer: (request: ReceivedRequest, index: number) => number | Promise<number>,
  path = '/notify',
): Promise<TestReceiver> {
  const received: ReceivedRequest[] = [];
  const server = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const request = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      const index = received.length;
      received.push(request);
      const status = await answer(request, index);
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(
        status === 204
          ? undefined
          : JSON.stringify({ code: status < 300 ? 'SUCCESS' : 'FAIL', message: 'x' }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}${path}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
