import type { Kysely } from 'kysely';
import type { DatabaseSchema } from './schema.js';

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

  /** Records a nonce; false when this merchant already used it within the retention period. */
  async remember(mchid: string, nonce: string, nowMs: number): Promise<boolean> {
    const result = await this.db
      .insertInto('request_nonces')
      .values({ mchid, nonce, seen_at: nowMs })
      // A row older than the retention period is stale, not a replay: take it over.
      .onConflict((oc) =>
        oc
          .columns(['mchid', 'nonce'])
          .doUpdateSet({ seen_at: nowMs })
          .where('request_nonces.seen_at', '<', nowMs - this.retentionMs),
      )
      .executeTakeFirst();
    const inserted = Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
    if (++this.insertsSincePurge >= 500) {
      this.insertsSincePurge = 0;
      await this.purge(nowMs);
    }
    return inserted;
  }

  /** Forgets nonces older than the retention period. */
  async purge(nowMs: number): Promise<void> {
    await this.db
      .deleteFrom('request_nonces')
      .where('seen_at', '<', nowMs - this.retentionMs)
      .execute();
  }
}
