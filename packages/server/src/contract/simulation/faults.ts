import { type Static, Type } from '@sinclair/typebox';
import { ExpireTime, RuleScope } from './rules.js';

/**
 * Wire contract of the fault-injection rules under `/sandbox/v1/faults`: a rule makes matching calls of
 * the caller (or of every merchant) wait and/or fail with a WeChat error.
 * @see docs/simulation.md
 */

/** POST /sandbox/v1/faults (value ranges are checked by the handler, naming the field). */
export const CreateFaultBody = Type.Object(
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
export type CreateFaultBody = Static<typeof CreateFaultBody>;

/** A fault rule; absent fields are omitted (no `code`: a delay-only rule; no `remaining`: unlimited). */
export const FaultRuleView = Type.Object({
  id: Type.String(),
  scope: Type.Union([Type.Literal('merchant'), Type.Literal('global')]),
  mchid: Type.Optional(Type.String()),
  /** `*` or an HTTP method. */
  method: Type.String(),
  path: Type.String(),
  code: Type.Optional(Type.String()),
  status: Type.Optional(Type.Integer()),
  message: Type.Optional(Type.String()),
  delay_ms: Type.Integer(),
  remaining: Type.Optional(Type.Integer()),
  fraction: Type.Optional(Type.Number()),
  seed: Type.Integer(),
  matched: Type.Integer(),
  fired: Type.Integer(),
  expire_time: Type.Optional(Type.String()),
  create_time: Type.String(),
});
export type FaultRuleView = Static<typeof FaultRuleView>;

/** GET /sandbox/v1/faults: the caller's rules and the global ones. */
export const FaultRulesResponse = Type.Object({
  total_count: Type.Integer(),
  data: Type.Array(FaultRuleView),
});
export type FaultRulesResponse = Static<typeof FaultRulesResponse>;
