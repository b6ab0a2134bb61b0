import { WechatError } from '../errors.js';
import { ProductCouponResourceError } from '../services/notifications.js';
import { TRIGGER_EVENTS, type TriggerEvent, TriggerFailedError } from '../services/trigger.js';
import { withMerchantServices } from './dev-merchant.js';
import { DB_OPTIONS, parseWithPositionals } from './options.js';
import { type CliOutput, EXIT, UsageError } from './usage.js';

/**
 * `wechatpay-sandbox trigger EVENT` (like `stripe trigger`): makes one callback of a merchant happen on
 * the sandbox's database, creating what it needs (for `coupon.send`: an appid binding, a simulated user,
 * a stock, a plugin send), prints what it created and the notification it queued. A running server
 * delivers it at its next poll (to a `listen` session's URL while one is live).
 * @see ../../../../docs/cli.md "trigger"
 */

/**
 * `trigger EVENT [--mchid N] [--json] [--dir D] [--db URL]`; EVENT is one of {@link TRIGGER_EVENTS}.
 * Returns the exit code.
 */
export async function triggerCommand(args: string[], out: CliOutput): Promise<number> {
  const { values, positionals } = parseWithPositionals(args, {
    ...DB_OPTIONS,
    mchid: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) {
    throw new UsageError(`trigger takes exactly one event: ${TRIGGER_EVENTS.join(', ')}`);
  }
  const name = (positionals[0] as string).toLowerCase();
  if (!(TRIGGER_EVENTS as readonly string[]).includes(name)) {
    throw new UsageError(`unknown event "${positionals[0]}"; use one of ${TRIGGER_EVENTS.join(', ')}`);
  }
  const event = name as TriggerEvent;
  try {
    return await withMerchantServices(values, async (services, mchid) => {
      const result = await services.trigger.trigger(event, mchid);
      if (values.json) {
        out.out(
          JSON.stringify(
            {
              event: result.event,
              event_type: result.eventType,
              created: result.created.map((c) => ({ type: c.what, id: c.id })),
              notification_id: result.notificationId,
            },
            null,
            2,
          ),
        );
      } else {
        out.out(`Triggered ${result.event} for merchant ${mchid}`);
        for (const c of result.created) out.out(`  ${`${c.what}:`.padEnd(16)}${c.id}`);
        out.out(`  ${'notification:'.padEnd(16)}${result.notificationId} (${result.eventType}, queued)`);
      }
      return EXIT.ok;
    });
  } catch (err) {
    if (err instanceof TriggerFailedError || err instanceof ProductCouponResourceError) {
      throw new Error(`cannot trigger ${event}: ${err.message}`);
    }
    if (err instanceof WechatError) throw new Error(`cannot trigger ${event}: ${err.code} ${err.message}`);
    throw err;
  }
}
