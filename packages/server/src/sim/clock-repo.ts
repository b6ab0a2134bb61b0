import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import type { ClockSetting, ClockStore } from './clock.js';

/** Clock settings in the database, shared by every instance on it. */
export class SqlClockStore implements ClockStore {
  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  async loadAll(): Promise<Map<string, ClockSetting>> {
    const rows = await this.db.selectFrom('sim_clocks').select(['scope', 'mode', 'base_ms']).execute();
    return new Map(rows.map((r) => [r.scope, toSetting(r.mode, Number(r.base_ms))]));
  }

  async put(scopeKey: string, setting: ClockSetting, wallMs: number): Promise<void> {
    const values = { ...toColumns(setting), updated_at: wallMs };
    await this.db
      .insertInto('sim_clocks')
      .values({ scope: scopeKey, ...values })
      .onConflict((oc) => oc.column('scope').doUpdateSet(values))
      .execute();
  }

  async remove(scopeKey: string): Promise<void> {
    await this.db.deleteFrom('sim_clocks').where('scope', '=', scopeKey).execute();
  }

  async advance(
    scopeKey: string,
    deltaMs: number,
    initial: ClockSetting,
    wallMs: number,
  ): Promise<ClockSetting> {
    // One statement: concurrent advances from several instances add up instead of overwriting each other.
    const row = await this.db
      .insertInto('sim_clocks')
      .values({ scope: scopeKey, ...toColumns(initial), updated_at: wallMs })
      .onConflict((oc) =>
        oc.column('scope').doUpdateSet((eb) => ({
          base_ms: eb('sim_clocks.base_ms', '+', deltaMs),
          updated_at: wallMs,
        })),
      )
      .returning(['mode', 'base_ms'])
      .executeTakeFirstOrThrow();
    return toSetting(row.mode, Number(row.base_ms));
  }
}

function toColumns(setting: ClockSetting): { mode: string; base_ms: number } {
  return setting.mode === 'frozen'
    ? { mode: 'frozen', base_ms: setting.atMs }
    : { mode: 'offset', base_ms: setting.offsetMs };
}

function toSetting(mode: string, baseMs: number): ClockSetting {
  return mode === 'frozen' ? { mode: 'frozen', atMs: baseMs } : { mode: 'offset', offsetMs: baseMs };
}
