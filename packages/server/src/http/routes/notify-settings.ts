import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  GetBusifavorCallbackQuery,
  type GetBusifavorCallbackResponse,
  type ProductCouponNotifyConfigResponse,
  SetBusifavorCallbackBody,
  type SetBusifavorCallbackResponse,
  SetDeliveryPlanNotifyUrlBody,
  SetDeliveryPlanNotifyUrlParams,
  type SetDeliveryPlanNotifyUrlResponse,
  SetProductCouponNotifyConfigBody,
} from '../../contract/notify-settings.js';
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

/** The five notify-URL endpoints of the busifavor, product-coupon and delivery-plan families. */
export async function registerNotifySettingRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const deps: NotifySettingsDeps = {
    store: new SqlNotifySettingsStore(ctx.db.db),
    merchants: new SqlMerchantRelations(ctx.db.db),
    clock: ctx.clock,
    checkTarget: ctx.config.targetPolicy === 'strict' ? refuseLocalTarget : undefined,
  };

  app.post(
    '/v3/marketing/busifavor/callbacks',
    { schema: { body: SetBusifavorCallbackBody } },
    async (request): Promise<SetBusifavorCallbackResponse> => {
      const s = await setBusifavorCallback(deps, caller(request), request.body as SetBusifavorCallbackBody);
      return { update_time: formatBeijingTime(s.updateTimeMs), notify_url: s.notifyUrl, mchid: s.mchid };
    },
  );

  app.get(
    '/v3/marketing/busifavor/callbacks',
    { schema: { querystring: GetBusifavorCallbackQuery } },
    async (request): Promise<GetBusifavorCallbackResponse> => {
      const query = request.query as GetBusifavorCallbackQuery;
      const s = await getBusifavorCallback(deps, caller(request), query.mchid);
      return { mchid: s.mchid, notify_url: s.notifyUrl };
    },
  );

  app.post(
    '/v3/marketing/partner/product-coupon/notify-configs',
    { schema: { body: SetProductCouponNotifyConfigBody } },
    async (request): Promise<ProductCouponNotifyConfigResponse> => {
      const s = await setProductCouponNotifyConfig(
        deps,
        caller(request),
        request.body as { notify_url: string },
      );
      return { notify_url: s.notifyUrl, update_time: formatBeijingTime(s.updateTimeMs) };
    },
  );

  app.get(
    '/v3/marketing/partner/product-coupon/notify-configs',
    async (request): Promise<ProductCouponNotifyConfigResponse> => {
      const s = await getProductCouponNotifyConfig(deps, caller(request));
      return { notify_url: s.notifyUrl, update_time: formatBeijingTime(s.updateTimeMs) };
    },
  );

  app.post(
    '/v3/marketing/partner/delivery-plan/:sp_mchid/notify-url',
    { schema: { params: SetDeliveryPlanNotifyUrlParams, body: SetDeliveryPlanNotifyUrlBody } },
    async (request): Promise<SetDeliveryPlanNotifyUrlResponse> => {
      const { sp_mchid } = request.params as { sp_mchid: string };
      const s = await setDeliveryPlanNotifyUrl(
        deps,
        caller(request),
        sp_mchid,
        request.body as { notify_url: string },
      );
      return { notify_url: s.notifyUrl };
    },
  );
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
