import { buildNotification, signResponse } from '../src/index.js';
import { API_V3_KEY, MCHID, makeIdentity, PUB_KEY_ID } from './fixtures.js';

/** Notifications built and signed by our protocol code, at a fixed time, for the adapter tests. */

export const platform = makeIdentity('platform', '3A6B2C9D1E4F50617283940A1B2C3D4E5F607182');
export const NOW_S = 1735689605;
export const now = () => NOW_S * 1000;
export const couponSend = {
  event_type: 'EVENT_TYPE_BUSICOUPON_SEND',
  coupon_code: 'CODE0001',
  stock_id: '1212000000000001',
  send_time: '2025-01-01T08:00:00+08:00',
  openid: 'oTest_openid_0001',
  send_channel: 'BUSICOUPON_SEND_CHANNEL_API',
  send_merchant: MCHID,
};

export function envelope(eventType: string, plaintext: unknown, originalType = 'coupon') {
  return JSON.stringify(
    buildNotification({
      id: '8b33f79f-8869-5ae5-b41b-3c0b59f957d0',
      createTime: '2025-01-01T08:00:05+08:00',
      eventType,
      summary: '商家券领券通知',
      originalType,
      associatedData: originalType,
      resourceNonce: 'k9x2LmQ7pR4s',
      apiV3Key: API_V3_KEY,
      plaintext,
    }),
  );
}

export function signed(body: string, serial = platform.serialNo, timestamp = NOW_S) {
  return signResponse({
    body,
    timestamp,
    nonce: 'Q0s9N8m7L6k5J4h3G2f1D0s9A8p7O6i5',
    serial,
    privateKey: platform.privateKey,
  });
}

export const byCertificate = { apiV3Key: API_V3_KEY, keys: { certificates: [platform.certificatePem] }, now };
export const byPublicKey = {
  apiV3Key: API_V3_KEY,
  keys: { publicKey: { keyId: PUB_KEY_ID, key: platform.publicKeyPem } },
  now,
};
