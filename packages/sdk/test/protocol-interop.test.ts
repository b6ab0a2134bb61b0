import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// Third-party clients, as merchants use them (CommonJS).
import { Aes, Formatter, Hash, Rsa } from 'wechatpay-axios-plugin';
import WxPay from 'wechatpay-node-v3';
import {
  buildAuthorization,
  buildRequestSigningString,
  buildResponseSigningString,
  decryptAeadAes256Gcm,
  encryptAeadAes256Gcm,
  encryptSensitiveField,
  loadCertificate,
  loadPublicKey,
  parseAuthorization,
  signMessage,
  signParamsHmacSha256,
  signResponse,
  signResponseAsync,
  verifyMessage,
  verifyParamsHmacSha256,
} from '../src/index.js';
import { API_V3_KEY, MCHID, makeIdentity, tempFile } from './fixtures.js';

const mch = makeIdentity('merchant', '5E3F1C2B4A6D8E9F01234567ABCDEF0011223344');
const message = buildRequestSigningString({
  method: 'POST',
  canonicalUrl: '/v3/marketing/busifavor/callbacks',
  timestamp: 1735689600,
  nonce: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
  body: '{"mchid":"1900000001","notify_url":"https://merchant.example.com/wxpay/busifavor"}',
});

describe('cross-checks against the openssl CLI', () => {
  it('openssl dgst -verify accepts our signature', () => {
    const sig = tempFile('sig.bin', Buffer.from(signMessage(message, mch.privateKey), 'base64'));
    const msg = tempFile('msg.txt', message);
    const out = execFileSync('openssl', [
      'dgst',
      '-sha256',
      '-verify',
      mch.files.pub,
      '-signature',
      sig,
      msg,
    ]);
    expect(out.toString()).toContain('Verified OK');
  });

  it('our verifier accepts a signature made by openssl dgst -sign, and rejects it for another message', () => {
    const msg = tempFile('msg2.txt', message);
    const sig = execFileSync('openssl', ['dgst', '-sha256', '-sign', mch.files.key, msg]).toString('base64');
    expect(sig).toBe(signMessage(message, mch.privateKey));
    const pub = loadPublicKey(mch.publicKeyPem);
    expect(verifyMessage(message, sig, pub)).toBe(true);
    expect(verifyMessage(`${message}x`, sig, pub)).toBe(false);
  });

  it('loadCertificate reads the same serial as openssl x509 -serial', () => {
    const out = execFileSync('openssl', ['x509', '-noout', '-serial', '-in', mch.files.cert])
      .toString()
      .trim();
    expect(out).toBe(`serial=${loadCertificate(mch.certificatePem).serialNo}`);
  });

  it('openssl pkeyutl decrypts our RSA-OAEP (SHA-1) output', () => {
    const ct = encryptSensitiveField('张三', loadPublicKey(mch.certificatePem));
    expect(ct).toHaveLength(344);
    const file = tempFile('oaep.bin', Buffer.from(ct, 'base64'));
    const out = execFileSync('openssl', [
      'pkeyutl',
      '-decrypt',
      '-inkey',
      mch.files.key,
      '-in',
      file,
      '-pkeyopt',
      'rsa_padding_mode:oaep',
      '-pkeyopt',
      'rsa_oaep_md:sha1',
      '-pkeyopt',
      'rsa_mgf1_md:sha1',
    ]);
    expect(out.toString('utf8')).toBe('张三');
  });

  it('openssl dgst -hmac gives our coupon-send HMAC-SHA256 sign for the same parameters and APIv2 key', () => {
    const apiV2Key = 'Ab3dEf6hIj9lMn2pQr5tUv8xYz1bCd4f';
    // Unsorted on purpose, with an empty value (dropped) and multi-byte text (hashed as UTF-8).
    const params = {
      stock_id0: '1212000000000001',
      send_coupon_merchant: MCHID,
      out_request_no0: '订单-0001',
      coupon_code0: '',
    };
    const input = tempFile(
      'hmac.txt',
      `out_request_no0=订单-0001&send_coupon_merchant=${MCHID}&stock_id0=1212000000000001&key=${apiV2Key}`,
    );
    const out = execFileSync('openssl', ['dgst', '-sha256', '-hmac', apiV2Key, '-r', input]).toString();
    const hex = out.split(' ')[0]?.toUpperCase();
    expect(signParamsHmacSha256(params, apiV2Key)).toBe(hex);
    expect(verifyParamsHmacSha256(params, hex ?? '', apiV2Key)).toBe(true);
    expect(verifyParamsHmacSha256({ ...params, stock_id0: '1212000000000002' }, hex ?? '', apiV2Key)).toBe(
      false,
    );
  });
});

describe('cross-checks against wechatpay-axios-plugin and wechatpay-node-v3', () => {
  const pay = new WxPay({
    appid: 'wx0000000000000001',
    mchid: MCHID,
    publicKey: Buffer.from(mch.certificatePem),
    privateKey: Buffer.from(mch.privateKeyPem),
    serial_no: mch.serialNo,
    key: API_V3_KEY,
  });

  it('our request signature equals Rsa.sign and wechatpay-node-v3 getSignature for the same key and message', () => {
    const ours = signMessage(message, mch.privateKey);
    expect(Rsa.sign(message, mch.privateKeyPem)).toBe(ours);
    expect(
      Formatter.request(
        'POST',
        '/v3/marketing/busifavor/callbacks',
        1735689600,
        '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
        '{"mchid":"1900000001","notify_url":"https://merchant.example.com/wxpay/busifavor"}',
      ),
    ).toBe(message);
    const theirs = pay.getSignature(
      'POST',
      '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
      '1735689600',
      '/v3/marketing/busifavor/callbacks',
      '{"mchid":"1900000001","notify_url":"https://merchant.example.com/wxpay/busifavor"}',
    );
    expect(theirs).toBe(ours);
  });

  it('a GET signature equals wechatpay-node-v3 (empty body line)', () => {
    const get = buildRequestSigningString({
      method: 'GET',
      canonicalUrl: '/v3/certificates',
      timestamp: 1,
      nonce: 'N',
      body: '',
    });
    expect(pay.getSignature('GET', 'N', '1', '/v3/certificates')).toBe(signMessage(get, mch.privateKey));
  });

  it('Rsa.verify accepts our response signature and Formatter.response builds our signing string', () => {
    const resp = buildResponseSigningString({ timestamp: 1735689601, nonce: 'abc', body: '{"a":1}' });
    expect(Formatter.response(1735689601, 'abc', '{"a":1}')).toBe(resp);
    expect(Rsa.verify(resp, signMessage(resp, mch.privateKey), mch.publicKeyPem)).toBe(true);
  });

  it('signResponseAsync (thread pool) gives the same headers as signResponse, and Rsa.verify accepts them', async () => {
    const input = {
      body: '{"a":1}',
      timestamp: 1735689601,
      nonce: 'abc',
      serial: 'PUB_KEY_ID_0001',
      privateKey: mch.privateKey,
    };
    const headers = await signResponseAsync(input);
    expect(headers).toEqual(signResponse(input));
    const resp = buildResponseSigningString({ timestamp: 1735689601, nonce: 'abc', body: '{"a":1}' });
    expect(Rsa.verify(resp, headers['Wechatpay-Signature'], mch.publicKeyPem)).toBe(true);
  });

  it('their AES-GCM decrypts our ciphertext and ours decrypts theirs', () => {
    const plaintext = '{"coupon_code":"CODE0001","summary":"商家券"}';
    const ours = encryptAeadAes256Gcm({
      apiV3Key: API_V3_KEY,
      nonce: 'k9x2LmQ7pR4s',
      associatedData: 'coupon',
      plaintext,
    });
    expect(Aes.AesGcm.decrypt(ours, API_V3_KEY, 'k9x2LmQ7pR4s', 'coupon')).toBe(plaintext);
    expect(JSON.stringify(pay.decipher_gcm(ours, 'coupon', 'k9x2LmQ7pR4s'))).toBe(plaintext);
    const theirs = Aes.AesGcm.encrypt(plaintext, API_V3_KEY, 'Zz1Yy2Xx3Ww4', 'certificate');
    expect(theirs).toBe(
      encryptAeadAes256Gcm({
        apiV3Key: API_V3_KEY,
        nonce: 'Zz1Yy2Xx3Ww4',
        associatedData: 'certificate',
        plaintext,
      }),
    );
    expect(
      decryptAeadAes256Gcm({
        apiV3Key: API_V3_KEY,
        nonce: 'Zz1Yy2Xx3Ww4',
        associatedData: 'certificate',
        ciphertext: theirs,
      }),
    ).toBe(plaintext);
  });

  it('wechatpay-axios-plugin Hash.sign (HMAC-SHA256) equals our coupon-send sign', () => {
    const apiV2Key = 'Ab3dEf6hIj9lMn2pQr5tUv8xYz1bCd4f';
    const params = { stock_id0: '1212000000000001', send_coupon_merchant: MCHID, out_request_no0: 'R0001' };
    expect(signParamsHmacSha256(params, apiV2Key)).toBe(Hash.sign(Hash.ALGO_HMAC_SHA256, params, apiV2Key));
  });

  it('their RSA-OAEP decrypts ours', () => {
    const ct = encryptSensitiveField('13800138000', createPublicKey(mch.publicKeyPem));
    expect(Rsa.decrypt(ct, mch.privateKeyPem)).toBe('13800138000');
    expect(pay.privateDecrypt(ct)).toBe('13800138000');
  });

  it('their Authorization headers parse with our parser', () => {
    const sig = signMessage(message, mch.privateKey);
    for (const header of [
      Formatter.authorization(MCHID, 'NONCE123', sig, 1735689600, mch.serialNo),
      pay.getAuthorization('NONCE123', '1735689600', sig),
    ]) {
      const parsed = parseAuthorization(header);
      expect(parsed).toEqual({
        ok: true,
        params: {
          mchid: MCHID,
          nonce: 'NONCE123',
          signature: sig,
          timestamp: '1735689600',
          serialNo: mch.serialNo,
        },
      });
    }
  });
});

describe('parseAuthorization edge cases', () => {
  const ok =
    'WECHATPAY2-SHA256-RSA2048 mchid="1900000001",nonce_str="N1",signature="c2ln",timestamp="1",serial_no="AB"';

  it('accepts any parameter order and whitespace around , and =', () => {
    const reordered =
      'WECHATPAY2-SHA256-RSA2048  signature = "c2ln" , serial_no="AB",  timestamp="1",nonce_str ="N1", mchid= "1900000001" ';
    expect(parseAuthorization(reordered)).toEqual(parseAuthorization(ok));
    expect(parseAuthorization(ok).ok).toBe(true);
  });

  it.each([
    ['a duplicate parameter', `${ok},mchid="1900000002"`, 'more than once'],
    ['a missing parameter', ok.replace(',serial_no="AB"', ''), 'missing parameter'],
    ['an empty value', ok.replace('nonce_str="N1"', 'nonce_str=""'), 'missing parameter'],
    [
      'a bad scheme',
      ok.replace('WECHATPAY2-SHA256-RSA2048', 'WECHATPAY2-SM2-WITH-SM3'),
      'unknown authorization scheme',
    ],
    ['a lower-case scheme', ok.replace('WECHATPAY2', 'wechatpay2'), 'unknown authorization scheme'],
    ['an unquoted value', ok.replace('timestamp="1"', 'timestamp=1'), 'malformed parameter'],
    ['an unknown parameter', `${ok},foo="bar"`, 'unknown parameter'],
    ['no header', undefined, 'missing'],
    ['only the scheme', 'WECHATPAY2-SHA256-RSA2048', 'malformed'],
  ])('rejects %s', (_name, header, reason) => {
    const result = parseAuthorization(header);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it('property: parse(build(x)) == x for every legal parameter set', () => {
    const alnum = fc.stringMatching(/^[0-9A-Za-z]{1,32}$/);
    fc.assert(
      fc.property(
        fc.record({
          mchid: fc.stringMatching(/^[0-9]{8,15}$/),
          serialNo: fc.stringMatching(/^[0-9A-F]{1,40}$/),
          timestamp: fc.integer({ min: 0, max: 2 ** 32 }).map(String),
          nonce: alnum,
          signature: fc
            .uint8Array({ minLength: 1, maxLength: 256 })
            .map((b) => Buffer.from(b).toString('base64')),
        }),
        (params) => {
          expect(parseAuthorization(buildAuthorization(params))).toEqual({ ok: true, params });
        },
      ),
      { numRuns: 300 },
    );
  });
});
