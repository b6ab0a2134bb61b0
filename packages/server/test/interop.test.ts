import { generateKeyPairSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigningMode } from '../src/credentials/types.js';
import { openDatabase } from '../src/db/connect.js';
import { MerchantRepo } from '../src/db/merchant-repo.js';

// Both clients are CommonJS packages used exactly as merchants install them.
const require = createRequire(import.meta.url);
const { Wechatpay } = require('wechatpay-axios-plugin') as {
  Wechatpay: new (config: Record<string, unknown>) => WechatpayChain;
};
const NodeV3Pay = require('wechatpay-node-v3') as NodeV3PayClass;

interface WechatpayChain {
  v3: Record<string, unknown> & ((...args: unknown[]) => unknown);
}
interface AxiosLikeResponse {
  status: number;
  data: Record<string, unknown>;
  headers: Record<string, string>;
}
interface NodeV3Instance {
  buildAuthorization(method: string, url: string, params?: unknown): string;
  getHeaders(authorization: string, headers?: Record<string, string>): Record<string, string>;
  createHttp(service: unknown): void;
  verifySign(p: {
    timestamp: string;
    nonce: string;
    body: string;
    serial: string;
    signature: string;
    apiSecret: string;
  }): Promise<boolean>;
}
type NodeV3PayClass = (new (
  config: Record<string, unknown>,
) => NodeV3Instance) & {
  certificates: Record<string, string>;
};

const WECHAT = 'https://api.mch.weixin.qq.com';
const wrongPublicKeyPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .publicKey.export({ type: 'spki', format: 'pem' })
  .toString();

/** Calls an endpoint through the axios plugin's chain API (`v3.marketing.busifavor.callbacks.post`). */
function chain(
  client: WechatpayChain,
  path: string,
): Record<string, (...a: unknown[]) => Promise<AxiosLikeResponse>> {
  let node: unknown = client.v3;
  for (const segment of path.replace(/^\/v3\//, '').split('/'))
    node = (node as Record<string, unknown>)[segment];
  return node as Record<string, (...a: unknown[]) => Promise<AxiosLikeResponse>>;
}

async function setMode(sandbox: TestSandbox, mode: SigningMode): Promise<void> {
  const handle = openDatabase(sandbox.dbUrl);
  await new MerchantRepo(handle.db).setSigningMode(sandbox.merchant.mchid, mode);
  await handle.close();
  await sandbox.restart();
}

/** The verifying key a merchant in each mode configures: PUB_KEY_ID → pub_key.pem, or serial → certificate. */
function platformKeys(sandbox: TestSandbox, mode: SigningMode): { id: string; pem: string } {
  const platform = sandbox.server.credentials.platform;
  if (mode === 'pubkey') return { id: platform.publicKey.keyId, pem: platform.publicKey.publicKeyPem };
  const cert = platform.certificates[platform.certificates.length - 1];
  if (!cert) throw new Error('no platform certificate');
  return { id: cert.serialNo, pem: cert.certificatePem };
}

/** An http service for wechatpay-node-v3 (its public createHttp hook) that sends to the sandbox instead of WeChat. */
class SandboxHttp {
  last: { status: number; text: string; headers: Record<string, string> } | undefined;
  constructor(private readonly base: string) {}
  private async send(method: string, url: string, headers: Record<string, string>, body?: string) {
    const res = await fetch(url.replace(WECHAT, this.base), {
      method,
      headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
      body,
    });
    const text = await res.text();
    this.last = { status: res.status, text, headers: Object.fromEntries(res.headers.entries()) };
    return { status: res.status, data: text ? JSON.parse(text) : undefined };
  }
  get(url: string, headers: Record<string, string>) {
    return this.send('GET', url, headers);
  }
  post(url: string, params: Record<string, unknown>, headers: Record<string, string>) {
    return this.send('POST', url, headers, JSON.stringify(params));
  }
  upload() {
    throw new Error('not used');
  }
}

for (const dialect of DIALECTS) {
  for (const mode of ['pubkey', 'certificate'] as const) {
    describe.skipIf(!dialect.available)(`third-party clients in ${mode} mode on ${dialect.name}`, () => {
      let sandbox: TestSandbox;
      beforeAll(async () => {
        sandbox = await startSandbox({ dialect });
        await setMode(sandbox, mode);
      });
      afterAll(async () => {
        await sandbox?.close();
      });

      const axiosClient = (certs?: Record<string, string>) => {
        const keys = platformKeys(sandbox, mode);
        return new Wechatpay({
          mchid: sandbox.merchant.mchid,
          serial: sandbox.merchant.serialNo,
          privateKey: sandbox.server.credentials.merchant.privateKeyPem,
          certs: certs ?? { [keys.id]: keys.pem },
          baseURL: sandbox.url,
        });
      };

      it('wechatpay-axios-plugin drives all five notify endpoints and verifies every response', async () => {
        const client = axiosClient();
        const mchid = sandbox.merchant.mchid;
        const set = await chain(client, '/v3/marketing/busifavor/callbacks').post?.({
          mchid,
          notify_url: 'https://merchant.example.com/axios',
        });
        expect(set?.status).toBe(200);
        expect(set?.data).toMatchObject({ mchid, notify_url: 'https://merchant.example.com/axios' });
        const get = await chain(client, '/v3/marketing/busifavor/callbacks').get?.({ params: { mchid } });
        expect(get?.data).toEqual({ mchid, notify_url: 'https://merchant.example.com/axios' });
        const pc = chain(client, '/v3/marketing/partner/product-coupon/notify-configs');
        const pcSet = await pc.post?.({ notify_url: 'https://merchant.example.com/pc' });
        expect(pcSet?.data.notify_url).toBe('https://merchant.example.com/pc');
        const pcGet = await pc.get?.();
        expect(pcGet?.data).toEqual(pcSet?.data);
        const dp = await chain(client, `/v3/marketing/partner/delivery-plan/${mchid}/notify-url`).post?.({
          notify_url: 'https://merchant.example.com/dp',
        });
        expect(dp?.data).toEqual({ notify_url: 'https://merchant.example.com/dp' });
      });

      it('wechatpay-axios-plugin rejects our response signatures under a wrong key', async () => {
        const keys = platformKeys(sandbox, mode);
        const client = axiosClient({ [keys.id]: wrongPublicKeyPem });
        await expect(chain(client, '/v3/marketing/busifavor/callbacks').get?.()).rejects.toThrow(
          /EV3_RES_HEADER_SIGNATURE_DIGEST|signature/i,
        );
      });

      it('wechatpay-axios-plugin reads /v3/certificates as the mode allows', async () => {
        const call = chain(axiosClient(), '/v3/certificates').get?.();
        if (mode === 'pubkey') {
          await expect(call).rejects.toMatchObject({ response: { status: 404 } });
        } else {
          const res = await call;
          const data = res?.data.data as Array<{ serial_no: string }>;
          expect(data.map((d) => d.serial_no)).toEqual([platformKeys(sandbox, mode).id]);
        }
      });

      it('wechatpay-node-v3 signs requests we accept and verifies our responses (and refuses a wrong key)', async () => {
        const http = new SandboxHttp(sandbox.url);
        const pay = new NodeV3Pay({
          appid: 'wx0000000000000001',
          mchid: sandbox.merchant.mchid,
          publicKey: Buffer.from(sandbox.server.credentials.merchant.certificatePem),
          privateKey: Buffer.from(sandbox.server.credentials.merchant.privateKeyPem),
          key: sandbox.merchant.apiV3Key,
        });
        pay.createHttp(http);
        NodeV3Pay.certificates = {};
        if (mode === 'pubkey') {
          // wechatpay-node-v3 predates public keys: its verifier reads the serial→key map, so preload the key.
          const keys = platformKeys(sandbox, mode);
          NodeV3Pay.certificates[keys.id] = keys.pem;
        }
        const path = '/v3/marketing/busifavor/callbacks';
        const params = { mchid: sandbox.merchant.mchid, notify_url: 'https://merchant.example.com/node-v3' };
        const authorization = pay.buildAuthorization('POST', `${WECHAT}${path}`, params);
        const result = await http.post(`${WECHAT}${path}`, params, pay.getHeaders(authorization));
        expect(result.status).toBe(200);
        const last = http.last as NonNullable<SandboxHttp['last']>;
        const verify = (serialOverride?: string) =>
          pay.verifySign({
            timestamp: last.headers['wechatpay-timestamp'] as string,
            nonce: last.headers['wechatpay-nonce'] as string,
            body: last.text,
            serial: serialOverride ?? (last.headers['wechatpay-serial'] as string),
            signature: last.headers['wechatpay-signature'] as string,
            apiSecret: sandbox.merchant.apiV3Key,
          });
        // In certificate mode this downloads /v3/certificates through the sandbox and decrypts it.
        expect(await verify()).toBe(true);
        NodeV3Pay.certificates[last.headers['wechatpay-serial'] as string] = wrongPublicKeyPem;
        expect(await verify()).toBe(false);
      });
    });
  }
}
