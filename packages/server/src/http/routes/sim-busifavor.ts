import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type { SIM_BUSIFAVOR_ENDPOINTS } from '../../contract/endpoints/simulation.js';
import type { SubsidyOutcomeView } from '../../contract/simulation/busifavor.js';
import { deleteCouponByUser } from '../../domain/busifavor/coupons.js';
import { forceStockState } from '../../domain/busifavor/stocks.js';
import { errors } from '../../errors.js';
import type { BusifavorAdapters } from '../../services/busifavor.js';
import { h5Send, payGiftSend, pluginSend } from '../../sim/send.js';
import { newSubsidyOutcomeRule, type SubsidyOutcomeRule } from '../../sim/subsidy-outcomes.js';
import type { ServerContext } from '../context.js';
import type { EndpointHandlers } from '../endpoints.js';
import { parseExpireTime, visibleRule } from './sim-rules.js';

/**
 * Simulation API for merchant coupons under `/sandbox/v1/`, signed like `/v3`: simulated users with an
 * openid per appid, appid bindings, the three front-end send channels, and test hooks (stock state,
 * a user deleting a coupon, subsidy outcome rules). The schemas are in contract/simulation/busifavor.ts.
 * Documented in docs/busifavor-walkthrough.md and docs/simulation.md ("Subsidy outcomes").
 */

/** The busifavor simulation operations, over the busifavor adapters. */
export function simBusifavorHandlers(
  ctx: ServerContext,
  adapters: BusifavorAdapters,
): EndpointHandlers<typeof SIM_BUSIFAVOR_ENDPOINTS> {
  const { users, deps, subsidyOutcomes: outcomes } = adapters;
  const visibleOutcome = async (id: string, mchid: string): Promise<SubsidyOutcomeRule> =>
    visibleRule(await outcomes.get(id), id, mchid, '补差结果规则不存在');

  return {
    createUser: async ({ body }) =>
      users.createUser({
        appids: body.appids,
        ...(body.natural_person_id !== undefined ? { naturalPersonId: body.natural_person_id } : {}),
        ...(body.suspicious !== undefined ? { suspicious: body.suspicious } : {}),
      }),

    getUser: async ({ params }) => {
      const view = await users.view(params.user_id);
      if (!view) throw simUserNotFound(params.user_id);
      return view;
    },

    createUserOpenid: async ({ params, body }) => {
      if (!(await users.userById(params.user_id))) throw simUserNotFound(params.user_id);
      return { appid: body.appid, openid: await users.ensureOpenid(params.user_id, body.appid) };
    },

    bindAppid: async ({ body }, { merchant }) => {
      const me = merchant.mchid;
      const mchid = body.mchid ?? me;
      if (mchid !== me) {
        const parent = await deps.directory.merchantParent(mchid);
        if (parent === undefined)
          throw errors.MCH_NOT_EXISTS('商户号不存在', { field: '/mchid', location: 'body' });
        if (parent !== me)
          throw errors.NO_AUTH('只能为自己或子商户绑定appid', { field: '/mchid', location: 'body' });
      }
      await users.bindAppid(body.appid, mchid);
      return { appid: body.appid, mchid };
    },

    listAppids: async (_request, { merchant }) => ({ data: await users.appidsOf(merchant.mchid) }),

    unbindAppid: async ({ params }, { merchant }) => {
      if (!(await users.unbindAppid(params.appid, merchant.mchid))) {
        throw errors.RESOURCE_NOT_EXISTS('appid 未绑定', { field: 'appid', location: 'path' });
      }
    },

    simSendMiniapp: async ({ body }, { merchant }) => pluginSend(adapters, merchant.mchid, body),
    simSendH5: async ({ body }, { merchant }) => h5Send(adapters, merchant.mchid, body.url),
    simSendPaygift: async ({ body }, { merchant }) => payGiftSend(adapters, merchant.mchid, body),

    simSetStockState: async ({ params, body }, { merchant }) => {
      await forceStockState(deps, merchant.mchid, params.stock_id, body.stock_state);
      return { stock_id: params.stock_id, stock_state: body.stock_state };
    },

    simDeleteCoupon: async ({ body }, { merchant }) => {
      await deleteCouponByUser(deps, merchant.mchid, body.stock_id, body.coupon_code);
    },

    createSubsidyOutcome: async ({ body }, { merchant }) => {
      const expiresAtMs = parseExpireTime(body.expire_time);
      const rule = newSubsidyOutcomeRule(
        {
          mchid: body.scope === 'global' ? null : merchant.mchid,
          failReason: body.fail_reason,
          ...(body.stock_id !== undefined ? { stockId: body.stock_id } : {}),
          ...(body.count !== undefined ? { count: body.count } : {}),
          ...(expiresAtMs !== undefined ? { expiresAtMs } : {}),
        },
        { id: `SO${ctx.ids.token(22)}`, nowMs: ctx.wallClock() },
      );
      // A typo in stock_id would make a rule that never fires.
      if (rule.stockId !== null && !(await deps.store.read.stocks.find(rule.stockId))) {
        throw errors.RESOURCE_NOT_EXISTS('批次不存在', {
          field: '/stock_id',
          value: rule.stockId,
          location: 'body',
        });
      }
      await outcomes.insert(rule);
      return outcomeView(rule);
    },

    listSubsidyOutcomes: async (_request, { merchant }) => {
      const rules = await outcomes.list(merchant.mchid);
      return { total_count: rules.length, data: rules.map(outcomeView) };
    },

    getSubsidyOutcome: async ({ params }, { merchant }) =>
      outcomeView(await visibleOutcome(params.id, merchant.mchid)),

    deleteSubsidyOutcome: async ({ params }, { merchant }) => {
      const rule = await visibleOutcome(params.id, merchant.mchid);
      await outcomes.delete(rule.id, rule.mchid);
    },

    deleteSubsidyOutcomes: async ({ query }, { merchant }) => {
      await outcomes.deleteAll(query.scope === 'global' ? null : merchant.mchid);
    },
  };
}

/** 404 USER_NOT_EXISTS for a simulation call naming an unknown user. */
function simUserNotFound(userId: string) {
  return errors.USER_NOT_EXISTS('模拟用户不存在', { field: 'user_id', value: userId, location: 'path' });
}

function outcomeView(rule: SubsidyOutcomeRule): SubsidyOutcomeView {
  return {
    id: rule.id,
    scope: rule.mchid === null ? 'global' : 'merchant',
    ...(rule.mchid !== null ? { mchid: rule.mchid } : {}),
    receipt_type: rule.kind === 'pay' ? 'PAY_RECEIPT' : 'RETURN_RECEIPT',
    ...(rule.stockId !== null ? { stock_id: rule.stockId } : {}),
    fail_reason: rule.failReason,
    ...(rule.remaining !== null ? { remaining: rule.remaining } : {}),
    fired: rule.fired,
    ...(rule.expiresAtMs !== null ? { expire_time: formatBeijingTime(rule.expiresAtMs) } : {}),
    create_time: formatBeijingTime(rule.createdAtMs),
  };
}
