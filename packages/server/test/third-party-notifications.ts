import { createPublicKey } from 'node:crypto';
import { createRequire } from 'node:module';
import { expect } from 'vitest';

// The two npm clients merchants use, exactly as installed (CommonJS).
const require = createRequire(import.meta.url);
const NodeV3Pay = require('wechatpay-node-v3') as (new (
  config: Record<string, unknown>,
) => {
  verifySign(p: Record<string, string>): Promise<boolean>;
  decipher_gcm(ciphertext: string, associatedData: string, nonce: string, key: string): unknown;
}) & { certificates: Record<string, string> };
const { Rsa, Aes, Formatter } = require('wechatpay-axios-plugin') as {
  Rsa: { verify(message: string, signature: string, publicKey: unknown): boolean };
  Aes: { AesGcm: { decrypt(ciphertext: string, key: string, iv: string, aad: string): string } };
  Formatter: { joinedByLineFeed(...pieces: string[]): string };
};

/** A callback as a receiver got it: raw headers (lower-case names) and the raw body. */
export interface ReceivedCallback {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** What the merchant configures in the two clients. */
export interface ThirdPartyMerchant {
  mchid: string;
  apiV3Key: string;
  /** The merchant's API certificate and key (wechatpay-node-v3 needs them to be built). */
  certificatePem: string;
  privateKeyPem: string;
  /** The platform key (public key or certificate PEM) that verifies the callback's Wechatpay-Serial. */
  platformPem: string;
}

/**
 * Verifies a received callback's signature and decrypts its resource with wechatpay-node-v3 (its
 * certificate cache keyed by serial, verifySign, decipher_gcm) and wechatpay-axios-plugin (Rsa.verify
 * over the joined message, AesGcm.decrypt), asserting both verify; returns both plaintexts as objects.
 */
export async function verifyWithThirdPartyClients(
  request: ReceivedCallback,
  merchant: ThirdPartyMerchant,
): Promise<{ nodeV3: unknown; axiosPlugin: unknown }> {
  const h = (name: string) => String(request.headers[name] ?? '');
  const { resource } = JSON.parse(request.body) as {
    resource: { ciphertext: string; associated_data: string; nonce: string };
  };
  const serial = h('wechatpay-serial');

  NodeV3Pay.certificates[serial] = merchant.platformPem;
  const nodeV3 = new NodeV3Pay({
    appid: 'wx8888888888888888',
    mchid: merchant.mchid,
    publicKey: Buffer.from(merchant.certificatePem),
    privateKey: Buffer.from(merchant.privateKeyPem),
    key: merchant.apiV3Key,
  });
  expect(
    await nodeV3.verifySign({
      timestamp: h('wechatpay-timestamp'),
      nonce: h('wechatpay-nonce'),
      body: request.body,
      serial,
      signature: h('wechatpay-signature'),
      apiSecret: merchant.apiV3Key,
    }),
  ).toBe(true);
  const nodeV3Plain = nodeV3.decipher_gcm(
    resource.ciphertext,
    resource.associated_data,
    resource.nonce,
    merchant.apiV3Key,
  );

  const message = Formatter.joinedByLineFeed(h('wechatpay-timestamp'), h('wechatpay-nonce'), request.body);
  expect(Rsa.verify(message, h('wechatpay-signature'), createPublicKey(merchant.platformPem))).toBe(true);
  const axiosPlain = Aes.AesGcm.decrypt(
    resource.ciphertext,
    merchant.apiV3Key,
    resource.nonce,
    resource.associated_data,
  );
  return { nodeV3: nodeV3Plain, axiosPlugin: JSON.parse(axiosPlain) };
}
