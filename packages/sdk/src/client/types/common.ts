/**
 * Helpers shared by the wire types. Field names are exactly as on the wire (snake_case).
 */

/** An enum that tolerates values WeChat adds without notice while keeping autocompletion of the known ones. */
export type Open<T extends string> = T | (string & {});

/**
 * RFC 3339 time with an explicit offset, e.g. `2025-01-01T08:00:00+08:00`. Send it with seconds
 * (`yyyy-MM-DDTHH:mm:ss+TIMEZONE`): a time without them is refused with 400 `PARAM_ERROR`. Times in
 * answers are always `+08:00` with whole seconds, also those you sent in another offset.
 * @see docs/fidelity.md (Busifavor: times a caller sends, times in answers)
 */
export type Rfc3339 = string;

/** Offset pagination as busifavor lists use it. */
export interface OffsetPage<T> {
  data: T[];
  total_count: number;
  offset: number;
  limit: number;
}
