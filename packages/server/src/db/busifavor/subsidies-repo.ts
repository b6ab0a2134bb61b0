import type { Kysely, Transaction } from 'kysely';
import {
  PAID_RECEIPT_STATES,
  type SubsidyReceipt,
  type SubsidyReturn,
} from '../../domain/busifavor/model.js';
import type { SubsidyLedger, SubsidyLedgerReader } from '../../domain/busifavor/ports.js';
import type { DatabaseSchema } from '../schema.js';
import { rowCodec } from './row-codec.js';
import type { BusifavorSubsidyReceiptsTable, BusifavorSubsidyReturnsTable } from './tables.js';

/** Reads of subsidy pay and return receipts over the root database or a transaction. */
export class SqlSubsidyLedgerReader implements SubsidyLedgerReader {
  constructor(protected readonly db: Kysely<DatabaseSchema>) {}

  async findReceipt(id: string): Promise<SubsidyReceipt | undefined> {
    const r = await this.db
      .selectFrom('busifavor_subsidy_receipts')
      .selectAll()
      .where('subsidy_receipt_id', '=', id)
      .executeTakeFirst();
    return r ? subsidyReceiptCodec.fromRow(r) : undefined;
  }

  async listReceipts(stockId: string, couponCode: string): Promise<SubsidyReceipt[]> {
    const rows = await this.db
      .selectFrom('busifavor_subsidy_receipts')
      .selectAll()
      .where('stock_id', '=', stockId)
      .where('coupon_code', '=', couponCode)
      .orderBy('create_ms')
      .orderBy('subsidy_receipt_id')
      .execute();
    return rows.map(subsidyReceiptCodec.fromRow);
  }

  async paidTotal(stockId: string, couponCode: string): Promise<number> {
    const row = await this.db
      .selectFrom('busifavor_subsidy_receipts')
      .select((eb) => eb.fn.sum<number | string | null>('amount').as('total'))
      .where('stock_id', '=', stockId)
      .where('coupon_code', '=', couponCode)
      .where('status', 'in', PAID_RECEIPT_STATES)
      .executeTakeFirstOrThrow();
    return Number(row.total ?? 0);
  }

  async findReturn(id: string): Promise<SubsidyReturn | undefined> {
    const r = await this.db
      .selectFrom('busifavor_subsidy_returns')
      .selectAll()
      .where('subsidy_return_receipt_id', '=', id)
      .executeTakeFirst();
    return r ? subsidyReturnCodec.fromRow(r) : undefined;
  }

  async returnedTotal(subsidyReceiptId: string): Promise<number> {
    const row = await this.db
      .selectFrom('busifavor_subsidy_returns')
      .select((eb) => eb.fn.sum<number | string | null>('amount').as('total'))
      .where('subsidy_receipt_id', '=', subsidyReceiptId)
      .where('status', '=', 'RETURN_RECEIPT_SUCCESS')
      .executeTakeFirstOrThrow();
    return Number(row.total ?? 0);
  }
}

/** Subsidy pay and return receipts inside a transaction. */
export class SqlSubsidyLedger extends SqlSubsidyLedgerReader implements SubsidyLedger {
  constructor(db: Transaction<DatabaseSchema>) {
    super(db);
  }

  async insertReceipt(r: SubsidyReceipt): Promise<void> {
    await this.db.insertInto('busifavor_subsidy_receipts').values(subsidyReceiptCodec.toRow(r)).execute();
  }

  async setReceiptStatus(id: string, status: string): Promise<void> {
    await this.db
      .updateTable('busifavor_subsidy_receipts')
      .set({ status })
      .where('subsidy_receipt_id', '=', id)
      .execute();
  }

  async insertReturn(r: SubsidyReturn): Promise<void> {
    await this.db.insertInto('busifavor_subsidy_returns').values(subsidyReturnCodec.toRow(r)).execute();
  }
}

/** Field → column of what pay and return receipts share. */
const SUBSIDY_MOVEMENT_COLUMNS = {
  mchid: 'mchid',
  stockId: 'stock_id',
  couponCode: 'coupon_code',
  transactionId: 'transaction_id',
  payerMerchant: 'payer_merchant',
  payeeMerchant: 'payee_merchant',
  amount: 'amount',
  description: 'description',
  status: 'status',
  failReason: 'fail_reason',
} as const;

const subsidyReceiptCodec = rowCodec<SubsidyReceipt, BusifavorSubsidyReceiptsTable>(
  {
    ...SUBSIDY_MOVEMENT_COLUMNS,
    subsidyReceiptId: 'subsidy_receipt_id',
    outSubsidyNo: 'out_subsidy_no',
    successMs: 'success_ms',
    createMs: 'create_ms',
  },
  ['amount', 'success_ms', 'create_ms'],
);

const subsidyReturnCodec = rowCodec<SubsidyReturn, BusifavorSubsidyReturnsTable>(
  {
    ...SUBSIDY_MOVEMENT_COLUMNS,
    subsidyReturnReceiptId: 'subsidy_return_receipt_id',
    outSubsidyReturnNo: 'out_subsidy_return_no',
    subsidyReceiptId: 'subsidy_receipt_id',
    refundId: 'refund_id',
    returnDoneMs: 'return_done_ms',
    returnCreateMs: 'return_create_ms',
  },
  ['amount', 'return_done_ms', 'return_create_ms'],
);
