import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  exportPublicKeyPem,
  KeyFormatError,
  loadCertificate,
  loadPublicKey,
  normalizeSerial,
} from '@wechatpay-sandbox/sdk/protocol';
import { type AppConfig, MIN_NOTIFY_LEASE_SECONDS, type TargetPolicy } from '../config.js';
import { CredentialsError } from '../credentials/errors.js';
import { CREDENTIALS_FILE_NAME, readCredentialsFile } from '../credentials/file.js';
import {
  type InitCredentialsResult,
  initCredentials,
  rotatePlatformCertificate,
} from '../credentials/generate.js';
import type { SigningMode } from '../credentials/types.js';
import { isSigningMode, MerchantRepo, SIGNING_MODES } from '../db/merchant-repo.js';
import { notificationsCommand } from './notifications.js';
import {
  DB_OPTIONS,
  DEFAULT_DIR,
  DIR_OPTION,
  defaultDbUrl,
  mchidOption,
  openCliDb,
  parse,
  required,
} from './options.js';
import { type CliOutput, EXIT, USAGE, UsageError } from './usage.js';

export type { CliOutput };
export { DEFAULT_DIR };

/**
 * The `wechatpay-sandbox` commands. Each takes its arguments and an output sink and returns an exit
 * code; only `main.ts` touches `process`. Secrets (APIv3/APIv2 keys, PEMs) are printed by
 * `credentials show` only.
 */

/** The server settings `start` takes from its flags (notify target policy and TLS trust, timeouts). */
export type StartConfig = Pick<
  AppConfig,
  | 'targetPolicy'
  | 'notifyCaFile'
  | 'notifyInsecureTls'
  | 'notifyLeaseSeconds'
  | 'headersTimeoutMs'
  | 'requestTimeoutMs'
  | 'idleTimeoutMs'
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
  close(): Promise<void>;
}>;

/** What the commands need from outside. */
export interface CliDeps {
  output: CliOutput;
  /** Loads `startServer` on demand. */
  loadStartServer: () => Promise<StartServerFn>;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  stopSignal: () => Promise<string>;
}

function modeOption(value: string, option: string): SigningMode {
  if (!isSigningMode(value)) {
    throw new UsageError(`--${option} must be one of ${SIGNING_MODES.join(', ')}, got "${value}"`);
  }
  return value;
}

/** APIv3/APIv2 keys are 32 bytes: AES-256 needs exactly that many, and WeChat's settings page enforces it. */
function apiKeyOption(value: string, option: string): string {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes !== 32) throw new UsageError(`--${option} must be exactly 32 bytes, got ${bytes}`);
  return value;
}

const openMerchantDb = openCliDb;

function readInputFile(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `--${option} ${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
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
    'headers-timeout-ms': { type: 'string', default: '10000' },
    'request-timeout-ms': { type: 'string', default: '30000' },
    'idle-timeout-ms': { type: 'string', default: '60000' },
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
  const config: StartConfig = { ...notifyConfig(values), ...timeoutConfig(values) };
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
  o.out('Press Ctrl+C to stop.');
  const signal = await deps.stopSignal();
  o.out(`${signal}: stopping`);
  await server.close();
  return EXIT.ok;
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
    ? 'strict (public https targets only; loopback/private addresses refused at delivery)'
    : 'local (loopback/private targets and http allowed)';
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

async function merchantAdd(args: string[], deps: CliDeps): Promise<number> {
  const values = parse(args, {
    ...DB_OPTIONS,
    mchid: { type: 'string' },
    certificate: { type: 'string' },
    'public-key': { type: 'string' },
    serial: { type: 'string' },
    'api-v3-key': { type: 'string' },
    'api-v2-key': { type: 'string' },
    name: { type: 'string' },
    'signing-mode': { type: 'string', default: 'pubkey' },
    parent: { type: 'string' },
  });
  const mchid = mchidOption(values.mchid);
  const apiV3Key = apiKeyOption(required(values['api-v3-key'], 'api-v3-key'), 'api-v3-key');
  const apiV2Key =
    values['api-v2-key'] === undefined ? null : apiKeyOption(values['api-v2-key'], 'api-v2-key');
  const signingMode = modeOption(values['signing-mode'], 'signing-mode');
  const parentMchid = values.parent === undefined ? null : mchidOption(values.parent, 'parent');
  if (parentMchid === mchid) throw new UsageError('--parent must be another merchant (the service provider)');

  let serialNo: string;
  let publicKeyPem: string;
  let certificatePem: string | null = null;
  const serialArg = values.serial === undefined ? undefined : serialOption(values.serial);
  if (values.certificate !== undefined && values['public-key'] !== undefined) {
    throw new UsageError('pass either --certificate or --public-key with --serial, not both');
  }
  if (values.certificate !== undefined) {
    const path = values.certificate;
    const cert = wrapKeyError(() => loadCertificate(readInputFile(path, 'certificate')), 'certificate', path);
    if (serialArg !== undefined && serialArg !== cert.serialNo) {
      throw new UsageError(`--serial ${serialArg} differs from the serial of ${path} (${cert.serialNo})`);
    }
    requireRsa(cert.publicKey.asymmetricKeyType, 'certificate', path);
    serialNo = cert.serialNo;
    publicKeyPem = exportPublicKeyPem(cert.publicKey);
    certificatePem = cert.pem;
  } else if (values['public-key'] !== undefined) {
    const path = values['public-key'];
    if (serialArg === undefined)
      throw new UsageError('--public-key needs --serial, the serial your client sends');
    const text = readInputFile(path, 'public-key');
    // createPublicKey would quietly derive the public half; a private key here is a mistake worth naming.
    if (text.includes('PRIVATE KEY')) {
      throw new UsageError(
        `--public-key ${path} holds a private key; pass its public half (openssl pkey -in KEY -pubout)`,
      );
    }
    const key = wrapKeyError(() => loadPublicKey(text), 'public-key', path);
    requireRsa(key.asymmetricKeyType, 'public-key', path);
    serialNo = serialArg;
    publicKeyPem = exportPublicKeyPem(key);
  } else {
    throw new UsageError('pass --certificate FILE, or --public-key FILE with --serial S');
  }

  const handle = await openMerchantDb(values, true);
  try {
    const repo = new MerchantRepo(handle.db);
    if (parentMchid !== null && !(await repo.findMerchant(parentMchid))) {
      throw new UsageError(`--parent ${parentMchid} is not registered; add the service provider first`);
    }
    const existed = (await repo.findMerchant(mchid)) !== undefined;
    await repo.upsertMerchant({
      mchid,
      name: values.name ?? `merchant ${mchid}`,
      apiV3Key,
      apiV2Key,
      signingMode,
      parentMchid,
    });
    await repo.addMerchantKey(mchid, serialNo, publicKeyPem, certificatePem);
    deps.output.out(
      `${existed ? 'Updated' : 'Registered'} merchant ${mchid} with key serial ${serialNo} ` +
        `(${certificatePem ? 'certificate' : 'public key'}, signing mode ${signingMode}) in ${handle.displayUrl}`,
    );
  } finally {
    await handle.close();
  }
  return EXIT.ok;
}

function serialOption(value: string): string {
  const serial = normalizeSerial(value);
  if (!/^[0-9A-F]{1,64}$/.test(serial)) {
    throw new UsageError(
      `--serial must be hexadecimal (as openssl x509 -noout -serial prints it), got "${value}"`,
    );
  }
  return serial;
}

/** APIv3 signatures are SHA256-RSA only; another key type could never verify. */
function requireRsa(type: string | undefined, option: string, path: string): void {
  if (type !== 'rsa')
    throw new UsageError(`--${option} ${path}: WeChat Pay APIv3 needs an RSA key, got ${type}`);
}

function wrapKeyError<T>(fn: () => T, option: string, path: string): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof KeyFormatError) throw new UsageError(`--${option} ${path}: ${err.message}`);
    throw err;
  }
}

async function merchantSetMode(args: string[], deps: CliDeps): Promise<number> {
  const values = parse(args, { ...DB_OPTIONS, mchid: { type: 'string' }, mode: { type: 'string' } });
  const mchid = mchidOption(values.mchid);
  const mode = modeOption(required(values.mode, 'mode'), 'mode');
  const handle = await openMerchantDb(values, false);
  try {
    if (!(await new MerchantRepo(handle.db).setSigningMode(mchid, mode))) {
      throw new UsageError(`merchant ${mchid} is not registered in ${handle.displayUrl}`);
    }
  } finally {
    await handle.close();
  }
  deps.output.out(`Merchant ${mchid} now signs in ${mode} mode`);
  return EXIT.ok;
}

async function merchantList(args: string[], deps: CliDeps): Promise<number> {
  const values = parse(args, { ...DB_OPTIONS, json: { type: 'boolean', default: false } });
  const handle = await openMerchantDb(values, false);
  try {
    const repo = new MerchantRepo(handle.db);
    const rows = [];
    for (const m of await repo.listMerchants()) {
      const keys = await repo.listMerchantKeys(m.mchid);
      // Never the APIv3/APIv2 keys: a listing ends up in terminals and CI logs.
      rows.push({
        mchid: m.mchid,
        name: m.name,
        signingMode: m.signingMode,
        parentMchid: m.parentMchid,
        keys: keys.map((k) => ({
          serialNo: k.serialNo,
          kind: k.certificatePem ? 'certificate' : 'public-key',
        })),
      });
    }
    if (values.json) {
      deps.output.out(JSON.stringify(rows, null, 2));
    } else if (rows.length === 0) {
      deps.output.out(`No merchants in ${handle.displayUrl}`);
    } else {
      for (const r of rows) {
        const parent = r.parentMchid ? ` sub-merchant of ${r.parentMchid}` : '';
        deps.output.out(`${r.mchid}  ${r.signingMode}${parent}  ${r.name}`);
        for (const k of r.keys) deps.output.out(`    ${k.serialNo}  ${k.kind}`);
      }
    }
  } finally {
    await handle.close();
  }
  return EXIT.ok;
}

async function credentialsShow(args: string[], deps: CliDeps): Promise<number> {
  const values = parse(args, DIR_OPTION);
  const dir = resolve(values.dir);
  const path = join(dir, CREDENTIALS_FILE_NAME);
  if (!existsSync(path))
    throw new UsageError(`${path} does not exist; run wechatpay-sandbox init --dir ${values.dir}`);
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
      `${dir} has no ${CREDENTIALS_FILE_NAME}; run wechatpay-sandbox init --dir ${values.dir}`,
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

/**
 * Runs one command line (without `node` and the script) and returns the exit code. Bad input is
 * reported as `error: …` plus a hint and exit code 2; other failures as `error: …` and exit code 1.
 */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  const [command, sub, ...rest] = argv;
  try {
    switch (command) {
      case 'init':
        return await initCommand(argv.slice(1), deps);
      case 'start':
        return await startCommand(argv.slice(1), deps);
      case 'merchant':
        if (sub === 'add') return await merchantAdd(rest, deps);
        if (sub === 'set-mode') return await merchantSetMode(rest, deps);
        if (sub === 'list') return await merchantList(rest, deps);
        throw new UsageError(`unknown merchant command "${sub ?? ''}"; use add, set-mode or list`);
      case 'notifications':
        return await notificationsCommand(sub, rest, deps.output);
      case 'platform':
        if (sub === 'rotate') return await platformRotate(rest, deps);
        throw new UsageError(`unknown platform command "${sub ?? ''}"; use rotate`);
      case 'credentials':
        if (sub === 'show') return await credentialsShow(rest, deps);
        throw new UsageError(`unknown credentials command "${sub ?? ''}"; use show`);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        deps.output.out(USAGE);
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      deps.output.err(`error: ${err.message}`);
      deps.output.err('Run wechatpay-sandbox --help for usage.');
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
