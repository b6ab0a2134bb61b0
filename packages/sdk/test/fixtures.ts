import { execFileSync } from 'node:child_process';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A test-only RSA-2048 identity with a self-signed certificate made by the openssl CLI. Not for production. */
export interface TestIdentity {
  serialNo: string;
  privateKeyPem: string;
  privateKey: KeyObject;
  certificatePem: string;
  publicKeyPem: string;
  /** Files on disk for openssl cross-checks. */
  files: { key: string; cert: string; pub: string };
}

const dir = mkdtempSync(join(tmpdir(), 'wps-sdk-test-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** Creates an identity with the given hex serial (openssl req -x509 -set_serial). */
export function makeIdentity(name: string, serialHex: string, days = 365): TestIdentity {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  const pub = join(dir, `${name}.pub`);
  execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key], {
    stdio: 'ignore',
  });
  execFileSync(
    'openssl',
    [
      'req',
      '-new',
      '-x509',
      '-key',
      key,
      '-out',
      cert,
      '-days',
      String(days),
      '-subj',
      `/CN=${name}`,
      '-set_serial',
      `0x${serialHex}`,
    ],
    { stdio: 'ignore' },
  );
  execFileSync('openssl', ['pkey', '-in', key, '-pubout', '-out', pub], { stdio: 'ignore' });
  const privateKeyPem = readFileSync(key, 'utf8');
  return {
    serialNo: serialHex.toUpperCase(),
    privateKeyPem,
    privateKey: createPrivateKey(privateKeyPem),
    certificatePem: readFileSync(cert, 'utf8'),
    publicKeyPem: readFileSync(pub, 'utf8'),
    files: { key, cert, pub },
  };
}

/** Writes a temporary file and returns its path. */
export function tempFile(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

export const MCHID = '1900000001';
export const API_V3_KEY = 'TestApiV3Key0123456789abcdefABCD';
export const PUB_KEY_ID = 'PUB_KEY_ID_0000000000000000000000000000000001';
