import { execFileSync } from 'node:child_process';
import { createPublicKey, privateDecrypt, publicEncrypt, sign, verify, X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizeSerial } from '@wechatpay-sandbox/sdk/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialsError } from './errors.js';
import { initCredentials, randomCertificateSerial, rotatePlatformCertificate } from './generate.js';
import { loadCredentials } from './load.js';
import type { CredentialsFile } from './types.js';

const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8' }).trim();
const opensslSerial = (path: string) =>
  openssl('x509', '-in', path, '-noout', '-serial').replace(/^serial=/, '');

const FILES = [
  'credentials.json',
  'merchant/apiclient_key.pem',
  'merchant/apiclient_cert.pem',
  'platform/certificate_key.pem',
  'platform/certificate.pem',
  'platform/pub_key_private.pem',
  'platform/pub_key.pem',
];

describe('initCredentials', () => {
  let root: string;
  let dir: string;
  let file: CredentialsFile;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'wps-cred-'));
    // A directory that does not exist yet, two levels deep.
    dir = join(root, 'nested', 'sandbox');
    const result = await initCredentials(dir);
    expect(result.created).toBe(true);
    file = result.file;
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('creates the directory with every file credentials.json names', () => {
    for (const f of FILES) expect(statSync(join(dir, f)).isFile()).toBe(true);
    const onDisk = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as CredentialsFile;
    expect(onDisk).toEqual(file);
    expect(onDisk.platform.certificate.certificateFile).toBe('platform/certificate.pem');
    expect(onDisk.merchant.privateKeyFile).toBe('merchant/apiclient_key.pem');
  });

  it('writes the dev merchant defaults: mchid 1900000001, pubkey mode, 32-char alphanumeric keys', () => {
    expect(file.merchant.mchid).toBe('1900000001');
    expect(file.merchant.signingMode).toBe('pubkey');
    expect(file.merchant.apiV3Key).toMatch(/^[0-9A-Za-z]{32}$/);
    expect(file.merchant.apiV2Key).toMatch(/^[0-9A-Za-z]{32}$/);
    expect(file.merchant.apiV3Key).not.toBe(file.merchant.apiV2Key);
    expect(file.platform.publicKey.keyId).toMatch(/^PUB_KEY_ID_[0-9]{34}$/);
  });

  it('gives private keys and credentials.json mode 0600 and certificates 0644', () => {
    for (const f of [
      'credentials.json',
      'merchant/apiclient_key.pem',
      'platform/certificate_key.pem',
      'platform/pub_key_private.pem',
    ]) {
      expect((statSync(join(dir, f)).mode & 0o777).toString(8), f).toBe('600');
    }
    for (const f of ['merchant/apiclient_cert.pem', 'platform/certificate.pem', 'platform/pub_key.pem']) {
      expect((statSync(join(dir, f)).mode & 0o777).toString(8), f).toBe('644');
    }
  });

  it('writes PKCS#8 private keys of 2048 bits and an SPKI public key, as openssl reads them', () => {
    for (const f of [
      'merchant/apiclient_key.pem',
      'platform/certificate_key.pem',
      'platform/pub_key_private.pem',
    ]) {
      const pem = readFileSync(join(dir, f), 'utf8');
      expect(pem.startsWith('-----BEGIN PRIVATE KEY-----')).toBe(true);
      expect(openssl('pkey', '-in', join(dir, f), '-noout', '-text')).toMatch(/Private-Key: \(2048 bit/);
    }
    const pub = readFileSync(join(dir, 'platform/pub_key.pem'), 'utf8');
    expect(pub.startsWith('-----BEGIN PUBLIC KEY-----')).toBe(true);
    expect(openssl('pkey', '-pubin', '-in', join(dir, 'platform/pub_key.pem'), '-noout', '-text')).toMatch(
      /Public-Key: \(2048 bit/,
    );
  });

  it('records certificate serials exactly as openssl x509 -serial prints them', () => {
    for (const [path, serial] of [
      ['merchant/apiclient_cert.pem', file.merchant.serialNo],
      ['platform/certificate.pem', file.platform.certificate.serialNo],
    ] as const) {
      expect(serial).toMatch(/^[1-9A-F][0-9A-F]{39}$/);
      expect(opensslSerial(join(dir, path))).toBe(serial);
      expect(normalizeSerial(new X509Certificate(readFileSync(join(dir, path))).serialNumber)).toBe(serial);
    }
    expect(file.merchant.serialNo).not.toBe(file.platform.certificate.serialNo);
  });

  it('issues the merchant certificate to CN=mchid and the platform certificate for 5 years', () => {
    const merchant = new X509Certificate(readFileSync(join(dir, 'merchant/apiclient_cert.pem')));
    expect(merchant.subject).toContain('CN=1900000001');
    const platform = new X509Certificate(readFileSync(join(dir, 'platform/certificate.pem')));
    const years = (Date.parse(platform.validTo) - Date.parse(platform.validFrom)) / (365.25 * 86_400_000);
    expect(years).toBeGreaterThan(4.99);
    expect(years).toBeLessThan(5.01);
    expect(Date.parse(platform.validFrom)).toBeLessThanOrEqual(Date.now());
  });

  it('pairs each certificate with its private key, according to openssl', () => {
    for (const [cert, key] of [
      ['merchant/apiclient_cert.pem', 'merchant/apiclient_key.pem'],
      ['platform/certificate.pem', 'platform/certificate_key.pem'],
    ]) {
      const fromCert = openssl('x509', '-in', join(dir, cert as string), '-noout', '-pubkey');
      const fromKey = openssl('pkey', '-in', join(dir, key as string), '-pubout');
      expect(fromCert).toBe(fromKey);
      // Self-signed: openssl verifies the certificate against itself.
      expect(openssl('verify', '-CAfile', join(dir, cert as string), join(dir, cert as string))).toMatch(
        /OK$/,
      );
    }
    const pubFromKey = openssl('pkey', '-in', join(dir, 'platform/pub_key_private.pem'), '-pubout');
    expect(readFileSync(join(dir, 'platform/pub_key.pem'), 'utf8').trim()).toBe(pubFromKey);
  });

  it('uses a separate key pair for the WeChat Pay public key', () => {
    const certKey = openssl('x509', '-in', join(dir, 'platform/certificate.pem'), '-noout', '-pubkey');
    expect(readFileSync(join(dir, 'platform/pub_key.pem'), 'utf8').trim()).not.toBe(certKey);
  });

  it('changes nothing on a second init and returns what is there', async () => {
    const before = FILES.map((f) => {
      const s = statSync(join(dir, f));
      return { f, bytes: readFileSync(join(dir, f)), mtimeMs: s.mtimeMs, ino: s.ino };
    });
    const again = await initCredentials(dir, { mchid: '1900000999' });
    expect(again.created).toBe(false);
    expect(again.file).toEqual(file);
    for (const b of before) {
      const s = statSync(join(dir, b.f));
      expect(readFileSync(join(dir, b.f)).equals(b.bytes), b.f).toBe(true);
      expect([s.mtimeMs, s.ino], b.f).toEqual([b.mtimeMs, b.ino]);
    }
  });

  it('takes the mchid from options', async () => {
    const other = join(root, 'other');
    const result = await initCredentials(other, { mchid: '1230000109' });
    expect(result.file.merchant.mchid).toBe('1230000109');
    expect(openssl('x509', '-in', join(other, 'merchant/apiclient_cert.pem'), '-noout', '-subject')).toMatch(
      /CN = 1230000109/,
    );
  });

  it('refuses a mchid that is not decimal', async () => {
    await expect(initCredentials(join(root, 'bad'), { mchid: '12ab' })).rejects.toThrow(CredentialsError);
  });

  it('never overwrites key files left by an interrupted init', async () => {
    const partial = join(root, 'partial');
    await initCredentials(partial);
    rmSync(join(partial, 'credentials.json'));
    const key = readFileSync(join(partial, 'merchant/apiclient_key.pem'));
    await expect(initCredentials(partial)).rejects.toThrow(/apiclient_key\.pem.*never overwritten/);
    expect(readFileSync(join(partial, 'merchant/apiclient_key.pem')).equals(key)).toBe(true);
  });

  it('draws serials that are 40 upper-case hex digits, positive and without a leading zero', () => {
    for (let i = 0; i < 500; i++) expect(randomCertificateSerial()).toMatch(/^[1-7][0-9A-F]{39}$/);
  });
});

describe('loadCredentials', () => {
  let root: string;
  let dir: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'wps-load-'));
    dir = join(root, 'sandbox');
    await initCredentials(dir, { mchid: '1900000109' });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('round-trips what init wrote into usable key objects', () => {
    const loaded = loadCredentials(dir);
    const file = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as CredentialsFile;
    expect(loaded.file).toEqual(file);
    expect(loaded.merchant).toMatchObject({
      mchid: '1900000109',
      serialNo: file.merchant.serialNo,
      apiV3Key: file.merchant.apiV3Key,
      apiV2Key: file.merchant.apiV2Key,
      signingMode: 'pubkey',
    });
    expect(loaded.merchant.privateKeyPem).toBe(readFileSync(join(dir, 'merchant/apiclient_key.pem'), 'utf8'));
    const data = Buffer.from('GET\n/v3/certificates\n1700000000\nnonce\n\n');
    const merchantSig = sign('sha256', data, loaded.merchant.privateKey);
    expect(verify('sha256', data, createPublicKey(loaded.merchant.certificatePem), merchantSig)).toBe(true);

    const [cert] = loaded.platform.certificates;
    expect(loaded.platform.certificates).toHaveLength(1);
    expect(cert?.serialNo).toBe(file.platform.certificate.serialNo);
    expect(cert && verify('sha256', data, cert.publicKey, sign('sha256', data, cert.privateKey))).toBe(true);
    expect(cert && cert.notAfter.getTime() - cert.notBefore.getTime()).toBeGreaterThan(
      4.99 * 365 * 86_400_000,
    );

    const pub = loaded.platform.publicKey;
    expect(pub.keyId).toBe(file.platform.publicKey.keyId);
    expect(verify('sha256', data, pub.publicKey, sign('sha256', data, pub.privateKey))).toBe(true);
    // The public key also encrypts sensitive fields (RSA-OAEP) that only its private key opens.
    expect(privateDecrypt(pub.privateKey, publicEncrypt(pub.publicKey, Buffer.from('x'))).toString()).toBe(
      'x',
    );
  });

  it('names credentials.json when the directory was never initialised', () => {
    expect(() => loadCredentials(join(root, 'missing'))).toThrow(/missing\/credentials\.json/);
  });

  it('names the file that is missing', () => {
    const copy = join(root, 'no-cert');
    execFileSync('cp', ['-r', dir, copy]);
    rmSync(join(copy, 'merchant/apiclient_cert.pem'));
    expect(() => loadCredentials(copy)).toThrow(/no-cert\/merchant\/apiclient_cert\.pem.*ENOENT/);
  });

  it('names a private key file that does not parse', () => {
    const copy = join(root, 'bad-key');
    execFileSync('cp', ['-r', dir, copy]);
    chmodSync(join(copy, 'platform/certificate_key.pem'), 0o600);
    writeFileSync(join(copy, 'platform/certificate_key.pem'), '-----BEGIN PRIVATE KEY-----\nnope\n');
    expect(() => loadCredentials(copy)).toThrow(
      /bad-key\/platform\/certificate_key\.pem: cannot read the private key/,
    );
  });

  it('refuses a certificate swapped for another key pair, naming it', () => {
    const copy = join(root, 'swapped');
    execFileSync('cp', ['-r', dir, copy]);
    // The platform certificate in the merchant's place: wrong serial first.
    writeFileSync(
      join(copy, 'merchant/apiclient_cert.pem'),
      readFileSync(join(copy, 'platform/certificate.pem')),
    );
    expect(() => loadCredentials(copy)).toThrow(/swapped\/merchant\/apiclient_cert\.pem: serial/);
    // With the serial in credentials.json adjusted, the key mismatch is caught instead.
    const file = JSON.parse(readFileSync(join(copy, 'credentials.json'), 'utf8')) as CredentialsFile;
    file.merchant.serialNo = file.platform.certificate.serialNo;
    writeFileSync(join(copy, 'credentials.json'), JSON.stringify(file));
    expect(() => loadCredentials(copy)).toThrow(
      /apiclient_cert\.pem: the certificate is not for the private key/,
    );
  });

  it('names credentials.json when a field is wrong', () => {
    const copy = join(root, 'bad-json');
    execFileSync('cp', ['-r', dir, copy]);
    const file = JSON.parse(readFileSync(join(copy, 'credentials.json'), 'utf8')) as CredentialsFile;
    file.merchant.apiV3Key = 'short';
    writeFileSync(join(copy, 'credentials.json'), JSON.stringify(file));
    expect(() => loadCredentials(copy)).toThrow(
      /bad-json\/credentials\.json: merchant\.apiV3Key must be exactly 32 bytes/,
    );
    writeFileSync(join(copy, 'credentials.json'), '{');
    expect(() => loadCredentials(copy)).toThrow(/credentials\.json is not valid JSON/);
  });
});

describe('rotatePlatformCertificate', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'wps-rotate-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('starts each new certificate strictly after the previous one, even when rotated in the same second', async () => {
    const dir = join(root, 'same-second');
    const now = new Date('2026-01-01T00:00:00.250Z');
    await initCredentials(dir, { now });
    const starts = () =>
      loadCredentials(dir).platform.certificates.map((c) => ({
        serial: c.serialNo,
        ms: c.notBefore.getTime(),
      }));
    const initial = starts();
    // Two rotations within the same second as init: one-second NotBefore alone would tie all three.
    const first = await rotatePlatformCertificate(dir, { now: new Date(now.getTime() + 300) });
    const second = await rotatePlatformCertificate(dir, { now: new Date(now.getTime() + 600) });
    const after = starts();
    expect(after.map((c) => c.serial)).toEqual([initial[0]?.serial, first.serialNo, second.serialNo]);
    expect(after.map((c) => c.ms)).toEqual([
      Date.parse('2025-12-31T23:59:00Z'),
      Date.parse('2025-12-31T23:59:01Z'),
      Date.parse('2025-12-31T23:59:02Z'),
    ]);
    // openssl reads the same order from the files.
    const file = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as CredentialsFile;
    const opensslStart = (rel: string) =>
      Date.parse(openssl('x509', '-in', join(dir, rel), '-noout', '-startdate').replace(/^notBefore=/, ''));
    expect(opensslStart(file.platform.certificate.certificateFile)).toBe(after[2]?.ms);
  });

  it('keeps the usual one-minute backdating when the previous certificate is older', async () => {
    const dir = join(root, 'later');
    await initCredentials(dir, { now: new Date('2026-01-01T00:00:00Z') });
    await rotatePlatformCertificate(dir, { now: new Date('2026-01-02T00:00:00.900Z') });
    const [, current] = loadCredentials(dir).platform.certificates;
    expect(current?.notBefore.toISOString()).toBe('2026-01-01T23:59:00.000Z');
  });
});
