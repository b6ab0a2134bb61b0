import { createHash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, type SqliteDatabase, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { DatabaseSchema } from './schema.js';

/**
 * Opens the database named by a URL: `sqlite:PATH` (or a bare path, or `:memory:`) with better-sqlite3
 * in WAL mode, or `postgres://…` with a pg pool. Differences between the two are capability flags,
 * never `if (dialect === …)` in business code.
 */

/** What a dialect can do, for the few queries that differ. */
export interface DialectCapabilities {
  /** `FOR UPDATE SKIP LOCKED` for claiming rows across processes. */
  skipLocked: boolean;
  /** Row locks (`FOR UPDATE`); SQLite serialises writers instead. */
  rowLocks: boolean;
}

/** An open database. */
export interface DatabaseHandle {
  db: Kysely<DatabaseSchema>;
  dialect: 'sqlite' | 'postgres';
  capabilities: DialectCapabilities;
  /** The URL with any password removed, safe to print. */
  displayUrl: string;
  close(): Promise<void>;
}

/** Options of openDatabase. */
export interface OpenDatabaseOptions {
  /** Max pool size for PostgreSQL. @default 10 */
  poolSize?: number;
}

/** Opens a database from its URL. */
export function openDatabase(url: string, options: OpenDatabaseOptions = {}): DatabaseHandle {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({
      connectionString: url,
      // A commit returns once PostgreSQL has it, without waiting for its WAL to reach the disk: acknowledged
      // data survives a crash of this process (kill -9), and only a crash of the database server itself
      // may lose its last fraction of a second. Coupon writes run about half again faster. A URL that sets
      // `options` (e.g. `?options=-c%20synchronous_commit%3Don`) replaces this.
      options: '-c synchronous_commit=off',
      max: options.poolSize ?? 10,
      // int8 (epoch milliseconds, counters) as JS numbers; every value we store fits in 2^53.
      types: {
        getTypeParser: ((oid: number, format?: string) =>
          oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as never,
      },
    });
    // An idle client losing its connection must not crash the process.
    pool.on('error', () => {});
    pool.on('connect', preparedStatementsOn);
    const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      dialect: 'postgres',
      capabilities: { skipLocked: true, rowLocks: true },
      displayUrl: url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@'),
      close: () => db.destroy(),
    };
  }
  const path = url.replace(/^sqlite:(\/\/)?/, '');
  createPrivateFile(path);
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<DatabaseSchema>({
    dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
  });
  return {
    db,
    dialect: 'sqlite',
    capabilities: { skipLocked: false, rowLocks: false },
    displayUrl: `sqlite:${path}`,
    close: () => db.destroy(),
  };
}

/** Statements a PostgreSQL connection keeps prepared; past this, new SQL texts run unnamed. */
const PG_PREPARED_MAX = 1000;

/** What PostgreSQL may prepare under a name: plain data statements (never DDL or transaction control). */
const PREPARABLE = /^\s*(select|insert|update|delete|with)\b/i;

/**
 * Makes a pool connection prepare each data statement once under a name derived from its SQL text, then
 * only bind and execute it: Kysely sends every query as new text, and PostgreSQL's parse and plan of
 * the small queries a request makes cost more than running them. The pg driver keeps the names it has
 * prepared per connection. Parameters are always bound, so the set of texts stays small.
 */
function preparedStatementsOn(client: pg.PoolClient): void {
  const plain = client.query.bind(client) as (
    config: unknown,
    values?: unknown,
    callback?: unknown,
  ) => unknown;
  const named = new Set<string>();
  const query = (config: unknown, values?: unknown, callback?: unknown) => {
    if (typeof config === 'string' && Array.isArray(values) && PREPARABLE.test(config)) {
      const name = statementName(config);
      if (named.has(name) || named.size < PG_PREPARED_MAX) {
        named.add(name);
        return plain({ name, text: config, values }, callback);
      }
    }
    return plain(config, values, callback);
  };
  client.query = query as typeof client.query;
}

/** Statement names by SQL text, shared by every connection: hashed once per text, not per query. */
const statementNames = new Map<string, string>();

/** The name a data statement is prepared under: a hash of its text. */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `wps_${createHash('sha1').update(text).digest('base64url')}`;
    if (statementNames.size < PG_PREPARED_MAX) statementNames.set(text, name);
  }
  return name;
}

/** Prepared statements kept per database; past this the cache starts over. */
const STATEMENT_CACHE_MAX = 500;

/**
 * The database as Kysely sees it, with each prepared statement kept by its SQL text: Kysely prepares
 * every query anew, and preparing costs more than running the small queries a request makes. The set of
 * distinct SQL texts is small (parameters are bound, never inlined), so the cache rarely starts over.
 * Statements are run to completion before the next one starts (better-sqlite3 is synchronous and
 * nothing here streams), so sharing one is safe.
 */
function withStatementCache(sqlite: Database.Database): SqliteDatabase {
  const statements = new Map<string, Database.Statement>();
  return {
    close: () => sqlite.close(),
    prepare: (sql: string) => {
      let statement = statements.get(sql);
      if (!statement) {
        if (statements.size >= STATEMENT_CACHE_MAX) statements.clear();
        statement = sqlite.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * Creates a missing SQLite file readable by its owner only (0600): it holds the merchants' APIv3 and
 * APIv2 keys. SQLite gives the `-wal` and `-shm` files it creates the main file's mode. An existing file
 * keeps its mode; `:memory:` and the empty path (a temporary database) have no file.
 */
function createPrivateFile(path: string): void {
  if (path === '' || path === ':memory:') return;
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
