import { decryptAeadAes256Gcm, encryptAeadAes256Gcm } from './aead.js';

/**
 * The callback (notification) envelope and its encrypted resource.
 * @see docs/protocol.md §6.2
 */

/** The encrypted `resource` of a notification. */
export interface NotificationResource {
  original_type: string;
  algorithm: 'AEAD_AES_256_GCM';
  ciphertext: string;
  associated_data: string;
  nonce: string;
}

/** The notification envelope exactly as it travels on the wire. */
export interface NotificationEnvelope {
  id: string;
  create_time: string;
  resource_type: 'encrypt-resource';
  event_type: string;
  summary: string;
  resource: NotificationResource;
}

/** Inputs to build an envelope; `resourceNonce` must be fresh for every encryption. */
export interface BuildNotificationInput {
  id: string;
  createTime: string;
  eventType: string;
  summary: string;
  originalType: string;
  associatedData: string;
  resourceNonce: string;
  apiV3Key: string;
  /** The business object, serialised here with JSON.stringify. */
  plaintext: unknown;
}

/** Builds an envelope with the resource encrypted under the receiving merchant's APIv3 key. */
export function buildNotification(input: BuildNotificationInput): NotificationEnvelope {
  return {
    id: input.id,
    create_time: input.createTime,
    resource_type: 'encrypt-resource',
    event_type: input.eventType,
    summary: input.summary,
    resource: {
      original_type: input.originalType,
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: encryptAeadAes256Gcm({
        apiV3Key: input.apiV3Key,
        nonce: input.resourceNonce,
        associatedData: input.associatedData,
        plaintext: typeof input.plaintext === 'string' ? input.plaintext : JSON.stringify(input.plaintext),
      }),
      associated_data: input.associatedData,
      nonce: input.resourceNonce,
    },
  };
}

/** Result of parsing a raw notification body into an envelope. */
export type ParseEnvelopeResult =
  | { ok: true; envelope: NotificationEnvelope }
  | { ok: false; reason: string };

/** Parses and shape-checks a raw notification body (does not verify or decrypt). */
export function parseNotificationEnvelope(rawBody: string): ParseEnvelopeResult {
  let value: unknown;
  try {
    value = JSON.parse(rawBody);
  } catch {
    return { ok: false, reason: 'the notification body is not JSON' };
  }
  if (!isRecord(value)) return { ok: false, reason: 'the notification body is not a JSON object' };
  for (const field of ['id', 'create_time', 'event_type', 'resource_type'] as const) {
    if (typeof value[field] !== 'string')
      return { ok: false, reason: `the envelope field ${field} is missing` };
  }
  const resource = value.resource;
  if (!isRecord(resource)) return { ok: false, reason: 'the envelope has no resource object' };
  for (const field of ['algorithm', 'ciphertext', 'nonce'] as const) {
    if (typeof resource[field] !== 'string') return { ok: false, reason: `resource.${field} is missing` };
  }
  if (resource.algorithm !== 'AEAD_AES_256_GCM') {
    return { ok: false, reason: `unsupported resource.algorithm ${String(resource.algorithm)}` };
  }
  return {
    ok: true,
    envelope: {
      id: value.id as string,
      create_time: value.create_time as string,
      resource_type: 'encrypt-resource',
      event_type: value.event_type as string,
      summary: typeof value.summary === 'string' ? value.summary : '',
      resource: {
        original_type: typeof resource.original_type === 'string' ? resource.original_type : '',
        algorithm: 'AEAD_AES_256_GCM',
        ciphertext: resource.ciphertext as string,
        associated_data: typeof resource.associated_data === 'string' ? resource.associated_data : '',
        nonce: resource.nonce as string,
      },
    },
  };
}

/** Decrypts an envelope's resource to its plaintext string (usually JSON). */
export function decryptNotificationResource(resource: NotificationResource, apiV3Key: string): string {
  return decryptAeadAes256Gcm({
    apiV3Key,
    nonce: resource.nonce,
    associatedData: resource.associated_data,
    ciphertext: resource.ciphertext,
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
