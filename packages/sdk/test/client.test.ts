import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PlatformKeyStore } from '../src/client/platform-keys.js';
import {
  ApiError,
  ConnectionError,
  createWechatPayClient,
  decryptSensitiveField,
  type RetryEvent,
  SDK_VERSION,
  SignatureVerificationError,
  TimeoutError,
  type WechatPayClientOptions,
} from '../src/index.js';
import { createFakePlatform } from './fake-platform.js';
import { API_V3_KEY, MCHID, makeIdentity, PUB_KEY_ID } from './fixtures.js';

const merchant = makeIdentity('client-merchant', '5E3F1C2B4A6D8E9F01234567ABCDEF0011223344');
const platformA = makeIdentity('platform-a', '3A6B2C9D1E4F50617283940A1B2C3D4E5F607182');
const platformB = makeIdentity('platform-b', '4B7C3D0E2F5061728394A5B6C7D8E9F0A1B2C3D4');
const pubkey = makeIdentity('pubkey', '01');
const NOW_MS = 1735689600_000;

function setup(
  overrides: Partial<WechatPayClientOptions> = {},
  signer = { identity: pubkey, serial: PUB_KEY_ID },
) {
  let nowMs = NOW_MS;
  const fake = createFakePlatform(merchant, signer, () => Math.floor(nowMs / 1000));
  const sleeps: number[] = [];
  const client = createWechatPayClient({
    mchid: MCHID,
    serialNo: merchant.serialNo,
    privateKey: merchant.privateKeyPem,
    apiV3Key: API_V3_KEY,
    baseUrl: 'https://api.example.test',
    verification: { publicKey: { keyId: PUB_KEY_ID, key: pubkey.publicKeyPem } },
    fetch: fake.fetch,
    now: () => nowMs,
    retry: { random: () => 0.5, sleep: async (ms) => void sleeps.push(ms) },
    ...overrides,
  });
  return { client, fake, sleeps, advance: (ms: number) => (nowMs += ms) };
}

const createStockBody = {
  stock_name: '满100减10',
  belong_merchant: MCHID,
  goods_name: '全场通用',
  stock_type: 'NORMAL',
  coupon_use_rule: {
    coupon_available_time: {
      available_begin_time: '2025-01-01T00:00:00+08:00',
      available_end_time: '2025-06-30T23:59:59+08:00',
    },
    fixed_normal_coupon: { discount_amount: 1000, transaction_minimum: 10000 },
    use_method: 'OFF_LINE',
  },
  stock_send_rule: { max_coupons: 100, max_coupons_per_user: 1 },
  out_request_no: '1900000001202501010001',
  coupon_code_mode: 'WECHATPAY_MODE',
} as const;

describe('client requests', () => {
  it('signs the raw request-target and body, sends User-Agent, Accept and the verifiable Wechatpay-Serial', async () => {
    const { client, fake } = setup();
    fake.queue.push({ status: 200, body: { mchid: MCHID, notify_url: 'https://m.example.com/n' } });
    const res = await client.busifavor.getCallback({ mchid: MCHID });
    expect(res).toEqual({ mchid: MCHID, notify_url: 'https://m.example.com/n' });
    const seen = fake.seen[0];
    expect(seen?.target).toBe(`/v3/marketing/busifavor/callbacks?mchid=${MCHID}`);
    expect(seen?.authorization.signatureValid).toBe(true);
    expect(seen?.authorization.timestamp).toBe('1735689600');
    expect(seen?.headers.get('user-agent')).toBe(
      `wechatpay-sandbox-sdk/${SDK_VERSION} (node/${process.versions.node})`,
    );
    expect(seen?.headers.get('accept')).toBe('application/json');
    expect(seen?.headers.get('wechatpay-serial')).toBe(PUB_KEY_ID);
  });

  it('percent-encodes path segments and signs the encoded form', async () => {
    const { client, fake } = setup();
    await client.busifavor.getUserCoupon({ openid: 'o-_x', coupon_code: 'A B/C', appid: 'wx1' });
    expect(fake.seen[0]?.target).toBe('/v3/marketing/busifavor/users/o-_x/coupons/A%20B%2FC/appids/wx1');
    expect(fake.seen[0]?.authorization.signatureValid).toBe(true);
  });

  it('verifies a 204 and resolves to undefined', async () => {
    const { client, fake } = setup();
    fake.queue.push({ status: 204 });
    await expect(
      client.busifavor.modifyStock('123', { out_request_no: 'm1', comment: 'x' }),
    ).resolves.toBeUndefined();
    expect(fake.seen[0]?.method).toBe('PATCH');
    expect(JSON.parse(fake.seen[0]?.body ?? '')).toEqual({ out_request_no: 'm1', comment: 'x' });
  });

  it('rejects a 204 whose signature does not verify, and a 200 without signature headers', async () => {
    const { client, fake } = setup();
    fake.queue.push({ status: 204, sign: 'bad' }, { status: 200, body: { a: 1 }, sign: false });
    await expect(client.busifavor.modifyStock('1', { out_request_no: 'm' })).rejects.toBeInstanceOf(
      SignatureVerificationError,
    );
    await expect(client.busifavor.getStock('1')).rejects.toThrow(/missing-headers/);
  });

  it('rejects a response signed 300 s ago and one signed by a key ID it was not given', async () => {
    const { client, fake } = setup();
    fake.queue.push(
      { status: 200, body: {}, timestamp: 1735689600 - 300 },
      { status: 200, body: {}, serial: 'PUB_KEY_ID_999' },
    );
    await expect(client.busifavor.getStock('1')).rejects.toThrow(/stale-timestamp/);
    await expect(client.busifavor.getStock('1')).rejects.toThrow(/unknown-serial/);
  });

  it('turns a non-2xx into an ApiError with status, code, message, detail, Request-ID and raw body', async () => {
    const { client, fake } = setup();
    const body = {
      code: 'PARAM_ERROR',
      message: '参数错误',
      detail: { field: '/stock_name', location: 'body' },
    };
    fake.queue.push({ status: 400, body, sign: false });
    const err = await client.busifavor.createStock(createStockBody).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      status: 400,
      code: 'PARAM_ERROR',
      message: '参数错误',
      detail: body.detail,
      requestId: 'req-1',
      rawBody: JSON.stringify(body),
    });
    expect(fake.seen).toHaveLength(1);
  });

  it('normalises NOAUTH to NO_AUTH and survives a non-JSON error body', async () => {
    const { client, fake } = setup();
    fake.queue.push(
      { status: 403, body: { code: 'NOAUTH', message: 'x' }, sign: false },
      { status: 404, body: '', sign: false },
    );
    await expect(client.busifavor.getStock('1')).rejects.toMatchObject({ code: 'NO_AUTH' });
    await expect(client.busifavor.getStock('1')).rejects.toMatchObject({ status: 404, code: undefined });
  });
});

describe('retries', () => {
  it('retries a 500 for a body with a request number, re-signing with a fresh nonce, same body', async () => {
    const { client, fake, sleeps } = setup();
    fake.queue.push(
      { status: 500, body: { code: 'SYSTEM_ERROR', message: 'x' } },
      { status: 200, body: { stock_id: '1', create_time: 't' } },
    );
    await expect(client.busifavor.createStock(createStockBody)).resolves.toEqual({
      stock_id: '1',
      create_time: 't',
    });
    expect(fake.seen).toHaveLength(2);
    expect(fake.seen[0]?.authorization.nonce).not.toBe(fake.seen[1]?.authorization.nonce);
    expect(fake.seen[0]?.body).toBe(fake.seen[1]?.body);
    expect(fake.seen.every((s) => s.authorization.signatureValid)).toBe(true);
    expect(sleeps).toEqual([150]); // 200 ms * (1/2 + 0.5 * 1/2)
  });

  it('backs off exponentially and gives up after maxAttempts, honouring Retry-After on 429', async () => {
    const { client, fake, sleeps } = setup({
      retry: { maxAttempts: 4, random: () => 0, sleep: async (ms) => void sleepsRef.push(ms) },
    });
    const sleepsRef = sleeps;
    fake.queue.push(
      { status: 503, body: '' },
      { status: 429, body: { code: 'FREQUENCY_LIMITED', message: 'slow' }, headers: { 'Retry-After': '2' } },
      { status: 502, body: '' },
      { status: 500, body: { code: 'SYSTEM_ERROR', message: 'x' } },
    );
    await expect(client.busifavor.getStock('1')).rejects.toMatchObject({ status: 500 });
    expect(fake.seen).toHaveLength(4);
    expect(sleeps).toEqual([100, 2000, 400]);
  });

  it('tells onRetry about each retry (not the last failure), and ignores an exception it throws', async () => {
    const events: RetryEvent[] = [];
    const { client, fake, sleeps } = setup({
      retry: { maxAttempts: 4, random: () => 0, sleep: async (ms) => void sleepsRef.push(ms) },
      onRetry: (e) => {
        events.push(e);
        throw new Error('a broken hook');
      },
      timeoutMs: 20,
    });
    const sleepsRef = sleeps;
    fake.queue.push(
      'network-error',
      'hang',
      {
        status: 429,
        body: { code: 'FREQUENCY_LIMITED', message: 'slow' },
        headers: { 'Retry-After': '2', 'Wechatpay-Sandbox-Injected-Fault': 'rule=FR1' },
      },
      { status: 500, body: { code: 'SYSTEM_ERROR', message: 'x' } },
    );
    await expect(client.busifavor.getStock('1')).rejects.toMatchObject({ status: 500 });
    expect(fake.seen).toHaveLength(4);
    expect(events.map((e) => [e.attempt, e.reason, e.delayMs])).toEqual([
      [1, 'connection', 100],
      [2, 'timeout', 200],
      [3, 'status', 2000],
    ]);
    expect(events.map((e) => e.delayMs)).toEqual(sleeps);
    expect(events[0]).toMatchObject({
      method: 'GET',
      url: '/v3/marketing/busifavor/stocks/1',
      maxAttempts: 4,
    });
    expect(events[0]?.error).toBeInstanceOf(ConnectionError);
    expect(events[1]?.error).toBeInstanceOf(TimeoutError);
    expect(events[2]).toMatchObject({ status: 429, code: 'FREQUENCY_LIMITED', injectedFault: 'rule=FR1' });
    expect(events[2]?.error).toBeInstanceOf(ApiError);
    expect(events[0]).not.toHaveProperty('status');
  });

  it('retries 400 SYSTEM_ERROR but never 400 PARAM_ERROR or 401', async () => {
    const { client, fake } = setup();
    fake.queue.push({ status: 400, body: { code: 'SYSTEM_ERROR', message: 'x' } }, { status: 200, body: {} });
    await client.busifavor.getStock('1');
    expect(fake.seen).toHaveLength(2);
    fake.queue.push({ status: 401, body: { code: 'SIGN_ERROR', message: 'x' }, sign: false });
    await expect(client.busifavor.getStock('1')).rejects.toMatchObject({ code: 'SIGN_ERROR' });
    expect(fake.seen).toHaveLength(3);
  });

  it('does not retry a POST without a request number', async () => {
    const { client, fake } = setup();
    fake.queue.push({ status: 500, body: '' });
    await expect(
      client.request({ method: 'POST', path: '/v3/marketing/x', body: { a: 1 } }),
    ).rejects.toBeInstanceOf(ApiError);
    expect(fake.seen).toHaveLength(1);
  });

  it('retries network errors and reports ConnectionError at the end', async () => {
    const { client, fake, sleeps } = setup();
    fake.queue.push('network-error', 'network-error', 'network-error');
    await expect(
      client.busifavor.useCoupon({ coupon_code: 'c', appid: 'wx', use_time: 't', use_request_no: 'u1' }),
    ).rejects.toBeInstanceOf(ConnectionError);
    expect(fake.seen).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it('times out each attempt with TimeoutError and retries an idempotent request', async () => {
    const { client, fake } = setup({ timeoutMs: 20 });
    fake.queue.push('hang', { status: 200, body: { stock_id: '1' } });
    await expect(client.busifavor.getStock('1')).resolves.toEqual({ stock_id: '1' });
    fake.queue.push('hang');
    await expect(client.request({ method: 'POST', path: '/v3/x', body: {} })).rejects.toBeInstanceOf(
      TimeoutError,
    );
  });

  it('stops at once when the caller aborts, without retrying', async () => {
    const { client, fake } = setup();
    fake.queue.push('hang', 'hang');
    const controller = new AbortController();
    const pending = client.busifavor.getStock('1', { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user cancelled')), 5);
    await expect(pending).rejects.toThrow('user cancelled');
    expect(fake.seen).toHaveLength(1);
  });
});

describe('platform certificates (auto)', () => {
  it('downloads, decrypts and self-verifies /v3/certificates, then verifies responses by certificate serial', async () => {
    const { client, fake } = setup(
      { verification: { certificates: 'auto' } },
      { identity: platformA, serial: platformA.serialNo },
    );
    await client.busifavor.getStock('1');
    expect(fake.seen.map((s) => s.target)).toEqual(['/v3/certificates', '/v3/marketing/busifavor/stocks/1']);
    expect(fake.seen[1]?.headers.get('wechatpay-serial')).toBe(platformA.serialNo);
    expect(client.platformKeys.certificates().map((c) => c.serialNo)).toEqual([platformA.serialNo]);
  });

  it('follows a rotation: an unknown serial triggers one refresh, then old and new serials both verify', async () => {
    const { client, fake, advance } = setup(
      { verification: { certificates: 'auto' } },
      { identity: platformA, serial: platformA.serialNo },
    );
    await client.busifavor.getStock('1');
    fake.certificates = [platformA, platformB];
    fake.signer = { identity: platformB, serial: platformB.serialNo };
    advance(1000);
    await client.busifavor.getStock('2');
    expect(fake.seen.filter((s) => s.target === '/v3/certificates')).toHaveLength(2);
    fake.signer = { identity: platformA, serial: platformA.serialNo };
    await client.busifavor.getStock('3');
    expect(fake.seen.filter((s) => s.target === '/v3/certificates')).toHaveLength(2);
  });

  it('refreshes periodically', async () => {
    const { client, fake, advance } = setup(
      { verification: { certificates: 'auto' }, certificateRefreshIntervalMs: 60_000 },
      { identity: platformA, serial: platformA.serialNo },
    );
    await client.busifavor.getStock('1');
    advance(61_000);
    await client.busifavor.getStock('1');
    expect(fake.seen.filter((s) => s.target === '/v3/certificates')).toHaveLength(2);
  });

  it('orders certificates that take effect in the same second by expire time, then serial, whatever the download order', () => {
    const sameSecond = NOW_MS - 60_000;
    for (const order of [
      [platformA, platformB],
      [platformB, platformA],
    ]) {
      const keys = new PlatformKeyStore({ verification: { certificates: [] }, now: () => NOW_MS });
      for (const cert of order) {
        // A is retiring (its overlap ends in 24 h), B was just made by the rotation.
        const expires = cert === platformA ? NOW_MS + 86_400_000 : NOW_MS + 5 * 365 * 86_400_000;
        keys.addCertificatePem(cert.certificatePem, sameSecond, expires);
      }
      expect(keys.certificates().map((c) => c.serialNo)).toEqual([platformB.serialNo, platformA.serialNo]);
      expect(keys.active()?.serial).toBe(platformB.serialNo);
      const tied = new PlatformKeyStore({ verification: { certificates: [] }, now: () => NOW_MS });
      for (const cert of order) tied.addCertificatePem(cert.certificatePem, sameSecond, NOW_MS + 86_400_000);
      expect(tied.certificates().map((c) => c.serialNo)).toEqual([platformB.serialNo, platformA.serialNo]);
    }
  });

  it('accepts both the public key and certificates during the migration', async () => {
    const { client, fake } = setup(
      {
        verification: {
          publicKey: { keyId: PUB_KEY_ID, key: pubkey.publicKeyPem },
          certificates: [platformA.certificatePem],
        },
      },
      { identity: platformA, serial: platformA.serialNo },
    );
    await client.busifavor.getStock('1');
    fake.signer = { identity: pubkey, serial: PUB_KEY_ID };
    await client.busifavor.getStock('1');
    expect(fake.seen).toHaveLength(2);
  });
});

describe('sensitive fields and uploads', () => {
  it('encryptSensitive uses the key named in Wechatpay-Serial', async () => {
    const { client, fake } = setup();
    const ct = await client.encryptSensitive('13800138000');
    expect(decryptSensitiveField(ct, pubkey.privateKey)).toBe('13800138000');
    await client.busifavor.getStock('1');
    expect(fake.seen[0]?.headers.get('wechatpay-serial')).toBe(PUB_KEY_ID);
  });

  it('uploads an image as multipart signed over the meta JSON', async () => {
    const { client, fake } = setup();
    const file = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
    fake.queue.push({ status: 200, body: { media_url: 'https://media.example/1.png' } });
    const res = await client.media.uploadImage({ filename: 'logo.png', file });
    expect(res.media_url).toBe('https://media.example/1.png');
    const seen = fake.seen[0];
    expect(seen?.authorization.signatureValid).toBe(true);
    expect(seen?.headers.get('content-type')).toMatch(/^multipart\/form-data; boundary=/);
    expect(seen?.body).toContain(
      '{"filename":"logo.png","sha256":"71fde3856a298a052c6edb5155638d8422114e55bf0e28374d90dea8be99ef6c"}',
    );
    expect(Buffer.from(seen?.bodyBytes ?? []).includes(file)).toBe(true);
  });
});

describe('package', () => {
  it('SDK_VERSION matches package.json and the SDK has no runtime dependencies', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.version).toBe(SDK_VERSION);
    expect(pkg.dependencies ?? {}).toEqual({});
  });
});
