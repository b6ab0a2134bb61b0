import type { KeyObject } from 'node:crypto';

/**
 * The credential files `wechatpay-sandbox init --dir DIR` writes, and their loaded form.
 * DIR/credentials.json names every file relative to DIR.
 */

/** How a merchant's responses and callbacks are signed. @see docs/protocol.md §3.3 */
export type SigningMode = 'pubkey' | 'certificate' | 'migrating';

/** DIR/credentials.json. Paths are relative to DIR. */
export interface CredentialsFile {
  version: 1;
  platform: {
    /** Platform certificate identity (legacy mode, served by /v3/certificates). */
    certificate: { privateKeyFile: string; certificateFile: string; serialNo: string };
    /**
     * Certificates replaced by `wechatpay-sandbox platform rotate`, still served and accepted until
     * `expireTime` (RFC 3339): the overlap WeChat keeps before a switch.
     */
    retiringCertificates?: Array<{
      privateKeyFile: string;
      certificateFile: string;
      serialNo: string;
      expireTime: string;
    }>;
    /** WeChat Pay public key identity (a different key pair, as on the real platform). */
    publicKey: { privateKeyFile: string; publicKeyFile: string; keyId: string };
  };
  merchant: {
    mchid: string;
    name: string;
    privateKeyFile: string;
    certificateFile: string;
    serialNo: string;
    apiV3Key: string;
    apiV2Key: string;
    signingMode: SigningMode;
  };
}

/** One platform certificate with its private key. */
export interface PlatformCertificate {
  serialNo: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  certificatePem: string;
  notBefore: Date;
  notAfter: Date;
  /** When the platform stops using it: notAfter, or the end of the overlap for a retiring certificate. */
  expireTime: Date;
}

/** The platform's signing identities, loaded once. */
export interface PlatformIdentity {
  /** Usable platform certificates, newest last (two during a rotation). */
  certificates: PlatformCertificate[];
  publicKey: { keyId: string; privateKey: KeyObject; publicKey: KeyObject; publicKeyPem: string };
}

/** The dev merchant from DIR, with its key material loaded. */
export interface DevMerchant {
  mchid: string;
  name: string;
  privateKey: KeyObject;
  privateKeyPem: string;
  certificatePem: string;
  serialNo: string;
  apiV3Key: string;
  apiV2Key: string;
  signingMode: SigningMode;
}

/** Everything loaded from DIR. */
export interface LoadedCredentials {
  dir: string;
  file: CredentialsFile;
  platform: PlatformIdentity;
  merchant: DevMerchant;
}
