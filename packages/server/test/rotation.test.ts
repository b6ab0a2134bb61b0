import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decryptAeadAes256Gcm, loadCertificate } from '@wechatpay-sandbox/sdk/protocol';
import {
  DIALECTS,
  startSandbox,
  type TestMerchant,
  type TestSandbox,
  verifyTestResponse,
} from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotatePlatformCertificate } from '../src/credentials/generate.js';
import { openDatabase } from '../src/db/connect.js';
import { MerchantRepo } from '../src/db/merchant-repo.js';

/** The built CLI (`npm run build` first), as a user runs it next to a running server. */
const BIN = join(
  resolve(dirname(fileURLToPath(import.meta.url)), '../../..'),
  'packages/server/dist/cli/main.js',
);

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile('node', [BIN, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

interface CertificateItem {
  serial_no: string;
  effective_time: string;
  expire_time: string;
  encrypt_certificate: { nonce: string; ciphertext: string };
}

for (const dialect of DIALECTS) {
  // A platform certificate rotation as WeChat runs it: both certificates served during the overlap.
  describe.skipIf(!dialect.available)(`platform certificate rotation on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let oldSerial: string;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
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

  // `merchant add` with a serial that is already registered replaces its key; a running server must
  // verify with the new key from the next request on, and no longer with the old one.
  describe.skipIf(!dialect.available)(
    `merchant API key replaced under the same serial on ${dialect.name}`,
    () => {
      let sandbox: TestSandbox;
      beforeAll(async () => {
        sandbox = await startSandbox({ dialect });
      });
      afterAll(async () => {
        await sandbox?.close();
      });

      const mchid = '1900000606';
      const serialNo = randomBytes(20).toString('hex').toUpperCase();
      const apiV3Key = 'Sandbox0123456789abcdefghijKLMNO';
      const register = async (name: string): Promise<TestMerchant> => {
        const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        const file = join(sandbox.dir, `${name}.pub.pem`);
        writeFileSync(file, publicKey.export({ type: 'spki', format: 'pem' }).toString());
        const add = await cli(
          ['merchant', 'add', '--db', sandbox.dbUrl, '--mchid', mchid, '--public-key', file].concat([
            '--serial',
            serialNo,
            '--api-v3-key',
            apiV3Key,
          ]),
        );
        expect(add.stderr).toBe('');
        expect(add.code).toBe(0);
        return { mchid, serialNo, privateKey, apiV3Key };
      };
      const callbacks = (merchant: TestMerchant) =>
        sandbox.request({ method: 'GET', path: '/v3/marketing/busifavor/callbacks', merchant });

      it('verifies with the new key and refuses the old one, without a restart', async () => {
        const first = await register('first');
        // Authenticated (no URL set yet): the first key is now known to the running server.
        expect((await callbacks(first)).status).toBe(404);
        const second = await register('second');
        const old = await callbacks(first);
        expect([old.status, old.json().code]).toEqual([401, 'SIGN_ERROR']);
        expect((await callbacks(second)).status).toBe(404);
      });
    },
  );
}
