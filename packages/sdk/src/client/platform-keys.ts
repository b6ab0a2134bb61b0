import type { KeyObject } from 'node:crypto';
import { decryptAeadAes256Gcm } from '../protocol/aead.js';
import { loadCertificate, loadPublicKey, normalizeSerial, type PublicKeyInput } from '../protocol/keys.js';
import { PUBLIC_KEY_ID_PREFIX } from '../protocol/response-signature.js';
import { parseRfc3339 } from '../protocol/time.js';
import type { CertificatesResponse } from './types/certificates.js';

/**
 * The keys that verify WeChat's responses and callbacks and encrypt sensitive fields: a WeChat Pay public
 * key (PUB_KEY_ID_…), platform certificates keyed by serial, or both during the migration. All parsed once
 * into KeyObjects.
 * @see docs/protocol.md §3
 */

/** How responses and callbacks are verified. Give `publicKey`, `certificates`, or both (migration). */
export interface VerificationOptions {
  /** The WeChat Pay public key (pub_key.pem) and its `PUB_KEY_ID_…`. */
  publicKey?: { keyId: string; key: PublicKeyInput };
  /**
   * Platform certificates: `'auto'` downloads /v3/certificates (decrypted with the APIv3 key, self-verified),
   * caches them by serial, refreshes periodically and on an unknown serial; or fixed PEM certificates.
   */
  certificates?: 'auto' | ReadonlyArray<string | Buffer>;
}

/** A platform certificate held by the store. */
export interface PlatformCertificateEntry {
  serialNo: string;
  publicKey: KeyObject;
  /** Milliseconds; after it the certificate is dropped. */
  expiresAtMs: number;
  /** Milliseconds; the newest effective certificate is used for encryption. */
  effectiveAtMs: number;
  pem: string;
}

/** A key to encrypt with and the identifier to put in `Wechatpay-Serial`. */
export interface ActiveKey {
  serial: string;
  key: KeyObject;
}

/** Options of a PlatformKeyStore. */
export interface PlatformKeyStoreOptions {
  verification: VerificationOptions;
  /** Current time in milliseconds. @default Date.now */
  now?: () => number;
  /** Auto mode: refresh the certificate list at least this often. @default 43_200_000 (12 h) */
  refreshIntervalMs?: number;
  /** Auto mode: an unknown serial triggers a refresh at most this often. @default 60_000 */
  minUnknownSerialRefreshMs?: number;
}

/** Downloads the certificate list (a signed GET /v3/certificates) and returns its verified entries. */
export type CertificateDownloader = () => Promise<PlatformCertificateEntry[]>;

/** Holds verification keys, refreshes downloaded certificates, and chooses the active key. */
export class PlatformKeyStore {
  readonly publicKeyId: string | undefined;
  private readonly publicKey: KeyObject | undefined;
  private readonly certs = new Map<string, PlatformCertificateEntry>();
  private readonly auto: boolean;
  private readonly now: () => number;
  private readonly refreshIntervalMs: number;
  private readonly minUnknownSerialRefreshMs: number;
  private lastRefreshMs: number | undefined;
  private lastUnknownRefreshMs = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;
  private downloader: CertificateDownloader | undefined;

  constructor(options: PlatformKeyStoreOptions) {
    const v = options.verification;
    if (!v.publicKey && !v.certificates) {
      throw new TypeError(
        'verification needs `publicKey: { keyId, key }` (WeChat Pay public key) and/or `certificates` ' +
          "('auto' or PEM list); responses cannot be verified otherwise",
      );
    }
    if (v.publicKey) {
      if (!v.publicKey.keyId.startsWith(PUBLIC_KEY_ID_PREFIX)) {
        throw new TypeError(
          `publicKey.keyId must start with ${PUBLIC_KEY_ID_PREFIX}, got ${v.publicKey.keyId}`,
        );
      }
      this.publicKeyId = v.publicKey.keyId;
      this.publicKey = loadPublicKey(v.publicKey.key);
    }
    this.auto = v.certificates === 'auto';
    this.now = options.now ?? Date.now;
    this.refreshIntervalMs = options.refreshIntervalMs ?? 12 * 3600 * 1000;
    this.minUnknownSerialRefreshMs = options.minUnknownSerialRefreshMs ?? 60_000;
    if (Array.isArray(v.certificates)) {
      for (const pem of v.certificates) this.addCertificatePem(pem);
    }
  }

  /** True when certificates are downloaded from /v3/certificates. */
  get autoCertificates(): boolean {
    return this.auto;
  }

  /** Wires the downloader used in auto mode (the client does this). */
  setDownloader(downloader: CertificateDownloader): void {
    this.downloader = downloader;
  }

  /** Adds a platform certificate from PEM. */
  addCertificatePem(
    pem: string | Buffer,
    effectiveAtMs?: number,
    expiresAtMs?: number,
  ): PlatformCertificateEntry {
    const info = loadCertificate(pem);
    const entry: PlatformCertificateEntry = {
      serialNo: info.serialNo,
      publicKey: info.publicKey,
      effectiveAtMs: effectiveAtMs ?? info.notBefore.getTime(),
      expiresAtMs: expiresAtMs ?? info.notAfter.getTime(),
      pem: info.pem,
    };
    this.certs.set(entry.serialNo, entry);
    return entry;
  }

  /** The verifying key for a `Wechatpay-Serial`, or undefined. Synchronous: no network. */
  resolve(serial: string): KeyObject | undefined {
    if (serial.startsWith(PUBLIC_KEY_ID_PREFIX)) {
      return serial === this.publicKeyId ? this.publicKey : undefined;
    }
    const entry = this.certs.get(normalizeSerial(serial));
    if (!entry) return undefined;
    if (entry.expiresAtMs <= this.now()) {
      this.certs.delete(entry.serialNo);
      return undefined;
    }
    return entry.publicKey;
  }

  /**
   * Resolves a serial; in auto mode an unknown platform serial triggers one refresh (rate limited), so a
   * rotation's new serial is picked up without a restart.
   */
  async resolveOrRefresh(serial: string): Promise<KeyObject | undefined> {
    const key = this.resolve(serial);
    if (key || !this.auto || serial.startsWith(PUBLIC_KEY_ID_PREFIX)) return key;
    const now = this.now();
    if (now - this.lastUnknownRefreshMs < this.minUnknownSerialRefreshMs) return undefined;
    this.lastUnknownRefreshMs = now;
    await this.refresh();
    return this.resolve(serial);
  }

  /** Auto mode: downloads the certificates when none were loaded yet or the refresh interval passed. */
  async ensureFresh(): Promise<void> {
    if (!this.auto) return;
    if (this.lastRefreshMs !== undefined && this.now() - this.lastRefreshMs < this.refreshIntervalMs) return;
    try {
      await this.refresh();
    } catch (err) {
      // With a public key configured too (the migration), a merchant without certificates (404 on
      // /v3/certificates) must still work: verify by public key and retry the download next interval.
      if (!this.publicKey) throw err;
      this.lastRefreshMs = this.now();
    }
  }

  /** Downloads the certificate list now (one download at a time), keeping certificates not yet expired. */
  refresh(): Promise<void> {
    if (!this.downloader) return Promise.reject(new Error('no certificate downloader is configured'));
    const downloader = this.downloader;
    this.inFlight ??= (async () => {
      try {
        const entries = await downloader();
        for (const entry of entries) this.certs.set(entry.serialNo, entry);
        this.lastRefreshMs = this.now();
        this.dropExpired();
      } finally {
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }

  /**
   * Known certificates, newest effective first. `effective_time` has one-second resolution, so on a tie
   * the one that expires later is newer (a retiring certificate expires at the end of its overlap), and
   * the serial settles the rest: the order never depends on download order.
   */
  certificates(): PlatformCertificateEntry[] {
    this.dropExpired();
    return [...this.certs.values()].sort(
      (a, b) =>
        b.effectiveAtMs - a.effectiveAtMs ||
        b.expiresAtMs - a.expiresAtMs ||
        (a.serialNo < b.serialNo ? 1 : a.serialNo > b.serialNo ? -1 : 0),
    );
  }

  /**
   * The key for sensitive-field encryption and the `Wechatpay-Serial` request header: the WeChat Pay public
   * key when configured, else the newest effective platform certificate.
   */
  active(): ActiveKey | undefined {
    if (this.publicKeyId && this.publicKey) return { serial: this.publicKeyId, key: this.publicKey };
    const now = this.now();
    const usable = this.certificates().filter((c) => c.effectiveAtMs <= now);
    const newest = usable[0] ?? this.certificates()[0];
    return newest ? { serial: newest.serialNo, key: newest.publicKey } : undefined;
  }

  private dropExpired(): void {
    const now = this.now();
    for (const [serial, entry] of this.certs) if (entry.expiresAtMs <= now) this.certs.delete(serial);
  }
}

/**
 * Decrypts the certificates of a /v3/certificates response with the APIv3 key. Throws DecryptionError on a
 * wrong key. The caller then verifies the response with these keys (self-verification).
 */
export function decryptCertificateList(
  response: CertificatesResponse,
  apiV3Key: string,
): PlatformCertificateEntry[] {
  return response.data.map((item) => {
    const pem = decryptAeadAes256Gcm({
      apiV3Key,
      nonce: item.encrypt_certificate.nonce,
      associatedData: item.encrypt_certificate.associated_data,
      ciphertext: item.encrypt_certificate.ciphertext,
    });
    const info = loadCertificate(pem);
    const listedSerial = normalizeSerial(item.serial_no);
    if (listedSerial !== info.serialNo) {
      throw new Error(`certificate serial ${info.serialNo} does not match serial_no ${item.serial_no}`);
    }
    return {
      serialNo: info.serialNo,
      publicKey: info.publicKey,
      effectiveAtMs: parseRfc3339(item.effective_time)?.getTime() ?? info.notBefore.getTime(),
      expiresAtMs: parseRfc3339(item.expire_time)?.getTime() ?? info.notAfter.getTime(),
      pem: info.pem,
    };
  });
}
