import type { Transaction } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import type { NotificationEvent, Outbox } from '../domain/ports.js';
import { type EnqueueStamp, enqueueNotification } from './enqueue.js';

/**
 * The domain's {@link Outbox} port over one database transaction: each event becomes an outbox row
 * that commits or rolls back with the change it reports.
 */
export class TransactionOutbox implements Outbox {
  /** @param stamp the id and wall time of each new row (servers pass `ids.uuid()` and their wall clock). */
  constructor(
    private readonly trx: Transaction<DatabaseSchema>,
    private readonly stamp: () => EnqueueStamp,
  ) {}

  async enqueue(event: NotificationEvent, nowMs: number): Promise<void> {
    await enqueueNotification(this.trx, event, nowMs, this.stamp());
  }
}
