import { endpoint } from '../endpoint.js';
import {
  GetBusifavorCallbackQuery,
  GetBusifavorCallbackResponse,
  ProductCouponNotifyConfigResponse,
  SetBusifavorCallbackBody,
  SetBusifavorCallbackResponse,
  SetDeliveryPlanNotifyUrlBody,
  SetDeliveryPlanNotifyUrlParams,
  SetDeliveryPlanNotifyUrlResponse,
  SetProductCouponNotifyConfigBody,
} from '../notify-settings.js';

/** The notify-URL settings of the busifavor, product-coupon and delivery-plan families (seeds 000, 001, 003, 004). */
export const NOTIFY_SETTING_ENDPOINTS = {
  setBusifavorCallback: endpoint({
    id: 'setBusifavorCallback',
    method: 'POST',
    path: '/v3/marketing/busifavor/callbacks',
    family: 'busifavor',
    summary: 'Set the merchant-coupon notify URL (设置商家券事件通知地址)',
    body: SetBusifavorCallbackBody,
    success: { status: 200, schema: SetBusifavorCallbackResponse },
  }),
  getBusifavorCallback: endpoint({
    id: 'getBusifavorCallback',
    method: 'GET',
    path: '/v3/marketing/busifavor/callbacks',
    family: 'busifavor',
    summary: 'Query the merchant-coupon notify URL (查询商家券事件通知地址)',
    query: GetBusifavorCallbackQuery,
    success: { status: 200, schema: GetBusifavorCallbackResponse },
  }),
  setProductCouponNotifyConfig: endpoint({
    id: 'setProductCouponNotifyConfig',
    method: 'POST',
    path: '/v3/marketing/partner/product-coupon/notify-configs',
    family: 'product-coupon',
    summary: 'Set the product-coupon notify URL (设置商品券事件通知地址)',
    body: SetProductCouponNotifyConfigBody,
    success: { status: 200, schema: ProductCouponNotifyConfigResponse },
  }),
  getProductCouponNotifyConfig: endpoint({
    id: 'getProductCouponNotifyConfig',
    method: 'GET',
    path: '/v3/marketing/partner/product-coupon/notify-configs',
    family: 'product-coupon',
    summary: 'Query the product-coupon notify URL (查询商品券事件通知地址)',
    success: { status: 200, schema: ProductCouponNotifyConfigResponse },
    rateLimit: { perSecond: 20, burst: 20 },
  }),
  setDeliveryPlanNotifyUrl: endpoint({
    id: 'setDeliveryPlanNotifyUrl',
    method: 'POST',
    path: '/v3/marketing/partner/delivery-plan/{sp_mchid}/notify-url',
    family: 'delivery-plan',
    summary: 'Set the delivery-plan notify URL (设置投放计划事件通知地址)',
    params: SetDeliveryPlanNotifyUrlParams,
    body: SetDeliveryPlanNotifyUrlBody,
    success: { status: 200, schema: SetDeliveryPlanNotifyUrlResponse },
  }),
} as const;
