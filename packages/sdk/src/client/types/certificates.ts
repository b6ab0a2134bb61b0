import type { Rfc3339 } from './common.js';

/**
 * GET /v3/certificates.
 * @see docs/protocol.md §3.1
 */

/** Query of GET /v3/certificates. */
export interface CertificatesQuery {
  /** @default 'RSA' (server side) */
  algorithm_type?: 'RSA' | 'SM2' | 'ALL';
}

/** The AES-GCM encrypted certificate PEM. */
export interface EncryptCertificate {
  algorithm: 'AEAD_AES_256_GCM';
  nonce: string;
  associated_data: string;
  ciphertext: string;
}

/** One platform certificate as listed. */
export interface CertificateItem {
  serial_no: string;
  effective_time: Rfc3339;
  expire_time: Rfc3339;
  encrypt_certificate: EncryptCertificate;
}

/** Response of GET /v3/certificates. */
export interface CertificatesResponse {
  data: CertificateItem[];
}
