import type { Kysely, Selectable } from 'kysely';
import type { SimUser } from '../domain/busifavor/model.js';
import type { BusifavorDirectory } from '../domain/busifavor/ports.js';
import type { Clock, IdGen } from '../domain/ports.js';
import { SqlAppidBindings } from './appid-bindings-repo.js';
import { SqlMerchantRelations } from './notify-settings-repo.js';
import { precompiled } from './precompiled.js';
import type { DatabaseSchema } from './schema.js';

// The lookups every coupon call makes (user by openid, openid of a user, the sender's APIv2 key),
// compiled once.
const userIdByOpenid = precompiled<{ appid: string; openid: string }, { user_id: string }, DatabaseSchema>(
  (db, param) =>
    db
      .selectFrom('sim_user_openids')
      .select('user_id')
      .where('appid', '=', param('appid'))
      .where('openid', '=', param('openid')),
);
const userRow = precompiled<{ userId: string }, Selectable<DatabaseSchema['sim_users']>, DatabaseSchema>(
  (db, param) => db.selectFrom('sim_users').selectAll().where('user_id', '=', param('userId')),
);
const openidOfUser = precompiled<{ userId: string; appid: string }, { openid: string }, DatabaseSchema>(
  (db, param) =>
    db
      .selectFrom('sim_user_openids')
      .select('openid')
      .where('user_id', '=', param('userId'))
      .where('appid', '=', param('appid')),
);
const apiV2KeyOf = precompiled<{ mchid: string }, { api_v2_key: string | null }, DatabaseSchema>(
  (db, param) => db.selectFrom('merchants').select('api_v2_key').where('mchid', '=', param('mchid')),
);

/**
 * Simulated WeChat users. A user has one openid per appid (WeChat derives a different openid for every
 * appid), one unionid, and belongs to a natural person (ID-card holder) whom several accounts may share.
 * The repository is also the busifavor rules' directory: the merchant-facing data it answers for
 * (appid bindings, merchant parents and APIv2 keys) comes from {@link SqlAppidBindings} and the
 * merchants table.
 * @see docs/busifavor-walkthrough.md
 */

/** A user as the simulation API returns it. */
export interface SimUserView {
  user_id: string;
  unionid: string;
  natural_person_id: string;
  suspicious: boolean;
  openids: Record<string, string>;
}

/** A user made by {@link SimUserRepo.createUsers}, with its openid under the one appid. */
export interface SeededSimUser {
  userId: string;
  personId: string;
  unionid: string;
  openid: string;
}

/** Rows per multi-row INSERT of users (5 columns) and openids (3 columns). */
const USER_ROWS_PER_STATEMENT = 1000;

/** Options of a new simulated user. */
export interface CreateSimUserInput {
  /** Appids to derive openids under. */
  appids: string[];
  /** Share an ID-card holder with other accounts (natural-person limit). @default a new person */
  naturalPersonId?: string;
  /** Flag as a suspicious account (refused by stocks with prevent_api_abuse). @default false */
  suspicious?: boolean;
}

/** SQL-backed simulated users, and the busifavor directory over them, appid bindings and merchants. */
export class SimUserRepo implements BusifavorDirectory {
  private readonly merchants: SqlMerchantRelations;
  private readonly bindings: SqlAppidBindings;

  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    private readonly ids: IdGen,
    private readonly clock: Clock,
  ) {
    this.merchants = new SqlMerchantRelations(db);
    this.bindings = new SqlAppidBindings(db, clock);
  }

  /** Creates a user with an openid under each appid. */
  async createUser(input: CreateSimUserInput): Promise<SimUserView> {
    const userId = `user_${this.ids.token(20)}`;
    const person = input.naturalPersonId ?? `person_${this.ids.token(20)}`;
    const user = {
      user_id: userId,
      unionid: `oUnion${this.ids.token(22)}`,
      person_id: person,
      suspicious: input.suspicious ? 1 : 0,
      created_at: this.clock.now(),
    };
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('sim_users').values(user).execute();
      for (const appid of new Set(input.appids)) {
        await trx
          .insertInto('sim_user_openids')
          .values({ appid, openid: this.newOpenid(), user_id: userId })
          .execute();
      }
    });
    return (await this.view(userId)) as SimUserView;
  }

  /**
   * Creates `count` users, each with an openid under `appid`, with multi-row inserts in one transaction
   * (the bulk path of `wechatpay-sandbox seed`); every user is its own natural person.
   */
  async createUsers(count: number, appid: string): Promise<SeededSimUser[]> {
    const now = this.clock.now();
    const users: SeededSimUser[] = [];
    for (let i = 0; i < count; i++) {
      // One token for both ids: the user and its person sort alike, so a bulk load in user order writes
      // the per-person index in order too.
      const token = this.ids.token(20);
      users.push({
        userId: `user_${token}`,
        personId: `person_${token}`,
        unionid: `oUnion${this.ids.token(22)}`,
        openid: this.newOpenid(),
      });
    }
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < users.length; i += USER_ROWS_PER_STATEMENT) {
        const chunk = users.slice(i, i + USER_ROWS_PER_STATEMENT);
        await trx
          .insertInto('sim_users')
          .values(
            chunk.map((u) => ({
              user_id: u.userId,
              unionid: u.unionid,
              person_id: u.personId,
              suspicious: 0,
              created_at: now,
            })),
          )
          .execute();
        await trx
          .insertInto('sim_user_openids')
          .values(chunk.map((u) => ({ appid, openid: u.openid, user_id: u.userId })))
          .execute();
      }
    });
    return users;
  }

  /** The openid of a user under an appid, created on first use. */
  async ensureOpenid(userId: string, appid: string): Promise<string> {
    const existing = await this.openidOf(userId, appid);
    if (existing) return existing;
    const openid = this.newOpenid();
    await this.db
      .insertInto('sim_user_openids')
      .values({ appid, openid, user_id: userId })
      .onConflict((oc) => oc.columns(['appid', 'user_id']).doNothing())
      .execute();
    return (await this.openidOf(userId, appid)) as string;
  }

  /** A user with every openid, or undefined. */
  async view(userId: string): Promise<SimUserView | undefined> {
    const user = await this.userById(userId);
    if (!user) return undefined;
    const rows = await this.db
      .selectFrom('sim_user_openids')
      .select(['appid', 'openid'])
      .where('user_id', '=', userId)
      .orderBy('appid')
      .execute();
    return {
      user_id: user.userId,
      unionid: user.unionid,
      natural_person_id: user.personId,
      suspicious: user.suspicious,
      openids: Object.fromEntries(rows.map((r) => [r.appid, r.openid])),
    };
  }

  /** Binds an appid to a merchant (idempotent). */
  bindAppid(appid: string, mchid: string): Promise<void> {
    return this.bindings.bind(appid, mchid);
  }

  /** Removes a binding. */
  unbindAppid(appid: string, mchid: string): Promise<boolean> {
    return this.bindings.unbind(appid, mchid);
  }

  /** Appids bound to a merchant. */
  appidsOf(mchid: string): Promise<string[]> {
    return this.bindings.appidsOf(mchid);
  }

  private newOpenid(): string {
    return `o${this.ids.token(27)}`;
  }

  async merchantParent(mchid: string): Promise<string | null | undefined> {
    return this.merchants.parentOf(mchid);
  }

  async merchantApiV2Key(mchid: string): Promise<string | null | undefined> {
    const [row] = await apiV2KeyOf(this.db, { mchid });
    return row ? row.api_v2_key : undefined;
  }

  isAppidBound(appid: string, mchid: string): Promise<boolean> {
    return this.bindings.isBound(appid, mchid);
  }

  async userByOpenid(appid: string, openid: string): Promise<SimUser | undefined> {
    const [row] = await userIdByOpenid(this.db, { appid, openid });
    return row ? this.userById(row.user_id) : undefined;
  }

  async userById(userId: string): Promise<SimUser | undefined> {
    const [row] = await userRow(this.db, { userId });
    return row
      ? {
          userId: row.user_id,
          unionid: row.unionid,
          personId: row.person_id,
          suspicious: Number(row.suspicious) === 1,
        }
      : undefined;
  }

  /** A user by an openid under any appid, with that appid. */
  async userByAnyOpenid(openid: string): Promise<{ user: SimUser; appid: string } | undefined> {
    const row = await this.db
      .selectFrom('sim_user_openids')
      .select(['user_id', 'appid'])
      .where('openid', '=', openid)
      .executeTakeFirst();
    const user = row ? await this.userById(row.user_id) : undefined;
    return row && user ? { user, appid: row.appid } : undefined;
  }

  async openidOf(userId: string, appid: string): Promise<string | undefined> {
    const [row] = await openidOfUser(this.db, { userId, appid });
    return row?.openid;
  }
}
