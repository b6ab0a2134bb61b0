import type { Kysely } from 'kysely';
import type { Clock } from '../domain/ports.js';
import { precompiled } from './precompiled.js';
import type { DatabaseSchema } from './schema.js';

/** Checked by every coupon call that names an appid: compiled once. */
const bindingOf = precompiled<{ appid: string; mchid: string }, { appid: string }, DatabaseSchema>(
  (db, param) =>
    db
      .selectFrom('sim_appid_bindings')
      .select('appid')
      .where('appid', '=', param('appid'))
      .where('mchid', '=', param('mchid')),
);

/**
 * Appids bound to merchants (`sim_appid_bindings`), as on the real platform where an appid must be
 * linked to a merchant before it can be used with its coupons. Merchant-facing data: the busifavor
 * rules read it through their directory port.
 */
export class SqlAppidBindings {
  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    private readonly clock: Clock,
  ) {}

  /** Binds an appid to a merchant (idempotent). */
  async bind(appid: string, mchid: string): Promise<void> {
    await this.db
      .insertInto('sim_appid_bindings')
      .values({ appid, mchid, created_at: this.clock.now(mchid) })
      .onConflict((oc) => oc.columns(['appid', 'mchid']).doNothing())
      .execute();
  }

  /** Removes a binding; false when there was none. */
  async unbind(appid: string, mchid: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('sim_appid_bindings')
      .where('appid', '=', appid)
      .where('mchid', '=', mchid)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Appids bound to a merchant, sorted. */
  async appidsOf(mchid: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('sim_appid_bindings')
      .select('appid')
      .where('mchid', '=', mchid)
      .orderBy('appid')
      .execute();
    return rows.map((r) => r.appid);
  }

  /** Whether the appid is bound to the merchant. */
  async isBound(appid: string, mchid: string): Promise<boolean> {
    const rows = await bindingOf(this.db, { appid, mchid });
    return rows.length > 0;
  }
}
