import { readFileSync } from 'node:fs';
import { CredentialsError } from './errors.js';
import type { CredentialsFile, SigningMode } from './types.js';

/** Name of the index file inside a credentials directory. */
export const CREDENTIALS_FILE_NAME = 'credentials.json';

/** WeChat Pay merchant ids are decimal, without a leading zero. */
export const MCHID_PATTERN = /^[1-9][0-9]{5,31}$/;

/** Reads and parses credentials.json, naming the file in every error. */
export function readCredentialsFile(path: string): CredentialsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CredentialsError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CredentialsError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  return validateCredentialsFile(parsed, path);
}

function validateCredentialsFile(value: unknown, path: string): CredentialsFile {
  const fail = (field: string, why: string): never => {
    throw new CredentialsError(`${path}: ${field} ${why}`);
  };
  const obj = (v: unknown, field: string): Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : fail(field, 'must be an object');
  const str = (o: Record<string, unknown>, key: string, field: string): string => {
    const v = o[key];
    return typeof v === 'string' && v.length > 0 ? v : fail(`${field}.${key}`, 'must be a non-empty string');
  };
  const root = obj(value, 'the file');
  if (root.version !== 1) fail('version', `must be 1, got ${JSON.stringify(root.version)}`);
  const platform = obj(root.platform, 'platform');
  const cert = obj(platform.certificate, 'platform.certificate');
  const pub = obj(platform.publicKey, 'platform.publicKey');
  const merchant = obj(root.merchant, 'merchant');
  const file: CredentialsFile = {
    version: 1,
    platform: {
      certificate: {
        privateKeyFile: str(cert, 'privateKeyFile', 'platform.certificate'),
        certificateFile: str(cert, 'certificateFile', 'platform.certificate'),
        serialNo: str(cert, 'serialNo', 'platform.certificate'),
      },
      publicKey: {
        privateKeyFile: str(pub, 'privateKeyFile', 'platform.publicKey'),
        publicKeyFile: str(pub, 'publicKeyFile', 'platform.publicKey'),
        keyId: str(pub, 'keyId', 'platform.publicKey'),
      },
    },
    merchant: {
      mchid: str(merchant, 'mchid', 'merchant'),
      name: str(merchant, 'name', 'merchant'),
      privateKeyFile: str(merchant, 'privateKeyFile', 'merchant'),
      certificateFile: str(merchant, 'certificateFile', 'merchant'),
      serialNo: str(merchant, 'serialNo', 'merchant'),
      apiV3Key: str(merchant, 'apiV3Key', 'merchant'),
      apiV2Key: str(merchant, 'apiV2Key', 'merchant'),
      signingMode: str(merchant, 'signingMode', 'merchant') as SigningMode,
    },
  };
  if (platform.retiringCertificates !== undefined) {
    if (!Array.isArray(platform.retiringCertificates))
      fail('platform.retiringCertificates', 'must be an array');
    file.platform.retiringCertificates = (platform.retiringCertificates as unknown[]).map((entry, i) => {
      const field = `platform.retiringCertificates[${i}]`;
      const o = obj(entry, field);
      const expireTime = str(o, 'expireTime', field);
      if (Number.isNaN(Date.parse(expireTime))) fail(`${field}.expireTime`, 'must be an RFC 3339 time');
      return {
        privateKeyFile: str(o, 'privateKeyFile', field),
        certificateFile: str(o, 'certificateFile', field),
        serialNo: str(o, 'serialNo', field),
        expireTime,
      };
    });
  }
  if (!MCHID_PATTERN.test(file.merchant.mchid)) fail('merchant.mchid', 'must be decimal digits');
  if (Buffer.byteLength(file.merchant.apiV3Key) !== 32) fail('merchant.apiV3Key', 'must be exactly 32 bytes');
  if (!['pubkey', 'certificate', 'migrating'].includes(file.merchant.signingMode)) {
    fail('merchant.signingMode', 'must be pubkey, certificate or migrating');
  }
  if (!/^PUB_KEY_ID_[0-9]+$/.test(file.platform.publicKey.keyId)) {
    fail('platform.publicKey.keyId', 'must look like PUB_KEY_ID_ followed by digits');
  }
  return file;
}
