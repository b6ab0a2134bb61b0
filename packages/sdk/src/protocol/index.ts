/**
 * Pure APIv3 wire code: signing strings, Authorization header, response and callback signatures,
 * AEAD_AES_256_GCM, RSA-OAEP, keys and certificates, the notification envelope, HMAC parameter signing.
 * No I/O, no clock, no randomness: time, nonces and keys are arguments.
 */

export * from './aead.js';
export * from './authorization.js';
export * from './errors.js';
export * from './hmac-params.js';
export * from './keys.js';
export * from './notification.js';
export * from './oaep.js';
export * from './response-signature.js';
export * from './rsa-signature.js';
export * from './signing-string.js';
export * from './time.js';
