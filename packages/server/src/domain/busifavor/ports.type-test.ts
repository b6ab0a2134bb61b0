import type { NotificationEvent } from '../ports.js';
import type { Coupon, MediaRecord, Stock, SubsidyReceipt, SubsidyReturn } from './model.js';
import type { BusifavorStore } from './ports.js';

/**
 * Compile-time checks of the busifavor storage ports. `npm run typecheck` (which `npm test` runs before
 * vitest) fails when a write, a row lock or an enqueue compiles outside `store.transaction()`, e.g. if
 * the read views come to extend the repositories again. Never called; nothing imports it, and the
 * package build leaves it out.
 */

export async function storagePortsTypeTest(
  store: BusifavorStore,
  rows: { stock: Stock; coupon: Coupon; media: MediaRecord; receipt: SubsidyReceipt; back: SubsidyReturn },
  event: NotificationEvent,
): Promise<void> {
  const { stock, coupon, media, receipt, back } = rows;
  const record = { request: '{}', response: 'null' };

  // Reads outside a transaction compile, without row locks.
  await store.read.stocks.find(stock.stockId);
  await store.read.coupons.list({ userId: coupon.userId, nowMs: 0, offset: 0, limit: 10 });
  // @ts-expect-error a row lock only means something inside a transaction
  await store.read.stocks.find(stock.stockId, { lock: true });
  // @ts-expect-error a row lock only means something inside a transaction
  await store.read.coupons.find(coupon.stockId, coupon.couponCode, { lock: true });

  // No write compiles outside a transaction…
  // @ts-expect-error stocks are written in a unit of work
  await store.read.stocks.insert(stock);
  // @ts-expect-error stocks are written in a unit of work
  await store.read.stocks.update(stock.stockId, { state: 'PAUSED' });
  // @ts-expect-error coupons are written in a unit of work
  await store.read.coupons.insert(coupon);
  // @ts-expect-error coupons are written in a unit of work
  await store.read.coupons.update(coupon.stockId, coupon.couponCode, { state: 'USED' });
  // @ts-expect-error the code pool changes in a unit of work
  await store.read.codes.insert(stock.stockId, ['c'], 0);
  // @ts-expect-error the code pool changes in a unit of work
  await store.read.codes.dispatchRandom(stock.stockId, 0);
  // @ts-expect-error the code pool changes in a unit of work
  await store.read.codes.deleteAvailable(stock.stockId, 'c');
  // @ts-expect-error a request number is saved with the answer it records, in one unit of work
  await store.read.requests.save('m', 'op', 'r', record, 0);
  // @ts-expect-error media are written in a unit of work
  await store.read.media.insert(media);
  // @ts-expect-error subsidy receipts are written in a unit of work
  await store.read.subsidies.insertReceipt(receipt);
  // @ts-expect-error subsidy receipts are written in a unit of work
  await store.read.subsidies.setReceiptStatus(receipt.subsidyReceiptId, 'PAY_RECEIPT_FAIL');
  // @ts-expect-error subsidy returns are written in a unit of work
  await store.read.subsidies.insertReturn(back);
  // @ts-expect-error the store itself is no repository
  await store.stocks.update(stock.stockId, { state: 'PAUSED' });

  // …nor does an enqueue: the outbox exists only inside one.
  // @ts-expect-error the read views have no outbox
  await store.read.outbox.enqueue(event, 0);
  // @ts-expect-error the store has no outbox
  await store.outbox.enqueue(event, 0);
  // @ts-expect-error the old flat port is gone
  await store.enqueue(event, 0);

  // Inside a transaction, every write, lock and the outbox compile.
  await store.transaction(async (tx) => {
    const locked = await tx.stocks.find(stock.stockId, { lock: true });
    await tx.stocks.update(stock.stockId, { state: locked?.state ?? 'PAUSED' });
    await tx.coupons.find(coupon.stockId, coupon.couponCode, { lock: true });
    await tx.coupons.insert(coupon);
    await tx.codes.dispatchRandom(stock.stockId, 0);
    await tx.requests.save('m', 'op', 'r', record, 0);
    await tx.media.insert(media);
    await tx.subsidies.insertReceipt(receipt);
    await tx.subsidies.insertReturn(back);
    await tx.outbox.enqueue(event, 0);
  });
}
