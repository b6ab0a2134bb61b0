import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { KeyFormatError } from './errors.js';

/**
 * Key and certificate loading. Keys are parsed once into `KeyObject`s; callers cache them, which is what
 * makes signing and verification fast (re-parsing PEM on every call costs more than the RSA operation).
 */

/** Anything that can be turned into a private key. */
export type PrivateKeyInput = KeyObject | string | Buffer;
/** Anything that can be turned into a public key: SPKI/PKCS#1 PEM, an X.509 certificate PEM, or a KeyObject. */
export type PublicKeyInput = KeyObject | string | Buffer;

/** Parses a PKCS#8 or PKCS#1 PEM private key. */
export function loadPrivateKey(input: PrivateKeyInput): KeyObject {
  if (isKeyObject(input)) {
    if (input.type !== 'private') throw new KeyFormatError('expected a private key, got a public key');
    return input;
  }
  try {
    return createPrivateKey(input);
  } catch (err) {
    throw new KeyFormatError(
      `cannot read the private key (${(err as Error).message}); pass the PEM text of apiclient_key.pem`,
    );
  }
}

/** Parses a public key from SPKI PEM (pub_key.pem), PKCS#1 PEM, or an X.509 certificate PEM. */
export function loadPublicKey(input: PublicKeyInput): KeyObject {
  if (isKeyObject(input)) {
    return input.type === 'private' ? createPublicKey(input) : input;
  }
  const text = typeof input === 'string' ? input : input.toString('utf8');
  try {
    if (text.includes('BEGIN CERTIFICATE')) return new X509Certificate(text).publicKey;
    return createPublicKey(text);
  } catch (err) {
    throw new KeyFormatError(
      `cannot read the public key (${(err as Error).message}); pass a PEM public key or certificate`,
    );
  }
}

/** What APIv3 needs from an X.509 certificate. */
export interface CertificateInfo {
  /** Serial number as upper-case hex without separators, as `openssl x509 -serial` prints it. */
  serialNo: string;
  publicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  subject: string;
  pem: string;
}

/** Loads an X.509 certificate and extracts the serial, key and validity. */
export function loadCertificate(pem: string | Buffer): CertificateInfo {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new KeyFormatError(`cannot read the certificate (${(err as Error).message}); pass PEM text`);
  }
  return {
    serialNo: normalizeSerial(cert.serialNumber),
    publicKey: cert.publicKey,
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    subject: cert.subject,
    pem: cert.toString(),
  };
}

/**
 * Canonical form of a certificate serial: upper-case hex, no `0x`, no colons, no leading zeros.
 * @see docs/protocol.md §1.3 (serial_no)
 */
export function normalizeSerial(serial: string): string {
  const hex = serial
    .trim()
    .replace(/^0x/i, '')
    .replace(/[:\s]/g, '')
    .toUpperCase()
    .replace(/^0+(?=.)/, '');
  return hex;
}

/** Exports a public key as SPKI PEM. */
export function exportPublicKeyPem(key: KeyObject): string {
  return loadPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
}

function isKeyObject(value: unknown): value is KeyObject {
  return typeof value === 'object' && value !== null && 'asymmetricKeyType' in value && 'export' in value;
}
