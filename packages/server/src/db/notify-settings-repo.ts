import type { Kysely } from 'kysely';
import type { MerchantRelations, NotifySetting, NotifySettingsStore } from '../domain/notify-settings.js';
import type { NotifyFamily } from '../domain/ports.js';
import type { DatabaseSchema } from './schema.js';

/** SQL storage of notify settings (one row per merchant and family; a new URL overwrites). */
export class SqlNotifySettingsStore implements NotifySettingsStore {
  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  async get(mchid: string, family: NotifyFamily): Promise<NotifySetting | undefined> {
    const row = await this.db
      .selectFrom('notify_settings')
      .selectAll()
      .where('mchid', '=', mchid)
      .where('family', '=', family)
      .executeTakeFirst();
    return row
      ? {
          mchid: row.mchid,
          family: row.family as NotifyFamily,
          notifyUrl: row.notify_url,
          setBy: row.set_by,
          updateTimeMs: row.update_time,
        }
      : undefined;
  }

  async put(s: NotifySetting): Promise<void> {
    const values = { notify_url: s.notifyUrl, set_by: s.setBy, update_time: s.updateTimeMs };
    await this.db
      .insertInto('notify_settings')
      .values({ mchid: s.mchid, family: s.family, ...values })
      .onConflict((oc) => oc.columns(['mchid', 'family']).doUpdateSet(values))
      .execute();
  }
}

/** Merchant parent lookups over the merchants table. */
export class SqlMerchantRelations implements MerchantRelations {
  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  async parentOf(mchid: string): Promise<string | null | undefined> {
    const row = await this.db
      .selectFrom('merchants')
      .select('parent_mchid')
      .where('mchid', '=', mchid)
      .executeTakeFirst();
    return row ? row.parent_mchid : undefined;
  }
}
