/**
 * WeChat's time format: RFC 3339 at second precision with the Beijing offset, e.g. 2025-01-01T08:00:00+08:00.
 * @see docs/protocol.md §8.4
 */

const BEIJING_OFFSET_MS = 8 * 3600 * 1000;

/** Formats an instant as `yyyy-MM-ddTHH:mm:ss+08:00`. */
export function formatBeijingTime(instant: Date | number): string {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  const shifted = new Date(ms + BEIJING_OFFSET_MS).toISOString();
  return `${shifted.slice(0, 19)}+08:00`;
}

/** Parses an RFC 3339 time with an explicit offset (`Z` or ±hh:mm, optional fraction); undefined if invalid. */
export function parseRfc3339(value: string): Date | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.exec(
    value,
  );
  if (!match) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
