import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type { UploadCodesBody, UploadCodesResponse } from '../../contract/busifavor/stocks-couponcodes.js';
import type {
  CouponCodeEntity,
  DeleteCodeQuery,
  DeleteCodeResponse,
  GetCodeResponse,
  ListCodesQuery,
  ListCodesResponse,
} from '../../contract/busifavor/stocks-couponcodes-pool.js';
import { errors } from '../../errors.js';
import { canManageStock, requireAppidBound, runOnce, stockNotFound } from './common.js';
import { renderCoupon } from './coupons.js';
import type { Stock, StockCode } from './model.js';
import type { BusifavorDeps } from './ports.js';

/**
 * Pre-uploaded codes of MERCHANT_UPLOAD stocks (上传预存code). Each code is judged on its own: too long
 * or bad characters → `fail_codes`; already in the stock → `exist_codes`; repeated in the request →
 * `duplicate_codes` (one copy judged). The whole request fails only for the stock-level rules.
 * @see docs/busifavor.md §3.5, §9
 */

/** Characters allowed in a merchant code: `0-9 a-z A-Z`, space, `-`, `_`, `\`, `/`, `=`, `|`. */
export const MERCHANT_CODE_PATTERN = /^[0-9a-zA-Z _\-\\/=|]+$/;

/** Why a merchant code is invalid, or undefined when it is fine. */
export function merchantCodeProblem(code: string): { code: string; message: string } | undefined {
  if ([...code].length > 32) return { code: 'LENGTH_LIMIT', message: '长度超过最大值32位' };
  if (code.length === 0) return { code: 'LENGTH_LIMIT', message: '长度不能为0' };
  if (!MERCHANT_CODE_PATTERN.test(code)) {
    return { code: 'CHARSET_INVALID', message: 'code只能包含数字、大小写字母、空格及-_\\/=|' };
  }
  return undefined;
}

/** Uploads codes into a stock's pool. */
export async function uploadCodes(
  deps: BusifavorDeps,
  caller: string,
  stockId: string,
  body: UploadCodesBody,
): Promise<UploadCodesResponse> {
  const now = deps.clock.now(caller);
  await loadUploadStock(deps, caller, stockId);
  const key = {
    caller,
    op: 'upload-codes',
    requestNo: body.upload_request_no,
    request: { stock_id: stockId, ...body },
    field: '/upload_request_no',
  };
  return runOnce(deps, key, now, async (tx) => {
    const stock = await tx.stocks.find(stockId, { lock: true });
    if (!stock) throw stockNotFound(stockId);
    const seen = new Set<string>();
    const duplicates = new Set<string>();
    for (const code of body.coupon_code_list) {
      if (seen.has(code)) duplicates.add(code);
      seen.add(code);
    }
    const distinct = [...seen];
    const failures: NonNullable<UploadCodesResponse['fail_codes']> = [];
    const candidates: string[] = [];
    for (const code of distinct) {
      const problem = merchantCodeProblem(code);
      if (problem) failures.push({ coupon_code: code, ...problem });
      else candidates.push(code);
    }
    const existing = new Set(await tx.codes.existing(stockId, candidates));
    const fresh = candidates.filter((c) => !existing.has(c));
    if (stock.codeTotalCount + fresh.length > stock.maxCoupons) {
      throw errors.INVALID_REQUEST('上传的自定义code已达上限，请使用新的批次', {
        field: '/coupon_code_list',
        location: 'body',
        issue: `a stock holds at most max_coupons (${stock.maxCoupons}) codes; ${stock.codeTotalCount} are stored`,
      });
    }
    if (fresh.length > 0) {
      await tx.codes.insert(stockId, fresh, now);
      await tx.stocks.update(stockId, {
        codeTotalCount: stock.codeTotalCount + fresh.length,
        codeAvailableCount: stock.codeAvailableCount + fresh.length,
        updatedAt: now,
      });
    }
    const response: UploadCodesResponse = {
      stock_id: stockId,
      total_count: distinct.length,
      success_count: fresh.length,
      success_time: formatBeijingTime(now),
      fail_count: failures.length,
    };
    if (fresh.length > 0) response.success_codes = fresh;
    if (failures.length > 0) response.fail_codes = failures;
    if (existing.size > 0) response.exist_codes = candidates.filter((c) => existing.has(c));
    if (duplicates.size > 0) response.duplicate_codes = [...duplicates];
    return response;
  });
}

/**
 * Loads a stock whose code pool the caller may manage: 404 unknown, 403 NO_AUTH someone else's,
 * 400 INVALID_REQUEST 发券模式不合法 when it is not a MERCHANT_UPLOAD stock (the mode never changes).
 */
async function loadUploadStock(deps: BusifavorDeps, caller: string, stockId: string): Promise<Stock> {
  const stock = await deps.store.read.stocks.find(stockId);
  if (!stock) throw stockNotFound(stockId);
  if (!(await canManageStock(deps, stock, caller))) throw errors.NO_AUTH('无权限操作该批次');
  if (stock.codeMode !== 'MERCHANT_UPLOAD') {
    throw errors.INVALID_REQUEST('发券模式不合法，请使用支持预上传code的批次', {
      field: 'stock_id',
      value: stockId,
      location: 'path',
      issue: `coupon_code_mode is ${stock.codeMode}, not MERCHANT_UPLOAD`,
    });
  }
  return stock;
}

/**
 * The wire form of a code. A DISPATCHED code names the user coupon; its holder's openid (and unionid)
 * only under `appid`, when given.
 */
async function renderCode(
  deps: BusifavorDeps,
  stock: Stock,
  code: StockCode,
  appid: string | undefined,
): Promise<CouponCodeEntity> {
  const out: CouponCodeEntity = {
    code: code.code,
    code_status: code.status,
    upload_time: formatBeijingTime(code.uploadMs),
  };
  if (code.dispatchedMs !== null) out.dispatched_time = formatBeijingTime(code.dispatchedMs);
  const coupon =
    code.status === 'DISPATCHED' ? await deps.store.read.coupons.find(stock.stockId, code.code) : undefined;
  if (coupon) {
    const openid = appid === undefined ? undefined : await deps.directory.openidOf(coupon.userId, appid);
    if (openid !== undefined) {
      out.openid = openid;
      const user = await deps.directory.userById(coupon.userId);
      if (user) out.unionid = user.unionid;
    }
    out.coupon_code = coupon.couponCode;
  }
  return out;
}

/** Lists a stock's pre-uploaded codes (查询预存code列表); `offset` is a 0-based item offset. */
export async function listCodes(
  deps: BusifavorDeps,
  caller: string,
  stockId: string,
  query: ListCodesQuery,
): Promise<ListCodesResponse> {
  const stock = await loadUploadStock(deps, caller, stockId);
  if (query.appid !== undefined) {
    await requireAppidBound(deps, query.appid, [caller, stock.belongMerchant], 'appid', 'query');
  }
  const offset = query.offset ?? 0;
  const limit = query.limit ?? 20;
  const page = await deps.store.read.codes.list(stockId, query.status, offset, limit);
  const data: CouponCodeEntity[] = [];
  for (const code of page.codes) data.push(await renderCode(deps, stock, code, query.appid));
  return { stock_id: stockId, total_count: page.total, data, offset, limit };
}

/** One pre-uploaded code, with the user coupon when it was dispatched (查询预存code详情). */
export async function getCode(
  deps: BusifavorDeps,
  caller: string,
  stockId: string,
  couponCode: string,
  appid: string | undefined,
): Promise<GetCodeResponse> {
  const stock = await loadUploadStock(deps, caller, stockId);
  if (appid !== undefined) {
    await requireAppidBound(deps, appid, [caller, stock.belongMerchant], 'appid', 'query');
  }
  const code = await deps.store.read.codes.find(stockId, couponCode);
  if (!code) throw codeNotFound(couponCode);
  const out: GetCodeResponse = { code_information: await renderCode(deps, stock, code, appid) };
  const coupon =
    code.status === 'DISPATCHED' ? await deps.store.read.coupons.find(stockId, couponCode) : undefined;
  if (coupon) {
    out.coupon_information = renderCoupon(stock, coupon, deps.clock.now(caller), { withDescription: true });
  }
  return out;
}

/** Deletes an AVAILABLE code from the pool (删除预存code); idempotent on `delete_request_no`. */
export async function deleteCode(
  deps: BusifavorDeps,
  caller: string,
  stockId: string,
  couponCode: string,
  query: DeleteCodeQuery,
): Promise<DeleteCodeResponse> {
  const now = deps.clock.now(caller);
  await loadUploadStock(deps, caller, stockId);
  const key = {
    caller,
    op: 'delete-code',
    requestNo: query.delete_request_no,
    request: { stock_id: stockId, coupon_code: couponCode, ...query },
    field: 'delete_request_no',
  };
  return runOnce(deps, key, now, async (tx) => {
    const stock = await tx.stocks.find(stockId, { lock: true });
    if (!stock) throw stockNotFound(stockId);
    const code = await tx.codes.find(stockId, couponCode);
    if (!code) throw codeNotFound(couponCode);
    if (code.status !== 'AVAILABLE' || !(await tx.codes.deleteAvailable(stockId, couponCode))) {
      throw errors.INVALID_REQUEST('该code已分配给用户，不可删除', {
        field: 'coupon_code',
        value: couponCode,
        location: 'path',
        issue: 'only AVAILABLE codes can be deleted',
      });
    }
    await tx.stocks.update(stockId, {
      codeTotalCount: stock.codeTotalCount - 1,
      codeAvailableCount: stock.codeAvailableCount - 1,
      updatedAt: now,
    });
    return { stock_id: stockId, delete_time: formatBeijingTime(now) };
  });
}

function codeNotFound(couponCode: string) {
  return errors.RESOURCE_NOT_EXISTS('预存code不存在', {
    field: 'coupon_code',
    value: couponCode,
    location: 'path',
  });
}
