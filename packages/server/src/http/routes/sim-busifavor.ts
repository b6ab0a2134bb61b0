import { type Static, Type } from '@sinclair/typebox';
import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type { FastifyInstance } from 'fastify';
import {
  Appid,
  CouponCode,
  Mchid,
  STOCK_STATES,
  StockId,
  StringEnum,
} from '../../contract/busifavor/common.js';
import { deleteCouponByUser } from '../../domain/busifavor/coupons.js';
import { errors } from '../../errors.js';
import { h5Send, type PluginSendInput, payGiftSend, pluginSend } from '../../sim/send.js';
import { newSubsidyOutcomeRule, type SubsidyOutcomeRule } from '../../sim/subsidy-outcomes.js';
import { simUserNotFound } from '../../sim/users.js';
import type { ServerContext } from '../context.js';
import type { BusifavorAdapters } from './busifavor.js';
import { caller } from './notify-settings.js';
import {
  DeleteRulesQuery,
  ExpireTime,
  parseExpireTime,
  RuleIdParams,
  RuleScope,
  visibleRule,
} from './sim-rules.js';

/**
 * Simulation API for merchant coupons under `/sandbox/v1/`, signed like `/v3`: simulated users with an
 * openid per appid, appid bindings, the three front-end send channels, and test hooks (stock state,
 * a user deleting a coupon, subsidy outcome rules). Documented in docs/busifavor-walkthrough.md and
 * docs/simulation.md ("Subsidy outcomes").
 */

const OpenidString = Type.String({ minLength: 1, maxLength: 128 });
const CreateUserBody = Type.Object({
  appids: Type.Array(Appid, { minItems: 0, maxItems: 20 }),
  natural_person_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  suspicious: Type.Optional(Type.Boolean()),
});
const UserParams = Type.Object({ user_id: Type.String({ minLength: 1, maxLength: 64 }) });
const AppidBody = Type.Object({ appid: Appid, mchid: Type.Optional(Mchid) });
const AppidParams = Type.Object({ appid: Appid });
const PluginBody = Type.Object({
  appid: Appid,
  openid: OpenidString,
  send_coupon_merchant: Mchid,
  send_coupon_params: Type.Array(
    Type.Object({
      stock_id: StockId,
      out_request_no: Type.String({ minLength: 1, maxLength: 128 }),
      coupon_code: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    }),
  ),
  sign: Type.String({ minLength: 1, maxLength: 128 }),
});
const H5Body = Type.Object({ url: Type.String({ minLength: 1, maxLength: 4096 }) });
const PayGiftBody = Type.Object({
  stock_id: StockId,
  appid: Appid,
  openid: OpenidString,
  transaction_id: Type.String({ minLength: 1, maxLength: 32 }),
  out_request_no: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
});
const StockStateBody = Type.Object({ stock_state: StringEnum(STOCK_STATES) });
const DeleteCouponBody = Type.Object({ stock_id: StockId, coupon_code: CouponCode });
const SubsidyOutcomeBody = Type.Object(
  {
    scope: Type.Optional(RuleScope),
    fail_reason: Type.String({ minLength: 1, maxLength: 64 }),
    stock_id: Type.Optional(StockId),
    count: Type.Optional(Type.Integer()),
    expire_time: Type.Optional(ExpireTime),
  },
  { additionalProperties: false },
);
type SubsidyOutcomeBody = Static<typeof SubsidyOutcomeBody>;
const OUTCOMES = '/sandbox/v1/busifavor/subsidy-outcomes';

/** Registers the busifavor simulation API. */
export async function registerSimBusifavorRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  adapters: BusifavorAdapters,
): Promise<void> {
  const { users, deps, subsidyOutcomes: outcomes } = adapters;

  app.post('/sandbox/v1/users', { schema: { body: CreateUserBody } }, async (request) => {
    const body = request.body as { appids: string[]; natural_person_id?: string; suspicious?: boolean };
    return users.createUser({
      appids: body.appids,
      ...(body.natural_person_id !== undefined ? { naturalPersonId: body.natural_person_id } : {}),
      ...(body.suspicious !== undefined ? { suspicious: body.suspicious } : {}),
    });
  });

  app.get('/sandbox/v1/users/:user_id', { schema: { params: UserParams } }, async (request) => {
    const { user_id } = request.params as { user_id: string };
    const view = await users.view(user_id);
    if (!view) throw simUserNotFound(user_id);
    return view;
  });

  app.post(
    '/sandbox/v1/users/:user_id/openids',
    { schema: { params: UserParams, body: Type.Object({ appid: Appid }) } },
    async (request) => {
      const { user_id } = request.params as { user_id: string };
      const { appid } = request.body as { appid: string };
      if (!(await users.userById(user_id))) throw simUserNotFound(user_id);
      return { appid, openid: await users.ensureOpenid(user_id, appid) };
    },
  );

  app.post('/sandbox/v1/appids', { schema: { body: AppidBody } }, async (request) => {
    const me = caller(request);
    const body = request.body as { appid: string; mchid?: string };
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
  });

  app.get('/sandbox/v1/appids', async (request) => ({ data: await users.appidsOf(caller(request)) }));

  app.delete('/sandbox/v1/appids/:appid', { schema: { params: AppidParams } }, async (request, reply) => {
    const { appid } = request.params as { appid: string };
    if (!(await users.unbindAppid(appid, caller(request)))) {
      throw errors.RESOURCE_NOT_EXISTS('appid 未绑定', { field: 'appid', location: 'path' });
    }
    return reply.code(204).send();
  });

  app.post('/sandbox/v1/busifavor/send/miniapp', { schema: { body: PluginBody } }, async (request) =>
    pluginSend(adapters, caller(request), request.body as PluginSendInput),
  );

  app.post('/sandbox/v1/busifavor/send/h5', { schema: { body: H5Body } }, async (request) =>
    h5Send(adapters, caller(request), (request.body as { url: string }).url),
  );

  app.post('/sandbox/v1/busifavor/send/paygift', { schema: { body: PayGiftBody } }, async (request) =>
    payGiftSend(
      adapters,
      caller(request),
      request.body as { stock_id: string; appid: string; openid: string; transaction_id: string },
    ),
  );

  app.post(
    '/sandbox/v1/busifavor/stocks/:stock_id/state',
    { schema: { params: Type.Object({ stock_id: StockId }), body: StockStateBody } },
    async (request) => {
      const { stock_id } = request.params as { stock_id: string };
      const { stock_state } = request.body as { stock_state: (typeof STOCK_STATES)[number] };
      const stock = await deps.store.findStock(stock_id);
      if (!stock) throw errors.RESOURCE_NOT_EXISTS('批次不存在', { field: 'stock_id', location: 'path' });
      if (stock.creatorMchid !== caller(request)) throw errors.NO_AUTH('只有批次创建商户可以修改批次状态');
      await deps.store.updateStock(stock_id, {
        state: stock_state,
        updatedAt: deps.clock.now(stock.creatorMchid),
      });
      return { stock_id, stock_state };
    },
  );

  app.post(
    '/sandbox/v1/busifavor/coupons/delete',
    { schema: { body: DeleteCouponBody } },
    async (request, reply) => {
      const body = request.body as { stock_id: string; coupon_code: string };
      await deleteCouponByUser(deps, caller(request), body.stock_id, body.coupon_code);
      return reply.code(204).send();
    },
  );

  app.post(OUTCOMES, { schema: { body: SubsidyOutcomeBody } }, async (request) => {
    const body = request.body as SubsidyOutcomeBody;
    const mchid = caller(request);
    const expiresAtMs = parseExpireTime(body.expire_time);
    const rule = newSubsidyOutcomeRule(
      {
        mchid: body.scope === 'global' ? null : mchid,
        failReason: body.fail_reason,
        ...(body.stock_id !== undefined ? { stockId: body.stock_id } : {}),
        ...(body.count !== undefined ? { count: body.count } : {}),
        ...(expiresAtMs !== undefined ? { expiresAtMs } : {}),
      },
      { id: `SO${ctx.ids.token(22)}`, nowMs: ctx.wallClock() },
    );
    // A typo in stock_id would make a rule that never fires.
    if (rule.stockId !== null && !(await deps.store.findStock(rule.stockId))) {
      throw errors.RESOURCE_NOT_EXISTS('批次不存在', {
        field: '/stock_id',
        value: rule.stockId,
        location: 'body',
      });
    }
    await outcomes.insert(rule);
    return outcomeView(rule);
  });

  app.get(OUTCOMES, async (request) => {
    const rules = await outcomes.list(caller(request));
    return { total_count: rules.length, data: rules.map(outcomeView) };
  });

  const visibleOutcome = async (id: string, mchid: string): Promise<SubsidyOutcomeRule> =>
    visibleRule(await outcomes.get(id), id, mchid, '补差结果规则不存在');

  app.get(`${OUTCOMES}/:id`, { schema: { params: RuleIdParams } }, async (request) => {
    const { id } = request.params as { id: string };
    return outcomeView(await visibleOutcome(id, caller(request)));
  });

  app.delete(`${OUTCOMES}/:id`, { schema: { params: RuleIdParams } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const rule = await visibleOutcome(id, caller(request));
    await outcomes.delete(rule.id, rule.mchid);
    return reply.code(204).send();
  });

  app.delete(OUTCOMES, { schema: { querystring: DeleteRulesQuery } }, async (request, reply) => {
    const { scope } = request.query as Static<typeof DeleteRulesQuery>;
    await outcomes.deleteAll(scope === 'global' ? null : caller(request));
    return reply.code(204).send();
  });
}

/** The wire view of a subsidy outcome rule (absent fields are omitted). */
export interface SubsidyOutcomeView {
  id: string;
  scope: 'merchant' | 'global';
  mchid?: string;
  receipt_type: 'PAY_RECEIPT' | 'RETURN_RECEIPT';
  stock_id?: string;
  fail_reason: string;
  remaining?: number;
  fired: number;
  expire_time?: string;
  create_time: string;
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
