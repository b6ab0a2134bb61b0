import type { Kysely } from 'kysely';
import { MERCHANTS_EPOCH } from './merchant-repo.js';
import { type Param, precompiled, statementsByShape } from './precompiled.js';
import type { DatabaseSchema } from './schema.js';

/** A request nonce to record, and the merchant that used it. */
export interface NonceUse {
  mchid: string;
  nonce: string;
}

/**
 * Nonces seen inside the signature window, so a captured request cannot be replayed. Shared through the
 * database, so several server instances refuse the same replay.
 */
export class NonceRepo {
  private insertsSincePurge = 0;

  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    /** How long a nonce is remembered: twice the window covers both clock directions. */
    private readonly retentionMs: number,
  ) {}

  /**
   * Records many nonces in one statement; for each, in order, true when it was new (or only seen before
   * the retention period), false when it is a replay, including a repeat within `uses` itself. The same
   * statement reads the version of the cache epoch `epochName` (undefined when no nonce was recorded,
   * every one a replay: the statement then returns no row, and a replay needs no epoch).
   */
  async recordBatch(
    uses: readonly NonceUse[],
    nowMs: number,
    epochName: string,
  ): Promise<{ fresh: boolean[]; epoch: number | undefined }> {
    if (uses.length === 0) return { fresh: [], epoch: undefined };
    const key = (u: NonceUse) => `${u.mchid}\n${u.nonce}`;
    const distinct = new Map<string, NonceUse>();
    for (const use of uses) if (!distinct.has(key(use))) distinct.set(key(use), use);
    const rows = await insertNonces(distinct.size)(this.db, {
      uses: [...distinct.values()],
      now: nowMs,
      staleBefore: nowMs - this.retentionMs,
      epochName,
    });
    const recorded = new Set(rows.map(key));
    this.insertsSincePurge += rows.length;
    if (this.insertsSincePurge >= 500) {
      this.insertsSincePurge = 0;
      await this.purge(nowMs);
    }
    const epoch = rows[0]?.epoch;
    // Only the first use of a nonce in the batch may take the row it recorded.
    return {
      fresh: uses.map((use) => recorded.delete(key(use))),
      epoch: epoch === undefined || epoch === null ? undefined : Number(epoch),
    };
  }

  /** Forgets nonces older than the retention period. */
  async purge(nowMs: number): Promise<void> {
    await this.db
      .deleteFrom('request_nonces')
      .where('seen_at', '<', nowMs - this.retentionMs)
      .execute();
  }
}

type InsertValues = { uses: NonceUse[]; now: number; staleBefore: number; epochName: string };

/**
 * The INSERT of `n` nonces, built and compiled once per batch size (db/precompiled.ts): building and
 * compiling it with Kysely for every batch cost more CPU than SQLite takes to run it, and a batch
 * holds only a few requests (those of one event-loop turn). `uses.I` binds the I-th nonce. Each row it
 * returns also carries a cache epoch's version, read by the same statement (a second statement was a
 * second round trip to PostgreSQL for every batch); any change committed before the request arrived is
 * in that statement's view.
 */
const insertStatements = statementsByShape();
function insertNonces(n: number) {
  return insertStatements(String(n), () => buildInsert(n));
}

function buildInsert(n: number) {
  return precompiled((db: Kysely<DatabaseSchema>, param: Param<InsertValues>) => {
    // `uses.I.mchid` is a path into the values (db/precompiled.ts), not a key the Param type knows.
    const at = (path: string) => (param as Param<Record<string, unknown>>)(path) as string;
    return (
      db
        .insertInto('request_nonces')
        .values(
          Array.from({ length: n }, (_, i) => ({
            mchid: at(`uses.${i}.mchid`),
            nonce: at(`uses.${i}.nonce`),
            seen_at: param('now'),
          })),
        )
        // A row older than the retention period is stale, not a replay: take it over.
        .onConflict((oc) =>
          oc
            .columns(['mchid', 'nonce'])
            .doUpdateSet({ seen_at: param('now') })
            .where('request_nonces.seen_at', '<', param('staleBefore')),
        )
        .returning((eb) => [
          'mchid',
          'nonce',
          eb.selectFrom('cache_epochs').select('version').where('name', '=', param('epochName')).as('epoch'),
        ])
    );
  });
}

/**
 * What admitting a request's nonce tells the authenticator: a replay, or a fresh nonce and the merchants
 * epoch (the cache_epochs row MERCHANTS_EPOCH, db/merchant-repo.ts) read by the statement that recorded it.
 */
export type NonceAdmission = { fresh: false } | { fresh: true; merchantsEpoch: number };

/** Largest batch in one statement (3 parameters a row, well inside every dialect's limit). */
const MAX_BATCH = 500;

/**
 * Records the nonces of requests arriving together in one statement instead of one each: a nonce waits
 * at most until the event loop's current turn ends (plus the write in flight, if any), then goes out
 * with every other nonce of that turn. With many requests in flight this is one database round trip
 * for many requests (group commit); alone, a request pays what it did before. The same round trip reads
 * the merchants epoch, which the authenticator compares with the version its cached merchant came from.
 * A request is admitted only once its nonce is committed, so nothing acknowledged relies on memory.
 */
export class NonceBatcher {
  private pending: Array<NonceUse & { resolve(a: NonceAdmission): void; reject(e: unknown): void }> = [];
  private flushing = false;
  private scheduled = false;

  constructor(
    private readonly nonces: NonceRepo,
    private readonly wallClock: () => number,
  ) {}

  admit(mchid: string, nonce: string): Promise<NonceAdmission> {
    return new Promise((resolve, reject) => {
      this.pending.push({ mchid, nonce, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = true;
    const batch = this.pending.splice(0, MAX_BATCH);
    try {
      const { fresh, epoch } = await this.nonces.recordBatch(batch, this.wallClock(), MERCHANTS_EPOCH);
      for (const [i, use] of batch.entries()) {
        // A fresh nonce's row came back, so the epoch read with it is there too.
        use.resolve(
          fresh[i] === true && epoch !== undefined
            ? { fresh: true, merchantsEpoch: epoch }
            : { fresh: false },
        );
      }
    } catch (err) {
      for (const use of batch) use.reject(err);
    } finally {
      this.flushing = false;
      if (this.pending.length > 0) this.schedule();
    }
  }
}
