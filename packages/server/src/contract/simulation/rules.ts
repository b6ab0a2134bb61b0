import { type TSchema, Type } from '@sinclair/typebox';

/**
 * What the simulation rule APIs share (fault rules under `/sandbox/v1/faults`, subsidy outcome rules
 * under `/sandbox/v1/busifavor/subsidy-outcomes`): the merchant/global scope, the rule id in the path,
 * the scope of a delete-all and an optional expiry.
 * @see docs/simulation.md
 */

/** Whom a rule or clock setting applies to: the caller (`merchant`, the default) or every merchant. */
export const RuleScope = Type.Union([Type.Literal('merchant'), Type.Literal('global')]);
/** `{id}` of a rule. */
export const RuleIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 40 }) });
/** `?scope=`: delete the caller's rules (default) or the global ones. */
export const DeleteRulesQuery = Type.Object(
  { scope: Type.Optional(RuleScope) },
  { additionalProperties: false },
);
/** A rule's wall-clock expiry, RFC 3339 with an offset (checked by the handler). */
export const ExpireTime = Type.String({ maxLength: 40 });

/** `schema` or `null` (an answer field that is null when there is nothing to say). */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
