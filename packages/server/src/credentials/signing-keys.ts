import type { KeyObject } from 'node:crypto';
import type { PlatformIdentity, SigningMode } from './types.js';

/** The platform key that signs one response or callback, and the identifier sent as Wechatpay-Serial. */
export interface SigningKey {
  serial: string;
  privateKey: KeyObject;
}

/**
 * Chooses the key that signs a response for a merchant.
 * - `pubkey`: always the WeChat Pay public key identity (such merchants have no platform certificate).
 * - `certificate`: the certificate named by the request's Wechatpay-Serial if it is a usable one,
 *   otherwise the newest certificate.
 * - `migrating`: whatever the request's Wechatpay-Serial names (public key id or certificate serial);
 *   without one, the newest certificate, as a merchant that has not switched yet expects.
 * @see docs/protocol.md §3.3
 */
export function selectSigningKey(
  platform: PlatformIdentity,
  mode: SigningMode,
  requestedSerial: string | undefined,
  nowMs: number,
): SigningKey {
  const publicKey = { serial: platform.publicKey.keyId, privateKey: platform.publicKey.privateKey };
  if (mode === 'pubkey') return publicKey;
  if (mode === 'migrating' && requestedSerial === platform.publicKey.keyId) return publicKey;
  const usable = usableCertificates(platform, nowMs);
  const named = requestedSerial
    ? usable.find((c) => c.serialNo === requestedSerial.toUpperCase())
    : undefined;
  const cert = named ?? usable[usable.length - 1] ?? platform.certificates[platform.certificates.length - 1];
  if (!cert) return publicKey;
  return { serial: cert.serialNo, privateKey: cert.privateKey };
}

/** Platform certificates in use now (a retiring one until its overlap ends), oldest first. */
export function usableCertificates(platform: PlatformIdentity, nowMs: number) {
  return platform.certificates.filter(
    (c) => c.notBefore.getTime() <= nowMs && nowMs < c.expireTime.getTime(),
  );
}
