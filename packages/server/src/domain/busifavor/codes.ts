import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type { UploadCodesBody, UploadCodesResponse } from '../../contract/busifavor/stocks-couponcodes.js';
import { errors } from '../../errors.js';
import { canManageStock, runOnce, stockNotFound } from './common.js';
import type { BusifavorDeps } from './model.js';

/**
 * Pre-uploaded codes of MERCHANT_UPLOAD stocks (上传预存code). Each code is judged on its own: too long
 * or bad characters → `fail_codes`; already in the stock → `exist_codes`; repeated in the request →
 * `duplicate_codes` (one copy judged). The whole request fails only for the stock-level rules.
 * @see ../../../../../shared/docs/busifavor.md §3.5, §9
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
  const current = await deps.store.findStock(stockId);
  if (!current) throw stockNotFound(stockId);
  if (!(await canManageStock(deps, current, caller))) throw errors.NO_AUTH('无权限操作该批次');
  const key = {
    caller,
    op: 'upload-codes',
    requestNo: body.upload_request_no,
    request: { stock_id: stockId, ...body },
    field: '/upload_request_no',
  };
  return runOnce(deps, key, now, async (tx) => {
    const stock = await tx.findStock(stockId, { lock: true });
    if (!stock) throw stockNotFound(stockId);
    if (stock.codeMode !== 'MERCHANT_UPLOAD') {
      throw errors.INVALID_REQUEST('发券模式不合法，请使用支持预上传code的批次', {
        field: 'stock_id',
        value: stockId,
        location: 'path',
        issue: `coupon_code_mode is ${stock.codeMode}, not MERCHANT_UPLOAD`,
      });
    }
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
    const existing = new Set(await tx.existingCodes(stockId, candidates));
    const fresh = candidates.filter((c) => !existing.has(c));
    if (stock.codeTotalCount + fresh.length > stock.maxCoupons) {
      throw errors.INVALID_REQUEST('上传的自定义code已达上限，请使用新的批次', {
        field: '/coupon_code_list',
        location: 'body',
        issue: `a stock holds at most max_coupons (${stock.maxCoupons}) codes; ${stock.codeTotalCount} are stored`,
      });
    }
    if (fresh.length > 0) {
      await tx.insertCodes(stockId, fresh, now);
      await tx.updateStock(stockId, {
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
