import { errors, paramError, type WechatError } from '../../errors.js';
import type { BusifavorDeps, BusifavorTx, Stock } from './model.js';

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
): Promise<void> {
  for (const mchid of new Set(merchants)) {
    if (await deps.directory.isAppidBound(appid, mchid)) return;
  }
  throw errors.APPID_MCHID_NOT_MATCH(`${field} ${appid} 与请求方商户无关联关系`, {
    field,
    value: appid,
    location: 'body',
    issue: 'the appid is not bound to the calling merchant or the belong merchant',
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

/**
 * Looks up a request number: the stored answer when the same request was seen before, a
 * RESOURCE_ALREADY_EXISTS when the number was used for a different request, undefined when new.
 */
export async function replayRequest<T>(
  tx: BusifavorTx,
  mchid: string,
  op: string,
  requestNo: string,
  request: unknown,
  field: string,
): Promise<T | undefined> {
  const seen = await tx.findRequest(mchid, op, requestNo);
  if (!seen) return undefined;
  if (seen.request !== canonicalJson(request)) throw requestNoReused(field, requestNo);
  return JSON.parse(seen.response) as T;
}

/** Stores the answer of a request number. */
export async function rememberRequest(
  tx: BusifavorTx,
  mchid: string,
  op: string,
  requestNo: string,
  request: unknown,
  response: unknown,
  nowMs: number,
): Promise<void> {
  await tx.saveRequest(
    mchid,
    op,
    requestNo,
    { request: canonicalJson(request), response: JSON.stringify(response ?? null) },
    nowMs,
  );
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
