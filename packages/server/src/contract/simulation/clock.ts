import { type Static, Type } from '@sinclair/typebox';
import { Nullable, RuleScope } from './rules.js';

/**
 * Wire contract of the business clock under `/sandbox/v1/clock`: read it, or freeze, set, advance or
 * resume it for the caller or for every merchant.
 * @see docs/simulation.md
 */

/** POST /sandbox/v1/clock */
export const SetClockBody = Type.Object(
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
export type SetClockBody = Static<typeof SetClockBody>;

/** One scope's own setting: time stands still, or runs `offset_seconds` away from the wall clock. */
export const ClockSettingView = Type.Union([
  Type.Object({ mode: Type.Literal('frozen'), now: Type.String() }),
  Type.Object({ mode: Type.Literal('running'), now: Type.String(), offset_seconds: Type.Number() }),
]);
export type ClockSettingView = Static<typeof ClockSettingView>;

/** The caller's business time and the settings it is made of (answer of GET and POST). */
export const ClockStateResponse = Type.Object({
  mchid: Type.Optional(Type.String()),
  now: Type.String(),
  now_ms: Type.Integer(),
  wall_time: Type.String(),
  mode: Type.Union([Type.Literal('real'), Type.Literal('frozen'), Type.Literal('running')]),
  /** Whose setting decides: the merchant's own, the global one, or none (real time). */
  source: Type.Union([Type.Literal('merchant'), Type.Literal('global'), Type.Literal('real')]),
  merchant: Nullable(ClockSettingView),
  global: Nullable(ClockSettingView),
});
export type ClockStateResponse = Static<typeof ClockStateResponse>;
