/**
 * The platform key choice, for the gateway and the certificates route. It lives in
 * credentials/signing-keys.ts because callbacks (outbox/) sign with it too.
 */
export { type SigningKey, selectSigningKey, usableCertificates } from '../credentials/signing-keys.js';
