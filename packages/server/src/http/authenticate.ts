import type { KeyObject } from 'node:crypto';
import {
  buildRequestSigningString,
  loadPublicKey,
  normalizeSerial,
  parseAuthorization,
  verifyMessage,
} from '@wechatpay-sandbox/sdk/protocol';
import type { FastifyRequest } from 'fastify';
import type { MerchantRecord } from '../db/merchant-repo.js';
import type { NonceAdmission } from '../db/nonce-repo.js';
import { errors, type WechatError } from '../errors.js';
import type { AuthenticatedMerchant } from './context.js';
import { multipartBoundary, parseMultipart } from './multipart.js';
import { diagnoseSignature } from './signature-diagnosis.js';

/** A merchant and the PEM (public key or certificate) registered for one of its API key serials. */
export interface MerchantWithKey {
  merchant: MerchantRecord;
  /** Undefined when the serial is not registered for the merchant. */
  keyPem: string | undefined;
}

/** What authentication needs to know about merchants. */
export interface MerchantDirectory {
  /**
   * The merchant and the PEM registered for its API key serial, read from the store (the authenticator
   * keeps its own cache, see {@link AuthenticatorDeps.admitNonce}); undefined when the merchant is not
   * registered.
   */
  findMerchantWithKeyPem(mchid: string, serialNo: string): Promise<MerchantWithKey | undefined>;
}

/** Dependencies of the request authenticator. */
export interface AuthenticatorDeps {
  merchants: MerchantDirectory;
  /**
   * Records a nonce in the shared store. The epoch it answers tells whether a merchant read from the
   * authenticator's cache is still current: when it is not, the merchant is read again and the signature
   * checked against what the store holds now, so `merchant add` or `set-mode` in any process takes effect
   * on every instance's next request.
   */
  admitNonce(mchid: string, nonce: string): Promise<NonceAdmission>;
  wallClock: () => number;
  windowSeconds: number;
  diagnostics: boolean;
}

/** A merchant with its parsed key, and the merchants epoch it was read under. */
interface CachedMerchant {
  merchant: MerchantRecord;
  key: KeyObject | undefined;
  epoch: number;
}

const NONCE_PATTERN = /^[0-9A-Za-z]{1,32}$/;
const KEY_CACHE_MAX = 10_000;
/** Merchants (with one key serial each) kept in memory; past this the cache starts over. */
const MERCHANT_CACHE_MAX = 10_000;

/**
 * Verifies a request's APIv3 signature from the raw request-target and raw body, before any JSON
 * parsing, and returns the merchant. Every failure is 401 SIGN_ERROR; `detail` says why, so a merchant
 * can fix a signature that does not verify (the most common integration failure).
 * @see docs/protocol.md §1
 */
export class RequestAuthenticator {
  /** Parsed keys by PEM text. */
  private readonly keyCache = new Map<string, KeyObject>();
  /** Registered merchants by `mchid serial`, valid while their epoch is {@link knownEpoch}. */
  private readonly merchantCache = new Map<string, CachedMerchant>();
  /** The newest merchants epoch a nonce admission has shown. */
  private knownEpoch = 0;

  constructor(private readonly deps: AuthenticatorDeps) {}

  async authenticate(request: FastifyRequest): Promise<AuthenticatedMerchant> {
    const parsed = parseAuthorization(headerValue(request.headers.authorization));
    if (!parsed.ok) throw signError(parsed.reason);
    const { mchid, serialNo, timestamp, nonce, signature } = parsed.params;

    if (!/^\d{1,12}$/.test(timestamp)) throw signError(`timestamp "${timestamp}" must be Unix seconds`);
    const nowSeconds = Math.floor(this.deps.wallClock() / 1000);
    const skew = Number(timestamp) - nowSeconds;
    if (Math.abs(skew) > this.deps.windowSeconds) {
      const hint = timestamp.length >= 13 ? ' (it looks like milliseconds; send seconds)' : '';
      throw signError(
        `Authorization 中的时间戳与发起请求的时间不得超过5分钟: timestamp ${timestamp} is ${skew}s from server time ${nowSeconds}${hint}`,
      );
    }
    if (!NONCE_PATTERN.test(nonce)) throw signError('nonce_str must be 1-32 characters of [0-9A-Za-z]');
    if (!/^\d{1,32}$/.test(mchid)) throw signError(`mchid "${mchid}" must be digits`);

    const serial = normalizeSerial(serialNo);
    const keyOf = (merchant: CachedMerchant): KeyObject => {
      if (!merchant.key) {
        throw signError(`serial_no ${serialNo} is not an API certificate registered for mchid ${mchid}`);
      }
      return merchant.key;
    };
    let found = await this.merchant(mchid, serial);
    const key = keyOf(found);
    const body = signedBody(request);
    const canonicalUrl = request.raw.url ?? request.url;
    const message = buildRequestSigningString({
      method: request.method,
      canonicalUrl,
      timestamp,
      nonce,
      body,
    });
    const verify = (publicKey: KeyObject): void => {
      if (verifyMessage(message, signature, publicKey)) return;
      const diagnosis = diagnoseSignature(
        {
          method: request.method,
          canonicalUrl,
          timestamp,
          nonce,
          body,
          host: headerValue(request.headers.host),
        },
        signature,
        publicKey,
      );
      const detail: Record<string, unknown> = { issue: diagnosis.hint, mistake: diagnosis.mistake };
      if (this.deps.diagnostics) detail.expected_signing_string = message;
      throw errors.SIGN_ERROR(undefined, { location: 'header', field: 'Authorization', ...detail });
    };

    verify(key);
    const admission = await this.deps.admitNonce(mchid, nonce);
    if (!admission.fresh) {
      throw signError(
        `nonce_str ${nonce} was already used by mchid ${mchid}; every request needs a fresh nonce`,
      );
    }
    if (admission.merchantsEpoch !== found.epoch) {
      // A merchant or key changed since this one was read (here or in another process): read it again
      // and check the signature against what the store holds now.
      this.noteEpoch(admission.merchantsEpoch);
      found = await this.merchant(mchid, serial, admission.merchantsEpoch);
      const current = keyOf(found);
      if (current !== key) verify(current);
    }
    return { ...found.merchant, serialNo: serial };
  }

  /** The merchant from the cache when it was read under the newest epoch, else from the store. */
  private async merchant(mchid: string, serial: string, epoch = this.knownEpoch): Promise<CachedMerchant> {
    const cacheKey = `${mchid} ${serial}`;
    const cached = this.merchantCache.get(cacheKey);
    if (cached && cached.epoch === epoch) return cached;
    const found = await this.deps.merchants.findMerchantWithKeyPem(mchid, serial);
    // Unregistered merchants are not cached: a merchant registered a moment later is seen at once.
    if (!found) throw signError(`mchid ${mchid} is not registered with this sandbox`);
    const entry = {
      merchant: found.merchant,
      key: found.keyPem ? this.parsedKey(found.keyPem) : undefined,
      epoch,
    };
    if (this.merchantCache.size >= MERCHANT_CACHE_MAX) this.merchantCache.clear();
    this.merchantCache.set(cacheKey, entry);
    return entry;
  }

  /** A newer epoch empties the cache (merchant writes are rare); an older one (a slow batch) changes nothing. */
  private noteEpoch(epoch: number): void {
    if (epoch <= this.knownEpoch) return;
    this.knownEpoch = epoch;
    this.merchantCache.clear();
  }

  /** The parsed key of a PEM; only the parse is cached, the PEM itself is read on every request. */
  private parsedKey(pem: string): KeyObject {
    const cached = this.keyCache.get(pem);
    if (cached) return cached;
    const key = loadPublicKey(pem);
    // PEMs come only from registered keys, so this bound is never reached in practice.
    if (this.keyCache.size >= KEY_CACHE_MAX) this.keyCache.clear();
    this.keyCache.set(pem, key);
    return key;
  }
}

/**
 * The BODY line of the signing string: the raw entity, or for multipart uploads the exact bytes of the
 * `meta` part (docs/protocol.md §7.2). Also stores the parsed parts on the request.
 */
function signedBody(request: FastifyRequest): string {
  const raw = request.rawBody;
  if (!raw || raw.length === 0) return '';
  const boundary = multipartBoundary(headerValue(request.headers['content-type']));
  if (boundary) {
    const parts = parseMultipart(raw, boundary);
    if (!parts) throw errors.INVALID_REQUEST('multipart/form-data 格式错误', { location: 'body' });
    request.multipartParts = parts;
    return parts.find((p) => p.name === 'meta')?.data.toString('utf8') ?? '';
  }
  return raw.toString('utf8');
}

function signError(issue: string): WechatError {
  return errors.SIGN_ERROR(undefined, { location: 'header', field: 'Authorization', issue });
}

/** First value of a header. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Re-exported for the composition root, which names every request with it. */
