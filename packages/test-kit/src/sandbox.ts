import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '@wechatpay-sandbox/server';
import { type RunningServer, startServer } from '@wechatpay-sandbox/server/server';
import type { TestDatabase, TestDialect } from './dialects.js';
import {
  type SignedRequestInput,
  signedRequest,
  type TestMerchant,
  type TestResponse,
} from './signed-request.js';

/** A real sandbox server on a random loopback port with its own credentials and database. */
export interface TestSandbox {
  url: string;
  dir: string;
  dbUrl: string;
  server: RunningServer;
  merchant: TestMerchant;
  /** Sends a request signed by the dev merchant (or `input.merchant`). */
  request(input: SignedRequestInput): Promise<TestResponse>;
  /** Stops and starts the server again on the same credentials and database. */
  restart(): Promise<void>;
  /** Stops the server and removes its files and database. */
  close(): Promise<void>;
}

/** Options of startSandbox. */
export interface StartSandboxOptions {
  dialect: TestDialect;
  config?: Partial<AppConfig>;
}

/** Starts a sandbox for a test file. */
export async function startSandbox(options: StartSandboxOptions): Promise<TestSandbox> {
  const dir = join(tmpdir(), `wps-sandbox-${randomBytes(6).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const database: TestDatabase = await options.dialect.create();
  const start = () =>
    startServer({
      dir,
      host: '127.0.0.1',
      port: 0,
      dbUrl: database.url,
      // No callback deliveries unless a test asks for them: other tests' notify URLs are not receivers.
      config: { logLevel: 'silent', notifyDelivery: false, ...options.config },
    });
  let server = await start();
  const merchantOf = (s: RunningServer): TestMerchant => ({
    mchid: s.credentials.merchant.mchid,
    serialNo: s.credentials.merchant.serialNo,
    privateKey: s.credentials.merchant.privateKey,
    apiV3Key: s.credentials.merchant.apiV3Key,
  });
  const sandbox: TestSandbox = {
    url: server.url,
    dir,
    dbUrl: database.url,
    server,
    merchant: merchantOf(server),
    request: (input) => signedRequest(sandbox.url, sandbox.merchant, input),
    restart: async () => {
      await server.close();
      server = await start();
      sandbox.server = server;
      sandbox.url = server.url;
    },
    close: async () => {
      await server.close();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return sandbox;
}
