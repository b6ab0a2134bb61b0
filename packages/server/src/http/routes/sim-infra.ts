import { formatBeijingTime, parseRfc3339 } from '@wechatpay-sandbox/sdk/protocol';
import type { FastifyInstance } from 'fastify';
import type { SIM_INFRA_ENDPOINTS } from '../../contract/endpoints/simulation.js';
import type { ClockSettingView, ClockStateResponse, SetClockBody } from '../../contract/simulation/clock.js';
import type { FaultRuleView } from '../../contract/simulation/faults.js';
import { errors, paramError } from '../../errors.js';
import type { SimInfra } from '../../services/simulation.js';
import {
  type ClockAction,
  type ClockSetting,
  type ClockState,
  timeUnder,
  type VirtualClock,
} from '../../sim/clock.js';
import type { FaultRule } from '../../sim/faults.js';
import { newFaultRule } from '../../sim/faults.js';
import { registerFaultHook } from '../../sim/faults-hook.js';
import type { ServerContext } from '../context.js';
import type { EndpointHandlers } from '../endpoints.js';
import { parseExpireTime, visibleRule } from './sim-rules.js';

/**
 * Simulation infrastructure API under `/sandbox/v1/`: the virtual clock and fault-injection rules.
 * Authenticated like `/v3` (the gateway sets `request.merchant`). A merchant sees and changes only its own
 * merchant-scope settings; the global scope is open to every registered merchant (a single-tenant dev
 * tool — see docs/simulation.md).
 * @see docs/simulation.md
 */

/** Largest jump `advance` accepts: 100 years. */
const MAX_ADVANCE_SECONDS = 100 * 366 * 86_400;

/**
 * Adds the fault hook and, when `ctx.clock` is this virtual clock, starts it and refreshes its cache on
 * every request. Call after the authentication hook and before the routes.
 */
export function registerSimInfraHooks(app: FastifyInstance, ctx: ServerContext, sim: SimInfra): void {
  const { clock, faults } = sim;
  if (ctx.clock === clock) {
    clock.start();
    app.addHook('onClose', async () => clock.stop());
    // Bounds how stale business time can be on any request (changes made through another instance).
    // A failed read keeps the previous settings rather than failing the request.
    app.addHook('onRequest', async () => clock.ensureFresh().catch(() => {}));
  }
  registerFaultHook(app, faults);
}

/**
 * The `/sandbox/v1/clock` and `/sandbox/v1/faults` operations. The clock can only be moved when
 * `ctx.clock` is this virtual clock; with an injected plain clock the clock operations answer what an
 * unknown path does (404 `RESOURCE_NOT_EXISTS`).
 */
export function simInfraHandlers(
  ctx: ServerContext,
  sim: SimInfra,
): EndpointHandlers<typeof SIM_INFRA_ENDPOINTS> {
  const { faults } = sim;
  const movableClock = (): VirtualClock => {
    if (ctx.clock !== sim.clock) throw errors.RESOURCE_NOT_EXISTS('请求的接口不存在');
    return sim.clock;
  };
  const visibleFault = async (id: string, mchid: string): Promise<FaultRule> =>
    visibleRule(await faults.store.get(id), id, mchid, '故障规则不存在');

  return {
    getClock: async (_request, { merchant }) => {
      const clock = movableClock();
      await clock.ensureFresh();
      return clockView(clock.state(merchant.mchid));
    },
    setClock: async ({ body }, { merchant }) => {
      const clock = movableClock();
      const mchid = merchant.mchid;
      const scope =
        body.scope === 'global' ? ({ kind: 'global' } as const) : ({ kind: 'merchant', mchid } as const);
      await clock.change(scope, toClockAction(body));
      return clockView(clock.state(mchid));
    },
    createFault: async ({ body }, { merchant }) => {
      const expiresAtMs = parseExpireTime(body.expire_time);
      const rule = newFaultRule(
        {
          mchid: body.scope === 'global' ? null : merchant.mchid,
          method: body.method,
          path: body.path,
          code: body.code,
          status: body.status,
          message: body.message,
          delayMs: body.delay_ms,
          count: body.count,
          fraction: body.fraction,
          seed: body.seed,
          expiresAtMs,
        },
        { id: `FR${ctx.ids.token(22)}`, seed: Number(ctx.ids.digits(9)), nowMs: ctx.wallClock() },
      );
      await faults.store.insert(rule);
      faults.invalidate();
      return faultView(rule);
    },
    listFaults: async (_request, { merchant }) => {
      const rules = await faults.store.list(merchant.mchid);
      return { total_count: rules.length, data: rules.map(faultView) };
    },
    getFault: async ({ params }, { merchant }) => faultView(await visibleFault(params.id, merchant.mchid)),
    deleteFault: async ({ params }, { merchant }) => {
      const rule = await visibleFault(params.id, merchant.mchid);
      await faults.store.delete(rule.id, rule.mchid);
      faults.invalidate();
    },
    deleteFaults: async ({ query }, { merchant }) => {
      await faults.store.deleteAll(query.scope === 'global' ? null : merchant.mchid);
      faults.invalidate();
    },
  };
}

function toClockAction(body: SetClockBody): ClockAction {
  const allowBackwards = body.allow_backwards === true;
  const time = (): number => {
    if (body.time === undefined) throw paramError('/time', `is required for ${body.action}`);
    const parsed = parseRfc3339(body.time);
    if (!parsed)
      throw paramError(
        '/time',
        'must be RFC 3339 with an offset, e.g. 2026-01-01T00:00:00+08:00',
        'body',
        body.time,
      );
    return parsed.getTime();
  };
  const refuse = (field: 'time' | 'seconds') => {
    if (body[field] !== undefined)
      throw paramError(`/${field}`, `is not used by ${body.action}`, 'body', body[field]);
  };
  switch (body.action) {
    case 'freeze':
      refuse('seconds');
      return { action: 'freeze', atMs: body.time === undefined ? undefined : time(), allowBackwards };
    case 'set':
      refuse('seconds');
      return { action: 'set', atMs: time(), allowBackwards };
    case 'advance': {
      refuse('time');
      const seconds = body.seconds;
      if (seconds === undefined) throw paramError('/seconds', 'is required for advance');
      if (!Number.isFinite(seconds) || Math.abs(seconds) > MAX_ADVANCE_SECONDS) {
        throw paramError(
          '/seconds',
          `must be a number of at most ${MAX_ADVANCE_SECONDS} in magnitude`,
          'body',
          seconds,
        );
      }
      return { action: 'advance', deltaMs: seconds * 1000, allowBackwards };
    }
    case 'resume':
      refuse('time');
      refuse('seconds');
      return { action: 'resume', allowBackwards };
  }
}

function clockView(state: ClockState): ClockStateResponse {
  const effective = state.merchant ?? state.global;
  return {
    mchid: state.mchid,
    now: formatBeijingTime(state.nowMs),
    now_ms: state.nowMs,
    wall_time: formatBeijingTime(state.wallMs),
    mode: effective === undefined ? 'real' : effective.mode === 'frozen' ? 'frozen' : 'running',
    source: state.source,
    merchant: settingView(state.merchant, state.wallMs),
    global: settingView(state.global, state.wallMs),
  };
}

function settingView(setting: ClockSetting | undefined, wallMs: number): ClockSettingView | null {
  if (!setting) return null;
  const now = formatBeijingTime(timeUnder(setting, wallMs));
  return setting.mode === 'frozen'
    ? { mode: 'frozen', now }
    : { mode: 'running', now, offset_seconds: setting.offsetMs / 1000 };
}

function faultView(rule: FaultRule): FaultRuleView {
  const view: FaultRuleView = {
    id: rule.id,
    scope: rule.mchid === null ? 'global' : 'merchant',
    method: rule.method,
    path: rule.pathPattern,
    delay_ms: rule.delayMs,
    seed: rule.seed,
    matched: rule.matched,
    fired: rule.fired,
    create_time: formatBeijingTime(rule.createdAtMs),
  };
  if (rule.mchid !== null) view.mchid = rule.mchid;
  if (rule.errorCode !== null) view.code = rule.errorCode;
  if (rule.status !== null) view.status = rule.status;
  if (rule.message !== null) view.message = rule.message;
  if (rule.remaining !== null) view.remaining = rule.remaining;
  if (rule.fraction !== null) view.fraction = rule.fraction;
  if (rule.expiresAtMs !== null) view.expire_time = formatBeijingTime(rule.expiresAtMs);
  return view;
}
