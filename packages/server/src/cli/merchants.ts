import {
  exportPublicKeyPem,
  KeyFormatError,
  loadCertificate,
  loadPublicKey,
  normalizeSerial,
} from '@wechatpay-sandbox/sdk/protocol';
import type { SigningMode } from '../credentials/types.js';
import {
  isSigningMode,
  type MerchantListing,
  SIGNING_MODES,
  UnknownParentError,
} from '../services/merchants.js';
import { DB_OPTIONS, mchidOption, parse, readInputFile, required, withServices } from './options.js';
import { type CliOutput, EXIT, UsageError, unknownSubcommand } from './usage.js';

/**
 * `wechatpay-sandbox merchant …`: register merchants whose keys were made elsewhere, change their
 * signing mode, list them. Through the merchants service over the sandbox's database.
 * @see ../../../../docs/cli.md
 */

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

async function merchantAdd(args: string[], out: CliOutput): Promise<number> {
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

  const name = values.name ?? `merchant ${mchid}`;
  const key = { serialNo, publicKeyPem, certificatePem };
  await withServices(values, { create: true }, async ({ merchants, displayUrl }) => {
    let created: boolean;
    try {
      ({ created } = await merchants.register({
        mchid,
        name,
        apiV3Key,
        apiV2Key,
        signingMode,
        parentMchid,
        key,
      }));
    } catch (err) {
      if (err instanceof UnknownParentError) {
        throw new UsageError(
          `--parent ${err.parentMchid} is not registered in ${displayUrl}; add the service provider first (wechatpay-sandbox merchant add --mchid ${err.parentMchid} …)`,
        );
      }
      throw err;
    }
    out.out(
      `${created ? 'Registered' : 'Updated'} merchant ${mchid} with key serial ${serialNo} ` +
        `(${certificatePem ? 'certificate' : 'public key'}, signing mode ${signingMode}) in ${displayUrl}`,
    );
  });
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

async function merchantSetMode(args: string[], out: CliOutput): Promise<number> {
  const values = parse(args, { ...DB_OPTIONS, mchid: { type: 'string' }, mode: { type: 'string' } });
  const mchid = mchidOption(values.mchid);
  const mode = modeOption(required(values.mode, 'mode'), 'mode');
  await withServices(values, { create: false }, async ({ merchants, displayUrl }) => {
    if (!(await merchants.setSigningMode(mchid, mode))) {
      throw new UsageError(
        `merchant ${mchid} is not registered in ${displayUrl}; see wechatpay-sandbox merchant list, or register it with merchant add`,
      );
    }
  });
  out.out(`Merchant ${mchid} now signs in ${mode} mode`);
  return EXIT.ok;
}

/**
 * A merchant as `merchant list --json` prints it: snake_case like the HTTP API's bodies. Never the
 * APIv3/APIv2 keys: a listing ends up in terminals and CI logs.
 */
function merchantView(m: MerchantListing) {
  return {
    mchid: m.mchid,
    name: m.name,
    signing_mode: m.signingMode,
    parent_mchid: m.parentMchid,
    keys: m.keys.map((k) => ({ serial_no: k.serialNo, kind: k.kind })),
  };
}

async function merchantList(args: string[], out: CliOutput): Promise<number> {
  const values = parse(args, { ...DB_OPTIONS, json: { type: 'boolean', default: false } });
  await withServices(values, { create: false }, async ({ merchants, displayUrl }) => {
    const listed = await merchants.list();
    if (values.json) {
      out.out(JSON.stringify({ total_count: listed.length, data: listed.map(merchantView) }, null, 2));
    } else if (listed.length === 0) {
      out.out(`No merchants in ${displayUrl}; register one with wechatpay-sandbox merchant add`);
    } else {
      for (const m of listed) {
        const parent = m.parentMchid ? ` sub-merchant of ${m.parentMchid}` : '';
        out.out(`${m.mchid}  ${m.signingMode}${parent}  ${m.name}`);
        for (const k of m.keys) out.out(`    ${k.serialNo}  ${k.kind}`);
      }
    }
  });
  return EXIT.ok;
}

/** Runs `merchant <sub> …` and returns the exit code (throws UsageError for bad input). */
export async function merchantCommand(
  sub: string | undefined,
  args: string[],
  out: CliOutput,
): Promise<number> {
  switch (sub) {
    case 'add':
      return merchantAdd(args, out);
    case 'set-mode':
      return merchantSetMode(args, out);
    case 'list':
      return merchantList(args, out);
    default:
      throw unknownSubcommand('merchant', sub, ['add', 'set-mode', 'list']);
  }
}
