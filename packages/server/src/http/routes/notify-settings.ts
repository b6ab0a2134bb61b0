import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type { NOTIFY_SETTING_ENDPOINTS } from '../../contract/endpoints/notify-settings.js';
import {
  getBusifavorCallback,
  getProductCouponNotifyConfig,
  type NotifySettingsDeps,
  setBusifavorCallback,
  setDeliveryPlanNotifyUrl,
  setProductCouponNotifyConfig,
} from '../../domain/notify-settings.js';
import type { EndpointHandlers } from '../endpoints.js';

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
