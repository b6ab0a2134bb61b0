import { type KeyObject, sign, verify } from 'node:crypto';

/**
 * SHA256-with-RSA (RSASSA-PKCS1-v1_5) over a UTF-8 message, base64 output.
 * @see docs/protocol.md §1.2
 */
export function signMessage(message: string, privateKey: KeyObject): string {
  return sign('sha256', Buffer.from(message, 'utf8'), privateKey).toString('base64');
}

/** Verifies a base64 SHA256-with-RSA signature. Never throws for a malformed signature: returns false. */
export function verifyMessage(message: string, signatureBase64: string, publicKey: KeyObject): boolean {
  if (!isBase64(signatureBase64)) return false;
  try {
    return verify('sha256', Buffer.from(message, 'utf8'), publicKey, Buffer.from(signatureBase64, 'base64'));
  } catch {
    return false;
  }
}

/** Standard base64 with padding; rejects base64url and stray characters. */
export function isBase64(value: string): boolean {
  return value.length > 0 && value.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(value);
}

/**
 * {@link verifyMessage} on libuv's thread pool, so a server verifying many requests at once keeps its
 * event loop free. Never rejects for a malformed signature: resolves false.
 */
export function verifyMessageAsync(
  message: string,
  signatureBase64: string,
  publicKey: KeyObject,
): Promise<boolean> {
  if (!isBase64(signatureBase64)) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      verify(
        'sha256',
        Buffer.from(message, 'utf8'),
        publicKey,
        Buffer.from(signatureBase64, 'base64'),
        (err, ok) => resolve(err ? false : ok),
      );
    } catch {
      resolve(false);
    }
  });
}
