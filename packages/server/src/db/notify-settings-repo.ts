import type { Kysely, Selectable } from 'kysely';
import type { MerchantRelations, NotifySetting, NotifySettingsStore } from '../domain/notify-settings.js';
import type { NotifyFamily } from '../domain/ports.js';
import { precompiled } from './precompiled.js';
import type { DatabaseSchema } from './schema.js';

/** Read on every notify-setting GET and every callback enqueue: compiled once. */
const settingOf = precompiled<{ mchid: string; family: string }, NotifySettingsRow, DatabaseSchema>(
  (db, param) =>
    db
      .selectFrom('notify_settings')
      .selectAll()
      .where('mchid', '=', param('mchid'))
      .where('family', '=', param('family')),
);
type NotifySettingsRow = Selectable<DatabaseSchema['notify_settings']>;

/** Asked by every notify-setting call a service provider may make for a sub-merchant. */
const parentOf = precompiled<{ mchid: string }, { parent_mchid: string | null }, DatabaseSchema>(
  (db, param) => db.selectFrom('merchants').select('parent_mchid').where('mchid', '=', param('mchid')),
);

/** SQL storage of notify settings (one row per merchant and family; a new URL overwrites). */
export class SqlNotifySettingsStore implements NotifySettingsStore {
  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  async get(mchid: string, family: NotifyFamily): Promise<NotifySetting | undefined> {
    const [row] = await settingOf(this.db, { mchid, family });
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
    const [row] = await parentOf(this.db, { mchid });
    return row ? row.parent_mchid : undefined;
  }
}
