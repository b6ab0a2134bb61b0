import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { MCHID_PATTERN } from '../credentials/file.js';
import { type DatabaseHandle, openDatabase } from '../db/connect.js';
import { migrateToLatest } from '../db/migrate.js';
import { UsageError } from './usage.js';

/**
 * Option parsing and database opening shared by the commands.
 * @see docs/cli.md
 */

/** Default credentials directory, relative to the working directory. */
export const DEFAULT_DIR = '.sandbox';

/** `--dir DIR` (default `.sandbox`). */
export const DIR_OPTION = { dir: { type: 'string', default: DEFAULT_DIR } } as const;
/** `--dir DIR` and `--db URL`. */
export const DB_OPTIONS = { ...DIR_OPTION, db: { type: 'string' } } as const;

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options, P extends boolean> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: P }>
>;

/** Parses GNU-style options strictly (no positionals); bad input becomes a {@link UsageError}. */
export function parse<O extends Options>(args: string[], options: O): Parsed<O, false>['values'] {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    // parseArgs says which option was unknown or lacked a value; keep its words.
    throw new UsageError((err as Error).message);
  }
}

/** Like {@link parse}, also returning positional arguments (ids). */
export function parseWithPositionals<O extends Options>(args: string[], options: O): Parsed<O, true> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The value of a required option, or a {@link UsageError} naming it. */
export function required(value: string | undefined, option: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${option} is required`);
  return value;
}

/** A required merchant id option (decimal digits). */
export function mchidOption(value: string | undefined, option = 'mchid'): string {
  const mchid = required(value, option);
  if (!MCHID_PATTERN.test(mchid)) {
    throw new UsageError(
      `--${option} must be a merchant id of decimal digits (e.g. 1900000001), got "${mchid}"`,
    );
  }
  return mchid;
}

/** `sqlite:DIR/data.db`, the database `start` uses without `--db`. */
export function defaultDbUrl(dir: string): string {
  return `sqlite:${resolve(dir, 'data.db')}`;
}

/** Opens the database of `--db` or DIR, migrated; a missing SQLite file is created only when `create` is set. */
export async function openCliDb(
  values: { db?: string; dir: string },
  create: boolean,
): Promise<DatabaseHandle> {
  const url = values.db ?? defaultDbUrl(values.dir);
  if (url.startsWith('sqlite:')) {
    const path = url.replace(/^sqlite:(\/\/)?/, '');
    if (!create && !existsSync(path)) {
      throw new UsageError(`no database at ${path}; pass --db, or --dir of a sandbox that has run \`start\``);
    }
    mkdirSync(resolve(path, '..'), { recursive: true });
  }
  const handle = openDatabase(url);
  try {
    // Idempotent, and needed when `merchant add` runs before the first `start`.
    await migrateToLatest(handle.db);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle;
}
