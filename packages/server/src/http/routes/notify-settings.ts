import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type { FastifyRequest } from 'fastify';
import type { NOTIFY_SETTING_ENDPOINTS } from '../../contract/endpoints/notify-settings.js';
import { SqlMerchantRelations, SqlNotifySettingsStore } from '../../db/notify-settings-repo.js';
import {
  getBusifavorCallback,
  getProductCouponNotifyConfig,
  type NotifySettingsDeps,
  setBusifavorCallback,
  setDeliveryPlanNotifyUrl,
  setProductCouponNotifyConfig,
} from '../../domain/notify-settings.js';
import { errors, paramError } from '../../errors.js';
import { classifyHostLiteral, policyHost } from '../../outbox/target-policy.js';
import type { AuthenticatedMerchant, ServerContext } from '../context.js';
import type { EndpointHandlers } from '../endpoints.js';

/** The notify-settings domain over the server's database. */
export function createNotifySettingsDeps(ctx: ServerContext): NotifySettingsDeps {
  return {
    store: new SqlNotifySettingsStore(ctx.db.db),
    merchants: new SqlMerchantRelations(ctx.db.db),
    clock: ctx.clock,
    checkTarget: ctx.config.targetPolicy === 'strict' ? refuseLocalTarget : undefined,
  };
}

/** The five notify-URL endpoints of the busifavor, product-coupon and delivery-plan families. */
export function notifySettingHandlers(
  deps: NotifySettingsDeps,
): EndpointHandlers<typeof NOTIFY_SETTING_ENDPOINTS> {
  return {
    setBusifavorCallback: async ({ body }, { merchant }) => {
      const s = await setBusifavorCallback(deps, merchant.mchid, body);
      return { update_time: formatBeijingTime(s.updateTimeMs), notify_url: s.notifyUrl, mchid: s.mchid };
    },
    getBusifavorCallback: async ({ query }, { merchant }) => {
      const s = await getBusifavorCallback(deps, merchant.mchid, query.mchid);
      return { mchid: s.mchid, notify_url: s.notifyUrl };
    },
    setProductCouponNotifyConfig: async ({ body }, { merchant }) => {
      const s = await setProductCouponNotifyConfig(deps, merchant.mchid, body);
      return { notify_url: s.notifyUrl, update_time: formatBeijingTime(s.updateTimeMs) };
    },
    getProductCouponNotifyConfig: async (_request, { merchant }) => {
      const s = await getProductCouponNotifyConfig(deps, merchant.mchid);
      return { notify_url: s.notifyUrl, update_time: formatBeijingTime(s.updateTimeMs) };
    },
    setDeliveryPlanNotifyUrl: async ({ params, body }, { merchant }) => {
      const s = await setDeliveryPlanNotifyUrl(deps, merchant.mchid, params.sp_mchid, body);
      return { notify_url: s.notifyUrl };
    },
  };
}

/**
 * Under the `strict` target policy, a notify URL naming localhost (`localhost.` too) or a non-public IP
 * literal, in any spelling (an IPv6 address embedding one included), is refused when it is set; names
 * are resolved and checked again at every delivery.
 */
function refuseLocalTarget(url: URL): void {
  if (classifyHostLiteral(policyHost(url)) !== undefined) {
    throw paramError('/notify_url', '不能使用本机或内网地址（严格目标策略）', 'body', url.href);
  }
}

/** The authenticated caller; every /v3 route runs after authentication. */
export function caller(request: FastifyRequest): string {
  return authenticatedMerchant(request).mchid;
}

/** The authenticated merchant of a request (a SYSTEM_ERROR if a route was registered outside /v3 or /sandbox). */
export function authenticatedMerchant(request: FastifyRequest): AuthenticatedMerchant {
  if (!request.merchant) throw errors.SYSTEM_ERROR();
  return request.merchant;
}
