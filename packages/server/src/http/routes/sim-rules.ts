import { parseRfc3339 } from '@wechatpay-sandbox/sdk/protocol';
import { errors, paramError } from '../../errors.js';

/**
 * What the handlers of the simulation rule APIs share (fault rules under `/sandbox/v1/faults`, subsidy
 * outcome rules under `/sandbox/v1/busifavor/subsidy-outcomes`): reading an optional expiry, and who may
 * see a rule. Their schemas are in contract/simulation/rules.ts.
 */

/** The body's `expire_time` as epoch ms (undefined when absent); 400 when it is not RFC 3339. */
export function parseExpireTime(expireTime: string | undefined): number | undefined {
  if (expireTime === undefined) return undefined;
  const parsed = parseRfc3339(expireTime);
  if (!parsed) throw paramError('/expire_time', 'must be RFC 3339 with an offset', 'body', expireTime);
  return parsed.getTime();
}

/** A rule of the caller or a global one; a missing rule or anyone else's is reported as missing. */
export function visibleRule<R extends { mchid: string | null }>(
  rule: R | undefined,
  id: string,
  mchid: string,
  missing: string,
): R {
  if (!rule || (rule.mchid !== null && rule.mchid !== mchid)) {
    throw errors.RESOURCE_NOT_EXISTS(missing, { field: 'id', value: id, location: 'path' });
  }
  return rule;
}
