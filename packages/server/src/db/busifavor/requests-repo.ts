import type { Kysely, Transaction } from 'kysely';
import type { RequestRecord } from '../../domain/busifavor/model.js';
import type { RequestLog, RequestLogReader } from '../../domain/busifavor/ports.js';
import type { DatabaseSchema } from '../schema.js';

/** Reads of answered request numbers over the root database or a transaction. */
export class SqlRequestLogReader implements RequestLogReader {
  constructor(protected readonly db: Kysely<DatabaseSchema>) {}

  async find(mchid: string, op: string, requestNo: string): Promise<RequestRecord | undefined> {
    return this.db
      .selectFrom('busifavor_requests')
      .select(['request', 'response'])
      .where('mchid', '=', mchid)
      .where('op', '=', op)
      .where('request_no', '=', requestNo)
      .executeTakeFirst();
  }
}

/** The request log inside a transaction. */
export class SqlRequestLog extends SqlRequestLogReader implements RequestLog {
  constructor(db: Transaction<DatabaseSchema>) {
    super(db);
  }

  async save(mchid: string, op: string, requestNo: string, r: RequestRecord, nowMs: number): Promise<void> {
    await this.db
      .insertInto('busifavor_requests')
      .values({
        mchid,
        op,
        request_no: requestNo,
        request: r.request,
        response: r.response,
        created_at: nowMs,
      })
      .execute();
  }
}
