import { describe, expect, it } from 'vitest';
import { SDK_METHODS } from '../src/client/operations.js';
import { createWechatPayClient, OPERATIONS, type OperationId, type WechatPayClient } from '../src/index.js';
import { createFakePlatform } from './fake-platform.js';
import { MCHID, makeIdentity, PUB_KEY_ID } from './fixtures.js';

/**
 * SDK_METHODS says which client method calls each operation of the endpoint table; the compiler checks
 * that every operation and every method is in it, and this checks that it tells the truth: each method
 * sends its operation's method to a path its template matches.
 */

const merchant = makeIdentity('operations-merchant', '5E3F1C2B4A6D8E9F01234567ABCDEF0011223344');
const pubkey = makeIdentity('operations-pubkey', '01');
const NOW_MS = 1735689600_000;

/** One call of each mapped method, with placeholder arguments (the fake platform answers anything). */
const CALLS: Record<(typeof SDK_METHODS)[OperationId], (c: WechatPayClient) => Promise<unknown>> = {
  'busifavor.createStock': (c) => c.busifavor.createStock({} as never),
  'busifavor.getStock': (c) => c.busifavor.getStock('s1'),
  'busifavor.modifyStock': (c) => c.busifavor.modifyStock('s1', {} as never),
  'busifavor.modifyBudget': (c) => c.busifavor.modifyBudget('s1', {} as never),
  'busifavor.uploadCouponCodes': (c) => c.busifavor.uploadCouponCodes('s1', {} as never),
  'busifavor.listCouponCodes': (c) => c.busifavor.listCouponCodes('s1'),
  'busifavor.getCouponCode': (c) => c.busifavor.getCouponCode('s1', 'c1'),
  'busifavor.deleteCouponCode': (c) => c.busifavor.deleteCouponCode('s1', 'c1', { delete_request_no: 'd' }),
  'busifavor.sendCoupon': (c) => c.busifavor.sendCoupon({} as never),
  'busifavor.useCoupon': (c) => c.busifavor.useCoupon({} as never),
  'busifavor.listUserCoupons': (c) => c.busifavor.listUserCoupons('o1', { appid: 'wx1' }),
  'busifavor.getUserCoupon': (c) =>
    c.busifavor.getUserCoupon({ openid: 'o1', coupon_code: 'c1', appid: 'wx1' }),
  'busifavor.associateCoupon': (c) => c.busifavor.associateCoupon({} as never),
  'busifavor.disassociateCoupon': (c) => c.busifavor.disassociateCoupon({} as never),
  'busifavor.returnCoupon': (c) => c.busifavor.returnCoupon({} as never),
  'busifavor.deactivateCoupon': (c) => c.busifavor.deactivateCoupon({} as never),
  'busifavor.createSubsidyPayReceipt': (c) => c.busifavor.createSubsidyPayReceipt({} as never),
  'busifavor.getSubsidyPayReceipt': (c) => c.busifavor.getSubsidyPayReceipt('r1'),
  'busifavor.listSubsidyPayReceipts': (c) =>
    c.busifavor.listSubsidyPayReceipts({ stock_id: 's1', coupon_code: 'c1' }),
  'busifavor.createSubsidyReturnReceipt': (c) => c.busifavor.createSubsidyReturnReceipt({} as never),
  'busifavor.getSubsidyReturnReceipt': (c) => c.busifavor.getSubsidyReturnReceipt('r1'),
  'busifavor.setCallback': (c) => c.busifavor.setCallback({} as never),
  'busifavor.getCallback': (c) => c.busifavor.getCallback(),
  'productCoupon.setNotifyConfig': (c) => c.productCoupon.setNotifyConfig({} as never),
  'productCoupon.getNotifyConfig': (c) => c.productCoupon.getNotifyConfig(),
  'deliveryPlan.setNotifyUrl': (c) => c.deliveryPlan.setNotifyUrl('sp1', {} as never),
  'certificates.list': (c) => c.certificates.list(),
  'media.uploadImage': (c) =>
    c.media.uploadImage({ filename: 'a.png', file: new Uint8Array([0x89, 0x50, 0x4e, 0x47]) }),
};

/** A path template as a pattern: each `{name}` is one non-empty path segment. */
function templatePattern(template: string): RegExp {
  const parts = template.split(/\{[A-Za-z0-9_]+\}/).map((p) => p.replace(/[.*+?^$()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[^/?]+')}(\\?.*)?$`);
}

describe('SDK_METHODS', () => {
  it.each(Object.entries(SDK_METHODS) as [OperationId, (typeof SDK_METHODS)[OperationId]][])(
    '%s is called by %s, which sends its method and path',
    async (id, method) => {
      const fake = createFakePlatform(merchant, { identity: pubkey, serial: PUB_KEY_ID }, () =>
        Math.floor(NOW_MS / 1000),
      );
      const client = createWechatPayClient({
        mchid: MCHID,
        serialNo: merchant.serialNo,
        privateKey: merchant.privateKeyPem,
        baseUrl: 'https://api.example.test',
        verification: { publicKey: { keyId: PUB_KEY_ID, key: pubkey.publicKeyPem } },
        fetch: fake.fetch,
        now: () => NOW_MS,
        retry: false,
      });
      await CALLS[method](client);
      expect(fake.seen).toHaveLength(1);
      const [sent] = fake.seen;
      expect(sent?.method).toBe(OPERATIONS[id].method);
      expect(sent?.target).toMatch(templatePattern(OPERATIONS[id].path));
    },
  );
});
