import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNotification } from '@wechatpay-sandbox/sdk';
import { signParamsHmacSha256 } from '@wechatpay-sandbox/sdk/protocol';
import { DIALECTS, startSandbox, type TestMerchant, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addMerchant,
  addStock,
  BASE,
  bindAppid,
  expectError,
  type PluginSendItem,
  pluginSendRequest,
  pluginSign,
  reqNo,
  type SimUserView,
  signedJson,
} from './busifavor-helpers.js';
import { makeCertificate, scratchDir, startReceiver, type TestReceiver } from './notifications/fixtures.js';

/**
 * What each send channel writes to the outbox: the COUPON.SEND record read back through the
 * notification simulation API (GET /sandbox/v1/notifications[/{id}]), checked against docs/busifavor.md §6.6,
 * and that a refused or faulted send writes none (the event shares the send's transaction).
 */

const APPID = 'wxevents000000001';
const NOTIFY_APPID = 'wxeventsnotify001';
const SUB_APPID = 'wxeventssub000001';
const TRANSACTION_ID = '4200000913202101152566792388';

type Json = Record<string, unknown>;
type PluginResult = { errcode: string | number; send_coupon_result: PluginSendItem[] };
interface NotificationDetail {
  id: string;
  family: string;
  event_type: string;
  state: string;
  create_time: string;
  summary: string;
  original_type: string;
  associated_data: string;
  plaintext: Json;
}

const CHANNELS = ['miniapp', 'h5', 'paygift', 'api'] as const;
type Channel = (typeof CHANNELS)[number];
const SEND_CHANNEL: Record<Channel, string> = {
  miniapp: 'BUSICOUPON_SEND_CHANNEL_MINIAPP',
  h5: 'BUSICOUPON_SEND_CHANNEL_H5',
  paygift: 'BUSICOUPON_SEND_CHANNEL_PAYGIFT',
  api: 'BUSICOUPON_SEND_CHANNEL_API',
};

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`busifavor COUPON.SEND outbox records on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let mchid: string;
    let apiV2Key: string;
    let sub: Awaited<ReturnType<typeof addMerchant>>;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      mchid = sandbox.merchant.mchid;
      apiV2Key = sandbox.server.credentials.merchant.apiV2Key;
      sub = await addMerchant(sandbox, '1900000821', { parent: mchid });
      for (const appid of [APPID, NOTIFY_APPID]) await bindAppid(sandbox, appid);
      signedJson(sandbox, await post('/sandbox/v1/appids', { appid: SUB_APPID, mchid: sub.mchid }));
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    const post = (
      path: string,
      body: unknown,
      extra: { merchant?: TestMerchant; headers?: Record<string, string> } = {},
    ) => sandbox.request({ method: 'POST', path, body: body as object, ...extra });
    const get = (path: string, merchant?: TestMerchant) =>
      sandbox.request({ method: 'GET', path, ...(merchant ? { merchant } : {}) });
    const createStock = (overrides: Json = {}, belong = mchid) => addStock(sandbox, overrides, belong);
    const newUser = (appids: string[] = [APPID, NOTIFY_APPID]) =>
      post('/sandbox/v1/users', { appids }).then((res) => signedJson<SimUserView>(sandbox, res));
    const pluginSend = async (openid: string, params: Array<{ stock_id: string; out_request_no: string }>) =>
      signedJson<PluginResult>(sandbox, await pluginSendRequest(sandbox, APPID, openid, params));
    const apiSend = (openid: string, stockId: string, out = reqNo('API'), headers?: Record<string, string>) =>
      post(
        `${BASE}/coupons/send`,
        { openid, appid: APPID, stock_id: stockId, out_request_no: out },
        headers ? { headers } : {},
      );

    /** Sends one coupon through `channel`; answers its code. */
    const sendVia = async (channel: Channel, stockId: string, openid: string): Promise<string> => {
      const out = reqNo(channel.toUpperCase());
      if (channel === 'api')
        return signedJson<{ coupon_code: string }>(sandbox, await apiSend(openid, stockId, out)).coupon_code;
      let res: PluginResult;
      if (channel === 'miniapp') {
        res = await pluginSend(openid, [{ stock_id: stockId, out_request_no: out }]);
      } else if (channel === 'h5') {
        const params = {
          stock_id: stockId,
          out_request_no: out,
          send_coupon_merchant: mchid,
          open_id: openid,
        };
        const url = `https://action.weixin.qq.com/busifavor/getcouponinfo?${new URLSearchParams({
          ...params,
          sign: signParamsHmacSha256(params, apiV2Key),
        })}#wechat_redirect`;
        res = signedJson<PluginResult>(sandbox, await post('/sandbox/v1/busifavor/send/h5', { url }));
      } else {
        res = signedJson<PluginResult>(
          sandbox,
          await post('/sandbox/v1/busifavor/send/paygift', {
            stock_id: stockId,
            appid: APPID,
            openid,
            transaction_id: TRANSACTION_ID,
            out_request_no: out,
          }),
        );
      }
      expect(res.errcode).toBe('OK');
      expect(res.send_coupon_result[0]?.code).toBe('SUCCESS');
      return res.send_coupon_result[0]?.coupon_code as string;
    };

    /** Every COUPON.SEND record of `stockId` in `merchant`'s outbox, read through the simulation API. */
    const eventsOf = async (stockId: string, merchant?: TestMerchant): Promise<NotificationDetail[]> => {
      const list = signedJson<{ total_count: number; data: Array<{ id: string }> }>(
        sandbox,
        await get('/sandbox/v1/notifications?event_type=COUPON.SEND&limit=500', merchant),
      );
      const details = await Promise.all(
        list.data.map(async (n) =>
          signedJson<NotificationDetail>(sandbox, await get(`/sandbox/v1/notifications/${n.id}`, merchant)),
        ),
      );
      return details.filter((d) => d.plaintext.stock_id === stockId);
    };
    const totalEvents = async () =>
      signedJson<{ total_count: number }>(
        sandbox,
        await get('/sandbox/v1/notifications?event_type=COUPON.SEND&limit=1'),
      ).total_count;
    const receiveTime = async (openid: string, code: string) =>
      signedJson<{ receive_time: string }>(
        sandbox,
        await get(`${BASE}/users/${openid}/coupons/${code}/appids/${APPID}`),
      ).receive_time;

    it.each(CHANNELS)(
      '%s send: the record carries the §6.6 fields, openid/unionid under notify_appid',
      async (channel) => {
        const stockId = await createStock({ notify_config: { notify_appid: NOTIFY_APPID } });
        const user = await newUser();
        const openid = user.openids[APPID] as string;
        const code = await sendVia(channel, stockId, openid);
        const events = await eventsOf(stockId);
        expect(events).toHaveLength(1);
        const event = events[0] as NotificationDetail;
        expect(event).toMatchObject({
          family: 'busifavor',
          event_type: 'COUPON.SEND',
          summary: '商家券领券通知',
          original_type: 'coupon',
          associated_data: 'coupon',
        });
        const sendTime = await receiveTime(openid, code);
        expect(event.create_time).toBe(sendTime);
        expect(event.plaintext).toEqual({
          event_type: 'EVENT_TYPE_BUSICOUPON_SEND',
          coupon_code: code,
          stock_id: stockId,
          send_time: sendTime,
          // The openid under notify_appid, not the one the coupon was sent to.
          openid: user.openids[NOTIFY_APPID],
          unionid: user.unionid,
          send_channel: SEND_CHANNEL[channel],
          send_merchant: mchid,
          ...(channel === 'paygift' ? { attach_info: { transaction_id: TRANSACTION_ID } } : {}),
        });
        expect(event.plaintext.openid).not.toBe(openid);
      },
    );

    it('without notify_config the record has neither openid nor unionid', async () => {
      const stockId = await createStock();
      const user = await newUser();
      const openid = user.openids[APPID] as string;
      const code = await sendVia('miniapp', stockId, openid);
      const [event] = await eventsOf(stockId);
      expect(event?.plaintext).toEqual({
        event_type: 'EVENT_TYPE_BUSICOUPON_SEND',
        coupon_code: code,
        stock_id: stockId,
        send_time: await receiveTime(openid, code),
        send_channel: 'BUSICOUPON_SEND_CHANNEL_MINIAPP',
        send_merchant: mchid,
      });
    });

    it('a multi-coupon plugin send records one event per coupon issued', async () => {
      const a = await createStock({ stock_send_rule: { max_coupons: 10, max_coupons_per_user: 1 } });
      const openid = (await newUser()).openids[APPID] as string;
      const res = await pluginSend(openid, [
        { stock_id: a, out_request_no: reqNo('M') },
        { stock_id: a, out_request_no: reqNo('M') },
      ]);
      expect(res.send_coupon_result.map((r) => r.code)).toEqual(['SUCCESS', 'MAXQUOTA']);
      const events = await eventsOf(a);
      expect(events.map((e) => e.plaintext.coupon_code)).toEqual([res.send_coupon_result[0]?.coupon_code]);
    });

    it('goes to the stock creator with send_merchant = the sub-merchant that sent it', async () => {
      const stockId = await createStock({}, sub.mchid);
      const user = await newUser([SUB_APPID]);
      const openid = user.openids[SUB_APPID] as string;
      const sent = signedJson<{ coupon_code: string }>(
        sandbox,
        await post(
          `${BASE}/coupons/send`,
          { openid, appid: SUB_APPID, stock_id: stockId, out_request_no: reqNo('SUB') },
          { merchant: sub },
        ),
      );
      const [event] = await eventsOf(stockId);
      expect(event?.plaintext).toMatchObject({
        coupon_code: sent.coupon_code,
        send_channel: 'BUSICOUPON_SEND_CHANNEL_API',
        send_merchant: sub.mchid,
      });
      // Only stocks a merchant created notify it (S004).
      expect(await eventsOf(stockId, sub)).toEqual([]);
    });

    it('a send that is refused, replayed, faulted or badly signed enqueues nothing', async () => {
      const stockId = await createStock({ stock_send_rule: { max_coupons: 2, max_coupons_per_user: 1 } });
      const before = await totalEvents();
      const a = (await newUser()).openids[APPID] as string;
      const out = reqNo('R');
      const first = await pluginSend(a, [{ stock_id: stockId, out_request_no: out }]);
      expect(first.send_coupon_result[0]?.code).toBe('SUCCESS');
      expect(
        (await pluginSend(a, [{ stock_id: stockId, out_request_no: out }])).send_coupon_result[0]?.code,
      ).toBe('DUPREQUEST');
      expect(
        (await pluginSend(a, [{ stock_id: stockId, out_request_no: reqNo('R') }])).send_coupon_result[0]
          ?.code,
      ).toBe('MAXQUOTA');
      expectError(await apiSend(a, stockId), 403, 'RULE_LIMIT', '用户领券已达上限');
      const b = (await newUser()).openids[APPID] as string;
      const faulted = await apiSend(b, stockId, reqNo('R'), { 'Wechatpay-Sandbox-Fault': 'SYSTEM_ERROR' });
      expectError(faulted, 500, 'SYSTEM_ERROR');
      const params = [{ stock_id: stockId, out_request_no: reqNo('R') }];
      const badSign = signedJson<PluginResult>(
        sandbox,
        await pluginSendRequest(sandbox, APPID, b, params, pluginSign(mchid, params, 'k'.repeat(32))),
      );
      expect(badSign.errcode).toBe('SIGN_ERROR');
      const second = signedJson<{ coupon_code: string }>(sandbox, await apiSend(b, stockId));
      const c = (await newUser()).openids[APPID] as string;
      expect(
        (await pluginSend(c, [{ stock_id: stockId, out_request_no: reqNo('R') }])).send_coupon_result[0]
          ?.code,
      ).toBe('NOTENOUGH');
      expectError(await apiSend(c, stockId), 403, 'RULE_LIMIT', '批次已发完');

      const events = await eventsOf(stockId);
      expect(events.map((e) => e.plaintext.coupon_code).sort()).toEqual(
        [first.send_coupon_result[0]?.coupon_code, second.coupon_code].sort(),
      );
      expect(await totalEvents()).toBe(before + 2);
    });
  });
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(
    `busifavor COUPON.SEND delivered to the creator on ${dialect.name}`,
    () => {
      const scratch = scratchDir();
      let sandbox: TestSandbox;
      let receiver: TestReceiver;
      beforeAll(async () => {
        const tls = makeCertificate(scratch.dir, 'receiver');
        const caFile = join(scratch.dir, 'ca.pem');
        writeFileSync(caFile, tls.certPem);
        receiver = await startReceiver(tls, () => 200, '/wxpay/busifavor');
        sandbox = await startSandbox({ dialect, config: { notifyCaFile: caFile, notifyDelivery: true } });
      });
      afterAll(async () => {
        await sandbox?.close();
        await receiver?.close();
        scratch.remove();
      });

      it('the delivered envelope verifies and decrypts to the outbox plaintext', async () => {
        const mchid = sandbox.merchant.mchid;
        const post = (path: string, body: unknown) =>
          sandbox.request({ method: 'POST', path, body: body as object });
        signedJson(sandbox, await post(`${BASE}/callbacks`, { mchid, notify_url: receiver.url }));
        for (const appid of [APPID, NOTIFY_APPID]) await bindAppid(sandbox, appid);
        const user = signedJson<SimUserView>(
          sandbox,
          await post('/sandbox/v1/users', { appids: [APPID, NOTIFY_APPID] }),
        );
        const stockId = await addStock(sandbox, { notify_config: { notify_appid: NOTIFY_APPID } });
        const params = [{ stock_id: stockId, out_request_no: reqNo('DLV') }];
        const sent = signedJson<PluginResult>(
          sandbox,
          await pluginSendRequest(sandbox, APPID, user.openids[APPID] as string, params),
        );
        const code = sent.send_coupon_result[0]?.coupon_code as string;
        for (let i = 0; i < 250 && receiver.received.length === 0; i++)
          await new Promise((r) => setTimeout(r, 20));
        expect(receiver.received).toHaveLength(1);
        const raw = receiver.received[0] as {
          headers: Record<string, string | string[] | undefined>;
          body: string;
        };
        const pk = sandbox.server.credentials.platform.publicKey;
        const event = await parseNotification({
          headers: raw.headers,
          body: raw.body,
          apiV3Key: sandbox.merchant.apiV3Key,
          keys: { publicKey: { keyId: pk.keyId, key: pk.publicKeyPem } },
        });
        expect(event).toMatchObject({
          event_type: 'COUPON.SEND',
          summary: '商家券领券通知',
          original_type: 'coupon',
          envelope: {
            resource_type: 'encrypt-resource',
            resource: { algorithm: 'AEAD_AES_256_GCM', associated_data: 'coupon' },
          },
        });
        const stored = signedJson<{ plaintext: Json }>(
          sandbox,
          await sandbox.request({ method: 'GET', path: `/sandbox/v1/notifications/${event.id}` }),
        );
        expect(event.resource).toEqual(stored.plaintext);
        expect(event.resource).toMatchObject({
          coupon_code: code,
          stock_id: stockId,
          openid: user.openids[NOTIFY_APPID],
          unionid: user.unionid,
          send_channel: 'BUSICOUPON_SEND_CHANNEL_MINIAPP',
          send_merchant: mchid,
        });
      });
    },
  );
}
