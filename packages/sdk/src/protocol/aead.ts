import { createCipheriv, createDecipheriv } from 'node:crypto';
import { DecryptionError } from './errors.js';

/**
 * AEAD_AES_256_GCM as APIv3 uses it for callbacks and /v3/certificates: key = the APIv3 key's UTF-8
 * bytes (32), IV = the nonce string's UTF-8 bytes (12), AAD = associated_data, ciphertext = b64(enc || tag).
 * @see docs/protocol.md §4.1
 */

const TAG_BYTES = 16;

/** Inputs of an AEAD_AES_256_GCM encryption. The nonce must be fresh for every call under one key. */
export interface AeadEncryptInput {
  apiV3Key: string;
  nonce: string;
  associatedData: string;
  plaintext: string;
}

/** Encrypts and returns base64(ciphertext || 16-byte tag). */
export function encryptAeadAes256Gcm(input: AeadEncryptInput): string {
  const key = apiV3KeyBytes(input.apiV3Key);
  const cipher = createCipheriv('aes-256-gcm', key, Buffer.from(input.nonce, 'utf8'));
  cipher.setAAD(Buffer.from(input.associatedData, 'utf8'));
  const enc = Buffer.concat([cipher.update(input.plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return enc.toString('base64');
}

/** Inputs of an AEAD_AES_256_GCM decryption (the `resource` or `encrypt_certificate` fields). */
export interface AeadDecryptInput {
  apiV3Key: string;
  nonce: string;
  associatedData: string;
  ciphertext: string;
}

/** Decrypts; throws DecryptionError on a wrong key, wrong AAD or tampered data. */
export function decryptAeadAes256Gcm(input: AeadDecryptInput): string {
  const key = apiV3KeyBytes(input.apiV3Key);
  const raw = Buffer.from(input.ciphertext, 'base64');
  if (raw.length <= TAG_BYTES) throw new DecryptionError('ciphertext is too short to hold a GCM tag');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(input.nonce, 'utf8'));
    decipher.setAAD(Buffer.from(input.associatedData, 'utf8'));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(raw.subarray(0, raw.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new DecryptionError(
      'AEAD_AES_256_GCM authentication failed: check the APIv3 key (32 characters, set in the merchant console) ' +
        'and that nonce, associated_data and ciphertext are passed unchanged',
    );
  }
}

function apiV3KeyBytes(apiV3Key: string): Buffer {
  const key = Buffer.from(apiV3Key, 'utf8');
  if (key.length !== 32) {
    throw new DecryptionError(`the APIv3 key must be 32 bytes of UTF-8, got ${key.length}`);
  }
  return key;
}
