/**
 * The catalog of WeChat Pay wire errors: `{code, status, message}`. Domain and HTTP code throw these;
 * one Fastify error handler renders `{"code","message","detail"?}`. A code's status follows the seed
 * table of the endpoint's family (e.g. busifavor lists SYSTEM_ERROR as 400 too).
 * @see docs/protocol.md §5, docs/errors.md and docs/busifavor.md §10
 */

/** `detail` of a PARAM_ERROR-style response. `field` is a JSON Pointer in the body or a bare name. */
export interface ErrorDetail {
  field?: string;
  value?: unknown;
  issue?: string;
  location?: 'body' | 'path' | 'query' | 'header';
  /** Sandbox diagnostics (e.g. the signing string the server expected). Never secrets. */
  [extra: string]: unknown;
}

/** An error that travels on the wire as WeChat's error body. */
export class WechatError extends Error {
  override name = 'WechatError';
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly detail?: ErrorDetail,
  ) {
    super(message);
  }

  /** The wire body. */
  toBody(): { code: string; message: string; detail?: ErrorDetail } {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }
}

/** One catalog entry: the wire code, its status, the default message (zh-CN, as WeChat answers). */
export interface CatalogEntry {
  status: number;
  message: string;
  /** What it means, for docs and the catalog test. */
  meaning: string;
}

/** Every code the sandbox can answer with. */
export const ERROR_CATALOG = {
  PARAM_ERROR: {
    status: 400,
    message: '参数错误',
    meaning: 'A parameter is missing, malformed or out of range.',
  },
  INVALID_REQUEST: {
    status: 400,
    message: 'HTTP 请求不符合微信支付 APIv3 接口规则',
    meaning: 'The request breaks APIv3 rules or a business rule (e.g. code upload to a non-upload stock).',
  },
  APPID_MCHID_NOT_MATCH: {
    status: 400,
    message: 'AppID与请求方商户无关联关系',
    meaning: 'The appid is not bound to the merchant.',
  },
  MCH_NOT_EXISTS: { status: 400, message: '商户号不存在', meaning: 'The merchant number does not exist.' },
  RESOURCE_ALREADY_EXISTS: {
    status: 400,
    message: '资源已存在',
    meaning: 'The request number was reused with other parameters, or the coupon was used by another order.',
  },
  SYSTEM_ERROR_400: {
    status: 400,
    message: '系统错误，请使用相同参数稍后重新调用',
    meaning: 'Busifavor variant of SYSTEM_ERROR: retry later with the same parameters.',
  },
  SIGN_ERROR: { status: 401, message: '验证不通过', meaning: 'The request signature could not be verified.' },
  NO_AUTH: { status: 403, message: '无权限', meaning: 'The caller may not act on this resource or product.' },
  RULE_LIMIT: {
    status: 403,
    message: '业务规则限制',
    meaning: 'A business rule forbids it (validity period, limits).',
  },
  NOT_ENOUGH: { status: 403, message: '余额不足', meaning: 'Budget or quota is exhausted.' },
  RESOURCE_NOT_EXISTS: { status: 404, message: '查询的资源不存在', meaning: 'The resource does not exist.' },
  USER_NOT_EXISTS: { status: 404, message: 'OpenID不正确', meaning: 'The openid is unknown for the appid.' },
  FREQUENCY_LIMITED: { status: 429, message: '频率限制', meaning: 'Busifavor rate limit: slow down.' },
  RATELIMIT_EXCEEDED: {
    status: 429,
    message: '请求超过接口频率限制',
    meaning: 'Product-coupon rate limit: retry later with the same parameters.',
  },
  SYSTEM_ERROR: {
    status: 500,
    message: '系统错误',
    meaning: 'A real fault in the sandbox; retry with the same parameters.',
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    message: '服务不可用',
    meaning: 'The service is offline or overloaded.',
  },
} as const satisfies Record<string, CatalogEntry>;

/** A catalog key. */
export type ErrorKey = keyof typeof ERROR_CATALOG;

/** The wire code of a catalog key (SYSTEM_ERROR_400 travels as SYSTEM_ERROR). */
export function wireCode(key: ErrorKey): string {
  return key === 'SYSTEM_ERROR_400' ? 'SYSTEM_ERROR' : key;
}

type ErrorFactory = (message?: string, detail?: ErrorDetail) => WechatError;

/**
 * Factories: `throw errors.PARAM_ERROR('stock_id 必须为数字', { field: 'stock_id', location: 'path' })`.
 * The message defaults to the catalog's.
 */
export const errors = Object.fromEntries(
  (Object.keys(ERROR_CATALOG) as ErrorKey[]).map((key) => {
    const entry: CatalogEntry = ERROR_CATALOG[key];
    const factory: ErrorFactory = (message, detail) =>
      new WechatError(wireCode(key), entry.status, message ?? entry.message, detail);
    return [key, factory];
  }),
) as Record<ErrorKey, ErrorFactory>;

/** Builds a PARAM_ERROR that points at one field. */
export function paramError(
  field: string,
  issue: string,
  location: ErrorDetail['location'] = 'body',
  value?: unknown,
): WechatError {
  const detail: ErrorDetail = { field, issue, location };
  // Only a scalar is echoed: an object or array a caller sent may be huge or nested thousands deep.
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) detail.value = value;
  return errors.PARAM_ERROR(`参数错误：${field} ${issue}`, detail);
}
