import { errors, paramError, type WechatError } from '../../errors.js';
import type { Stock } from './model.js';
import type { BusifavorDeps, BusifavorUnitOfWork } from './ports.js';

/**
 * Rules shared by the busifavor operations: who may act on a stock, appid bindings, request numbers.
 */

/** Whether `mchid` is the stock's creator, its belong merchant, or the belong merchant's provider. */
export async function canManageStock(deps: BusifavorDeps, stock: Stock, mchid: string): Promise<boolean> {
  if (mchid === stock.creatorMchid || mchid === stock.belongMerchant) return true;
  return (await deps.directory.merchantParent(stock.belongMerchant)) === mchid;
}

/** An appid must be bound to the caller or to the belong merchant, else 400 APPID_MCHID_NOT_MATCH. */
export async function requireAppidBound(
  deps: BusifavorDeps,
  appid: string,
  merchants: readonly string[],
  field: string,
  location: 'body' | 'query' = 'body',
): Promise<void> {
  for (const mchid of new Set(merchants)) {
    if (await deps.directory.isAppidBound(appid, mchid)) return;
  }
  throw errors.APPID_MCHID_NOT_MATCH(`${field} ${appid} 与请求方商户无关联关系`, {
    field,
    value: appid,
    location,
    issue: 'the appid is not bound to the calling merchant or the belong merchant',
  });
}

/**
 * An appid bound to the caller itself, else 400 APPID_MCHID_NOT_MATCH. Seed 002 asks this of the use,
 * user-coupon list and single-coupon GET appid (与当前调用接口商户号有绑定关系的appid): an appid bound
 * only to the stock's belong merchant is refused to its service provider.
 */
export async function requireCallerAppid(
  deps: BusifavorDeps,
  appid: string,
  caller: string,
  field: string,
  location: 'body' | 'query' | 'path',
): Promise<void> {
  if (await deps.directory.isAppidBound(appid, caller)) return;
  throw errors.APPID_MCHID_NOT_MATCH(`appid ${appid} 与请求方商户无关联关系`, {
    field,
    value: appid,
    location,
    issue: 'the appid is not bound to the calling merchant',
  });
}

/** JSON with sorted keys, so that two equal requests compare equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** A request number and the request it carries, scoped per caller and operation. */
export interface RequestKey {
  /** The calling merchant. */
  caller: string;
  /** The operation, e.g. `use`, `modify-budget`. */
  op: string;
  requestNo: string;
  /** The request as a whole (path parameters included), compared on a replay. */
  request: unknown;
  /** The wire field of the request number, for the RESOURCE_ALREADY_EXISTS detail. */
  field: string;
}

/**
 * Runs `work` once per request number, in one unit of work with the stored answer: the same request
 * again gets the first answer (`work` does not run), another request under the same number gets
 * 400 RESOURCE_ALREADY_EXISTS. A `work` that throws stores nothing, so a retry runs it again.
 */
export async function runOnce<T>(
  deps: BusifavorDeps,
  key: RequestKey,
  nowMs: number,
  work: (tx: BusifavorUnitOfWork) => Promise<T>,
): Promise<T> {
  return deps.store.transaction(async (tx) => {
    const seen = await tx.requests.find(key.caller, key.op, key.requestNo);
    if (seen) {
      if (seen.request !== canonicalJson(key.request)) throw requestNoReused(key.field, key.requestNo);
      return JSON.parse(seen.response) as T;
    }
    const response = await work(tx);
    await tx.requests.save(
      key.caller,
      key.op,
      key.requestNo,
      { request: canonicalJson(key.request), response: JSON.stringify(response ?? null) },
      nowMs,
    );
    return response;
  });
}

/** 400 RESOURCE_ALREADY_EXISTS for a request number reused with other parameters. */
export function requestNoReused(field: string, value: string): WechatError {
  return errors.RESOURCE_ALREADY_EXISTS(`${field} 已被使用，请检查是否重复使用了请求单号`, {
    field,
    value,
    location: 'body',
    issue: 'the request number was already used with different parameters',
  });
}

/** 404 for an unknown stock. */
export function stockNotFound(stockId: string): WechatError {
  return errors.RESOURCE_NOT_EXISTS('批次不存在', { field: 'stock_id', value: stockId });
}

/** Re-export for rule modules. */
export { paramError };
