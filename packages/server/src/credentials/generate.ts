import 'reflect-metadata';
import { KeyObject, randomBytes, randomInt, webcrypto } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as x509 from '@peculiar/x509';
import { CredentialsError } from './errors.js';
import { CREDENTIALS_FILE_NAME, MCHID_PATTERN, readCredentialsFile } from './file.js';
import type { CredentialsFile, SigningMode } from './types.js';

/**
 * `wechatpay-sandbox init`: writes a dev merchant and the platform identity into a directory.
 * @see docs/cli.md (`init`, `credentials.json`)
 */

/** Options of {@link initCredentials}. */
export interface InitCredentialsOptions {
  /** Merchant id of the dev merchant. @default '1900000001' */
  mchid?: string;
  /** Display name of the dev merchant. @default 'Sandbox dev merchant' */
  name?: string;
  /** Signing mode of the dev merchant (new WeChat Pay merchants get public keys). @default 'pubkey' */
  signingMode?: SigningMode;
  /** Start of certificate validity. @default new Date() */
  now?: Date;
}

/** What {@link initCredentials} found or made. */
export interface InitCredentialsResult {
  /** Absolute directory. */
  dir: string;
  /** Absolute path of credentials.json. */
  credentialsPath: string;
  file: CredentialsFile;
  /** False when credentials.json already existed and nothing was written. */
  created: boolean;
}

/** Default mchid of the dev merchant. */
export const DEFAULT_DEV_MCHID = '1900000001';

/** File names inside DIR, relative, as written into credentials.json. */
const FILES = {
  merchantKey: 'merchant/apiclient_key.pem',
  merchantCert: 'merchant/apiclient_cert.pem',
  platformCertKey: 'platform/certificate_key.pem',
  platformCert: 'platform/certificate.pem',
  publicKeyPrivate: 'platform/pub_key_private.pem',
  publicKey: 'platform/pub_key.pem',
} as const;

const ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RSA_PARAMS: webcrypto.RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};
const VALIDITY_YEARS = 5;

// @peculiar/x509 names the DOM's WebCrypto types; Node's are structurally the same objects.
type SelfSignedParams = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0];
type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1]>;

/** A random string over [0-9A-Za-z] (randomInt is unbiased, unlike bytes modulo 62). */
export function randomAlphanumeric(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALNUM[randomInt(ALNUM.length)];
  return out;
}

/**
 * A 40-hex-digit certificate serial in the form WeChat Pay uses and `openssl x509 -serial` prints.
 * The first digit is 1–7: non-zero so no normalisation strips it, and below 8 so the DER INTEGER is
 * positive without a padding byte.
 */
export function randomCertificateSerial(): string {
  return (randomInt(1, 8).toString(16) + randomBytes(20).toString('hex').slice(1)).toUpperCase();
}

/** `PUB_KEY_ID_` + 34 digits, shaped like the real ones: `01`, the mchid, the date, random digits. */
export function makePublicKeyId(mchid: string, now: Date): string {
  const date = now.toISOString().slice(0, 10).replaceAll('-', '');
  let random = '';
  for (let i = 0; i < 14; i++) random += String(randomInt(10));
  return `PUB_KEY_ID_${`01${mchid.padStart(10, '0').slice(-10)}${date}${random}`}`;
}

async function generateRsaKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(RSA_PARAMS, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
}

function privateKeyPem(pair: webcrypto.CryptoKeyPair): string {
  return KeyObject.from(pair.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
}

function publicKeyPem(pair: webcrypto.CryptoKeyPair): string {
  return KeyObject.from(pair.publicKey).export({ type: 'spki', format: 'pem' }).toString();
}

async function selfSignedCertificate(
  pair: webcrypto.CryptoKeyPair,
  subject: string,
  serialNo: string,
  notBefore: Date,
  extensions: x509.Extension[],
): Promise<string> {
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + VALIDITY_YEARS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNo,
      name: subject,
      notBefore,
      notAfter,
      keys: pair as SelfSignedParams['keys'],
      signingAlgorithm: RSA_PARAMS,
      extensions,
    },
    // Passing Node's WebCrypto here avoids mutating @peculiar/x509's global provider.
    webcrypto as unknown as X509Crypto,
  );
  return `${cert.toString('pem')}\n`;
}

/** Escapes a value for an RFC 4514 distinguished-name string. */
function dnValue(value: string): string {
  return value.replace(/([,+"\\<>;=#])/g, '\\$1');
}

/**
 * Creates DIR (if absent) with a dev merchant and the platform identity, and writes DIR/credentials.json.
 * Idempotent: when credentials.json exists nothing is written and its contents are returned. Files are
 * created exclusively, so existing key material is never overwritten, even after an interrupted run
 * (which is reported with the files to remove instead).
 * @example
 * const { file } = await initCredentials('.sandbox', { mchid: '1900000109' });
 */
export async function initCredentials(
  dir: string,
  options: InitCredentialsOptions = {},
): Promise<InitCredentialsResult> {
  const root = resolve(dir);
  const credentialsPath = join(root, CREDENTIALS_FILE_NAME);
  if (existsSync(credentialsPath)) {
    return { dir: root, credentialsPath, file: readCredentialsFile(credentialsPath), created: false };
  }
  const mchid = options.mchid ?? DEFAULT_DEV_MCHID;
  if (!MCHID_PATTERN.test(mchid)) {
    throw new CredentialsError(`mchid must be decimal digits without a leading zero, got "${mchid}"`);
  }
  const leftovers = Object.values(FILES).filter((f) => existsSync(join(root, f)));
  if (leftovers.length > 0) {
    throw new CredentialsError(
      `${root} has key files but no ${CREDENTIALS_FILE_NAME} (an interrupted init?): ${leftovers.join(', ')}. ` +
        'Remove them, or point --dir at a new directory; existing keys are never overwritten.',
    );
  }
  const name = options.name ?? 'Sandbox dev merchant';
  // Certificates valid from a minute ago, so a client whose clock is slightly behind accepts them.
  const notBefore = new Date((options.now ?? new Date()).getTime() - 60_000);
  notBefore.setUTCMilliseconds(0);

  const [merchantPair, platformPair, publicKeyPair] = await Promise.all([
    generateRsaKeyPair(),
    generateRsaKeyPair(),
    generateRsaKeyPair(),
  ]);
  const merchantSerial = randomCertificateSerial();
  let platformSerial = randomCertificateSerial();
  while (platformSerial === merchantSerial) platformSerial = randomCertificateSerial();

  const signingUsage = new x509.KeyUsagesExtension(
    x509.KeyUsageFlags.digitalSignature |
      x509.KeyUsageFlags.nonRepudiation |
      x509.KeyUsageFlags.keyEncipherment,
    true,
  );
  const merchantCert = await selfSignedCertificate(
    merchantPair,
    `C=CN, O=${dnValue('WeChat Pay Sandbox')}, OU=${dnValue(name)}, CN=${mchid}`,
    merchantSerial,
    notBefore,
    [new x509.BasicConstraintsExtension(false, undefined, true), signingUsage],
  );
  const platformCert = await selfSignedCertificate(
    platformPair,
    'C=CN, O=WeChat Pay Sandbox, OU=Sandbox CA Center, CN=WeChat Pay Sandbox Platform',
    platformSerial,
    notBefore,
    [new x509.BasicConstraintsExtension(false, undefined, true), signingUsage],
  );

  const file: CredentialsFile = {
    version: 1,
    platform: {
      certificate: {
        privateKeyFile: FILES.platformCertKey,
        certificateFile: FILES.platformCert,
        serialNo: platformSerial,
      },
      publicKey: {
        privateKeyFile: FILES.publicKeyPrivate,
        publicKeyFile: FILES.publicKey,
        keyId: makePublicKeyId(mchid, notBefore),
      },
    },
    merchant: {
      mchid,
      name,
      privateKeyFile: FILES.merchantKey,
      certificateFile: FILES.merchantCert,
      serialNo: merchantSerial,
      apiV3Key: randomAlphanumeric(32),
      apiV2Key: randomAlphanumeric(32),
      signingMode: options.signingMode ?? 'pubkey',
    },
  };

  writeNew(root, FILES.merchantKey, privateKeyPem(merchantPair), 0o600);
  writeNew(root, FILES.merchantCert, merchantCert, 0o644);
  writeNew(root, FILES.platformCertKey, privateKeyPem(platformPair), 0o600);
  writeNew(root, FILES.platformCert, platformCert, 0o644);
  writeNew(root, FILES.publicKeyPrivate, privateKeyPem(publicKeyPair), 0o600);
  writeNew(root, FILES.publicKey, publicKeyPem(publicKeyPair), 0o644);
  // credentials.json holds the APIv3/APIv2 keys, so it is private too. It is written last and
  // published atomically (hard link of a complete temp file), so its presence means init finished.
  const temp = join(root, `.${CREDENTIALS_FILE_NAME}.${process.pid}.${randomBytes(4).toString('hex')}`);
  writeFileSync(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, credentialsPath);
  } catch (err) {
    // Another init won the race: its credentials.json is complete and ours is discarded.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { dir: root, credentialsPath, file: readCredentialsFile(credentialsPath), created: false };
  } finally {
    unlinkSync(temp);
  }
  return { dir: root, credentialsPath, file, created: true };
}

/** Options of {@link rotatePlatformCertificate}. */
export interface RotateOptions {
  /** Hours the old certificate stays served and accepted. @default 24 */
  overlapHours?: number;
  /** @default new Date() */
  now?: Date;
}

/**
 * Begins a platform certificate rotation as WeChat does it: a new key pair and certificate become the
 * current one (signing by default), and the old one is kept as retiring, still listed by
 * /v3/certificates and accepted when a request names it, until the overlap ends. New files are created
 * exclusively; no key is overwritten. A running server picks the change up on restart.
 * @returns the new serial and the old one with the end of its overlap.
 */
export async function rotatePlatformCertificate(
  dir: string,
  options: RotateOptions = {},
): Promise<{ serialNo: string; retired: { serialNo: string; expireTime: string } }> {
  const root = resolve(dir);
  const credentialsPath = join(root, CREDENTIALS_FILE_NAME);
  const file = readCredentialsFile(credentialsPath);
  const now = options.now ?? new Date();
  const overlapHours = options.overlapHours ?? 24;
  if (!(overlapHours >= 0 && overlapHours <= 24 * 30)) {
    throw new CredentialsError(`the overlap must be 0 to 720 hours, got ${overlapHours}`);
  }
  const pair = await generateRsaKeyPair();
  let serialNo = randomCertificateSerial();
  const taken = new Set([file.merchant.serialNo, file.platform.certificate.serialNo]);
  for (const r of file.platform.retiringCertificates ?? []) taken.add(r.serialNo);
  while (taken.has(serialNo)) serialNo = randomCertificateSerial();
  const stillServed = (file.platform.retiringCertificates ?? []).filter(
    (r) => Date.parse(r.expireTime) > now.getTime(),
  );
  // NotBefore has one-second resolution (and so has effective_time in /v3/certificates), and "newest"
  // is the certificate that starts last: a rotation in the same second as the previous certificate's
  // creation must still start strictly after it, or clients cannot tell which one is new.
  const latestStart = Math.max(
    ...[file.platform.certificate, ...stillServed].map((c) => certificateNotBefore(root, c.certificateFile)),
  );
  const notBefore = new Date(Math.max(now.getTime() - 60_000, latestStart + 1000));
  notBefore.setUTCMilliseconds(0);
  const signingUsage = new x509.KeyUsagesExtension(
    x509.KeyUsageFlags.digitalSignature |
      x509.KeyUsageFlags.nonRepudiation |
      x509.KeyUsageFlags.keyEncipherment,
    true,
  );
  const cert = await selfSignedCertificate(
    pair,
    'C=CN, O=WeChat Pay Sandbox, OU=Sandbox CA Center, CN=WeChat Pay Sandbox Platform',
    serialNo,
    notBefore,
    [new x509.BasicConstraintsExtension(false, undefined, true), signingUsage],
  );
  const keyFile = `platform/certificate_key_${serialNo}.pem`;
  const certFile = `platform/certificate_${serialNo}.pem`;
  writeNew(root, keyFile, privateKeyPem(pair), 0o600);
  writeNew(root, certFile, cert, 0o644);
  const expireTime = new Date(now.getTime() + overlapHours * 3600_000).toISOString();
  const next: CredentialsFile = {
    ...file,
    platform: {
      ...file.platform,
      certificate: { privateKeyFile: keyFile, certificateFile: certFile, serialNo },
      retiringCertificates: [...stillServed, { ...file.platform.certificate, expireTime }],
    },
  };
  // Replace credentials.json atomically: a complete temp file renamed over it.
  const temp = join(root, `.${CREDENTIALS_FILE_NAME}.${process.pid}.${randomBytes(4).toString('hex')}`);
  writeFileSync(temp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(temp, credentialsPath);
  return { serialNo, retired: { serialNo: file.platform.certificate.serialNo, expireTime } };
}

/** The NotBefore (ms) of a certificate file of DIR. */
function certificateNotBefore(root: string, relative: string): number {
  const path = join(root, relative);
  try {
    return new x509.X509Certificate(readFileSync(path, 'utf8')).notBefore.getTime();
  } catch (err) {
    throw new CredentialsError(`${path}: cannot read the certificate: ${(err as Error).message}`);
  }
}

/** Creates a file that must not exist yet (flag `wx`), with its parent directories (private). */
function writeNew(root: string, relative: string, contents: string, mode: number): void {
  const path = join(root, relative);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, contents, { mode, flag: 'wx' });
  // The umask may have removed bits from `mode`; it must never have added any, but make it exact.
  chmodSync(path, mode);
}
