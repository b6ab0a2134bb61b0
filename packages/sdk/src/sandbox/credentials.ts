import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WechatPayError } from '../protocol/errors.js';

/**
 * Reads the credentials `wechatpay-sandbox init --dir DIR` writes: `DIR/credentials.json` (version 1) and
 * the PEM files it names relative to DIR. Only what a client needs: the dev merchant's signing key and
 * secrets, and the platform's public key and certificates to verify answers. The SDK reads the file
 * itself (node:fs), with no dependency on the server.
 */

/** The default credentials directory of the `wechatpay-sandbox` command. */
export const DEFAULT_SANDBOX_DIR = '.sandbox';

/** A credentials directory, loaded. */
export interface SandboxCredentials {
  /** The directory, absolute. */
  dir: string;
  /** The dev merchant. */
  merchant: {
    mchid: string;
    name: string;
    /** Serial of its API certificate (goes in the Authorization header). */
    serialNo: string;
    /** apiclient_key.pem text. */
    privateKeyPem: string;
    apiV3Key: string;
    /** Signs the coupon-send pages (mini-program plugin, H5) with HMAC-SHA256. */
    apiV2Key: string;
    /** How the sandbox signs this merchant's answers: `pubkey`, `certificate` or `migrating`. */
    signingMode: string;
  };
  /** What verifies the sandbox's answers. */
  platform: {
    /** The WeChat Pay public key (`PUB_KEY_ID_…`) and its PEM. */
    publicKey: { keyId: string; pem: string };
    /** The platform certificate PEMs: the current one first, then any still retiring. */
    certificatePems: string[];
  };
}

/** Thrown when the credentials directory cannot be read; the message names the file and the field. */
export class SandboxCredentialsError extends WechatPayError {
  override readonly name = 'SandboxCredentialsError';
}

/** Loads `dir/credentials.json` and the key files it names. @throws SandboxCredentialsError */
export function readSandboxCredentials(dir: string = DEFAULT_SANDBOX_DIR): SandboxCredentials {
  const root = resolve(dir);
  const file = join(root, 'credentials.json');
  const text = readText(file, `run \`wechatpay-sandbox init --dir ${dir}\` first`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SandboxCredentialsError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const fail = (field: string, why: string): never => {
    throw new SandboxCredentialsError(`${file}: ${field} ${why}`);
  };
  const obj = (value: unknown, field: string): Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : fail(field, 'must be an object');
  const str = (o: Record<string, unknown>, key: string, field: string): string => {
    const v = o[key];
    return typeof v === 'string' && v.length > 0 ? v : fail(`${field}.${key}`, 'must be a non-empty string');
  };
  const pem = (relative: string) => readText(join(root, relative), `named by ${file}`);

  const doc = obj(parsed, 'the file');
  if (doc.version !== 1) fail('version', `must be 1, got ${JSON.stringify(doc.version)}`);
  const merchant = obj(doc.merchant, 'merchant');
  const platform = obj(doc.platform, 'platform');
  const certificate = obj(platform.certificate, 'platform.certificate');
  const publicKey = obj(platform.publicKey, 'platform.publicKey');
  const retiring = platform.retiringCertificates ?? [];
  if (!Array.isArray(retiring)) fail('platform.retiringCertificates', 'must be an array');
  return {
    dir: root,
    merchant: {
      mchid: str(merchant, 'mchid', 'merchant'),
      name: str(merchant, 'name', 'merchant'),
      serialNo: str(merchant, 'serialNo', 'merchant'),
      privateKeyPem: pem(str(merchant, 'privateKeyFile', 'merchant')),
      apiV3Key: str(merchant, 'apiV3Key', 'merchant'),
      apiV2Key: str(merchant, 'apiV2Key', 'merchant'),
      signingMode: str(merchant, 'signingMode', 'merchant'),
    },
    platform: {
      publicKey: {
        keyId: str(publicKey, 'keyId', 'platform.publicKey'),
        pem: pem(str(publicKey, 'publicKeyFile', 'platform.publicKey')),
      },
      certificatePems: [
        pem(str(certificate, 'certificateFile', 'platform.certificate')),
        ...(retiring as unknown[]).map((entry, i) => {
          const field = `platform.retiringCertificates[${i}]`;
          return pem(str(obj(entry, field), 'certificateFile', field));
        }),
      ],
    },
  };
}

function readText(path: string, hint: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new SandboxCredentialsError(`cannot read ${path} (${code}); ${hint}`);
  }
}
