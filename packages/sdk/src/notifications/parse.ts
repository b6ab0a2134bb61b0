import type { KeyObject } from 'node:crypto';
import { PlatformKeyStore, type VerificationOptions } from '../client/platform-keys.js';
import { DecryptionError, SignatureVerificationError, WechatPayError } from '../protocol/errors.js';
import { decryptNotificationResource, parseNotificationEnvelope } from '../protocol/notification.js';
import { readHeader, verifyResponseSignature } from '../protocol/response-signature.js';
import { isKnownEventType, type NotificationEvent, UNKNOWN_EVENT_TYPE } from './events.js';

/**
 * Notification intake: verify the signature over the raw body (±300 s), then decrypt the resource and
 * return a typed event.
 * @see docs/protocol.md §6.3
 */

/** Where verification keys come from: a client's `platformKeys`, a PlatformKeyStore, or fixed keys. */
export interface NotificationKeySource {
  resolve(serial: string): KeyObject | undefined;
  resolveOrRefresh?(serial: string): Promise<KeyObject | undefined>;
}

/** Options of a notification parser. */
export interface NotificationParserOptions {
  /** The receiving merchant's 32-character APIv3 key. */
  apiV3Key: string;
  /**
   * Verification keys: `client.platformKeys` (follows certificate rotation), a PlatformKeyStore, or
   * `{ publicKey }` / `{ certificates: [pem] }` (parsed once).
   */
  keys: NotificationKeySource | Omit<VerificationOptions, 'certificates'> | VerificationOptions;
  /** Current time in milliseconds. @default Date.now */
  now?: () => number;
  /** Allowed |now − Wechatpay-Timestamp| in seconds (rejected at ≥); `Infinity` disables it. @default 300 */
  windowSeconds?: number;
}

/** The raw request: headers in any case and the body exactly as received. */
export interface RawNotification {
  headers: Record<string, string | string[] | undefined> | Headers;
  /** The raw body: a string or the bytes. Never re-serialised JSON. */
  body: string | Uint8Array;
}

/** The notification could not be read as an APIv3 envelope. */
export class InvalidNotificationError extends WechatPayError {
  override name = 'InvalidNotificationError';
}

/** Prefix of WeChat's deliberate probe signatures, which must be refused. */
export const SIGNTEST_PREFIX = 'WECHATPAY/SIGNTEST/';

/** A prepared parser: keys parsed once, reused for every notification. */
export type NotificationParser = (raw: RawNotification) => Promise<NotificationEvent>;

/** Creates a parser with keys parsed once. */
export function createNotificationParser(options: NotificationParserOptions): NotificationParser {
  const keys = toKeySource(options.keys, options.now);
  const now = options.now ?? Date.now;
  const windowSeconds = options.windowSeconds ?? 300;
  const { apiV3Key } = options;
  return async (raw) => {
    const body = typeof raw.body === 'string' ? raw.body : Buffer.from(raw.body).toString('utf8');
    const signature = readHeader(raw.headers, 'wechatpay-signature');
    if (signature?.startsWith(SIGNTEST_PREFIX)) {
      throw new SignatureVerificationError(
        'this is a WeChat signature probe (WECHATPAY/SIGNTEST/…); it must be answered with a failure',
      );
    }
    const serial = readHeader(raw.headers, 'wechatpay-serial');
    // Resolve once; only an unknown serial waits for a refresh (certificate rotation).
    let key = serial ? keys.resolve(serial) : undefined;
    if (serial && !key && keys.resolveOrRefresh) key = await keys.resolveOrRefresh(serial);
    const result = verifyResponseSignature({
      headers: raw.headers,
      body,
      resolveKey: (s) => (s === serial ? key : keys.resolve(s)),
      nowSeconds: Math.floor(now() / 1000),
      windowSeconds,
    });
    if (!result.ok) {
      throw new SignatureVerificationError(
        `notification signature check failed (${result.failure}): ${result.message}. ` +
          'Are you passing the raw request body (not parsed and re-serialized JSON)?',
      );
    }
    const parsed = parseNotificationEnvelope(body);
    if (!parsed.ok) throw new InvalidNotificationError(parsed.reason);
    const envelope = parsed.envelope;
    const plaintext = decryptNotificationResource(envelope.resource, apiV3Key);
    let resource: unknown;
    try {
      resource = JSON.parse(plaintext);
    } catch {
      throw new DecryptionError('the decrypted notification resource is not JSON');
    }
    // One literal per branch, not a spread of a shared base: the spread copy measured ~10% of a parse.
    const eventType = envelope.event_type;
    const originalType = envelope.resource.original_type;
    // The resource's shape is WeChat's contract for the type; it is not re-validated here.
    if (isKnownEventType(eventType)) {
      return {
        id: envelope.id,
        create_time: envelope.create_time,
        event_type: eventType,
        summary: envelope.summary,
        original_type: originalType,
        resource,
        plaintext,
        envelope,
        verifiedBy: result.serial,
      } as NotificationEvent;
    }
    return {
      id: envelope.id,
      create_time: envelope.create_time,
      event_type: UNKNOWN_EVENT_TYPE,
      unknownEventType: eventType,
      summary: envelope.summary,
      original_type: originalType,
      resource,
      plaintext,
      envelope,
      verifiedBy: result.serial,
    };
  };
}

const parserCache = new WeakMap<object, { apiV3Key: string; parser: NotificationParser }>();

/**
 * Verifies and decrypts one notification. For a hot path prefer `createNotificationParser` (the same thing
 * with the options bound); this function caches a parser per options object.
 * @example
 * const event = await parseNotification({ headers: req.headers, body: rawBody, apiV3Key, keys: client.platformKeys });
 * if (event.event_type === 'COUPON.SEND') console.log(event.resource.coupon_code);
 */
export function parseNotification(
  input: RawNotification & NotificationParserOptions,
): Promise<NotificationEvent> {
  if (input.now !== undefined || input.windowSeconds !== undefined)
    return createNotificationParser(input)(input);
  const cached = parserCache.get(input.keys);
  if (cached && cached.apiV3Key === input.apiV3Key) return cached.parser(input);
  const parser = createNotificationParser(input);
  parserCache.set(input.keys, { apiV3Key: input.apiV3Key, parser });
  return parser(input);
}

function toKeySource(keys: NotificationParserOptions['keys'], now?: () => number): NotificationKeySource {
  if (typeof (keys as NotificationKeySource).resolve === 'function') return keys as NotificationKeySource;
  const verification = keys as VerificationOptions;
  if (verification.certificates === 'auto') {
    throw new TypeError(
      "certificates: 'auto' needs a client to download them; pass keys: client.platformKeys instead",
    );
  }
  return new PlatformKeyStore({ verification, ...(now ? { now } : {}) });
}
