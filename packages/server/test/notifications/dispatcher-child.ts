// A dispatcher in its own process, for the crash (kill -9) and two-instance tests. Configured by env:
// WPS_DB_URL, WPS_PLATFORM_FILE (JSON of PEMs), WPS_CA_FILE, WPS_INSTANCE_ID, WPS_LEASE_MS.
// Prints "ready" once the loop runs; SIGTERM stops it cleanly.
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PlatformIdentity } from '../../src/credentials/types.js';
import { openDatabase } from '../../src/db/connect.js';
import { NotificationDispatcher } from '../../src/outbox/dispatcher.js';
import { testIds } from './fixtures.js';

/** The platform keys as PEM, written by the test. */
export interface PlatformFile {
  certificates: Array<{ serialNo: string; keyPem: string; certPem: string }>;
  publicKey: { keyId: string; keyPem: string; publicKeyPem: string };
}

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const file = JSON.parse(readFileSync(env('WPS_PLATFORM_FILE'), 'utf8')) as PlatformFile;
const platform: PlatformIdentity = {
  certificates: file.certificates.map((c) => {
    const x509 = new X509Certificate(c.certPem);
    return {
      serialNo: c.serialNo,
      privateKey: createPrivateKey(c.keyPem),
      publicKey: x509.publicKey,
      certificatePem: c.certPem,
      notBefore: new Date(x509.validFrom),
      notAfter: new Date(x509.validTo),
      expireTime: new Date(x509.validTo),
    };
  }),
  publicKey: {
    keyId: file.publicKey.keyId,
    privateKey: createPrivateKey(file.publicKey.keyPem),
    publicKey: createPublicKey(file.publicKey.publicKeyPem),
    publicKeyPem: file.publicKey.publicKeyPem,
  },
};
const handle = openDatabase(env('WPS_DB_URL'), { poolSize: 8 });
const dispatcher = new NotificationDispatcher({
  db: handle,
  clock: { now: () => Date.now() },
  platform,
  ids: testIds,
  transport: { caPem: readFileSync(env('WPS_CA_FILE'), 'utf8') },
  instanceId: env('WPS_INSTANCE_ID'),
  leaseMs: Number(process.env.WPS_LEASE_MS ?? 30_000),
  pollIntervalMs: 50,
  concurrency: 16,
  onError: (err) => process.stderr.write(`dispatcher error: ${String(err)}\n`),
});
dispatcher.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void dispatcher.stop().then(() => handle.close().then(() => process.exit(0)));
});
