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

      it('wechatpay-node-v3 drives all five notify endpoints and /v3/certificates, verifying every response (and refusing a wrong key)', async () => {
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
        const mchid = sandbox.merchant.mchid;
        const verifyLast = (serialOverride?: string) => {
          const last = http.last as NonNullable<SandboxHttp['last']>;
          return pay.verifySign({
            timestamp: last.headers['wechatpay-timestamp'] as string,
            nonce: last.headers['wechatpay-nonce'] as string,
            body: last.text,
            serial: serialOverride ?? (last.headers['wechatpay-serial'] as string),
            signature: last.headers['wechatpay-signature'] as string,
            apiSecret: sandbox.merchant.apiV3Key,
          });
        };
        const calls: Array<[string, string, Record<string, unknown> | undefined]> = [
          [
            'POST',
            '/v3/marketing/busifavor/callbacks',
            { mchid, notify_url: 'https://merchant.example.com/node-v3' },
          ],
          ['GET', `/v3/marketing/busifavor/callbacks?mchid=${mchid}`, undefined],
          [
            'POST',
            '/v3/marketing/partner/product-coupon/notify-configs',
            { notify_url: 'https://merchant.example.com/pc3' },
          ],
          ['GET', '/v3/marketing/partner/product-coupon/notify-configs', undefined],
          [
            'POST',
            `/v3/marketing/partner/delivery-plan/${mchid}/notify-url`,
            { notify_url: 'https://merchant.example.com/dp3' },
          ],
        ];
        for (const [method, path, params] of calls) {
          const authorization = pay.buildAuthorization(method, `${WECHAT}${path}`, params);
          const headers = pay.getHeaders(authorization);
          const result =
            method === 'GET'
              ? await http.get(`${WECHAT}${path}`, headers)
              : await http.post(`${WECHAT}${path}`, params ?? {}, headers);
          expect(result.status, `${method} ${path}`).toBe(200);
          // In certificate mode the first verification downloads /v3/certificates through the sandbox.
          expect(await verifyLast(), `${method} ${path}`).toBe(true);
        }
        expect(http.last?.text).toBe('{"notify_url":"https://merchant.example.com/dp3"}');
        if (mode === 'certificate') {
          const certificates = await (
            pay as unknown as { get_certificates(k: string): Promise<Array<{ serial_no: string }>> }
          ).get_certificates(sandbox.merchant.apiV3Key);
          expect(certificates.map((c) => c.serial_no)).toEqual([platformKeys(sandbox, mode).id]);
        } else {
          await expect(
            (pay as unknown as { get_certificates(k: string): Promise<unknown> }).get_certificates(
              sandbox.merchant.apiV3Key,
            ),
          ).rejects.toThrow('拉取平台证书失败');
        }
        NodeV3Pay.certificates[
          (http.last as NonNullable<SandboxHttp['last']>).headers['wechatpay-serial'] as string
        ] = wrongPublicKeyPem;
        expect(await verifyLast()).toBe(false);
      });
    });
  }
}
