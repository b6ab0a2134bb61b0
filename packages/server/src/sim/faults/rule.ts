import { paramError } from '../../errors.js';
import { checkRuleCount, checkRuleExpiry } from '../rule-limits.js';
import {
  type FaultAction,
  type FaultTarget,
  faultTargetOf,
  MAX_FAULT_DELAY_MS,
  type SendResultErrcode,
} from './action.js';
import { checkHttpRulePath, httpFault, resolveFaultError } from './http-fault.js';
import { checkSendRuleTarget, resolveSendErrcode, sendResultFault } from './send-result-fault.js';

/**
 * Fault rules: a rule belongs to one merchant (or to every merchant: global), matches a method and a path
 * pattern, and fires on the next N matching calls, on a seeded-random fraction of them, or both, until it
 * expires. Its path decides its {@link FaultTarget}: an HTTP error on `/v3`, a send result on the send
 * endpoints.
 * @see docs/simulation.md "Fault injection"
 */

/** Methods a rule may name; `*` matches any. */
export const FAULT_METHODS = ['*', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** A rule's method. */
export type FaultMethod = (typeof FAULT_METHODS)[number];

/** A stored rule. */
export interface FaultRule {
  id: string;
  /** The merchant it applies to, or null for every merchant. */
  mchid: string | null;
  method: FaultMethod;
  /** `/v3/…` or a send path, with `{name}` (or `*`) for one path segment. */
  pathPattern: string;
  /** The wire code (or send-result errcode) to fail with, or null for a delay-only rule. */
  errorCode: string | null;
  /** The HTTP status; null for a delay-only rule and for a send result (always 200). */
  status: number | null;
  /** The error message (or send-result `msg`); null = the documented one. */
  message: string | null;
  delayMs: number;
  /** Firings left, or null for unlimited. */
  remaining: number | null;
  /** Probability that a matching call fires, or null for every matching call. */
  fraction: number | null;
  /** Seed of the per-rule PRNG (a 32-bit unsigned integer). */
  seed: number;
  /** Matching calls seen (the PRNG's sequence number). */
  matched: number;
  /** Times it fired. */
  fired: number;
  /** Wall-clock expiry in epoch ms, or null. */
  expiresAtMs: number | null;
  createdAtMs: number;
}

/** A rule as a caller describes it, before validation. */
export interface FaultRuleInput {
  mchid: string | null;
  method?: string;
  path: string;
  code?: string;
  status?: number;
  message?: string;
  delayMs?: number;
  count?: number;
  fraction?: number;
  seed?: number;
  expiresAtMs?: number;
}

/** Compiles a path pattern (`{name}` or `*` = one segment) into an anchored RegExp. */
export function compilePathPattern(pattern: string): RegExp {
  const segments = pattern
    .split('/')
    .map((segment) =>
      /^\{[^{}/]+\}$/.test(segment) || segment === '*'
        ? '[^/]+'
        : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    );
  return new RegExp(`^${segments.join('/')}$`);
}

/** Whether a rule matches a call (method and path without the query). */
export function ruleMatches(rule: FaultRule, method: string, path: string): boolean {
  return (rule.method === '*' || rule.method === method) && compilePathPattern(rule.pathPattern).test(path);
}

/** Validates a rule and fills its defaults. Throws PARAM_ERROR naming the body field. */
export function newFaultRule(
  input: FaultRuleInput,
  ids: { id: string; seed: number; nowMs: number },
): FaultRule {
  const method = (input.method ?? '*').toUpperCase();
  if (!(FAULT_METHODS as readonly string[]).includes(method)) {
    throw paramError('/method', `must be one of ${FAULT_METHODS.join(', ')}`, 'body', input.method);
  }
  const target = faultTargetOf(input.path);
  switch (target) {
    case 'send-result':
      checkSendRuleTarget(input.path, method, input.method);
      break;
    case 'http':
      checkHttpRulePath(input.path);
      break;
  }
  const delayMs = input.delayMs ?? 0;
  if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > MAX_FAULT_DELAY_MS) {
    throw paramError('/delay_ms', `must be an integer in 0..${MAX_FAULT_DELAY_MS}`, 'body', input.delayMs);
  }
  const error = ruleError(target, input);
  if (!error && delayMs === 0) throw paramError('/code', 'a rule needs a code, a delay_ms, or both', 'body');
  if (input.message !== undefined && !error) throw paramError('/message', 'needs a code', 'body');
  checkRuleCount(input.count);
  if (input.fraction !== undefined && !(input.fraction > 0 && input.fraction <= 1)) {
    throw paramError('/fraction', 'must be in (0, 1]', 'body', input.fraction);
  }
  const seed = input.seed ?? ids.seed;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw paramError('/seed', 'must be an integer in 0..4294967295', 'body', input.seed);
  }
  checkRuleExpiry(input.expiresAtMs, ids.nowMs);
  return {
    id: ids.id,
    mchid: input.mchid,
    method: method as FaultMethod,
    pathPattern: input.path,
    errorCode: error?.code ?? null,
    status: error?.status ?? null,
    message: error ? (input.message ?? null) : null,
    delayMs,
    remaining: input.count ?? null,
    fraction: input.fraction ?? null,
    seed,
    matched: 0,
    fired: 0,
    expiresAtMs: input.expiresAtMs ?? null,
    createdAtMs: ids.nowMs,
  };
}

/** The stored code and status of a rule's failure, checked for its target; undefined = delay only. */
function ruleError(
  target: FaultTarget,
  input: FaultRuleInput,
): { code: string; status: number | null } | undefined {
  if (input.code === undefined) {
    if (input.status !== undefined) throw paramError('/status', 'needs a code', 'body', input.status);
    return undefined;
  }
  switch (target) {
    case 'send-result': {
      const code = resolveSendErrcode(input.code, { code: '/code', location: 'body' });
      if (input.status !== undefined) {
        throw paramError(
          '/status',
          'a send result is answered with 200; give no status',
          'body',
          input.status,
        );
      }
      return { code, status: null };
    }
    case 'http':
      return resolveFaultError(input.code, input.status, {
        code: '/code',
        status: '/status',
        location: 'body',
      });
  }
}

/** The action of a rule that fired. */
export function ruleAction(rule: FaultRule): FaultAction {
  const { errorCode, status, message, delayMs } = rule;
  if (errorCode === null) return { kind: 'delay', delayMs };
  switch (faultTargetOf(rule.pathPattern)) {
    case 'send-result':
      return sendResultFault(errorCode as SendResultErrcode, message, delayMs);
    case 'http':
      return status === null
        ? { kind: 'delay', delayMs }
        : httpFault({ code: errorCode, status, message }, delayMs);
  }
}
