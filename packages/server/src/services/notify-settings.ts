import { SqlMerchantRelations, SqlNotifySettingsStore } from '../db/notify-settings-repo.js';
import type { NotifySettingsDeps } from '../domain/notify-settings.js';
import { paramError } from '../errors.js';
import { classifyHostLiteral, policyHost } from '../outbox/target-policy.js';
import type { ServiceContext } from './context.js';

/** The notify-settings domain over the server's database. */
export function createNotifySettingsDeps(ctx: ServiceContext): NotifySettingsDeps {
  return {
    store: new SqlNotifySettingsStore(ctx.db.db),
    merchants: new SqlMerchantRelations(ctx.db.db),
    clock: ctx.clock,
    checkTarget: ctx.config.targetPolicy === 'strict' ? refuseLocalTarget : undefined,
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
