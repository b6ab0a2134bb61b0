import { createPublicKey } from 'node:crypto';
import {
  decryptNotificationResource,
  parseNotificationEnvelope,
  verifyResponseSignature,
} from '@wechatpay-sandbox/sdk/protocol';
import { DIALECTS } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import {
  getNotification,
  listNotifications,
  replayNotifications,
  setDeliveriesPaused,
} from '../../src/outbox/admin.js';
import { Transport } from '../../src/outbox/deliver.js';
import { NotificationDispatcher } from '../../src/outbox/dispatcher.js';
import { enqueueNotification } from '../../src/outbox/enqueue.js';
import { deliveryPlanChangeEvent, sampleEvent } from '../../src/outbox/events.js';
import { putForwardRule } from '../../src/outbox/forwarding.js';
import { PROBE_CASES, runConformanceProbe } from '../../src/outbox/probe.js';
import { classifyAddress, resolveTarget } from '../../src/outbox/target-policy.js';
import {
  couponSendEvent,
  makeCertificate,
  makePlatform,
  type ReceivedRequest,
  scratchDir,
  seedMerchant,
  startReceiver,
  type TestCertificate,
  TestClock,
  testIds,
} from './fixtures.js';

const API_V3_KEY = 'Zq8Xv3Lm9Pw2Rt7Ky4Hb6Nc1Jd5Gf0Sa';
const scratch = scratchDir();
let tls: TestCertificate;
let fixture: ReturnType<typeof makePlatform>;
beforeAll(() => {
  tls = makeCertificate(scratch.dir, 'receiver');
  fixture = makePlatform(scratch.dir);
});
afterAll(() => scratch.remove());

/** A receiver that follows docs/protocol.md §6.3: verify (window, serial), then decrypt; else 401/400. */
function strictAnswer(
  request: ReceivedRequest,
  options: { checkWindow?: boolean; decrypt?: boolean } = {},
): number {
  const { platform } = fixture;
  const keys = new Map([
    [platform.publicKey.keyId, platform.publicKey.publicKey],
    [platform.certificates[0]?.serialNo ?? '', createPublicKey(fixture.certPem)],
  ]);
  const verified = verifyResponseSignature({
    headers: request.headers,
    body: request.body,
    resolveKey: (serial) => keys.get(serial),
    nowSeconds: Math.floor(Date.now() / 1000),
    // A receiver that skips the window check (like the Java parser) in effect has an infinite one.
    windowSeconds: options.checkWindow === false ? Number.MAX_SAFE_INTEGER : 300,
  });
  if (!verified.ok) return 401;
  if (options.decrypt === false) return 200;
  const parsed = parseNotificationEnvelope(request.body);
  if (!parsed.ok) return 400;
  try {
    decryptNotificationResource(parsed.envelope.resource, API_V3_KEY);
  } catch {
    return 400;
  }
  return 200;
}

describe('conformance probe', () => {
  async function probe(answer: (r: ReceivedRequest) => number) {
    const receiver = await startReceiver(tls, answer);
    const transport = new Transport({ caPem: tls.certPem });
    try {
      return await runConformanceProbe({
        url: receiver.url,
        merchant: { mchid: '1900000001', apiV3Key: API_V3_KEY, signingMode: 'pubkey' },
        event: sampleEvent('busifavor', '1900000001', Date.now()),
        platform: fixture.platform,
        ids: testIds,
        transport,
        policy: 'local',
        wallMs: Date.now(),
        businessMs: Date.now(),
      });
    } finally {
      transport.close();
      await receiver.close();
    }
  }

  it('passes a receiver that verifies the signature, window and serial and decrypts before answering 200', async () => {
    const report = await probe((r) => strictAnswer(r));
    expect(report.results.map((r) => r.case)).toEqual([...PROBE_CASES]);
    expect(report.acceptedForgeries).toEqual([]);
    expect(report.rejectedCorrect).toBe(false);
    expect(report.passed).toBe(true);
  });

  it('catches a lax receiver that answers 200 to everything', async () => {
    const report = await probe(() => 200);
    expect(report.passed).toBe(false);
    expect(report.acceptedForgeries).toEqual(PROBE_CASES.filter((c) => c !== 'correct'));
  });

  it('names exactly the checks a receiver skips (no window check, no decryption)', async () => {
    const report = await probe((r) => strictAnswer(r, { checkWindow: false, decrypt: false }));
    expect(report.acceptedForgeries.sort()).toEqual([
      'stale-timestamp',
      'tampered-ciphertext',
      'wrong-apiv3-key',
    ]);
  });

  it('reports a receiver that rejects the correct notification', async () => {
    const report = await probe(() => 500);
    expect(report.acceptedForgeries).toEqual([]);
    expect(report.rejectedCorrect).toBe(true);
    expect(report.passed).toBe(false);
  });
});

describe('target policy', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.31.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fd12:3456::1', 'unique-local'],
    ['0.0.0.0', 'unspecified'],
    ['101.226.103.10', 'public'],
    ['2402:4e00::1', 'public'],
  ])('classifies %s as %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it('refuses under strict a public name that resolves to a private address (DNS rebinding) and connects to the checked address', async () => {
    const rebinding = async () => [{ address: '10.0.0.7', family: 4 }];
    const refused = await resolveTarget('https://notify.example.com/cb', 'strict', rebinding);
    expect(refused).toMatchObject({ refused: true });
    const fine = await resolveTarget('https://notify.example.com/cb', 'strict', async () => [
      { address: '101.226.103.10', family: 4 },
    ]);
    expect(fine).toMatchObject({ address: '101.226.103.10', servername: 'notify.example.com' });
    // One private address among public ones is enough to refuse.
    expect(
      await resolveTarget('https://notify.example.com/cb', 'strict', async () => [
        { address: '101.226.103.10', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ]),
    ).toMatchObject({ refused: true });
  });

  it('allows http only under the local policy', async () => {
    expect(await resolveTarget('http://127.0.0.1:9/x', 'local')).toMatchObject({ address: '127.0.0.1' });
    expect(await resolveTarget('http://101.226.103.10/x', 'strict')).toMatchObject({ refused: true });
  });
});

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`delivery log operations (${dialect.name})`, () => {
    let handle: DatabaseHandle;
    let drop: () => Promise<void>;
    const clock = new TestClock(Date.UTC(2025, 5, 1));
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
    const dispatcher = () =>
      new NotificationDispatcher({
        db: handle,
        clock,
        platform: fixture.platform,
        ids: testIds,
        transport: { caPem: tls.certPem },
      });

    it('lists, inspects and replays a dead notification with the same id and a fresh signature', async () => {
      let fail = true;
      const receiver = await startReceiver(tls, () => (fail ? 500 : 200));
      const mchid = '1900000101';
      await seedMerchant(handle.db, {
        mchid,
        apiV3Key: API_V3_KEY,
        signingMode: 'pubkey',
        notifyUrls: { busifavor: receiver.url },
      });
      const { id } = await enqueueNotification(handle.db, couponSendEvent(mchid, 'R1'), clock.now(mchid));
      const d = dispatcher();
      for (let i = 0; i < 11; i++) {
        await d.drain();
        clock.advance(60_000, mchid);
      }
      const list = await listNotifications(handle.db, mchid, { state: 'dead' });
      expect(list.items.map((n) => n.id)).toEqual([id]);
      expect(await listNotifications(handle.db, '1900999999')).toEqual({ total: 0, items: [] });
      const detail = await getNotification(handle.db, mchid, id);
      expect(detail?.attemptLog).toHaveLength(11);
      expect(detail?.plaintext).toMatchObject({ coupon_code: 'R1' });
      expect(await getNotification(handle.db, '1900999999', id)).toBeUndefined();

      fail = false;
      expect(
        await replayNotifications(handle.db, mchid, { state: 'dead' }, clock.now(mchid), Date.now()),
      ).toEqual([id]);
      await d.drain();
      await d.stop();
      await receiver.close();
      const last = receiver.received.at(-1) as ReceivedRequest;
      expect((JSON.parse(last.body) as { id: string }).id).toBe(id);
      expect(new Set(receiver.received.map((r) => r.headers['wechatpay-signature'])).size).toBe(12);
      expect(await getNotification(handle.db, mchid, id)).toMatchObject({
        state: 'delivered',
        attempts: 12,
        roundAttempts: 1,
      });
    });

    it('holds a paused merchant’s deliveries and sends them after resume', async () => {
      const receiver = await startReceiver(tls, () => 200);
      const mchid = '1900000102';
      await seedMerchant(handle.db, {
        mchid,
        apiV3Key: API_V3_KEY,
        signingMode: 'certificate',
        notifyUrls: { 'delivery-plan': receiver.url },
      });
      await setDeliveriesPaused(handle.db, mchid, true, Date.now());
      const event = deliveryPlanChangeEvent(
        mchid,
        { planId: 'P1', planState: 'DELIVERING', auditState: 'PASSED', changeReason: '' },
        clock.now(mchid),
      );
      await enqueueNotification(handle.db, event, clock.now(mchid));
      const d = dispatcher();
      expect(await d.drain()).toBe(0);
      await setDeliveriesPaused(handle.db, mchid, false, Date.now());
      expect(await d.drain()).toBe(1);
      await d.stop();
      await receiver.close();
      const envelope = JSON.parse(receiver.received[0]?.body ?? '{}') as Record<string, unknown>;
      expect(envelope).toMatchObject({ event_type: 'DELIVERY_PLAN.CHANGE' });
    });

    it('forwards a registered public URL to the local receiver, keeping the rest of the path', async () => {
      const receiver = await startReceiver(tls, () => 204, '/local/hooks/wechat');
      const mchid = '1900000103';
      await seedMerchant(handle.db, {
        mchid,
        apiV3Key: API_V3_KEY,
        signingMode: 'pubkey',
        notifyUrls: { busifavor: 'https://pay.merchant.example/hooks/wechat' },
      });
      await putForwardRule(
        handle.db,
        {
          mchid,
          fromUrl: 'https://pay.merchant.example/',
          toUrl: receiver.url.replace('/hooks/wechat', '/'),
        },
        Date.now(),
      );
      const { id } = await enqueueNotification(handle.db, couponSendEvent(mchid, 'F1'), clock.now(mchid));
      const d = dispatcher();
      await d.drain();
      await d.stop();
      await receiver.close();
      expect(receiver.received).toHaveLength(1);
      expect((await getNotification(handle.db, mchid, id))?.attemptLog[0]).toMatchObject({
        outcome: 'delivered',
        status: 204,
        url: receiver.url,
        targetAddress: '127.0.0.1',
      });
    });
  });
}
