import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type CertificateInfo,
  loadCertificate,
  loadPrivateKey,
  loadPublicKey,
  normalizeSerial,
} from '@wechatpay-sandbox/sdk/protocol';
import { CredentialsError } from './errors.js';
import { CREDENTIALS_FILE_NAME, readCredentialsFile } from './file.js';
import type { LoadedCredentials } from './types.js';

/**
 * Loads DIR/credentials.json and every file it names, parsing each key once into a `KeyObject`
 * (re-parsing PEM per request would cost more than the RSA operation itself).
 * Checks that each certificate carries the serial credentials.json gives it and the public half of its
 * private key, so a mismatched file fails here, naming the file, rather than as a 401 later.
 * @throws CredentialsError naming the file that is missing or unreadable.
 */
export function loadCredentials(dir: string): LoadedCredentials {
  const root = resolve(dir);
  const credentialsPath = join(root, CREDENTIALS_FILE_NAME);
  const file = readCredentialsFile(credentialsPath);

  const readText = (relative: string): { path: string; text: string } => {
    const path = join(root, relative);
    try {
      return { path, text: readFileSync(path, 'utf8') };
    } catch (err) {
      throw new CredentialsError(
        `cannot read ${path} (named by ${credentialsPath}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  };
  const privateKey = (relative: string): { key: KeyObject; pem: string } => {
    const { path, text } = readText(relative);
    try {
      return { key: loadPrivateKey(text), pem: text };
    } catch (err) {
      throw new CredentialsError(`${path}: ${(err as Error).message}`);
    }
  };
  const certificate = (relative: string, expectedSerial: string, key: KeyObject): CertificateInfo => {
    const { path, text } = readText(relative);
    let info: CertificateInfo;
    try {
      info = loadCertificate(text);
    } catch (err) {
      throw new CredentialsError(`${path}: ${(err as Error).message}`);
    }
    if (info.serialNo !== normalizeSerial(expectedSerial)) {
      throw new CredentialsError(
        `${path}: serial ${info.serialNo} differs from ${expectedSerial} in ${credentialsPath}`,
      );
    }
    if (!samePublicKey(info.publicKey, key)) {
      throw new CredentialsError(`${path}: the certificate is not for the private key next to it`);
    }
    return info;
  };

  const merchantKey = privateKey(file.merchant.privateKeyFile);
  const merchantCert = certificate(file.merchant.certificateFile, file.merchant.serialNo, merchantKey.key);

  const platformKey = privateKey(file.platform.certificate.privateKeyFile);
  const platformCert = certificate(
    file.platform.certificate.certificateFile,
    file.platform.certificate.serialNo,
    platformKey.key,
  );

  const pubPrivate = privateKey(file.platform.publicKey.privateKeyFile);
  const pubFile = readText(file.platform.publicKey.publicKeyFile);
  let publicKey: KeyObject;
  try {
    publicKey = loadPublicKey(pubFile.text);
  } catch (err) {
    throw new CredentialsError(`${pubFile.path}: ${(err as Error).message}`);
  }
  if (!samePublicKey(publicKey, pubPrivate.key)) {
    throw new CredentialsError(
      `${pubFile.path}: not the public half of ${file.platform.publicKey.privateKeyFile}`,
    );
  }

  return {
    dir: root,
    file,
    platform: {
      // Oldest first: retiring certificates, then the current one (which signs by default).
      certificates: [
        ...(file.platform.retiringCertificates ?? []).map((retiring) => {
          const key = privateKey(retiring.privateKeyFile);
          const info = certificate(retiring.certificateFile, retiring.serialNo, key.key);
          const expireTime = new Date(retiring.expireTime);
          return {
            serialNo: info.serialNo,
            privateKey: key.key,
            publicKey: info.publicKey,
            certificatePem: info.pem,
            notBefore: info.notBefore,
            notAfter: info.notAfter,
            expireTime: expireTime < info.notAfter ? expireTime : info.notAfter,
          };
        }),
        {
          serialNo: platformCert.serialNo,
          privateKey: platformKey.key,
          publicKey: platformCert.publicKey,
          certificatePem: platformCert.pem,
          notBefore: platformCert.notBefore,
          notAfter: platformCert.notAfter,
          expireTime: platformCert.notAfter,
        },
      ],
      publicKey: {
        keyId: file.platform.publicKey.keyId,
        privateKey: pubPrivate.key,
        publicKey,
        publicKeyPem: pubFile.text,
      },
    },
    merchant: {
      mchid: file.merchant.mchid,
      name: file.merchant.name,
      privateKey: merchantKey.key,
      privateKeyPem: merchantKey.pem,
      certificatePem: merchantCert.pem,
      serialNo: merchantCert.serialNo,
      apiV3Key: file.merchant.apiV3Key,
      apiV2Key: file.merchant.apiV2Key,
      signingMode: file.merchant.signingMode,
    },
  };
}

/** True when `publicKey` is the public half of `privateKey` (compared as SPKI DER). */
function samePublicKey(publicKey: KeyObject, privateKey: KeyObject): boolean {
  const a = publicKey.export({ type: 'spki', format: 'der' });
  const b = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return a.equals(b);
}
