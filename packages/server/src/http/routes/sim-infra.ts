import { type Static, Type } from '@sinclair/typebox';
import { formatBeijingTime, parseRfc3339 } from '@wechatpay-sandbox/sdk/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DatabaseHandle } from '../../db/connect.js';
import { errors, paramError } from '../../errors.js';
import {
  type ClockAction,
  type ClockSetting,
  type ClockState,
  timeUnder,
  VirtualClock,
} from '../../sim/clock.js';
import { SqlClockStore } from '../../sim/clock-repo.js';
import { FaultInjector, type FaultRule, newFaultRule } from '../../sim/faults.js';
import { registerFaultHook } from '../../sim/faults-hook.js';
import { SqlFaultStore } from '../../sim/faults-repo.js';
import type { AuthenticatedMerchant, ServerContext } from '../context.js';
import {
  DeleteRulesQuery,
  ExpireTime,
  parseExpireTime,
  RuleIdParams,
  RuleScope,
  visibleRule,
} from './sim-rules.js';

/**
 * Simulation infrastructure API under `/sandbox/v1/`: the virtual clock and fault-injection rules.
 * Authenticated like `/v3` (the gateway sets `request.merchant`). A merchant sees and changes only its own
 * merchant-scope settings; the global scope is open to every registered merchant (a single-tenant dev
 * tool — see docs/simulation.md).
 * @see ../../../../../docs/simulation.md
 */

/** The simulation adapters buildApp creates. */
export interface SimInfra {
  clock: VirtualClock;
  faults: FaultInjector;
}

/** Options of {@link createSimInfra}. */
export interface SimInfraOptions {
  /** The wall clock. @default Date.now */
  wallClock?: () => number;
  /** Cache TTL of clock settings and fault rules, i.e. how late another instance's change is seen. @default 1000 */
  cacheTtlMs?: number;
}

/** Creates the virtual clock and the fault injector over the database, with the clock cache loaded. */
export async function createSimInfra(db: DatabaseHandle, options: SimInfraOptions = {}): Promise<SimInfra> {
  const clock = new VirtualClock({
    store: new SqlClockStore(db.db),
    wallClock: options.wallClock,
    cacheTtlMs: options.cacheTtlMs,
  });
  await clock.refresh();
  const faults = new FaultInjector({
    store: new SqlFaultStore(db.db),
    wallClock: options.wallClock,
    cacheTtlMs: options.cacheTtlMs,
  });
  return { clock, faults };
}

const ClockBody = Type.Object(
  {
    scope: Type.Optional(RuleScope),
    action: Type.Union([
      Type.Literal('freeze'),
      Type.Literal('set'),
      Type.Literal('advance'),
      Type.Literal('resume'),
    ]),
    time: Type.Optional(Type.String({ maxLength: 40 })),
    seconds: Type.Optional(Type.Number()),
    allow_backwards: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
type ClockBody = Static<typeof ClockBody>;

const FaultBody = Type.Object(
  {
    scope: Type.Optional(RuleScope),
    method: Type.Optional(Type.String({ minLength: 1, maxLength: 8 })),
    path: Type.String({ minLength: 1, maxLength: 512 }),
    code: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    status: Type.Optional(Type.Integer()),
    message: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    delay_ms: Type.Optional(Type.Integer()),
    count: Type.Optional(Type.Integer()),
    fraction: Type.Optional(Type.Number()),
    seed: Type.Optional(Type.Integer()),
    expire_time: Type.Optional(ExpireTime),
  },
  { additionalProperties: false },
);
type FaultBody = Static<typeof FaultBody>;

/** Largest jump `advance` accepts: 100 years. */
const MAX_ADVANCE_SECONDS = 100 * 366 * 86_400;

/**
 * Registers the fault hook, the clock-cache refresh, and the `/sandbox/v1/clock` and `/sandbox/v1/faults`
 * routes. Call after the authentication hook and before other routes. The clock routes exist only when
 * `ctx.clock` is this virtual clock (an injected plain clock cannot be moved).
 */
export async function registerSimInfraRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  sim: SimInfra,
): Promise<void> {
  const { clock, faults } = sim;
  const movable = ctx.clock === clock;
  if (movable) {
    clock.start();
    app.addHook('onClose', async () => clock.stop());
    // Bounds how stale business time can be on any request (changes made through another instance).
    // A failed read keeps the previous settings rather than failing the request.
    app.addHook('onRequest', async () => clock.ensureFresh().catch(() => {}));
  }
  registerFaultHook(app, faults);

  if (movable) {
    app.get('/sandbox/v1/clock', async (request) => {
      await clock.ensureFresh();
      return clockView(clock.state(caller(request).mchid));
    });

    app.post('/sandbox/v1/clock', { schema: { body: ClockBody } }, async (request) => {
      const body = request.body as ClockBody;
      const mchid = caller(request).mchid;
      const scope =
        body.scope === 'global' ? ({ kind: 'global' } as const) : ({ kind: 'merchant', mchid } as const);
      await clock.change(scope, toClockAction(body));
      return clockView(clock.state(mchid));
    });
  }

  app.post('/sandbox/v1/faults', { schema: { body: FaultBody } }, async (request) => {
    const body = request.body as FaultBody;
    const mchid = caller(request).mchid;
    const expiresAtMs = parseExpireTime(body.expire_time);
    const rule = newFaultRule(
      {
        mchid: body.scope === 'global' ? null : mchid,
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
  });

  app.get('/sandbox/v1/faults', async (request) => {
    const rules = await faults.store.list(caller(request).mchid);
    return { total_count: rules.length, data: rules.map(faultView) };
  });

  app.get('/sandbox/v1/faults/:id', { schema: { params: RuleIdParams } }, async (request) => {
    const { id } = request.params as { id: string };
    return faultView(await visibleFault(faults, id, caller(request).mchid));
  });

  app.delete('/sandbox/v1/faults/:id', { schema: { params: RuleIdParams } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const rule = await visibleFault(faults, id, caller(request).mchid);
    await faults.store.delete(rule.id, rule.mchid);
    faults.invalidate();
    return reply.code(204).send();
  });

  app.delete('/sandbox/v1/faults', { schema: { querystring: DeleteRulesQuery } }, async (request, reply) => {
    const { scope } = request.query as Static<typeof DeleteRulesQuery>;
    await faults.store.deleteAll(scope === 'global' ? null : caller(request).mchid);
    faults.invalidate();
    return reply.code(204).send();
  });
}

function caller(request: FastifyRequest): AuthenticatedMerchant {
  if (!request.merchant) throw errors.SIGN_ERROR();
  return request.merchant;
}

async function visibleFault(faults: FaultInjector, id: string, mchid: string): Promise<FaultRule> {
  return visibleRule(await faults.store.get(id), id, mchid, '故障规则不存在');
}

function toClockAction(body: ClockBody): ClockAction {
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

/** The wire view of a clock state. */
export interface ClockStateView {
  mchid: string | undefined;
  now: string;
  now_ms: number;
  wall_time: string;
  mode: 'real' | 'frozen' | 'running';
  source: ClockState['source'];
  merchant: ClockSettingView | null;
  global: ClockSettingView | null;
}

/** The wire view of one setting. */
export interface ClockSettingView {
  mode: 'frozen' | 'running';
  now: string;
  offset_seconds?: number;
}

function clockView(state: ClockState): ClockStateView {
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

/** The wire view of a rule (absent fields are omitted). */
export interface FaultRuleView {
  id: string;
  scope: 'merchant' | 'global';
  mchid?: string;
  method: string;
  path: string;
  code?: string;
  status?: number;
  message?: string;
  delay_ms: number;
  remaining?: number;
  fraction?: number;
  seed: number;
  matched: number;
  fired: number;
  expire_time?: string;
  create_time: string;
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
