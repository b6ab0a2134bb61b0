import { errors, paramError } from '../errors.js';
import { assertNotifyUrl } from './notify-url.js';
import type { Clock, NotifyFamily } from './ports.js';

/**
 * Notify-URL settings of the three families (seeds 000, 001, 003, 004): who may set or read which
 * merchant's URL, and what is stored.
 * @see docs/busifavor.md §7
 */

/** A stored notify URL. */
export interface NotifySetting {
  mchid: string;
  family: NotifyFamily;
  notifyUrl: string;
  /** The caller that set it. */
  setBy: string;
  updateTimeMs: number;
}

/** Storage of notify settings. */
export interface NotifySettingsStore {
  get(mchid: string, family: NotifyFamily): Promise<NotifySetting | undefined>;
  put(setting: NotifySetting): Promise<void>;
}

/** Just enough about merchants to decide access. */
export interface MerchantRelations {
  /** The merchant's service provider, `null` for none, or undefined when the merchant does not exist. */
  parentOf(mchid: string): Promise<string | null | undefined>;
}

/** Dependencies of the notify-settings rules. */
export interface NotifySettingsDeps {
  store: NotifySettingsStore;
  merchants: MerchantRelations;
  clock: Clock;
  /** Extra check of the URL's host (target policy); throws PARAM_ERROR to refuse. */
  checkTarget?: ((url: URL) => void) | undefined;
}

const MCHID_PATTERN = /^\d{8,15}$/;

/** Seed 000's answer to a caller without product-coupon permission (描述 and 解决方案 of its NO_AUTH row). */
export const PRODUCT_COUPON_NO_AUTH_MESSAGE = '缺少业务相关权限，请确认已开通商品券权限';

/**
 * Seeds 000 and 003 are for 普通服务商 only. The sandbox has no merchant types, so a sub-merchant (a
 * merchant with a service provider) is refused and any other merchant may act as a service provider —
 * the dev merchant of `init` included (docs/fidelity.md).
 */
async function assertServiceProvider(
  deps: Pick<NotifySettingsDeps, 'merchants'>,
  caller: string,
): Promise<void> {
  const parent = await deps.merchants.parentOf(caller);
  if (parent !== null) throw errors.NO_AUTH(PRODUCT_COUPON_NO_AUTH_MESSAGE);
}

/**
 * Resolves which merchant a request acts for: the caller itself, or a sub-merchant of the caller.
 * Unknown merchant → 400 MCH_NOT_EXISTS; someone else's → 403 NO_AUTH.
 */
export async function resolveActingMerchant(
  deps: Pick<NotifySettingsDeps, 'merchants'>,
  caller: string,
  requested: unknown,
  field: { name: string; location: 'body' | 'query' | 'path' },
): Promise<string> {
  if (requested === undefined) return caller;
  const pointer = field.location === 'body' ? `/${field.name}` : field.name;
  if (typeof requested !== 'string') throw paramError(pointer, '必须为字符串', field.location, requested);
  if (!MCHID_PATTERN.test(requested)) {
    throw paramError(pointer, '必须为8-15位数字的商户号', field.location, requested);
  }
  if (requested === caller) return caller;
  const parent = await deps.merchants.parentOf(requested);
  if (parent === undefined) throw errors.MCH_NOT_EXISTS();
  if (parent !== caller) throw errors.NO_AUTH(`商户${caller}无权操作商户${requested}`);
  return requested;
}

function validUrl(deps: NotifySettingsDeps, value: unknown, minLength?: number): string {
  const url = assertNotifyUrl(value, minLength === undefined ? {} : { minLength });
  deps.checkTarget?.(new URL(url));
  return url;
}

/** POST /v3/marketing/busifavor/callbacks (seed 004). */
export async function setBusifavorCallback(
  deps: NotifySettingsDeps,
  caller: string,
  body: { mchid?: unknown; notify_url?: unknown },
): Promise<NotifySetting> {
  const mchid = await resolveActingMerchant(deps, caller, body.mchid, { name: 'mchid', location: 'body' });
  const setting: NotifySetting = {
    mchid,
    family: 'busifavor',
    notifyUrl: validUrl(deps, body.notify_url, 10),
    setBy: caller,
    updateTimeMs: deps.clock.now(mchid),
  };
  await deps.store.put(setting);
  return setting;
}

/** GET /v3/marketing/busifavor/callbacks (seed 001): only a URL the caller itself set is visible. */
export async function getBusifavorCallback(
  deps: NotifySettingsDeps,
  caller: string,
  mchidParam: string | undefined,
): Promise<NotifySetting> {
  const mchid = await resolveActingMerchant(deps, caller, mchidParam, { name: 'mchid', location: 'query' });
  const setting = await deps.store.get(mchid, 'busifavor');
  if (!setting || setting.setBy !== caller) throw errors.RESOURCE_NOT_EXISTS('未设置商家券事件通知地址');
  return setting;
}

/** POST /v3/marketing/partner/product-coupon/notify-configs (seed 000), keyed by the caller. */
export async function setProductCouponNotifyConfig(
  deps: NotifySettingsDeps,
  caller: string,
  body: { notify_url?: unknown },
): Promise<NotifySetting> {
  await assertServiceProvider(deps, caller);
  return saveOwnSetting(deps, caller, 'product-coupon', validUrl(deps, body.notify_url));
}

/** GET /v3/marketing/partner/product-coupon/notify-configs. */
export async function getProductCouponNotifyConfig(
  deps: NotifySettingsDeps,
  caller: string,
): Promise<NotifySetting> {
  await assertServiceProvider(deps, caller);
  const setting = await deps.store.get(caller, 'product-coupon');
  if (!setting) throw errors.RESOURCE_NOT_EXISTS('未设置商品券事件通知地址');
  return setting;
}

/** POST /v3/marketing/partner/delivery-plan/{sp_mchid}/notify-url (seed 003): only for the caller itself. */
export async function setDeliveryPlanNotifyUrl(
  deps: NotifySettingsDeps,
  caller: string,
  spMchid: string,
  body: { notify_url?: unknown },
): Promise<NotifySetting> {
  if (!MCHID_PATTERN.test(spMchid))
    throw paramError('sp_mchid', '必须为8-15位数字的服务商商户号', 'path', spMchid);
  await assertServiceProvider(deps, caller);
  if (spMchid !== caller) throw errors.NO_AUTH(`sp_mchid ${spMchid} 与调用方商户号不一致`);
  return saveOwnSetting(deps, caller, 'delivery-plan', validUrl(deps, body.notify_url));
}

/** Stores a URL the caller sets for itself; a later call overwrites it. */
async function saveOwnSetting(
  deps: NotifySettingsDeps,
  caller: string,
  family: NotifyFamily,
  notifyUrl: string,
): Promise<NotifySetting> {
  const setting: NotifySetting = {
    mchid: caller,
    family,
    notifyUrl,
    setBy: caller,
    updateTimeMs: deps.clock.now(caller),
  };
  await deps.store.put(setting);
  return setting;
}
