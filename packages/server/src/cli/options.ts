import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { MCHID_PATTERN } from '../credentials/file.js';
import {
  type OfflineProbeSettings,
  type OfflineServices,
  openOfflineServices,
  sqliteFilePath,
} from '../offline.js';
import { UsageError } from './usage.js';

/**
 * Option parsing and opening the services over a sandbox's database, shared by the commands.
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

/** The text of a file named by `--option`, or a {@link UsageError} saying why it cannot be read. */
export function readInputFile(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `--${option} ${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

/** `sqlite:DIR/data.db`, the database `start` uses without `--db`. */
export function defaultDbUrl(dir: string): string {
  return `sqlite:${resolve(dir, 'data.db')}`;
}

/**
 * The database URL of `--db` or DIR; a SQLite file that does not exist yet is a {@link UsageError} saying
 * how to get one (the commands that read or add to a sandbox never create an empty one).
 */
export function existingDatabaseUrl(values: { db?: string; dir: string }): string {
  const url = values.db ?? defaultDbUrl(values.dir);
  const path = sqliteFilePath(url);
  if (path !== undefined && !existsSync(path)) {
    throw new UsageError(
      `no database at ${path}; run \`wechatpay-sandbox start --dir ${values.dir}\` once to create it, or pass --db URL`,
    );
  }
  return url;
}

/**
 * Runs `fn` with the services over the database of `--db` or DIR (opened, migrated, and closed after
 * it). A missing SQLite file is created only when `create` is set; otherwise it is a {@link UsageError}
 * saying how to get one.
 */
export async function withServices<T>(
  values: { db?: string; dir: string },
  options: { create: boolean; probe?: OfflineProbeSettings },
  fn: (services: OfflineServices) => Promise<T>,
): Promise<T> {
  const url = options.create ? (values.db ?? defaultDbUrl(values.dir)) : existingDatabaseUrl(values);
  const services = await openOfflineServices(url, options.probe ? { probe: options.probe } : {});
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}
