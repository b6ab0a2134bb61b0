import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotatePlatformCertificate } from '../../server/src/credentials/generate.js';
import { openDatabase } from '../../server/src/db/connect.js';
import { MerchantRepo } from '../../server/src/db/merchant-repo.js';
import { createWechatPayClient, decryptSensitiveField, type WechatPayClient } from '../src/index.js';

/**
 * A platform certificate rotation on the real server (rotatePlatformCertificate + restart, as the
 * `wechatpay-sandbox` CLI runs it) under one long-lived SDK client in certificate mode: the client picks
 * up the new serial by itself and keeps accepting the old one during the overlap.
 */

const sqlite = DIALECTS.find((d) => d.name === 'sqlite');
if (!sqlite) throw new Error('the sqlite dialect is missing');
const CALLBACKS = '/v3/marketing/busifavor/callbacks';

describe('SDK across a platform certificate rotation', () => {
  let sandbox: TestSandbox;
  let client: WechatPayClient;
  let oldSerial: string;
  beforeAll(async () => {
    sandbox = await startSandbox({ dialect: sqlite });
    const handle = openDatabase(sandbox.dbUrl);
    await new MerchantRepo(handle.db).setSigningMode(sandbox.merchant.mchid, 'certificate');
    await handle.close();
    oldSerial = sandbox.server.credentials.platform.certificates.at(-1)?.serialNo as string;
    const m = sandbox.merchant;
    const firstUrl = sandbox.url;
    client = createWechatPayClient({
      mchid: m.mchid,
      serialNo: m.serialNo,
      privateKey: m.privateKey,
      apiV3Key: m.apiV3Key,
      baseUrl: firstUrl,
      verification: { certificates: 'auto' },
      retry: false,
      // A restart binds a new port; the client (and its certificate cache) stays the same.
      fetch: (input, init) => fetch(String(input).replace(firstUrl, sandbox.url), init),
    });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('verifies with the old certificate, then with the new one after the rotation, and with the old one on request', async () => {
    await client.busifavor.setCallback({ notify_url: 'https://merchant.example.com/wxpay/rotate' });
    const before = await client.request({ method: 'GET', path: CALLBACKS });
    expect(before.verifiedBy).toBe(oldSerial);
    expect(client.platformKeys.certificates().map((c) => c.serialNo)).toEqual([oldSerial]);

    const rotated = await rotatePlatformCertificate(sandbox.dir, { overlapHours: 24 });
    expect(rotated.retired.serialNo).toBe(oldSerial);
    await sandbox.restart();
    const newCert = sandbox.server.credentials.platform.certificates.at(-1);
    expect(newCert?.serialNo).toBe(rotated.serialNo);

    // The client still names the old serial (its active key) and the platform answers with it: the
    // overlap keeps an unrefreshed client working.
    const pinned = await client.request({ method: 'GET', path: CALLBACKS });
    expect(pinned.verifiedBy).toBe(oldSerial);

    // A response signed with a serial the client has never seen: it re-downloads /v3/certificates, verifies.
    const after = await client.request<{ notify_url: string }>({
      method: 'GET',
      path: CALLBACKS,
      headers: { 'Wechatpay-Serial': rotated.serialNo },
    });
    expect(after.headers['wechatpay-serial']).toBe(rotated.serialNo);
    expect(after.verifiedBy).toBe(rotated.serialNo);
    expect(after.data.notify_url).toBe('https://merchant.example.com/wxpay/rotate');
    expect(client.platformKeys.certificates().map((c) => c.serialNo)).toEqual([rotated.serialNo, oldSerial]);

    // From now on the client names the new certificate; the old one is still accepted on request.
    const byDefault = await client.request({ method: 'GET', path: CALLBACKS });
    expect(byDefault.verifiedBy).toBe(rotated.serialNo);
    expect(await client.busifavor.getCallback()).toEqual({
      mchid: client.mchid,
      notify_url: 'https://merchant.example.com/wxpay/rotate',
    });
    const namingOld = await client.request({
      method: 'GET',
      path: CALLBACKS,
      headers: { 'Wechatpay-Serial': oldSerial },
    });
    expect(namingOld.headers['wechatpay-serial']).toBe(oldSerial);
    expect(namingOld.verifiedBy).toBe(oldSerial);

    // Sensitive fields are now encrypted for the newest certificate.
    const listed = await client.certificates.list();
    expect(listed.data.map((d) => d.serial_no)).toEqual([oldSerial, rotated.serialNo]);
    const ciphertext = await client.encryptSensitive('李四');
    expect(client.platformKeys.active()?.serial).toBe(rotated.serialNo);
    expect(newCert && decryptSensitiveField(ciphertext, newCert.privateKey)).toBe('李四');
  });
});
