import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { triggerCommand } from '../src/cli/trigger.js';
import type { CliOutput } from '../src/cli/usage.js';
import { BASE, signedJson } from './busifavor-helpers.js';

/**
 * `wechatpay-sandbox trigger EVENT` in-process on a running sandbox's database (SQLite and PostgreSQL):
 * each event queues the right notification for the merchant, and what it created is real (the stock and
 * coupon of `coupon.send` are readable over the merchant API).
 */

function capture(): CliOutput & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (l) => lines.push(l), err: (l) => lines.push(l) };
}

interface Detail {
  id: string;
  family: string;
  event_type: string;
  plaintext: Record<string, unknown>;
}

interface TriggerJson {
  event: string;
  event_type: string;
  created: Array<{ type: string; id: string }>;
  notification_id: string;
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`wechatpay-sandbox trigger (${dialect.name})`, () => {
    let sandbox: TestSandbox;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
    });
    afterAll(async () => sandbox?.close());

    const db = () => ['--db', sandbox.dbUrl, '--mchid', sandbox.merchant.mchid];
    const run = async (event: string): Promise<TriggerJson> => {
      const out = capture();
      expect(await triggerCommand([event, ...db(), '--json'], out)).toBe(0);
      return JSON.parse(out.lines.join('\n')) as TriggerJson;
    };
    const notification = async (id: string) =>
      signedJson<Detail>(
        sandbox,
        await sandbox.request({ method: 'GET', path: `/sandbox/v1/notifications/${id}` }),
      );
    const created = (t: TriggerJson, type: string) => t.created.find((c) => c.type === type)?.id as string;

    it('coupon.send creates an appid, a user, a stock and a plugin send, and queues its COUPON.SEND', async () => {
      const t = await run('coupon.send');
      expect(t.created.map((c) => c.type)).toEqual(['appid', 'user', 'openid', 'stock', 'coupon']);
      const n = await notification(t.notification_id);
      expect(n).toMatchObject({ family: 'busifavor', event_type: 'COUPON.SEND' });
      expect(n.plaintext).toMatchObject({
        stock_id: created(t, 'stock'),
        coupon_code: created(t, 'coupon'),
        send_channel: 'BUSICOUPON_SEND_CHANNEL_MINIAPP',
        send_merchant: sandbox.merchant.mchid,
        openid: created(t, 'openid'),
      });
      const stock = signedJson<{ stock_id: string; stock_state: string }>(
        sandbox,
        await sandbox.request({
          method: 'GET',
          path: `${BASE}/stocks/${created(t, 'stock')}`,
        }),
      );
      expect(stock.stock_state).toBe('RUNNING');
      const coupon = signedJson<{ coupon_code: string; coupon_state: string }>(
        sandbox,
        await sandbox.request({
          method: 'GET',
          path: `${BASE}/users/${created(t, 'openid')}/coupons/${created(t, 'coupon')}/appids/${created(t, 'appid')}`,
        }),
      );
      expect(coupon).toMatchObject({ coupon_code: created(t, 'coupon'), coupon_state: 'SENDED' });
    });

    it.each([
      [
        'product-coupon.send',
        'PRODUCT_COUPON_SP.SEND',
        'product-coupon',
        'product coupon',
        'product_coupon_id',
      ],
      [
        'product-coupon.image-generation',
        'PRODUCT_COUPON_SP.IMAGE_GENERATION',
        'product-coupon',
        'image task',
        'task_id',
      ],
      ['delivery-plan.change', 'DELIVERY_PLAN.CHANGE', 'delivery-plan', 'delivery plan', 'plan_id'],
    ])('%s queues %s with the ids it printed', async (event, eventType, family, what, field) => {
      const t = await run(event);
      expect(t).toMatchObject({ event, event_type: eventType });
      const n = await notification(t.notification_id);
      expect(n).toMatchObject({ family, event_type: eventType });
      expect(n.plaintext[field]).toBe(created(t, what));
    });

    it('prints what it created, one line each, then the notification', async () => {
      const out = capture();
      expect(await triggerCommand(['DELIVERY-PLAN.CHANGE', ...db()], out)).toBe(0);
      expect(out.lines[0]).toBe(`Triggered delivery-plan.change for merchant ${sandbox.merchant.mchid}`);
      expect(out.lines[1]).toMatch(/^ {2}delivery plan: {2}\d{12}$/);
      expect(out.lines[2]).toMatch(/^ {2}notification: {3}[0-9a-f-]{36} \(DELIVERY_PLAN\.CHANGE, queued\)$/);
    });

    it('refuses an unknown event, a missing one and an unknown merchant', async () => {
      const out = capture();
      await expect(triggerCommand(['coupon.use', ...db()], out)).rejects.toThrow(
        /unknown event "coupon.use"/,
      );
      await expect(triggerCommand([...db()], out)).rejects.toThrow(/exactly one event/);
      await expect(
        triggerCommand(['coupon.send', '--db', sandbox.dbUrl, '--mchid', '1900000999'], out),
      ).rejects.toThrow(/merchant 1900000999 is not registered/);
    });
  });
}
