import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildRequestSigningString,
  buildResponseSigningString,
  decryptAeadAes256Gcm,
  encryptAeadAes256Gcm,
  loadPublicKey,
  signParamsHmacSha256,
  verifyMessage,
  verifyMessageAsync,
} from './index.js';

// Public vectors of docs/protocol.md §1.6, §1.7, §2.5, §9.3 and §12 (§9), with the public keys that verify them.
const MCH_PUB = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2QLsGRh6/lnsPeM/kSeJ
ih5WkfNQ29uh/9NKhbyHWzKNwQ4i6mHhPw8BoeRZ7E/Z9rnzdNK66307LymfsCpG
NLWYpIhZGxvTTwd4yc//QSXUkEXbsZ9AXgdza/9VAE6CeErA9NHBYpmcG0x0kq4T
uZYUZCjtxgOErHdp5ts4u8F8g+zrsHowkWLEY7mZOK+I74d1aYkMUjouFog4F4pG
1M4X3L46buuZ5Fgyk+toP29w1kX9nl/4W8LDe9IBRNwRW39GyW2HgkLShDqYd63J
zzvADeIlH4DpevA79qsA01SnGNC9XzLyUiyfz1ONJi7KhtCFA2UpifKHydkev7/5
oQIDAQAB
-----END PUBLIC KEY-----`;
const WXP_PUB = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEApctugPArtLDQoNK+w0/p
iuJIc76DcoHQcvTNnG4DrG4bmXMNvkeayECdioaxIqrxFv+nFmqe/rynRNOXEmK+
NEliCMR5He1aqCbZuVvCAYCMJHuEOJeCjeBH057sIfr83yP2nr9nwUvyI29Omk6J
THqjyKyhosX5oHwiEkTk24WiEbCJbeUdqoRY74jB7aSGeii/4DD2pUp0uF6JvVYW
e6iXYkj3AOv3GExnKgaXcsecONo+wuYfwD3DsNaYwz8a8HfFGlM9wmNNhu7SV6Eq
YW4dIGC1aC0U/xJt7XExgbQuiXtYHl9i86EC6EIS/9QU5hw6AVSyAIcTdX/JqKL1
wwIDAQAB
-----END PUBLIC KEY-----`;
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

describe('protocol.md vectors', () => {
  it('builds the §1.6 POST signing string and the published signature verifies with MCH_PUB', async () => {
    const message = buildRequestSigningString({
      method: 'post',
      canonicalUrl: '/v3/marketing/busifavor/callbacks',
      timestamp: 1735689600,
      nonce: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
      body: '{"mchid":"1900000001","notify_url":"https://merchant.example.com/wxpay/busifavor"}',
    });
    expect(sha256(message)).toBe('aaf3bed14eebd56b98b4a195381f0a153db928489e15069a0a3498c499778466');
    const sig =
      'MWsOdBEhpRSKUqDuWrJe/p5zMf8tqw16sG19qYBBPi/W79lYB7W97xZQ03A8yRXO5Eo263sNq0LHNL+dSc7hBAuHSd6QBHU2jQnZrHGr9HSfwhRDvbj7tn6AEh1YH1JhRz/wScVWIjhSboHvuQ4ZESgffjEhpFCRsV+jEZdwri6ASoGlWjplt+pHn0quW7zTLTgqeSWQ5r7buUOQuK0L7U6/YQe4EGMGMrX0sIoI1ZqSpftZogHwKA+BAXRC63WBOjPsBDFwzARBvQ71B9OlfGa5Fz+McULp4IFFboGj4lNJz9ipwKJxob4WNk/6UWsvxDsKWCglVnAuXj100YxCUQ==';
    expect(verifyMessage(message, sig, loadPublicKey(MCH_PUB))).toBe(true);
    expect(verifyMessage(`${message} `, sig, loadPublicKey(MCH_PUB))).toBe(false);
    // The thread-pool form answers the same, and false (never a rejection) for a malformed signature.
    expect(await verifyMessageAsync(message, sig, loadPublicKey(MCH_PUB))).toBe(true);
    expect(await verifyMessageAsync(`${message} `, sig, loadPublicKey(MCH_PUB))).toBe(false);
    expect(await verifyMessageAsync(message, 'not base64!', loadPublicKey(MCH_PUB))).toBe(false);
    expect(await verifyMessageAsync(message, 'AAAA', loadPublicKey(MCH_PUB))).toBe(false);
  });

  it('builds the §1.7 GET signing string with the query and an empty body line', () => {
    const message = buildRequestSigningString({
      method: 'GET',
      canonicalUrl: '/v3/marketing/busifavor/callbacks?mchid=1900000001',
      timestamp: '1735689660',
      nonce: 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6',
      body: '',
    });
    expect(sha256(message)).toBe('b62b88a7a0a8864a52057384b5b688ee14c1cc03d982048182e6c12f072cf111');
  });

  it('verifies the §2.5 response signature with WXP_PUB', () => {
    const body =
      '{"update_time":"2025-01-01T08:00:01+08:00","notify_url":"https://merchant.example.com/wxpay/busifavor","mchid":"1900000001"}';
    const message = buildResponseSigningString({
      timestamp: 1735689601,
      nonce: 'f4c1a7d2e9b04c3f8a6d5e2b1c0f9a87',
      body,
    });
    expect(sha256(message)).toBe('2b1f906f82b03d3f5c2c4a674fd30922f5dfea2c1fa2d914cc62f97a2f07ff90');
    const sig =
      'WraIKFpKsYU9AqtIFzuVodqFsrTtjGFjE2GzMEuCRndPzsfgUndT8J6/aFvC3YCrwnWcfnH7UeN5SqTX6wY4IhTvmut2JewtinChRHRyQElAD7C1KM/zX16iT9vI4OI2KF5ZNU9CeTSjPeszjPay+9t2X4WSMRtjiGzG56OKaqFdjAw4pRcu3hHtwdgrL12fD6iUtAuDwrgDRn+iqUYgywUtZHUm4AO6VBOevD/QURajhLo1EcgAJsg42vKXk9zpnhfB6eEwypsmfr2NjRX5sboxNdXGQTFIzuqlj1SYEewqJEfi04nMth2pAXlVG2aJ9U6ZJPJzj2ervAZSsXmZCQ==';
    expect(verifyMessage(message, sig, loadPublicKey(WXP_PUB))).toBe(true);
    expect(verifyMessage(message, sig, loadPublicKey(MCH_PUB))).toBe(false);
  });

  it('reproduces the §9.3 AEAD_AES_256_GCM ciphertext and decrypts it', () => {
    const plaintext =
      '{"event_type":"EVENT_TYPE_BUSICOUPON_SEND","coupon_code":"CODE0001","stock_id":"1212000000000001","send_time":"2025-01-01T08:00:00+08:00","openid":"oTest_openid_0001","unionid":"","send_channel":"BUSICOUPON_SEND_CHANNEL_API","send_merchant":"1900000001"}';
    const input = {
      apiV3Key: 'TestApiV3Key0123456789abcdefABCD',
      nonce: 'k9x2LmQ7pR4s',
      associatedData: 'coupon',
    };
    const ciphertext = encryptAeadAes256Gcm({ ...input, plaintext });
    expect(ciphertext).toBe(
      'x8t63VbkFJZgjkjKGMyyvNn1GwYAoMtoeju0tDS9pQ6Qi1eQEWfnGgB9bd1MhAwXvdlBnN1s089hWuuLNCFCg3Y29uYIn+h9io2KfC1buMk42BO4v1j7ECbt2AIYUSNNB6m0yu57qyBu6pM7nBMitamFHq3NDc84NJFRewGY5LpkYa/jMOlGt0oA9+yVfGZAww5UX0ZYbcR11xWnu2ttEkuoXvVWsoLauMiXLDG2ta/ag+tebgq9Bv3N1gpdHIoNroI9KsFQJBdwA8VHYf959jBszQ5sKx+HOVa8ooplxyKnCvVvF1uoAKuDYbU90+ZM/3VSn6BQZgBVmG4JcGwxYQt4vzTXEH0sV8VTGP5R',
    );
    expect(decryptAeadAes256Gcm({ ...input, ciphertext })).toBe(plaintext);
    expect(() => decryptAeadAes256Gcm({ ...input, associatedData: 'certificate', ciphertext })).toThrow(
      /authentication failed/,
    );
  });

  it('reproduces the §12 HMAC-SHA256 coupon-send signature', () => {
    const sign = signParamsHmacSha256(
      { out_request_no0: 'abc123', send_coupon_merchant: '10016226', stock_id0: '1234567', empty: '' },
      'apiv2keyapiv2keyapiv2keyapiv2key',
    );
    expect(sign).toBe('556E26576161AC57E7F874564912E2BC43269817CAB3AD807DCDD3FA94370E15');
  });
});
