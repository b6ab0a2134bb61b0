import * as kit from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createWechatPayClient, type WechatPayClient } from '../src/index.js';

// The client against the real sandbox server over real HTTP. Runs once the test-kit exports startSandbox.
type Kit = typeof kit & {
  startSandbox?: (o: { dialect: unknown }) => Promise<{
    url: string;
    merchant: { mchid: string; serialNo: string; privateKey: unknown; apiV3Key: string };
    server: { credentials: { platform: { publicKey: { keyId: string; publicKeyPem: string } } } };
    close(): Promise<void>;
  }>;
};
const testKit = kit as Kit;
const available = typeof testKit.startSandbox === 'function';

describe.skipIf(!available)('client against the sandbox server', () => {
  let sandbox: Awaited<ReturnType<NonNullable<Kit['startSandbox']>>>;
  let client: WechatPayClient;

  beforeAll(async () => {
    const dialect = (testKit as unknown as { DIALECTS: { name: string }[] }).DIALECTS.find(
      (d) => d.name === 'sqlite',
    );
    sandbox = await (testKit.startSandbox as NonNullable<Kit['startSandbox']>)({ dialect });
    const m = sandbox.merchant;
    const pk = sandbox.server.credentials.platform.publicKey;
    client = createWechatPayClient({
      mchid: m.mchid,
      serialNo: m.serialNo,
      privateKey: m.privateKey as never,
      apiV3Key: m.apiV3Key,
      baseUrl: sandbox.url,
      verification: { publicKey: { keyId: pk.keyId, key: pk.publicKeyPem }, certificates: 'auto' },
      retry: false,
    });
  });
  afterAll(() => sandbox?.close());

  it('sets and reads the busifavor callback, verified', async () => {
    const set = await client.busifavor.setCallback({
      notify_url: 'https://merchant.example.com/wxpay/busifavor',
    });
    expect(set.notify_url).toBe('https://merchant.example.com/wxpay/busifavor');
    const got = await client.busifavor.getCallback();
    expect(got).toEqual({ mchid: client.mchid, notify_url: 'https://merchant.example.com/wxpay/busifavor' });
  });

  it('sets and reads the product-coupon notify config and sets the delivery-plan notify URL', async () => {
    await client.productCoupon.setNotifyConfig({ notify_url: 'https://merchant.example.com/wxpay/pc' });
    expect((await client.productCoupon.getNotifyConfig()).notify_url).toBe(
      'https://merchant.example.com/wxpay/pc',
    );
    expect(
      await client.deliveryPlan.setNotifyUrl(client.mchid, {
        notify_url: 'https://merchant.example.com/wxpay/dp',
      }),
    ).toEqual({
      notify_url: 'https://merchant.example.com/wxpay/dp',
    });
  });

  it('maps a server error to ApiError with code and Request-ID', async () => {
    const err = await client.busifavor
      .setCallback({ notify_url: 'http://localhost/x?y=1' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('PARAM_ERROR');
    expect((err as ApiError).requestId).toBeTruthy();
  });
});
