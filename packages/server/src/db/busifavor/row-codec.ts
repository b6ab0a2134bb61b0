import type { Selectable } from 'kysely';

/**
 * Maps a domain record to its row and back through a field → column table. Columns in `numeric` are
 * bigint in SQL and come back as numbers (pg returns bigint as a string).
 */
export function rowCodec<T extends object, Row extends object>(
  columns: { [K in keyof T]: keyof Row & string },
  numeric: ReadonlyArray<keyof Row & string>,
) {
  const numericColumns = new Set<string>(numeric);
  const entries = Object.entries(columns) as Array<[string, string]>;
  return {
    /** The columns of the fields present in `record` (a whole record or a patch). */
    toRow(record: Partial<T>): Row {
      const row: Record<string, unknown> = {};
      for (const [key, column] of entries) if (key in record) row[column] = record[key as keyof T];
      return row as Row;
    },
    fromRow(row: Selectable<Row>): T {
      const out: Record<string, unknown> = {};
      for (const [key, column] of entries) {
        const v = (row as Record<string, unknown>)[column];
        out[key] = numericColumns.has(column) && v !== null ? Number(v) : v;
      }
      return out as T;
    },
  };
}
