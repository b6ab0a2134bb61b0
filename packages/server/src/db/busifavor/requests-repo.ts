import type { Kysely, Transaction } from 'kysely';
import type { RequestRecord } from '../../domain/busifavor/model.js';
import type { RequestLog, RequestLogReader } from '../../domain/busifavor/ports.js';
import { precompiled } from '../precompiled.js';
import type { DatabaseSchema } from '../schema.js';

/** Looked up by every call that carries a request number: compiled once. */
const answeredRequest = precompiled<
  { mchid: string; op: string; requestNo: string },
  RequestRecord,
  DatabaseSchema
>((db, param) =>
  db
    .selectFrom('busifavor_requests')
    .select(['request', 'response'])
    .where('mchid', '=', param('mchid'))
    .where('op', '=', param('op'))
    .where('request_no', '=', param('requestNo')),
);

/** Reads of answered request numbers over the root database or a transaction. */
export class SqlRequestLogReader implements RequestLogReader {
  constructor(protected readonly db: Kysely<DatabaseSchema>) {}

  async find(mchid: string, op: string, requestNo: string): Promise<RequestRecord | undefined> {
    const [row] = await answeredRequest(this.db, { mchid, op, requestNo });
    return row;
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
