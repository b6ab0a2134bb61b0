/**
 * Error classes of the SDK. Each subclass is named for what the caller can do about it.
 * @see ../../../shared/docs/conventions.md (Errors)
 */

/** Base class of every error the SDK throws. */
export class WechatPayError extends Error {
  override name = 'WechatPayError';
}

/** A signature (response, notification or request) did not verify, or its headers were incomplete. */
export class SignatureVerificationError extends WechatPayError {
  override name = 'SignatureVerificationError';
}

/** AEAD_AES_256_GCM or RSA-OAEP decryption failed: wrong APIv3 key, wrong private key, or tampered data. */
export class DecryptionError extends WechatPayError {
  override name = 'DecryptionError';
}

/** Key or certificate material could not be loaded. */
export class KeyFormatError extends WechatPayError {
  override name = 'KeyFormatError';
}
