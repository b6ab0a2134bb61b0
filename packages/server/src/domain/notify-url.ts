import { paramError } from '../errors.js';

/**
 * Validation of merchant notify URLs as the seeds state it: absolute https URL, at most 256 characters,
 * no query string and no fragment.
 * @see docs/protocol.md §6.7
 */

/** Longest notify_url the seeds allow. */
export const NOTIFY_URL_MAX_LENGTH = 256;

/** Options of notify URL validation. */
export interface NotifyUrlRules {
  /** Shortest accepted length (busifavor says string[10,256]). @default 1 */
  minLength?: number;
}

/** Throws PARAM_ERROR (field /notify_url) unless `value` is a valid notify URL. */
export function assertNotifyUrl(value: unknown, rules: NotifyUrlRules = {}): string {
  const field = '/notify_url';
  if (typeof value !== 'string' || value.length === 0) throw paramError(field, '不能为空，且必须为字符串');
  if (value.length > NOTIFY_URL_MAX_LENGTH) {
    throw paramError(field, `长度不能超过${NOTIFY_URL_MAX_LENGTH}个字符`, 'body', value);
  }
  if (value.length < (rules.minLength ?? 1)) {
    throw paramError(field, `长度不能少于${rules.minLength}个字符`, 'body', value);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw paramError(field, '必须为合法的URL', 'body', value);
  }
  if (url.protocol !== 'https:') throw paramError(field, '必须以https://开头', 'body', value);
  // Neither a query (even an empty "?") nor a fragment. A bare domain is accepted: the seeds' own examples
  // use one (docs/fidelity.md).
  if (value.includes('?')) throw paramError(field, '不能携带查询参数', 'body', value);
  if (value.includes('#')) throw paramError(field, '不能携带锚点', 'body', value);
  if (!url.hostname) throw paramError(field, '必须包含域名', 'body', value);
  if (url.username || url.password) throw paramError(field, '不能包含用户名或密码', 'body', value);
  return value;
}
