import { decryptAeadAes256Gcm, loadCertificate } from '@wechatpay-sandbox/sdk/protocol';
import { DIALECTS, startSandbox, type TestSandbox, verifyTestResponse } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotatePlatformCertificate } from '../src/credentials/generate.js';
import { openDatabase } from '../src/db/connect.js';
import { MerchantRepo } from '../src/db/merchant-repo.js';

const sqlite = DIALECTS.find((d) => d.name === 'sqlite');

interface CertificateItem {
  serial_no: string;
  effective_time: string;
  expire_time: string;
  encrypt_certificate: { nonce: string; ciphertext: string };
}

// A platform certificate rotation as WeChat runs it: both certificates served during the overlap.
describe.skipIf(!sqlite)('platform certificate rotation', () => {
  let sandbox: TestSandbox;
  let oldSerial: string;
  beforeAll(async () => {
    sandbox = await startSandbox({ dialect: sqlite as NonNullable<typeof sqlite> });
    const handle = openDatabase(sandbox.dbUrl);
    await new MerchantRepo(handle.db).setSigningMode(sandbox.merchant.mchid, 'certificate');
    await handle.close();
    oldSerial = sandbox.server.credentials.platform.certificates[0]?.serialNo as string;
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  const certificates = async () => {
    const res = await sandbox.request({ method: 'GET', path: '/v3/certificates' });
    expect(res.status).toBe(200);
    return { res, data: res.json<{ data: CertificateItem[] }>().data };
  };

  it('serves old and new certificates during the overlap, signs with the new one, and with the old one on request', async () => {
    const rotated = await rotatePlatformCertificate(sandbox.dir, { overlapHours: 24 });
    expect(rotated.retired.serialNo).toBe(oldSerial);
    await sandbox.restart();
    const { res, data } = await certificates();
    expect(data.map((d) => d.serial_no)).toEqual([oldSerial, rotated.serialNo]);
    const old = data[0] as CertificateItem;
    // The old certificate's expire_time is the end of the overlap, about 24 h from now (Beijing time).
    const expiresInHours = (Date.parse(old.expire_time) - Date.now()) / 3600_000;
    expect(expiresInHours).toBeGreaterThan(23.9);
    expect(expiresInHours).toBeLessThanOrEqual(24);
    const newCert = loadCertificate(
      decryptAeadAes256Gcm({
        apiV3Key: sandbox.merchant.apiV3Key,
        nonce: (data[1] as CertificateItem).encrypt_certificate.nonce,
        associatedData: 'certificate',
        ciphertext: (data[1] as CertificateItem).encrypt_certificate.ciphertext,
      }),
    );
    expect(res.headers['wechatpay-serial']).toBe(rotated.serialNo);
    expect(verifyTestResponse(res, newCert.publicKey).ok).toBe(true);

    const oldKey = sandbox.server.credentials.platform.certificates[0]?.publicKey;
    const namingOld = await sandbox.request({
      method: 'GET',
      path: '/v3/marketing/busifavor/callbacks',
      headers: { 'Wechatpay-Serial': oldSerial },
    });
    expect(namingOld.headers['wechatpay-serial']).toBe(oldSerial);
    expect(oldKey && verifyTestResponse(namingOld, oldKey).ok).toBe(true);
  });

  it('drops the old certificate once the overlap is over', async () => {
    const second = await rotatePlatformCertificate(sandbox.dir, { overlapHours: 0 });
    await sandbox.restart();
    const { data } = await certificates();
    // The first certificate is still inside its 24 h overlap; the one just retired with 0 h is gone.
    expect(data.map((d) => d.serial_no)).toEqual([oldSerial, second.serialNo]);
    expect(data.map((d) => d.serial_no)).not.toContain(second.retired.serialNo);
  });
});
