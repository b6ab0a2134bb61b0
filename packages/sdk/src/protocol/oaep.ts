import { constants, type KeyObject, privateDecrypt, publicEncrypt } from 'node:crypto';
import { DecryptionError } from './errors.js';

/**
 * RSAES-OAEP with SHA-1 and MGF1-SHA1 for sensitive fields (names, phone numbers).
 * @see docs/protocol.md §4.2
 */

/** Encrypts a sensitive field for WeChat with the platform or WeChat Pay public key; base64 output. */
export function encryptSensitiveField(plaintext: string, publicKey: KeyObject): string {
  return publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
    Buffer.from(plaintext, 'utf8'),
  ).toString('base64');
}

/** Decrypts a base64 OAEP ciphertext with a private key. */
export function decryptSensitiveField(ciphertextBase64: string, privateKey: KeyObject): string {
  try {
    return privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      Buffer.from(ciphertextBase64, 'base64'),
    ).toString('utf8');
  } catch {
    throw new DecryptionError('RSA-OAEP decryption failed: the field was encrypted for another key');
  }
}
