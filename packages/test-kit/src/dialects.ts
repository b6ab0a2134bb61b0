import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * The databases every DB/API test runs against. SQLite always; PostgreSQL on 127.0.0.1:5432 when reachable,
 * and always under CI=true (where an unreachable server is a failure, not a skip).
 */

/** Admin URL of the machine's PostgreSQL (trust auth). Override with WPS_TEST_PG_URL. */
export const PG_ADMIN_URL = process.env.WPS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh, empty database for one test file. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A dialect under test. */
export interface TestDialect {
  name: 'sqlite' | 'postgres';
  /** False when the test should be skipped (PostgreSQL unreachable outside CI). */
  available: boolean;
  create(): Promise<TestDatabase>;
}

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const pgUp = await postgresReachable();
if (!pgUp && process.env.CI === 'true') {
  throw new Error(`PostgreSQL is required under CI but ${PG_ADMIN_URL} is not reachable`);
}

/** A fresh SQLite file in a temporary folder. */
export async function createSqliteDatabase(): Promise<TestDatabase> {
  const dir = join(tmpdir(), `wps-test-${randomBytes(6).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  return {
    url: `sqlite:${join(dir, 'data.db')}`,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A fresh PostgreSQL database, dropped (with its connections) afterwards. */
export async function createPostgresDatabase(): Promise<TestDatabase> {
  const name = `wps_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Loop over these: `for (const dialect of DIALECTS) describe.skipIf(!dialect.available)(dialect.name, …)`. */
export const DIALECTS: readonly TestDialect[] = [
  { name: 'sqlite', available: true, create: createSqliteDatabase },
  { name: 'postgres', available: pgUp, create: createPostgresDatabase },
];
