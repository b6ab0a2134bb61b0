import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import { type CouponUseRule, RFC3339_ISSUE } from '../../contract/busifavor/common.js';
import type { ModifyBudgetBody, ModifyBudgetResponse } from '../../contract/busifavor/stocks-budget.js';
import type { CreateStockBody, CreateStockResponse } from '../../contract/busifavor/stocks-create.js';
import type { StockResponse } from '../../contract/busifavor/stocks-get.js';
import type { ModifyStockBody } from '../../contract/busifavor/stocks-modify.js';
import { errors } from '../../errors.js';
import { canManageStock, paramError, requireAppidBound, runOnce, stockNotFound } from './common.js';
import type { Stock, StockDefinition } from './model.js';
import type { BusifavorDeps, BusifavorUnitOfWork } from './ports.js';
import { beijingDay, isPastExpiry, oneYearAfter, parseInputTimeMs, wireCouponUseRule } from './validity.js';

/**
 * Stock rules: create, query, modify basic info, modify budget.
 * @see docs/busifavor.md §3
 */

const RULE_OBJECT_OF = {
  NORMAL: 'fixed_normal_coupon',
  DISCOUNT: 'discount_coupon',
  EXCHANGE: 'exchange_coupon',
} as const;

/** Creates a stock; a reused `out_request_no` is 400 RESOURCE_ALREADY_EXISTS 批次已存在. */
export async function createStock(
  deps: BusifavorDeps,
  caller: string,
  body: CreateStockBody,
): Promise<CreateStockResponse> {
  const now = deps.clock.now(caller);
  const times = checkCreateRules(body, now);
  const parent = await deps.directory.merchantParent(body.belong_merchant);
  if (parent === undefined) {
    throw errors.MCH_NOT_EXISTS('belong_merchant 商户号不存在', {
      field: '/belong_merchant',
      value: body.belong_merchant,
      location: 'body',
    });
  }
  if (body.belong_merchant !== caller && parent !== caller) {
    throw errors.NO_AUTH('无权限为该归属商户创建批次', { field: '/belong_merchant', location: 'body' });
  }
  const merchants = [caller, body.belong_merchant];
  await checkAppids(deps, body, merchants);
  await checkImages(deps, body.display_pattern_info, merchants);

  return deps.store.transaction(async (tx) => {
    if (await tx.stocks.findByRequest(caller, body.out_request_no)) {
      throw errors.RESOURCE_ALREADY_EXISTS('批次已存在', {
        field: '/out_request_no',
        value: body.out_request_no,
        location: 'body',
        issue: '请检查out_request_no是否重复使用',
      });
    }
    const definition: StockDefinition = {
      stock_name: body.stock_name,
      goods_name: body.goods_name,
      // Times are kept as the instants they name, in the form WeChat answers with.
      coupon_use_rule: wireCouponUseRule(body.coupon_use_rule),
      stock_send_rule: body.stock_send_rule,
    };
    if (body.comment !== undefined) definition.comment = body.comment;
    if (body.custom_entrance !== undefined) definition.custom_entrance = body.custom_entrance;
    if (body.display_pattern_info !== undefined) definition.display_pattern_info = body.display_pattern_info;
    if (body.notify_config !== undefined) definition.notify_config = body.notify_config;
    if (body.subsidy !== undefined) definition.subsidy = body.subsidy;
    const rule = body.stock_send_rule;
    const stock: Stock = {
      stockId: deps.ids.digits(15),
      creatorMchid: caller,
      belongMerchant: body.belong_merchant,
      outRequestNo: body.out_request_no,
      stockType: body.stock_type,
      codeMode: body.coupon_code_mode,
      state: 'RUNNING',
      definition,
      maxCoupons: rule.max_coupons,
      maxCouponsByDay: rule.max_coupons_by_day ?? null,
      maxCouponsPerUser: rule.max_coupons_per_user,
      naturalPersonLimit: rule.natural_person_limit === true,
      availableBeginMs: times.beginMs,
      availableEndMs: times.endMs,
      totalSendNum: 0,
      totalSendAmount: 0,
      codeTotalCount: 0,
      codeAvailableCount: 0,
      createdAt: now,
      updatedAt: now,
    };
    await tx.stocks.insert(stock);
    return { stock_id: stock.stockId, create_time: formatBeijingTime(now) };
  });
}

/** Field checks that a JSON schema cannot express. */
function checkCreateRules(body: CreateStockBody, now: number): { beginMs: number; endMs: number } {
  const rule = body.coupon_use_rule;
  const expected = RULE_OBJECT_OF[body.stock_type];
  if (rule[expected] === undefined) {
    throw paramError(`/coupon_use_rule/${expected}`, `stock_type 为 ${body.stock_type} 时必填`);
  }
  for (const name of Object.values(RULE_OBJECT_OF)) {
    if (name !== expected && rule[name] !== undefined) {
      throw paramError(`/coupon_use_rule/${name}`, `stock_type 为 ${body.stock_type} 时不可填写`);
    }
  }
  const normal = rule.fixed_normal_coupon;
  if (normal && normal.transaction_minimum !== 0 && normal.discount_amount >= normal.transaction_minimum) {
    throw paramError('/coupon_use_rule/fixed_normal_coupon/discount_amount', '优惠金额必须小于使用门槛');
  }
  checkMiniProgramRule(rule, '/coupon_use_rule');
  const times = checkAvailableTime(rule, now);
  const send = body.stock_send_rule;
  if (send.max_coupons_per_user > send.max_coupons) {
    throw paramError('/stock_send_rule/max_coupons_per_user', '不能大于 max_coupons');
  }
  if (send.max_coupons_by_day !== undefined && send.max_coupons_by_day > send.max_coupons) {
    throw paramError('/stock_send_rule/max_coupons_by_day', '不能大于 max_coupons');
  }
  const finder = body.display_pattern_info?.finder_info;
  if (finder && (!finder.finder_id || !finder.finder_video_id || !finder.finder_video_cover_image_url)) {
    throw paramError('/display_pattern_info/finder_info', '字段必须全部填写');
  }
  return times;
}

function checkMiniProgramRule(
  rule: Pick<CouponUseRule, 'use_method' | 'mini_programs_appid' | 'mini_programs_path'>,
  base: string,
): void {
  if (rule.use_method === 'MINI_PROGRAMS') {
    if (!rule.mini_programs_appid)
      throw paramError(`${base}/mini_programs_appid`, 'use_method 为 MINI_PROGRAMS 时必填');
    if (!rule.mini_programs_path)
      throw paramError(`${base}/mini_programs_path`, 'use_method 为 MINI_PROGRAMS 时必填');
  }
}

function checkAvailableTime(rule: CouponUseRule, now: number): { beginMs: number; endMs: number } {
  const t = rule.coupon_available_time;
  const base = '/coupon_use_rule/coupon_available_time';
  const beginMs = parseInputTimeMs(t.available_begin_time);
  if (beginMs === undefined) throw paramError(`${base}/available_begin_time`, RFC3339_ISSUE);
  const endMs = parseInputTimeMs(t.available_end_time);
  if (endMs === undefined) throw paramError(`${base}/available_end_time`, RFC3339_ISSUE);
  if (endMs <= beginMs) throw paramError(`${base}/available_end_time`, '必须晚于 available_begin_time');
  if (endMs > oneYearAfter(beginMs)) throw paramError(`${base}/available_end_time`, '商家券有效期最长为1年');
  if (endMs <= now) throw paramError(`${base}/available_end_time`, '不能早于当前时间');
  if (t.wait_days_after_receive !== undefined && t.available_day_after_receive === undefined) {
    throw paramError(`${base}/wait_days_after_receive`, '须与 available_day_after_receive 同时填写');
  }
  if (t.available_second_after_receive !== undefined && t.available_day_after_receive !== undefined) {
    throw paramError(`${base}/available_second_after_receive`, '不能与 available_day_after_receive 同时填写');
  }
  const week = t.available_week;
  if (week) {
    if (week.available_day_time && !week.week_day) {
      throw paramError(`${base}/available_week/week_day`, '填写 available_day_time 时必填');
    }
    if (!week.available_day_time && !week.week_day) {
      throw paramError(`${base}/available_week/week_day`, '必填');
    }
    week.available_day_time?.forEach((slot, i) => {
      if (slot.begin_time >= slot.end_time) {
        throw paramError(`${base}/available_week/available_day_time/${i}/end_time`, '必须大于 begin_time');
      }
    });
  }
  t.irregulary_avaliable_time?.forEach((p, i) => {
    const b = parseInputTimeMs(p.begin_time);
    const e = parseInputTimeMs(p.end_time);
    const at = `${base}/irregulary_avaliable_time/${i}`;
    if (b === undefined) throw paramError(`${at}/begin_time`, RFC3339_ISSUE);
    if (e === undefined) throw paramError(`${at}/end_time`, RFC3339_ISSUE);
    if (e <= b) throw paramError(`${at}/end_time`, '必须晚于 begin_time');
    if (b < beginMs || e > endMs) throw paramError(at, '必须在批次可用时间范围内');
  });
  return { beginMs, endMs };
}

/** Appids named in a stock must be bound to the caller or the belong merchant. */
async function checkAppids(
  deps: BusifavorDeps,
  body: Pick<ModifyStockBody, 'coupon_use_rule' | 'custom_entrance' | 'notify_config'>,
  merchants: readonly string[],
): Promise<void> {
  const named: Array<[string | undefined, string]> = [
    [body.coupon_use_rule?.mini_programs_appid, '/coupon_use_rule/mini_programs_appid'],
    [
      body.custom_entrance?.mini_programs_info?.mini_programs_appid,
      '/custom_entrance/mini_programs_info/mini_programs_appid',
    ],
    [body.custom_entrance?.appid, '/custom_entrance/appid'],
    [body.notify_config?.notify_appid, '/notify_config/notify_appid'],
  ];
  for (const [appid, field] of named) {
    if (appid !== undefined) await requireAppidBound(deps, appid, merchants, field);
  }
}

/** Logo and coupon images must come from the marketing image-upload API (seed 002 FAQ: 非法敏感图片). */
async function checkImages(
  deps: BusifavorDeps,
  display: StockDefinition['display_pattern_info'],
  merchants: readonly string[],
): Promise<void> {
  const urls: Array<[string | undefined, string]> = [
    [display?.merchant_logo_url, '/display_pattern_info/merchant_logo_url'],
    [display?.coupon_image_url, '/display_pattern_info/coupon_image_url'],
  ];
  for (const [url, field] of urls) {
    if (url === undefined) continue;
    const media = await deps.store.read.media.find(url);
    if (!media || !merchants.includes(media.mchid)) {
      throw errors.PARAM_ERROR('非法敏感图片', {
        field,
        value: url,
        location: 'body',
        issue: '图片须通过图片上传(营销专用)接口上传后获取',
      });
    }
  }
}

/** Loads a stock the caller may see: 404 when unknown, 403 NO_AUTH when it is someone else's. */
export async function loadStockFor(deps: BusifavorDeps, caller: string, stockId: string): Promise<Stock> {
  const stock = await deps.store.read.stocks.find(stockId);
  if (!stock) throw stockNotFound(stockId);
  if (!(await canManageStock(deps, stock, caller))) throw errors.NO_AUTH('无权限查询该批次');
  return stock;
}

/** The stock state as the API reports it: a running stock whose window has closed is STOPED. */
export function effectiveStockState(stock: Stock, nowMs: number): Stock['state'] {
  return stock.state === 'RUNNING' && isPastExpiry(stock.availableEndMs, nowMs) ? 'STOPED' : stock.state;
}

/** GET a stock. */
export async function getStock(deps: BusifavorDeps, caller: string, stockId: string): Promise<StockResponse> {
  const stock = await loadStockFor(deps, caller, stockId);
  const now = deps.clock.now(caller);
  const today =
    stock.maxCouponsByDay !== null ? await deps.store.read.coupons.countOnDay(stockId, beijingDay(now)) : 0;
  return renderStock(stock, now, today);
}

/** The wire form of a stock. */
export function renderStock(stock: Stock, nowMs: number, todaySendNum: number): StockResponse {
  const d = stock.definition;
  const out: StockResponse = {
    stock_name: d.stock_name,
    belong_merchant: stock.belongMerchant,
    goods_name: d.goods_name,
    stock_type: stock.stockType,
    // Rows written before times were stored in wire form may hold a time as the caller sent it.
    coupon_use_rule: wireCouponUseRule(d.coupon_use_rule),
    stock_send_rule: {
      ...d.stock_send_rule,
      max_coupons: stock.maxCoupons,
      ...(stock.maxCouponsByDay !== null ? { max_coupons_by_day: stock.maxCouponsByDay } : {}),
    },
    stock_state: effectiveStockState(stock, nowMs),
    coupon_code_mode: stock.codeMode,
    stock_id: stock.stockId,
  };
  if (d.comment !== undefined) out.comment = d.comment;
  if (d.custom_entrance !== undefined) out.custom_entrance = d.custom_entrance;
  if (d.display_pattern_info !== undefined) out.display_pattern_info = d.display_pattern_info;
  if (stock.codeMode === 'MERCHANT_UPLOAD') {
    out.coupon_code_count = { total_count: stock.codeTotalCount, available_count: stock.codeAvailableCount };
  }
  if (d.notify_config !== undefined) out.notify_config = d.notify_config;
  const counts: NonNullable<StockResponse['send_count_information']> = { total_send_num: stock.totalSendNum };
  if (stock.stockType === 'NORMAL') counts.total_send_amount = stock.totalSendAmount;
  if (stock.maxCouponsByDay !== null) {
    counts.today_send_num = todaySendNum;
    if (stock.stockType === 'NORMAL') {
      counts.today_send_amount = todaySendNum * (d.coupon_use_rule.fixed_normal_coupon?.discount_amount ?? 0);
    }
  }
  out.send_count_information = counts;
  if (d.subsidy !== undefined) out.subsidy = d.subsidy;
  return out;
}

/** Loads a stock the caller may change (outside any unit of work). */
async function loadStockForChange(deps: BusifavorDeps, caller: string, stockId: string): Promise<Stock> {
  const stock = await deps.store.read.stocks.find(stockId);
  if (!stock) throw stockNotFound(stockId);
  if (!(await canManageStock(deps, stock, caller))) throw errors.NO_AUTH('无权限修改该批次');
  return stock;
}

/** Re-reads a stock under its row lock; it cannot change after its window ends. */
async function lockStockForChange(tx: BusifavorUnitOfWork, stockId: string, now: number): Promise<Stock> {
  const stock = await tx.stocks.find(stockId, { lock: true });
  if (!stock) throw stockNotFound(stockId);
  if (isPastExpiry(stock.availableEndMs, now)) throw errors.RULE_LIMIT('批次已过可用时间，不可修改');
  return stock;
}

/**
 * PATCH basic info. Only present fields change (nested objects are merged); fields that cannot change
 * must keep their value. A replay of the same `out_request_no` and body is a no-op.
 */
export async function modifyStock(
  deps: BusifavorDeps,
  caller: string,
  stockId: string,
  body: ModifyStockBody,
): Promise<void> {
  const now = deps.clock.now(caller);
  const current = await loadStockForChange(deps, caller, stockId);
  const merchants = [caller, current.belongMerchant, current.creatorMchid];
  await checkAppids(deps, body, merchants);
  const newImage = body.display_pattern_info?.coupon_image_url;
  if (newImage !== undefined && newImage !== current.definition.display_pattern_info?.coupon_image_url) {
    await checkImages(deps, { coupon_image_url: newImage }, merchants);
  }
  const key = {
    caller,
    op: 'modify-stock',
    requestNo: body.out_request_no,
    request: { stock_id: stockId, ...body },
    field: '/out_request_no',
  };
  await runOnce(deps, key, now, async (tx) => {
    const stock = await lockStockForChange(tx, stockId, now);
    const d = stock.definition;
    if (body.stock_name !== undefined && body.stock_name !== d.stock_name) {
      throw paramError('/stock_name', '暂不支持修改');
    }
    const display = body.display_pattern_info;
    for (const key of ['merchant_logo_url', 'merchant_name'] as const) {
      if (display?.[key] !== undefined && display[key] !== d.display_pattern_info?.[key]) {
        throw paramError(`/display_pattern_info/${key}`, '不支持修改');
      }
    }
    const natural = body.stock_send_rule?.natural_person_limit;
    if (natural !== undefined && natural !== (d.stock_send_rule.natural_person_limit ?? false)) {
      throw paramError('/stock_send_rule/natural_person_limit', '不支持修改');
    }
    if (body.subsidy === false && d.subsidy === true) {
      throw paramError('/subsidy', '不支持从true修改为false');
    }
    // Each nested object takes only its modifiable members (seed 002 §3.2.12): whatever else a
    // caller puts there (coupon_available_time, fixed_normal_coupon, …) can never reach the stock.
    const next: StockDefinition = structuredClone(d);
    if (body.comment !== undefined) next.comment = body.comment;
    if (body.goods_name !== undefined) next.goods_name = body.goods_name;
    const entrance = body.custom_entrance;
    if (entrance !== undefined) {
      const info = entrance.mini_programs_info;
      const merged = overlay(d.custom_entrance, {
        ...pickPresent(entrance, MODIFIABLE.custom_entrance),
        ...(info !== undefined
          ? { mini_programs_info: pickPresent(info, MODIFIABLE.mini_programs_info) }
          : {}),
      });
      if (merged) next.custom_entrance = merged;
    }
    if (display !== undefined) {
      const finder = display.finder_info;
      const merged = overlay(d.display_pattern_info, {
        ...pickPresent(display, MODIFIABLE.display_pattern_info),
        ...(finder !== undefined ? { finder_info: pickPresent(finder, MODIFIABLE.finder_info) } : {}),
      });
      if (merged) next.display_pattern_info = merged;
    }
    if (body.coupon_use_rule !== undefined) {
      next.coupon_use_rule = {
        ...d.coupon_use_rule,
        ...pickPresent(body.coupon_use_rule, MODIFIABLE.coupon_use_rule),
      };
    }
    if (body.stock_send_rule?.prevent_api_abuse !== undefined) {
      next.stock_send_rule = {
        ...d.stock_send_rule,
        prevent_api_abuse: body.stock_send_rule.prevent_api_abuse,
      };
    }
    if (body.notify_config !== undefined) {
      const merged = overlay(d.notify_config, pickPresent(body.notify_config, MODIFIABLE.notify_config));
      if (merged) next.notify_config = merged;
    }
    if (body.subsidy !== undefined) next.subsidy = body.subsidy;
    checkMiniProgramRule(next.coupon_use_rule, '/coupon_use_rule');
    await tx.stocks.update(stockId, { definition: next, updatedAt: now });
  });
}

/**
 * The members of each nested object that PATCH basic info may set (seed 002 §3.2.12). `finder_info`
 * and `mini_programs_info` are replaced whole, with their own members only.
 */
const MODIFIABLE = {
  custom_entrance: ['appid', 'hall_id', 'code_display_mode'],
  mini_programs_info: ['mini_programs_appid', 'mini_programs_path', 'entrance_words', 'guiding_words'],
  display_pattern_info: [
    'description',
    'merchant_logo_url',
    'merchant_name',
    'background_color',
    'coupon_image_url',
  ],
  finder_info: ['finder_id', 'finder_video_id', 'finder_video_cover_image_url'],
  coupon_use_rule: ['use_method', 'mini_programs_appid', 'mini_programs_path'],
  notify_config: ['notify_appid'],
} as const;

/** The named members of `source` that are present, and nothing else (absent ones stay absent). */
function pickPresent<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Pick<T, K> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out as Pick<T, K>;
}

/** `current` with `changes` laid over it; undefined when both are empty, so `{}` adds no object. */
function overlay<T extends object>(current: T | undefined, changes: Partial<T>): T | undefined {
  const merged = { ...current, ...changes } as T;
  return Object.keys(merged).length > 0 ? merged : undefined;
}

/** PATCH budget: exactly one target, checked against the current value the caller believes in. */
export async function modifyBudget(
  deps: BusifavorDeps,
  caller: string,
  stockId: string,
  body: ModifyBudgetBody,
): Promise<ModifyBudgetResponse> {
  const now = deps.clock.now(caller);
  const total = body.target_max_coupons || undefined;
  const daily = body.target_max_coupons_by_day || undefined;
  if ((total === undefined) === (daily === undefined)) {
    throw paramError(
      '/target_max_coupons',
      'target_max_coupons 与 target_max_coupons_by_day 必须且只能填写一个',
    );
  }
  if (total !== undefined && body.current_max_coupons === undefined) {
    throw paramError('/current_max_coupons', '修改 target_max_coupons 时必填');
  }
  if (daily !== undefined && body.current_max_coupons_by_day === undefined) {
    throw paramError('/current_max_coupons_by_day', '修改 target_max_coupons_by_day 时必填');
  }
  const key = {
    caller,
    op: 'modify-budget',
    requestNo: body.modify_budget_request_no,
    request: { stock_id: stockId, ...body },
    field: '/modify_budget_request_no',
  };
  await loadStockForChange(deps, caller, stockId);
  return runOnce(deps, key, now, async (tx) => {
    const stock = await lockStockForChange(tx, stockId, now);
    let maxCoupons = stock.maxCoupons;
    let maxByDay = stock.maxCouponsByDay;
    if (total !== undefined) {
      if (body.current_max_coupons !== stock.maxCoupons) {
        throw errors.INVALID_REQUEST('current_max_coupons 与批次当前最大发放个数不一致', {
          field: '/current_max_coupons',
          value: body.current_max_coupons,
          location: 'body',
          issue: `the stock's max_coupons is ${stock.maxCoupons}`,
        });
      }
      if (total < stock.totalSendNum) throw paramError('/target_max_coupons', '不能小于已发放个数');
      if (maxByDay !== null && total < maxByDay)
        throw paramError('/target_max_coupons', '不能小于单天发放上限');
      maxCoupons = total;
    } else if (daily !== undefined) {
      if (body.current_max_coupons_by_day !== (stock.maxCouponsByDay ?? 0)) {
        throw errors.INVALID_REQUEST('current_max_coupons_by_day 与批次当前单天发放上限不一致', {
          field: '/current_max_coupons_by_day',
          value: body.current_max_coupons_by_day,
          location: 'body',
          issue: `the stock's max_coupons_by_day is ${stock.maxCouponsByDay ?? 0}`,
        });
      }
      if (daily > stock.maxCoupons)
        throw paramError('/target_max_coupons_by_day', '不能大于批次最大发放个数');
      maxByDay = daily;
    }
    const definition = structuredClone(stock.definition);
    definition.stock_send_rule.max_coupons = maxCoupons;
    if (maxByDay !== null) definition.stock_send_rule.max_coupons_by_day = maxByDay;
    await tx.stocks.update(stockId, { maxCoupons, maxCouponsByDay: maxByDay, definition, updatedAt: now });
    const response: ModifyBudgetResponse = { max_coupons: maxCoupons };
    if (maxByDay !== null) response.max_coupons_by_day = maxByDay;
    return response;
  });
}

/**
 * The simulation API's test hook: the stock's creator sets its state directly (e.g. PAUSED), outside
 * the rules of the merchant API, in one unit of work under the stock's row lock.
 */
export async function forceStockState(
  deps: BusifavorDeps,
  caller: string,
  stockId: string,
  state: Stock['state'],
): Promise<void> {
  await deps.store.transaction(async (tx) => {
    const stock = await tx.stocks.find(stockId, { lock: true });
    if (!stock) throw errors.RESOURCE_NOT_EXISTS('批次不存在', { field: 'stock_id', location: 'path' });
    if (stock.creatorMchid !== caller) throw errors.NO_AUTH('只有批次创建商户可以修改批次状态');
    await tx.stocks.update(stockId, { state, updatedAt: deps.clock.now(stock.creatorMchid) });
  });
}
