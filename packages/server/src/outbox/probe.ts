import { randomUUID } from 'node:crypto';
import { signResponse } from '@wechatpay-sandbox/sdk/protocol';
import type { TargetPolicy } from '../config.js';
import type { PlatformIdentity, SigningMode } from '../credentials/types.js';
import type { IdGen, NotificationEvent } from '../domain/ports.js';
import { callbackSigningKey, composeNotification, type NotificationRow, type Transport } from './deliver.js';
import { type HostResolver, resolveTarget } from './target-policy.js';

/**
 * The conformance probe: sends a merchant endpoint one correct notification and several deliberately
 * wrong ones, and reports which wrong ones it accepted with a 2xx. A receiver that accepts a forged
 * callback would credit coupons an attacker made up; this shows it before WeChat's own probe traffic
 * (`WECHATPAY/SIGNTEST/` signatures, docs/protocol.md §6.6) or an attacker does.
 * Every case carries its own notification id, so a receiver that deduplicates before verifying is not
 * excused by having seen the id; the wrong cases go first so none is answered from a cache of the good one.
 */

/** The probe cases. */
export const PROBE_CASES = [
  'bad-signature',
  'signtest-signature',
  'wrong-serial',
  'stale-timestamp',
  'wrong-apiv3-key',
  'tampered-ciphertext',
  'correct',
] as const;

/** One probe case. */
export type ProbeCase = (typeof PROBE_CASES)[number];

/** What the endpoint answered to one case. */
export interface ProbeCaseResult {
  case: ProbeCase;
  /** `accept` only for the correct notification. */
  expected: 'accept' | 'reject';
  status: number | undefined;
  /** Answered 2xx (for a wrong case that is the bug). */
  accepted: boolean;
  /** The endpoint behaved as WeChat's rules require. */
  passed: boolean;
  error: string | undefined;
  latencyMs: number;
}

/** The probe's report. */
export interface ProbeReport {
  url: string;
  results: ProbeCaseResult[];
  /** Wrong notifications the endpoint accepted: each one is a security bug in the receiver. */
  acceptedForgeries: ProbeCase[];
  /** The correct notification was not accepted with 200/204. */
  rejectedCorrect: boolean;
  passed: boolean;
}

/** Inputs of {@link runConformanceProbe}. */
export interface ProbeInput {
  url: string;
  merchant: { mchid: string; apiV3Key: string; signingMode: SigningMode };
  /** The event sent (a COUPON.SEND-like sample of the family by default). */
  event: NotificationEvent;
  platform: PlatformIdentity;
  ids: IdGen;
  transport: Transport;
  policy: TargetPolicy;
  resolver?: HostResolver | undefined;
  wallMs: number;
  /** Business time for create_time. */
  businessMs: number;
}

/** Runs every case against the URL, one after another. */
export async function runConformanceProbe(input: ProbeInput): Promise<ProbeReport> {
  const target = await resolveTarget(input.url, input.policy, input.resolver);
  if ('refused' in target) throw new Error(target.reason);
  const results: ProbeCaseResult[] = [];
  for (const probeCase of PROBE_CASES) {
    const { body, headers } = forge(probeCase, input);
    const http = await input.transport.post(target, body, headers);
    const accepted = http.status !== undefined && http.status >= 200 && http.status < 300;
    const expected = probeCase === 'correct' ? 'accept' : 'reject';
    results.push({
      case: probeCase,
      expected,
      status: http.status,
      accepted,
      passed: expected === 'accept' ? http.ok : !accepted,
      error: http.error,
      latencyMs: http.latencyMs,
    });
  }
  const acceptedForgeries = results.filter((r) => r.expected === 'reject' && r.accepted).map((r) => r.case);
  const rejectedCorrect = results.some((r) => r.case === 'correct' && !r.passed);
  return {
    url: input.url,
    results,
    acceptedForgeries,
    rejectedCorrect,
    passed: acceptedForgeries.length === 0 && !rejectedCorrect,
  };
}

function forge(probeCase: ProbeCase, input: ProbeInput): { body: string; headers: Record<string, string> } {
  const row: Pick<
    NotificationRow,
    'id' | 'event_type' | 'summary' | 'original_type' | 'associated_data' | 'plaintext' | 'create_time'
  > = {
    id: randomUUID(),
    event_type: input.event.eventType,
    summary: input.event.summary,
    original_type: input.event.originalType,
    associated_data: input.event.associatedData,
    plaintext: JSON.stringify(input.event.plaintext),
    create_time: input.businessMs,
  };
  const key = callbackSigningKey(input.platform, input.merchant.signingMode, 1, input.wallMs);
  // A key that is not the merchant's: decryption must fail on the GCM tag.
  const apiV3Key = probeCase === 'wrong-apiv3-key' ? input.ids.token(32) : input.merchant.apiV3Key;
  const wallMs = probeCase === 'stale-timestamp' ? input.wallMs - 10 * 60_000 : input.wallMs;
  const composed = composeNotification({ row, apiV3Key, key, wallMs, ids: input.ids });
  let body = composed.body;
  const headers: Record<string, string> = { ...composed.headers };
  switch (probeCase) {
    case 'bad-signature': {
      // Flip one byte of the signature: still well-formed base64 of the right length.
      const sig = Buffer.from(headers['Wechatpay-Signature'] ?? '', 'base64');
      sig[0] = (sig[0] ?? 0) ^ 0xff;
      headers['Wechatpay-Signature'] = sig.toString('base64');
      break;
    }
    case 'signtest-signature':
      headers['Wechatpay-Signature'] = `WECHATPAY/SIGNTEST/${headers['Wechatpay-Signature']?.slice(19)}`;
      break;
    case 'wrong-serial':
      // Validly signed by the platform key, but naming a key the merchant does not have.
      headers['Wechatpay-Serial'] = headers['Wechatpay-Serial']?.startsWith('PUB_KEY_ID_')
        ? `PUB_KEY_ID_${'0'.repeat(32)}`
        : '5157F09EFDC096DE15EBE81A47057A7200000000';
      break;
    case 'tampered-ciphertext': {
      // Change the ciphertext and sign the changed body properly: only the AEAD tag can catch it.
      const envelope = composed.envelope;
      const raw = Buffer.from(envelope.resource.ciphertext, 'base64');
      raw[0] = (raw[0] ?? 0) ^ 0x01;
      body = JSON.stringify({
        ...envelope,
        resource: { ...envelope.resource, ciphertext: raw.toString('base64') },
      });
      Object.assign(
        headers,
        signResponse({
          body,
          timestamp: Math.floor(wallMs / 1000),
          nonce: input.ids.token(32),
          serial: key.serial,
          privateKey: key.privateKey,
        }),
      );
      break;
    }
    default:
      break;
  }
  return { body, headers };
}
