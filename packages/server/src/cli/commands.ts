import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type AppConfig,
  isLogLevel,
  LOG_LEVEL_ENV,
  LOG_LEVELS,
  type LogLevel,
  MAX_DASHBOARD_FEED_SIZE,
  MAX_NOTIFY_CONCURRENCY,
  MIN_NOTIFY_LEASE_SECONDS,
  type TargetPolicy,
} from '../config.js';
import { CredentialsError } from '../credentials/errors.js';
import { CREDENTIALS_FILE_NAME, readCredentialsFile } from '../credentials/file.js';
import {
  type InitCredentialsResult,
  initCredentials,
  rotatePlatformCertificate,
} from '../credentials/generate.js';
import { listenCommand } from './listen.js';
import { merchantCommand } from './merchants.js';
import { notificationsCommand } from './notifications.js';
import {
  DB_OPTIONS,
  DEFAULT_DIR,
  DIR_OPTION,
  defaultDbUrl,
  mchidOption,
  parse,
  readInputFile,
} from './options.js';
import { type ProgressStream, seedCommand } from './seed.js';
import { triggerCommand } from './trigger.js';
import {
  type CliOutput,
  COMMAND_HELP,
  type CommandName,
  commandHelp,
  EXIT,
  USAGE,
  UsageError,
  unknownSubcommand,
} from './usage.js';

export type { CliOutput };
export { DEFAULT_DIR };

/**
 * The `wechatpay-sandbox` commands. Each takes its arguments and an output sink and returns an exit
 * code; only `main.ts` touches `process`. Secrets (APIv3/APIv2 keys, PEMs) are printed by
 * `credentials show` only.
 */

/** The server settings `start` takes from its flags (notify target policy and TLS trust, timeouts, log level). */
export type StartConfig = Pick<
  AppConfig,
  | 'targetPolicy'
  | 'notifyCaFile'
  | 'notifyInsecureTls'
  | 'notifyLeaseSeconds'
  | 'notifyConcurrency'
  | 'notifyMerchantConcurrency'
  | 'headersTimeoutMs'
  | 'requestTimeoutMs'
  | 'idleTimeoutMs'
  | 'logLevel'
  | 'dashboardFeedSize'
>;

/** Starts a server; injected so `start` does not import the HTTP stack for the other commands. */
export type StartServerFn = (options: {
  dir: string;
  host: string;
  port: number;
  dbUrl: string;
  config: StartConfig;
}) => Promise<{
  url: string;
  /** The dashboard's address, printed in the banner (docs/dashboard.md). */
  dashboardUrl?: string;
  /** The token the dashboard requires when listening beyond loopback. */
  dashboardToken?: string | undefined;
  close(): Promise<void>;
}>;

/** What the commands need from outside. */
export interface CliDeps {
  output: CliOutput;
  /** Loads `startServer` on demand. */
  loadStartServer: () => Promise<StartServerFn>;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  stopSignal: () => Promise<string>;
  /** The environment (`WPS_LOG_LEVEL`). @default {} */
  env?: Readonly<Record<string, string | undefined>>;
  /** What `--version` prints. */
  version: string;
  /** Where `seed` draws its progress (stderr); without it, plain lines through `output.err`. */
  progress?: ProgressStream;
}

function printInit(result: InitCredentialsResult, output: CliOutput): void {
  const { file, dir } = result;
  output.out(result.created ? `Initialised ${dir}` : `${dir} is already initialised; nothing was changed`);
  output.out(`  credentials:           ${result.credentialsPath}`);
  output.out(`  mchid:                 ${file.merchant.mchid} (signing mode ${file.merchant.signingMode})`);
  output.out(`  merchant serial:       ${file.merchant.serialNo}`);
  output.out(`  merchant private key:  ${join(dir, file.merchant.privateKeyFile)}`);
  output.out(`  merchant certificate:  ${join(dir, file.merchant.certificateFile)}`);
  output.out(`  platform serial:       ${file.platform.certificate.serialNo}`);
  output.out(`  platform certificate:  ${join(dir, file.platform.certificate.certificateFile)}`);
  output.out(`  WeChat Pay public key: ${join(dir, file.platform.publicKey.publicKeyFile)}`);
  output.out(`  public key id:         ${file.platform.publicKey.keyId}`);
  output.out(
    `  APIv3 key:             in credentials.json (wechatpay-sandbox credentials show --dir ${dir})`,
  );
}

async function initCommand(args: string[], deps: CliDeps): Promise<number> {
  const values = parse(args, { ...DIR_OPTION, mchid: { type: 'string' } });
  const mchid = values.mchid === undefined ? undefined : mchidOption(values.mchid);
  printInit(await initCredentials(values.dir, { mchid }), deps.output);
  return EXIT.ok;
}

async function startCommand(args: string[], deps: CliDeps): Promise<number> {
  const values = parse(args, {
    ...DB_OPTIONS,
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    workers: { type: 'string', default: '1' },
    'notify-policy': { type: 'string', default: 'local' },
    'notify-ca-file': { type: 'string' },
    'notify-insecure-tls': { type: 'boolean', default: false },
    'notify-lease-seconds': { type: 'string', default: '30' },
    'notify-concurrency': { type: 'string', default: '128' },
    'notify-merchant-concurrency': { type: 'string', default: '64' },
    'headers-timeout-ms': { type: 'string', default: '10000' },
    'request-timeout-ms': { type: 'string', default: '30000' },
    'idle-timeout-ms': { type: 'string', default: '60000' },
    'log-level': { type: 'string' },
    'dashboard-feed-size': { type: 'string', default: '500' },
  });
  const workers = Number(values.workers);
  if (!/^[0-9]+$/.test(values.workers) || workers < 1 || workers > 64) {
    throw new UsageError(`--workers must be a number from 1 to 64, got "${values.workers}"`);
  }
  const port = Number(values.port);
  if (!/^[0-9]+$/.test(values.port) || port > 65535) {
    throw new UsageError(`--port must be a number from 0 to 65535, got "${values.port}"`);
  }
  // Checked before anything is written, so a typo leaves no half-initialised DIR behind.
  const config: StartConfig = {
    ...notifyConfig(values),
    ...concurrencyConfig(values),
    ...timeoutConfig(values),
    logLevel: logLevelOption(values['log-level'], deps.env ?? {}),
    dashboardFeedSize: feedSizeOption(values['dashboard-feed-size']),
  };
  const dir = resolve(values.dir);
  const init = await initCredentials(dir);
  const dbUrl = values.db ?? defaultDbUrl(dir);
  const startServer = await deps.loadStartServer();
  let server: Awaited<ReturnType<StartServerFn>>;
  try {
    server =
      workers > 1
        ? await (await import('../cluster.js')).startCluster({
            dir,
            host: values.host,
            port,
            dbUrl,
            workers,
            config,
          })
        : await startServer({ dir, host: values.host, port, dbUrl, config });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`${values.host}:${port} is already in use; pass another --port (0 picks a free one)`);
    }
    throw err;
  }
  const { file } = init;
  const o = deps.output;
  o.out(`wechatpay-sandbox listening on ${server.url}${workers > 1 ? ` (${workers} worker processes)` : ''}`);
  o.out(`  mchid:           ${file.merchant.mchid}`);
  o.out(`  merchant serial: ${file.merchant.serialNo}`);
  o.out(`  platform serial: ${file.platform.certificate.serialNo}`);
  o.out(`  public key id:   ${file.platform.publicKey.keyId}`);
  o.out(`  credentials:     ${init.credentialsPath}${init.created ? ' (created now)' : ''}`);
  o.out(`  database:        ${openDatabaseDisplayUrl(dbUrl)}`);
  o.out(`  notify policy:   ${describePolicy(config.targetPolicy)}`);
  o.out(`  notify TLS:      ${describeTls(config)}`);
  o.out(`  log level:       ${config.logLevel}`);
  if (server.dashboardUrl) {
    // Beyond loopback the dashboard needs the token: the first visit with it sets a cookie.
    const token = server.dashboardToken ? `?token=${server.dashboardToken}` : '';
    o.out(`  dashboard:       ${server.dashboardUrl}${token}`);
  }
  o.out('Press Ctrl+C to stop.');
  const signal = await deps.stopSignal();
  o.out(`${signal}: stopping`);
  await server.close();
  return EXIT.ok;
}

/** `--notify-concurrency` and `--notify-merchant-concurrency`: deliveries in flight (docs/operations.md). */
function concurrencyConfig(values: {
  'notify-concurrency': string;
  'notify-merchant-concurrency': string;
}): Pick<StartConfig, 'notifyConcurrency' | 'notifyMerchantConcurrency'> {
  const [all, merchant] = (['notify-concurrency', 'notify-merchant-concurrency'] as const).map((flag) => {
    const value = values[flag];
    if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > MAX_NOTIFY_CONCURRENCY) {
      throw new UsageError(
        `--${flag} must be a whole number from 1 to ${MAX_NOTIFY_CONCURRENCY}, got "${value}"`,
      );
    }
    return Number(value);
  }) as [number, number];
  if (merchant > all) {
    throw new UsageError(
      `--notify-merchant-concurrency (${merchant}) must not exceed --notify-concurrency (${all})`,
    );
  }
  return { notifyConcurrency: all, notifyMerchantConcurrency: merchant };
}

/** `--dashboard-feed-size`: how many API calls the dashboard's live feed keeps (docs/dashboard.md). */
function feedSizeOption(value: string): number {
  const size = Number(value);
  if (!/^[0-9]+$/.test(value) || size < 1 || size > MAX_DASHBOARD_FEED_SIZE) {
    throw new UsageError(
      `--dashboard-feed-size must be a whole number from 1 to ${MAX_DASHBOARD_FEED_SIZE}, got "${value}"`,
    );
  }
  return size;
}

/** `--log-level`, else the level of `WPS_LOG_LEVEL`, else `info`. */
function logLevelOption(
  value: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): LogLevel {
  const fromEnv = env[LOG_LEVEL_ENV];
  if (value === undefined && (fromEnv === undefined || fromEnv === '')) return 'info';
  const level = (value ?? (fromEnv as string)).trim().toLowerCase();
  if (isLogLevel(level)) return level;
  throw new UsageError(
    value === undefined
      ? `${LOG_LEVEL_ENV} must be one of ${LOG_LEVELS.join(', ')}, got "${fromEnv}"; fix or unset it, or pass --log-level`
      : `--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`,
  );
}

/** `--notify-policy`, `--notify-ca-file` and `--notify-insecure-tls`, validated. */
function notifyConfig(values: {
  'notify-policy': string;
  'notify-ca-file'?: string | undefined;
  'notify-insecure-tls': boolean;
  'notify-lease-seconds': string;
}): Pick<StartConfig, 'targetPolicy' | 'notifyCaFile' | 'notifyInsecureTls' | 'notifyLeaseSeconds'> {
  const policy = values['notify-policy'];
  if (policy !== 'local' && policy !== 'strict') {
    throw new UsageError(`--notify-policy must be local or strict, got "${policy}"`);
  }
  const caFile = values['notify-ca-file'];
  if (caFile !== undefined && values['notify-insecure-tls']) {
    // Trusting one CA and trusting everything at once is a contradiction worth pointing out.
    throw new UsageError('pass --notify-ca-file or --notify-insecure-tls, not both');
  }
  const lease = values['notify-lease-seconds'];
  if (!/^[0-9]+$/.test(lease) || Number(lease) < MIN_NOTIFY_LEASE_SECONDS || Number(lease) > 3600) {
    throw new UsageError(
      `--notify-lease-seconds must be a whole number from ${MIN_NOTIFY_LEASE_SECONDS} to 3600, got "${lease}"`,
    );
  }
  return {
    targetPolicy: policy,
    notifyCaFile: caFile === undefined ? undefined : caFileOption(caFile),
    notifyInsecureTls: values['notify-insecure-tls'],
    notifyLeaseSeconds: Number(lease),
  };
}

/** Largest value of a timeout flag: one hour. */
const MAX_TIMEOUT_MS = 3_600_000;

/** `--headers-timeout-ms`, `--request-timeout-ms` and `--idle-timeout-ms`, validated. */
function timeoutConfig(values: {
  'headers-timeout-ms': string;
  'request-timeout-ms': string;
  'idle-timeout-ms': string;
}): Pick<StartConfig, 'headersTimeoutMs' | 'requestTimeoutMs' | 'idleTimeoutMs'> {
  const ms = (option: keyof typeof values): number => {
    const value = values[option];
    if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > MAX_TIMEOUT_MS) {
      throw new UsageError(`--${option} must be a whole number from 1 to ${MAX_TIMEOUT_MS}, got "${value}"`);
    }
    return Number(value);
  };
  const config = {
    headersTimeoutMs: ms('headers-timeout-ms'),
    requestTimeoutMs: ms('request-timeout-ms'),
    idleTimeoutMs: ms('idle-timeout-ms'),
  };
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    throw new UsageError(
      `--headers-timeout-ms (${config.headersTimeoutMs}) must not exceed --request-timeout-ms (${config.requestTimeoutMs}): the headers are part of the request`,
    );
  }
  return config;
}

/**
 * An absolute path to a readable PEM file of one or more certificates. Node's TLS quietly ignores a
 * file that holds no certificate, which would surface only later as a TLS error on every delivery.
 */
function caFileOption(path: string): string {
  const text = readInputFile(path, 'notify-ca-file');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    throw new UsageError(
      `--notify-ca-file ${path}: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file`,
    );
  }
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new UsageError(`--notify-ca-file ${path}: not a valid certificate (${(err as Error).message})`);
    }
  }
  return resolve(path);
}

function describePolicy(policy: TargetPolicy): string {
  return policy === 'strict'
    ? 'strict (delivery targets: public https only; loopback/private addresses refused at delivery)'
    : 'local (delivery targets after forwarding rules may be loopback/private or http; notify_url itself must be https)';
}

function describeTls(config: StartConfig): string {
  if (config.notifyInsecureTls) return 'certificates NOT verified (--notify-insecure-tls)';
  if (config.notifyCaFile) return `system CAs + ${config.notifyCaFile}`;
  return 'system CAs';
}

/** The URL without a password, as connect.ts prints it. */
function openDatabaseDisplayUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

async function credentialsShow(args: string[], deps: CliDeps): Promise<number> {
  const values = parse(args, DIR_OPTION);
  const dir = resolve(values.dir);
  const path = join(dir, CREDENTIALS_FILE_NAME);
  if (!existsSync(path))
    throw new UsageError(`${path} does not exist; run \`wechatpay-sandbox init --dir ${values.dir}\` first`);
  const file = readCredentialsFile(path);
  const abs = (f: string) => join(dir, f);
  deps.output.out(
    JSON.stringify(
      {
        dir,
        merchant: {
          ...file.merchant,
          privateKeyFile: abs(file.merchant.privateKeyFile),
          certificateFile: abs(file.merchant.certificateFile),
        },
        platform: {
          certificate: {
            ...file.platform.certificate,
            privateKeyFile: abs(file.platform.certificate.privateKeyFile),
            certificateFile: abs(file.platform.certificate.certificateFile),
          },
          publicKey: {
            ...file.platform.publicKey,
            privateKeyFile: abs(file.platform.publicKey.privateKeyFile),
            publicKeyFile: abs(file.platform.publicKey.publicKeyFile),
          },
        },
      },
      null,
      2,
    ),
  );
  return EXIT.ok;
}

async function platformRotate(args: string[], deps: CliDeps): Promise<number> {
  const values = parse(args, { ...DIR_OPTION, 'overlap-hours': { type: 'string', default: '24' } });
  const overlapHours = Number(values['overlap-hours']);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(values['overlap-hours']) || overlapHours > 720) {
    throw new UsageError(`--overlap-hours must be a number from 0 to 720, got "${values['overlap-hours']}"`);
  }
  const dir = resolve(values.dir);
  if (!existsSync(join(dir, CREDENTIALS_FILE_NAME))) {
    throw new UsageError(
      `${dir} has no ${CREDENTIALS_FILE_NAME}; run \`wechatpay-sandbox init --dir ${values.dir}\` first`,
    );
  }
  const result = await rotatePlatformCertificate(dir, { overlapHours });
  deps.output.out(`New platform certificate ${result.serialNo} signs from the next start on.`);
  deps.output.out(
    `Old certificate ${result.retired.serialNo} stays listed by /v3/certificates and accepted until ${result.retired.expireTime}.`,
  );
  deps.output.out('Restart the server (wechatpay-sandbox start) to serve both.');
  return EXIT.ok;
}

/** True when the arguments ask for help (before a `--` that ends the options). */
function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

function isCommandName(command: string): command is CommandName {
  return Object.hasOwn(COMMAND_HELP, command);
}

/** Runs a command, its help already handled. */
async function runCommand(command: CommandName, sub: string | undefined, rest: string[], deps: CliDeps) {
  switch (command) {
    case 'init':
      return initCommand(sub === undefined ? [] : [sub, ...rest], deps);
    case 'start':
      return startCommand(sub === undefined ? [] : [sub, ...rest], deps);
    case 'merchant':
      return merchantCommand(sub, rest, deps.output);
    case 'notifications':
      return notificationsCommand(sub, rest, deps.output);
    case 'listen':
      return listenCommand(sub === undefined ? [] : [sub, ...rest], deps);
    case 'trigger':
      return triggerCommand(sub === undefined ? [] : [sub, ...rest], deps.output);
    case 'seed':
      return seedCommand(sub === undefined ? [] : [sub, ...rest], deps.output, deps.progress);
    case 'platform':
      if (sub === 'rotate') return platformRotate(rest, deps);
      throw unknownSubcommand('platform', sub, ['rotate']);
    case 'credentials':
      if (sub === 'show') return credentialsShow(rest, deps);
      throw unknownSubcommand('credentials', sub, ['show']);
  }
}

/**
 * Runs one command line (without `node` and the script) and returns the exit code. `--help` (or `-h`)
 * anywhere prints the command's help, `--version` the version, both with exit code 0. Bad input is
 * reported as `error: …` plus a hint and exit code 2; other failures as `error: …` and exit code 1.
 */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  const [command, sub, ...rest] = argv;
  try {
    if (command === undefined) {
      deps.output.err(USAGE);
      return EXIT.usage;
    }
    if (command === '--version' || command === '-V' || command === 'version') {
      deps.output.out(deps.version);
      return EXIT.ok;
    }
    if (command === 'help' || command === '--help' || command === '-h') {
      deps.output.out(sub !== undefined && isCommandName(sub) ? commandHelp(sub) : USAGE);
      return EXIT.ok;
    }
    if (!isCommandName(command)) {
      throw new UsageError(
        `unknown command "${command}"; the commands are ${Object.keys(COMMAND_HELP).join(', ')}`,
      );
    }
    if (asksForHelp(argv)) {
      deps.output.out(commandHelp(command));
      return EXIT.ok;
    }
    return await runCommand(command, sub, rest, deps);
  } catch (err) {
    if (err instanceof UsageError) {
      deps.output.err(`error: ${err.message}`);
      deps.output.err(
        `Run wechatpay-sandbox ${command !== undefined && isCommandName(command) ? `${command} ` : ''}--help for usage.`,
      );
      return EXIT.usage;
    }
    if (err instanceof CredentialsError) {
      deps.output.err(`error: ${err.message}`);
      return EXIT.usage;
    }
    deps.output.err(`error: ${(err as Error).message ?? String(err)}`);
    return EXIT.failure;
  }
}
