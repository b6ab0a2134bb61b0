import type { SeededSimUser } from '../db/sim-users-repo.js';
import { type BulkSend, recordSentCoupons } from '../domain/busifavor/send.js';
import { createStock } from '../domain/busifavor/stocks.js';
import type { IdGen } from '../domain/ports.js';
import type { BusifavorAdapters } from './busifavor.js';
import { sendableStockBody } from './sendable-stock.js';

/**
 * `wechatpay-sandbox seed`: loads a merchant's sandbox with stocks, simulated users and coupons in their
 * hands, for load tests and for trying the read APIs on a realistic amount of data. Stocks are made by
 * the domain's create-stock rules; users and coupons by the bulk paths (multi-row inserts in big
 * transactions) that write the rows a send would: coupons SENDED to users under a freshly bound appid,
 * the stocks' send counters matching. Every run makes new ids, so seeding again adds more data.
 * @see ../../../../docs/cli.md "seed"
 */

/** What to seed. */
export interface SeedRequest {
  mchid: string;
  stocks: number;
  coupons: number;
  users: number;
}

/** Largest values the seed takes. */
export const SEED_LIMITS = { stocks: 10_000, coupons: 100_000_000, users: 1_000_000 } as const;

/**
 * WeChat's ceiling on `max_coupons_per_user` (stock_send_rule): seeded stocks take it, so each user may
 * hold at most this many coupons of one stock.
 */
const MAX_COUPONS_PER_USER = 100;

/** Room left in each stock's budget after seeding, so sends through the API keep working. */
const SEND_HEADROOM = 10_000;

/** Coupons written per transaction: big enough to be fast, small enough not to hold a writer long. */
const COUPONS_PER_TRANSACTION = 10_000;

/** A seed request that cannot be carried out as asked (nothing is written). */
export class SeedPlanError extends Error {
  override name = 'SeedPlanError';
}

/**
 * The coupons each stock gets (as even as whole numbers allow), or a SeedPlanError. User i of U holds
 * M/U coupons (the first M mod U one more), spread over the stocks in turn, so at most ⌈⌈M/U⌉/N⌉ of one
 * stock.
 */
export function planSeed(request: Omit<SeedRequest, 'mchid'>): number[] {
  const { stocks, coupons, users } = request;
  const shares = Array.from(
    { length: stocks },
    (_, i) => Math.floor(coupons / stocks) + (i < coupons % stocks ? 1 : 0),
  );
  const perUserPerStock = Math.ceil(Math.ceil(coupons / users) / stocks);
  if (perUserPerStock > MAX_COUPONS_PER_USER) {
    throw new SeedPlanError(
      `${coupons} coupons over ${stocks} stock(s) and ${users} user(s) gives a user ${perUserPerStock} coupons of one stock, more than WeChat's max_coupons_per_user of ${MAX_COUPONS_PER_USER}; pass more --users or --stocks`,
    );
  }
  return shares;
}

/** How far a seed has got, for a progress display. */
export interface SeedProgress {
  phase: 'users' | 'stocks' | 'coupons';
  done: number;
  total: number;
}

/** What a seed created. */
export interface SeedResult {
  mchid: string;
  /** The appid bound to the merchant for this seed; every user has an openid under it. */
  appid: string;
  stocks: Array<{ stockId: string; coupons: number }>;
  users: number;
  coupons: number;
  /** A few users with their openid and how many coupons they hold (the first holds the most). */
  examples: Array<{ openid: string; coupons: number }>;
  elapsedMs: number;
}

/** What the seed service works with. */
export interface SeedServiceDeps {
  busifavor: BusifavorAdapters;
  ids: Pick<IdGen, 'token' | 'digits'>;
  /** Elapsed time. @default performance.now */
  monotonicMs?: () => number;
  /** Run once the rows are in (PostgreSQL: ANALYZE, so the planner sees the tables' new size). */
  afterBulkLoad?: () => Promise<void>;
}

/** The merchant cannot be seeded (unknown). */
export class SeedRefusedError extends Error {
  override name = 'SeedRefusedError';
}

export class SeedService {
  constructor(private readonly deps: SeedServiceDeps) {}

  /**
   * Binds a new appid to the merchant, creates `users` users with an openid under it, `stocks` stocks
   * (NORMAL, WECHATPAY_MODE, running for 300 days, max_coupons_per_user 100, budget = their coupons +
   * 10,000), then gives every user M/U coupons spread over the stocks in turn.
   */
  async seed(request: SeedRequest, onProgress: (p: SeedProgress) => void = () => {}): Promise<SeedResult> {
    const { busifavor, ids } = this.deps;
    const clock = this.deps.monotonicMs ?? (() => performance.now());
    const started = clock();
    const shares = planSeed(request);
    const { mchid } = request;
    const { users: directory, deps } = busifavor;
    if ((await deps.directory.merchantApiV2Key(mchid)) === undefined) {
      throw new SeedRefusedError(`merchant ${mchid} is not registered`);
    }
    const appid = `wx${ids.token(16).toLowerCase()}`;
    await directory.bindAppid(appid, mchid);

    const users: SeededSimUser[] = [];
    const usersPerStep = 10_000;
    for (let done = 0; done < request.users; done += usersPerStep) {
      onProgress({ phase: 'users', done, total: request.users });
      users.push(...(await directory.createUsers(Math.min(usersPerStep, request.users - done), appid)));
    }
    onProgress({ phase: 'users', done: request.users, total: request.users });

    const stocks: SeedResult['stocks'] = [];
    const now = deps.clock.now(mchid);
    for (const [i, share] of shares.entries()) {
      onProgress({ phase: 'stocks', done: i, total: shares.length });
      const body = sendableStockBody({
        mchid,
        appid,
        nowMs: now,
        madeBy: 'seed',
        days: 300,
        maxCoupons: share + SEND_HEADROOM,
        maxCouponsPerUser: MAX_COUPONS_PER_USER,
        outRequestNo: `SEED${ids.digits(18)}`,
      });
      stocks.push({ stockId: (await createStock(deps, mchid, body)).stock_id, coupons: share });
    }
    onProgress({ phase: 'stocks', done: shares.length, total: shares.length });

    // Users in id order; user i holds the coupons j of one run (the first M mod U users one more), and
    // coupon j is of stock j mod N. Written stock by stock, each stock's coupons in user order, so every
    // transaction writes one stretch of each index (a bulk load that scatters its rows over every index
    // page runs several times slower once the indexes outgrow the page cache).
    users.sort((a, b) => (a.userId < b.userId ? -1 : 1));
    const M = request.coupons;
    const q = Math.floor(M / users.length);
    const r = M % users.length;
    const held = (i: number) => q + (i < r ? 1 : 0);
    const holderOf = (j: number) =>
      j < r * (q + 1) ? Math.floor(j / (q + 1)) : r + Math.floor((j - r * (q + 1)) / q);
    // Request numbers unique to this run: `SEED<run><j>`.
    const run = ids.token(8);
    let sends: BulkSend[] = [];
    let done = 0;
    const flush = async () => {
      onProgress({ phase: 'coupons', done, total: M });
      await recordSentCoupons(deps, {
        sendMerchant: mchid,
        channel: 'BUSICOUPON_SEND_CHANNEL_MINIAPP',
        sends,
      });
      done += sends.length;
      sends = [];
    };
    for (const [s, { stockId }] of stocks.entries()) {
      for (let j = s; j < M; j += stocks.length) {
        sends.push({ stockId, user: users[holderOf(j)] as SeededSimUser, sendRequestNo: `SEED${run}${j}` });
        if (sends.length === COUPONS_PER_TRANSACTION) await flush();
      }
    }
    if (sends.length > 0) await flush();
    await this.deps.afterBulkLoad?.();
    onProgress({ phase: 'coupons', done: request.coupons, total: request.coupons });

    return {
      mchid,
      appid,
      stocks,
      users: users.length,
      coupons: request.coupons,
      examples: users.slice(0, 10).map((u, i) => ({ openid: u.openid, coupons: held(i) })),
      elapsedMs: Math.round(clock() - started),
    };
  }
}
