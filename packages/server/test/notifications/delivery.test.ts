import { createPublicKey } from 'node:crypto';
import {
  decryptNotificationResource,
  parseNotificationEnvelope,
  verifyResponseSignature,
} from '@wechatpay-sandbox/sdk/protocol';
import { DIALECTS } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import type { NotificationEvent, NotifyFamily } from '../../src/domain/ports.js';
import { NotificationDispatcher } from '../../src/outbox/dispatcher.js';
import { enqueueNotification } from '../../src/outbox/enqueue.js';
import { deliveryPlanChangeEvent, productCouponEvent } from '../../src/outbox/events.js';
import { verifyWithThirdPartyClients } from '../third-party-notifications.js';
import {
  couponSendEvent,
  imageGenerationResource,
  makeCertificate,
  makePlatform,
  type ReceivedRequest,
  scratchDir,
  seedMerchant,
  setNotifyUrl,
  startReceiver,
  type TestCertificate,
  TestClock,
  testIds,
} from './fixtures.js';

const API_V3_KEY = 'a7Kd9QmZ2xPw4LtR8vNc3HbY6sJf1GuE';
const T0 = Date.UTC(2025, 0, 1, 0, 0, 5);
const scratch = scratchDir();
let tls: TestCertificate;
let platformFixture: ReturnType<typeof makePlatform>;
let merchantCert: TestCertificate;

beforeAll(() => {
  tls = makeCertificate(scratch.dir, 'receiver');
  merchantCert = makeCertificate(scratch.dir, 'merchant');
  platformFixture = makePlatform(scratch.dir);
});
afterAll(() => scratch.remove());

/** The verifying keys a merchant configures, by Wechatpay-Serial. */
function verifyingPem(serial: string): string | undefined {
  const { platform, publicKeyPem, certPem } = platformFixture;
  if (serial === platform.publicKey.keyId) return publicKeyPem;
  if (serial === platform.certificates[0]?.serialNo) return certPem;
  return undefined;
}

/** Verifies and decrypts one received notification three ways; returns the plaintext. */
async function verifyThreeWays(request: ReceivedRequest): Promise<Record<string, unknown>> {
  const h = (name: string) => String(request.headers[name] ?? '');
  const serial = h('wechatpay-serial');
  const pem = verifyingPem(serial);
  if (!pem) throw new Error(`unknown serial ${serial}`);

  // Our SDK.
  const sdk = verifyResponseSignature({
    headers: request.headers,
    body: request.body,
    resolveKey: (s) => (s === serial ? createPublicKey(pem) : undefined),
    nowSeconds: Math.floor(Date.now() / 1000),
  });
  expect(sdk).toEqual({ ok: true, serial });
  const parsed = parseNotificationEnvelope(request.body);
  if (!parsed.ok) throw new Error(parsed.reason);
  const plaintext = decryptNotificationResource(parsed.envelope.resource, API_V3_KEY);

  // wechatpay-node-v3 and wechatpay-axios-plugin, unmodified.
  const thirdParty = await verifyWithThirdPartyClients(request, {
    mchid: '1900000001',
    apiV3Key: API_V3_KEY,
    certificatePem: merchantCert.certPem,
    privateKeyPem: merchantCert.keyPem,
    platformPem: pem,
  });

  const object = JSON.parse(plaintext) as Record<string, unknown>;
  expect(thirdParty.nodeV3).toEqual(object);
  expect(thirdParty.axiosPlugin).toEqual(object);
  return object;
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`notification delivery (${dialect.name})`, () => {
    let handle: DatabaseHandle;
    let drop: () => Promise<void>;
    let clock: TestClock;
    let seq = 0;
    const mchid = () => `19000${String(seq).padStart(5, '0')}`;

    beforeAll(async () => {
      const database = await dialect.create();
      drop = database.drop;
      handle = openDatabase(database.url);
      await migrateToLatest(handle.db);
    });
    afterAll(async () => {
      await handle.close();
      await drop();
    });
    beforeEach(() => {
      seq++;
      clock = new TestClock(T0);
    });

    function dispatcher(extra: Partial<ConstructorParameters<typeof NotificationDispatcher>[0]> = {}) {
      return new NotificationDispatcher({
        db: handle,
        clock,
        platform: platformFixture.platform,
        ids: testIds,
        transport: { caPem: tls.certPem, timeoutMs: 1000 },
        subscribeClockChanges: clock.subscribe,
        ...extra,
      });
    }
    /** Registers this test's merchant (pubkey signing) with its notify URLs. */
    const seedPubkeyMerchant = (notifyUrls: Partial<Record<NotifyFamily, string>>) =>
      seedMerchant(handle.db, { mchid: mchid(), apiV3Key: API_V3_KEY, signingMode: 'pubkey', notifyUrls });
    /** Writes an event to the outbox at this test's merchant business time. */
    const enqueue = (event: NotificationEvent) => enqueueNotification(handle.db, event, clock.now(mchid()));
    /** A notification's attempt log, first attempt first. */
    const attemptsOf = (id: string) =>
      handle.db
        .selectFrom('notification_attempts')
        .selectAll()
        .where('notification_id', '=', id)
        .orderBy('attempt_no')
        .execute();

    for (const mode of ['pubkey', 'certificate', 'migrating'] as const) {
      it(`delivers COUPON.SEND over HTTPS that wechatpay-node-v3, wechatpay-axios-plugin and our SDK verify and decrypt (${mode})`, async () => {
        const receiver = await startReceiver(tls, () => (mode === 'migrating' ? 500 : 200));
        await seedMerchant(handle.db, {
          mchid: mchid(),
          apiV3Key: API_V3_KEY,
          signingMode: mode,
          notifyUrls: { busifavor: receiver.url },
        });
        const { id } = await enqueue(couponSendEvent(mchid(), 'C001'));
        const d = dispatcher();
        expect(await d.drain()).toBe(1);
        if (mode === 'migrating') {
          // Mid-switch callbacks come signed with either key: attempt 2 uses the other one.
          clock.advance(60_000, mchid());
          expect(await d.drain()).toBe(1);
        }
        await d.stop();
        await receiver.close();

        const serials = new Set<string>();
        for (const request of receiver.received) {
          const plain = await verifyThreeWays(request);
          expect(plain).toMatchObject({ coupon_code: 'C001', event_type: 'EVENT_TYPE_BUSICOUPON_SEND' });
          const envelope = JSON.parse(request.body) as Record<string, unknown>;
          expect(envelope).toMatchObject({
            id,
            create_time: '2025-01-01T08:00:05+08:00',
            event_type: 'COUPON.SEND',
            resource_type: 'encrypt-resource',
            summary: '商家券领券通知',
          });
          expect(request.headers['wechatpay-signature-type']).toBe('WECHATPAY2-SHA256-RSA2048');
          expect(request.headers['request-id']).toMatch(/^[0-9A-F]{48}$/);
          expect(request.headers['content-type']).toBe('application/json');
          serials.add(String(request.headers['wechatpay-serial']));
        }
        const { platform } = platformFixture;
        const expected =
          mode === 'pubkey'
            ? [platform.publicKey.keyId]
            : mode === 'certificate'
              ? [platform.certificates[0]?.serialNo]
              : [platform.publicKey.keyId, platform.certificates[0]?.serialNo];
        expect([...serials].sort()).toEqual([...expected].sort());
      });
    }

    it('retries a receiver that fails 3 times every 60 s of virtual time, then succeeds, with the same id', async () => {
      const statuses = [500, 404, 302, 200];
      const receiver = await startReceiver(tls, (_r, i) => statuses[i] ?? 200);
      await seedPubkeyMerchant({ busifavor: receiver.url });
      const { id } = await enqueue(couponSendEvent(mchid(), 'C002'));
      let persisted = 0;
      const d = dispatcher({ onAttempt: () => persisted++ });
      d.start();
      // Wait until the attempt is recorded: its retry time is computed from the clock at that moment.
      const until = async (n: number) => {
        for (let i = 0; i < 300 && persisted < n; i++) await new Promise((r) => setTimeout(r, 10));
        expect(persisted).toBe(n);
        expect(receiver.received.length).toBe(n);
      };
      await until(1);
      for (let attempt = 2; attempt <= 4; attempt++) {
        // 59 s is not enough: nothing is sent before the schedule says so.
        clock.advance(59_000, mchid());
        await new Promise((r) => setTimeout(r, 60));
        expect(receiver.received.length).toBe(attempt - 1);
        clock.advance(1_000, mchid());
        await until(attempt);
      }
      await d.stop();
      await receiver.close();
      const ids = receiver.received.map((r) => (JSON.parse(r.body) as { id: string }).id);
      expect(ids).toEqual([id, id, id, id]);
      const nonces = new Set(receiver.received.map((r) => r.headers['wechatpay-nonce']));
      expect(nonces.size).toBe(4);
      const row = await handle.db
        .selectFrom('notification_outbox')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ state: 'delivered', attempts: 4, last_status: 200 });
      const attempts = await attemptsOf(id);
      expect(attempts.map((a) => [a.attempt_no, a.status, a.outcome])).toEqual([
        [1, 500, 'failed'],
        [2, 404, 'failed'],
        [3, 302, 'failed'],
        [4, 200, 'delivered'],
      ]);
      expect(attempts.map((a) => Number(a.business_at) - T0)).toEqual([0, 60_000, 120_000, 180_000]);
      expect(attempts[0]?.response_excerpt).toContain('FAIL');
    });

    it('gives up after 11 attempts (1 + 10 retries 60 s apart) and marks the notification dead', async () => {
      const receiver = await startReceiver(tls, () => 503);
      await seedPubkeyMerchant({ busifavor: receiver.url });
      const { id } = await enqueue(couponSendEvent(mchid(), 'C003'));
      const d = dispatcher();
      for (let i = 0; i < 15; i++) {
        await d.drain();
        clock.advance(60_000, mchid());
      }
      await d.stop();
      await receiver.close();
      expect(receiver.received.length).toBe(11);
      const row = await handle.db
        .selectFrom('notification_outbox')
        .select(['state', 'attempts'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ state: 'dead', attempts: 11 });
    });

    // docs/protocol.md §6.5: product-coupon "every 60 s, 11 times" (third-party claim), delivery-plan
    // undocumented and defaulting to busifavor's. Both: 1 attempt + 10 retries, exactly 60 s apart.
    const families = [
      {
        family: 'product-coupon' as const,
        event: (m: string) =>
          productCouponEvent(m, 'PRODUCT_COUPON_SP.IMAGE_GENERATION', imageGenerationResource('T-SCHEDULE')),
        successes: [201, 202, 200],
      },
      {
        family: 'delivery-plan' as const,
        event: (m: string) =>
          deliveryPlanChangeEvent(
            m,
            { planId: 'PLAN-SCHEDULE', planState: 'PAUSED', auditState: 'PASSED', changeReason: '' },
            clock.now(m),
          ),
        successes: [202, 201, 204],
      },
    ];

    for (const { family, event } of families) {
      it(`retries ${family} exactly 60 s apart on the virtual clock, 11 attempts in all, nothing a millisecond early`, async () => {
        // Every answer is a failure, 2xx other than 200/204 included.
        const failures = [201, 202, 500, 503, 404, 302, 429, 201, 202, 400, 500];
        const receiver = await startReceiver(tls, (_r, i) => failures[i] ?? 500);
        await seedPubkeyMerchant({ [family]: receiver.url });
        const { id } = await enqueue(event(mchid()));
        const d = dispatcher();
        expect(await d.drain()).toBe(1);
        for (let retry = 1; retry <= 10; retry++) {
          clock.advance(59_999, mchid());
          expect(await d.drain(), `retry ${retry} 1 ms before it is due`).toBe(0);
          clock.advance(1, mchid());
          expect(await d.drain(), `retry ${retry} when due`).toBe(1);
        }
        // Dead after the 11th: another hour of virtual time sends nothing.
        clock.advance(3_600_000, mchid());
        expect(await d.drain()).toBe(0);
        await d.stop();
        await receiver.close();
        expect(receiver.received.map((r) => (JSON.parse(r.body) as { id: string }).id)).toEqual(
          Array.from({ length: 11 }, () => id),
        );
        const row = await handle.db
          .selectFrom('notification_outbox')
          .select(['state', 'attempts', 'family'])
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        expect(row).toEqual({ state: 'dead', attempts: 11, family });
        const attempts = await attemptsOf(id);
        expect(attempts.map((a) => Number(a.business_at) - T0)).toEqual(
          Array.from({ length: 11 }, (_, i) => i * 60_000),
        );
        expect(attempts.map((a) => [a.status, a.outcome])).toEqual(failures.map((s) => [s, 'failed']));
        expect(attempts[0]?.error).toBe('HTTP 201: only 200 or 204 count as received');
        expect(attempts[1]?.error).toBe('HTTP 202: only 200 or 204 count as received');
      });
    }

    for (const { family, event, successes } of families) {
      it(`counts only 200/204 as received for ${family}: ${successes.join(', ')} is delivered on the third attempt at 120 s`, async () => {
        const receiver = await startReceiver(tls, (_r, i) => successes[i] ?? 500);
        await seedPubkeyMerchant({ [family]: receiver.url });
        const { id } = await enqueue(event(mchid()));
        const d = dispatcher();
        expect(await d.drain()).toBe(1);
        for (let i = 0; i < 2; i++) {
          clock.advance(60_000, mchid());
          expect(await d.drain()).toBe(1);
        }
        clock.advance(600_000, mchid());
        expect(await d.drain()).toBe(0);
        await d.stop();
        await receiver.close();
        expect(receiver.received).toHaveLength(3);
        // The delivered one verifies and decrypts with the merchants' clients like any other.
        await verifyThreeWays(receiver.received[2] as ReceivedRequest);
        const attempts = await attemptsOf(id);
        expect(attempts.map((a) => [a.status, a.outcome, Number(a.business_at) - T0])).toEqual([
          [successes[0], 'failed', 0],
          [successes[1], 'failed', 60_000],
          [successes[2], 'delivered', 120_000],
        ]);
        const row = await handle.db
          .selectFrom('notification_outbox')
          .select(['state', 'attempts', 'last_status'])
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        expect(row).toEqual({ state: 'delivered', attempts: 3, last_status: successes[2] });
      });
    }

    it('counts a slow answer (over the timeout) as a failure', async () => {
      const receiver = await startReceiver(tls, () => new Promise((r) => setTimeout(() => r(200), 400)));
      await seedPubkeyMerchant({ busifavor: receiver.url });
      const { id } = await enqueue(couponSendEvent(mchid(), 'C004'));
      const d = dispatcher({ transport: { caPem: tls.certPem, timeoutMs: 150 } });
      await d.drain();
      await d.stop();
      await receiver.close();
      const attempt = await handle.db
        .selectFrom('notification_attempts')
        .selectAll()
        .where('notification_id', '=', id)
        .executeTakeFirstOrThrow();
      expect(attempt).toMatchObject({ outcome: 'failed', status: null });
      expect(attempt.error).toMatch(/within 150 ms/);
    });

    it('holds events without a notify URL as no-target and delivers them once a URL is set', async () => {
      const receiver = await startReceiver(tls, () => 204);
      await seedPubkeyMerchant({});
      const { id } = await enqueue(couponSendEvent(mchid(), 'C005'));
      const d = dispatcher({ pollIntervalMs: 20 });
      await d.drain();
      const waiting = await handle.db
        .selectFrom('notification_outbox')
        .select(['state', 'attempts'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(waiting).toEqual({ state: 'no-target', attempts: 0 });
      await setNotifyUrl(handle.db, mchid(), 'busifavor', receiver.url);
      await new Promise((r) => setTimeout(r, 30));
      await d.drain();
      await d.stop();
      await receiver.close();
      expect(receiver.received.length).toBe(1);
      const row = await handle.db
        .selectFrom('notification_outbox')
        .select('state')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(row.state).toBe('delivered');
    });

    it('sends nothing for an event whose transaction rolled back', async () => {
      const receiver = await startReceiver(tls, () => 200);
      await seedPubkeyMerchant({ busifavor: receiver.url });
      await expect(
        handle.db.transaction().execute(async (trx) => {
          await enqueueNotification(trx, couponSendEvent(mchid(), 'C006'), clock.now(mchid()));
          throw new Error('the send failed after the event was written');
        }),
      ).rejects.toThrow(/send failed/);
      const d = dispatcher();
      expect(await d.drain()).toBe(0);
      await d.stop();
      await receiver.close();
      expect(receiver.received.length).toBe(0);
    });

    it('refuses a loopback receiver under the strict policy and logs why', async () => {
      const receiver = await startReceiver(tls, () => 200);
      await seedPubkeyMerchant({ busifavor: receiver.url.replace('127.0.0.1', 'localhost') });
      const { id } = await enqueue(couponSendEvent(mchid(), 'C007'));
      const d = dispatcher({ policy: 'strict' });
      await d.drain();
      await d.stop();
      await receiver.close();
      expect(receiver.received.length).toBe(0);
      const attempt = await handle.db
        .selectFrom('notification_attempts')
        .selectAll()
        .where('notification_id', '=', id)
        .executeTakeFirstOrThrow();
      expect(attempt.outcome).toBe('refused');
      expect(attempt.error).toMatch(/loopback.*strict/);
    });
  });
}
