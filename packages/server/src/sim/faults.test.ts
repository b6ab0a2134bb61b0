import { describe, expect, it } from 'vitest';
import { WechatError } from '../errors.js';
import {
  compilePathPattern,
  FaultInjector,
  type FaultRuleInput,
  fractionFires,
  MemoryFaultStore,
  newFaultRule,
  parseFaultHeader,
  prngUnit,
  ruleAction,
} from './faults.js';

const M1 = '1900000001';
const M2 = '1900000002';
const USE = '/v3/marketing/busifavor/coupons/use';
const T0 = Date.UTC(2026, 0, 1);

function rule(input: Partial<FaultRuleInput>, id = 'r1', nowMs = T0) {
  return newFaultRule({ mchid: M1, path: USE, method: 'POST', ...input }, { id, seed: 42, nowMs });
}

function catchError(fn: () => unknown): WechatError {
  try {
    fn();
  } catch (e) {
    if (e instanceof WechatError) return e;
    throw e;
  }
  throw new Error('expected a WechatError');
}

describe('fault rules', () => {
  it('matches {param} and * as one path segment, literally otherwise', () => {
    const re = compilePathPattern('/v3/marketing/busifavor/users/{openid}/coupons/*/appids/{appid}');
    expect(re.test('/v3/marketing/busifavor/users/o1/coupons/123/appids/wx1')).toBe(true);
    expect(re.test('/v3/marketing/busifavor/users/o1/x/coupons/123/appids/wx1')).toBe(false);
    expect(compilePathPattern('/v3/a.b').test('/v3/aXb')).toBe(false);
    expect(compilePathPattern(USE).test(`${USE}/x`)).toBe(false);
  });

  it('defaults a code to its catalog status and allows only documented alternatives', () => {
    expect(rule({ code: 'SYSTEM_ERROR' })).toMatchObject({ errorCode: 'SYSTEM_ERROR', status: 500 });
    expect(rule({ code: 'SYSTEM_ERROR', status: 400 })).toMatchObject({ status: 400 });
    expect(rule({ code: 'SYSTEM_ERROR_400' })).toMatchObject({ errorCode: 'SYSTEM_ERROR', status: 400 });
    expect(rule({ code: 'SERVICE_UNAVAILABLE', status: 502 })).toMatchObject({ status: 502 });
    expect(rule({ code: 'FREQUENCY_LIMITED' })).toMatchObject({ status: 429 });
    const bad = catchError(() => rule({ code: 'FREQUENCY_LIMITED', status: 500 }));
    expect(bad).toMatchObject({ code: 'PARAM_ERROR', detail: { field: '/status' } });
    expect(catchError(() => rule({ code: 'NOPE' }))).toMatchObject({ detail: { field: '/code' } });
  });

  it.each([
    ['neither code nor delay', {}, '/code'],
    ['a status without a code', { status: 500, delayMs: 5 }, '/status'],
    ['a path outside /v3', { code: 'SYSTEM_ERROR', path: '/sandbox/v1/clock' }, '/path'],
    ['a path with a query', { code: 'SYSTEM_ERROR', path: `${USE}?a=1` }, '/path'],
    ['an unknown method', { code: 'SYSTEM_ERROR', method: 'TRACE' }, '/method'],
    ['a fraction of 0', { code: 'SYSTEM_ERROR', fraction: 0 }, '/fraction'],
    ['a count of 0', { code: 'SYSTEM_ERROR', count: 0 }, '/count'],
    ['a delay over the cap', { delayMs: 120_001 }, '/delay_ms'],
    ['an expiry in the past', { code: 'SYSTEM_ERROR', expiresAtMs: T0 }, '/expire_time'],
  ] as const)('refuses %s', (_name, input, field) => {
    expect(catchError(() => rule(input))).toMatchObject({ code: 'PARAM_ERROR', detail: { field } });
  });

  it('the PRNG is a pure function of seed and sequence, and roughly uniform', () => {
    expect(prngUnit(7, 3)).toBe(prngUnit(7, 3));
    expect(prngUnit(7, 3)).not.toBe(prngUnit(8, 3));
    let hits = 0;
    for (let i = 1; i <= 10_000; i++) if (fractionFires(123, i, 0.3)) hits++;
    expect(hits).toBeGreaterThan(2_800);
    expect(hits).toBeLessThan(3_200);
  });
});

describe('fault injector', () => {
  async function injector(...inputs: Partial<FaultRuleInput>[]) {
    const store = new MemoryFaultStore();
    let n = 0;
    for (const input of inputs) await store.insert(rule(input, `r${++n}`, T0 + n));
    let wall = T0 + 100;
    const inj = new FaultInjector({ store, wallClock: () => wall, cacheTtlMs: 1000 });
    const setWall = (ms: number) => {
      wall = ms;
    };
    return { inj, store, setWall };
  }

  it('fails exactly the next N matching calls, then lets calls through', async () => {
    const { inj } = await injector({ code: 'SYSTEM_ERROR', count: 2 });
    const a = await inj.match(M1, 'POST', USE);
    expect(a?.action).toEqual({
      kind: 'http',
      delayMs: 0,
      code: 'SYSTEM_ERROR',
      status: 500,
      message: '系统错误',
    });
    expect(await inj.match(M1, 'POST', USE)).toBeDefined();
    expect(await inj.match(M1, 'POST', USE)).toBeUndefined();
  });

  it('ignores other merchants, methods and paths', async () => {
    const { inj } = await injector({ code: 'SYSTEM_ERROR' });
    expect(await inj.match(M2, 'POST', USE)).toBeUndefined();
    expect(await inj.match(M1, 'GET', USE)).toBeUndefined();
    expect(await inj.match(M1, 'POST', '/v3/marketing/busifavor/coupons/return')).toBeUndefined();
    expect(await inj.match(M1, 'POST', USE)).toBeDefined();
  });

  it('applies global rules to every merchant, after the merchant’s own', async () => {
    const { inj } = await injector({ mchid: null, code: 'SYSTEM_ERROR' }, { code: 'FREQUENCY_LIMITED' });
    expect((await inj.match(M1, 'POST', USE))?.action).toMatchObject({ code: 'FREQUENCY_LIMITED' });
    expect((await inj.match(M2, 'POST', USE))?.action).toMatchObject({ code: 'SYSTEM_ERROR' });
  });

  it('stops at the expiry (wall clock)', async () => {
    const { inj, setWall } = await injector({ code: 'SYSTEM_ERROR', expiresAtMs: T0 + 5000 });
    expect(await inj.match(M1, 'POST', USE)).toBeDefined();
    setWall(T0 + 5000);
    expect(await inj.match(M1, 'POST', USE)).toBeUndefined();
  });

  it('fires a fraction of calls, reproducibly for the same seed', async () => {
    const run = async () => {
      const { inj } = await injector({ code: 'SYSTEM_ERROR', fraction: 0.5, seed: 99 });
      const pattern: boolean[] = [];
      for (let i = 0; i < 40; i++) pattern.push((await inj.match(M1, 'POST', USE)) !== undefined);
      return pattern;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    const fired = first.filter(Boolean).length;
    expect(fired).toBeGreaterThan(5);
    expect(fired).toBeLessThan(35);
  });

  it('a fraction with a count fires at most count times', async () => {
    const { inj, store } = await injector({ code: 'SYSTEM_ERROR', fraction: 0.5, count: 3 });
    let fired = 0;
    for (let i = 0; i < 100; i++) if (await inj.match(M1, 'POST', USE)) fired++;
    expect(fired).toBe(3);
    expect((await store.get('r1'))?.remaining).toBe(0);
  });

  it('a delay-only rule proceeds after the delay', async () => {
    const { inj } = await injector({ delayMs: 250 });
    expect((await inj.match(M1, 'POST', USE))?.action).toEqual({ kind: 'delay', delayMs: 250 });
  });

  it('a rule deleted behind the cache stops firing at once', async () => {
    const { inj, store } = await injector({ code: 'SYSTEM_ERROR' });
    expect(await inj.match(M1, 'POST', USE)).toBeDefined();
    await store.delete('r1', M1);
    expect(await inj.match(M1, 'POST', USE)).toBeUndefined();
  });
});

describe('negative-test header', () => {
  it.each([
    ['SYSTEM_ERROR', { kind: 'http', delayMs: 0, code: 'SYSTEM_ERROR', status: 500, message: '系统错误' }],
    ['delay=2000', { kind: 'delay', delayMs: 2000 }],
    [
      'delay=10; SYSTEM_ERROR; status=400',
      {
        kind: 'http',
        delayMs: 10,
        code: 'SYSTEM_ERROR',
        status: 400,
        message: '系统错误，请使用相同参数稍后重新调用',
      },
    ],
    [
      'FREQUENCY_LIMITED',
      { kind: 'http', delayMs: 0, code: 'FREQUENCY_LIMITED', status: 429, message: '频率限制' },
    ],
  ])('parses %s', (value, expected) => {
    expect(parseFaultHeader(value)).toEqual(expected);
  });

  it.each([
    '',
    'NOT_A_CODE',
    'SYSTEM_ERROR; status=404',
    'status=500',
    'delay=999999',
    'system_error',
    'SYSTEM_ERROR, RULE_LIMIT',
  ])('refuses %j with 400 INVALID_REQUEST in the header location', (value) => {
    expect(catchError(() => parseFaultHeader(value))).toMatchObject({
      code: 'INVALID_REQUEST',
      status: 400,
      detail: { location: 'header', field: 'Wechatpay-Sandbox-Fault' },
    });
  });
});

describe('send-endpoint rules', () => {
  const SEND = '/sandbox/v1/busifavor/send/miniapp';

  it('answer a plugin errcode (default or chosen msg) instead of an HTTP error', () => {
    expect(ruleAction(rule({ path: SEND, code: 'SYSTEMERROR' }))).toEqual({
      kind: 'send-result',
      delayMs: 0,
      errcode: 'SYSTEMERROR',
      msg: '系统错误，请稍后重试',
    });
    const all = rule({
      path: '/sandbox/v1/busifavor/send/*',
      method: '*',
      code: 'USER_GET_FAILED',
      message: 'x',
    });
    expect(all.status).toBeNull();
    expect(ruleAction(all)).toEqual({
      kind: 'send-result',
      delayMs: 0,
      errcode: 'USER_GET_FAILED',
      msg: 'x',
    });
    expect(ruleAction(rule({ path: SEND, delayMs: 10 }))).toEqual({ kind: 'delay', delayMs: 10 });
  });

  it('refuse catalog codes, statuses, other channels and methods on send paths, and send codes on /v3', () => {
    const field = (input: Partial<FaultRuleInput>) => catchError(() => rule(input)).detail?.field;
    expect(field({ path: SEND, code: 'SYSTEM_ERROR' })).toBe('/code');
    expect(field({ path: SEND, code: 'SYSTEMERROR', status: 500 })).toBe('/status');
    expect(field({ path: '/sandbox/v1/busifavor/send/api', code: 'SYSTEMERROR' })).toBe('/path');
    expect(field({ path: '/sandbox/v1/users', code: 'SYSTEM_ERROR' })).toBe('/path');
    expect(field({ path: SEND, method: 'GET', code: 'SYSTEMERROR' })).toBe('/method');
    expect(field({ code: 'USER_GET_FAILED' })).toBe('/code');
  });

  it('the header on a send path takes an errcode and a delay, nothing else', () => {
    expect(parseFaultHeader('delay=5; USER_GET_FAILED', { sendPath: true })).toEqual({
      kind: 'send-result',
      delayMs: 5,
      errcode: 'USER_GET_FAILED',
      msg: '获取用户信息失败，请稍后重试',
    });
    for (const value of ['SYSTEM_ERROR', 'SYSTEMERROR; status=500']) {
      expect(catchError(() => parseFaultHeader(value, { sendPath: true })).code).toBe('INVALID_REQUEST');
    }
    expect(catchError(() => parseFaultHeader('SYSTEMERROR')).code).toBe('INVALID_REQUEST');
  });
});
