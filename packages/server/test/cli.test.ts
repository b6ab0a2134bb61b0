import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decryptAeadAes256Gcm, loadCertificate, normalizeSerial } from '@wechatpay-sandbox/sdk/protocol';
import {
  DIALECTS,
  signedRequest,
  type TestDatabase,
  type TestMerchant,
  verifyTestResponse,
} from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The `wechatpay-sandbox` command as a user runs it: the built bin in a child process, key material
 * from the openssl CLI, real databases, and signed HTTP requests to the started server.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'packages/server/dist/cli/main.js');
const API_V3_KEY = 'Sandbox0123456789abcdefghijKLMNO';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], cwd: string): Promise<Run> {
  return new Promise((done) => {
    execFile('node', [BIN, ...args], { cwd, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

const openssl = (args: string[], cwd: string) =>
  execFileSync('openssl', args, { cwd, encoding: 'utf8' }).trim();

/**
 * A merchant key pair and self-signed API certificate made with openssl, as a merchant might.
 * `serial` is as openssl prints it (an even number of digits, so sometimes a leading 0); `serialNo` is
 * the normalized form the sandbox stores and prints.
 */
function opensslMerchant(
  cwd: string,
  mchid: string,
): { key: string; cert: string; serial: string; serialNo: string } {
  const key = join(cwd, `${mchid}.key`);
  const cert = join(cwd, `${mchid}.crt`);
  openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '30'].concat([
      '-subj',
      `/CN=${mchid}`,
    ]),
    cwd,
  );
  const serial = openssl(['x509', '-in', cert, '-noout', '-serial'], cwd).replace(/^serial=/, '');
  return { key, cert, serial, serialNo: normalizeSerial(serial) };
}

/** Runs `start` and resolves with the base URL once it prints it. */
function startCli(
  args: string[],
  cwd: string,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn('node', [BIN, 'start', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((done, fail) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) done({ child, url: match[1], output: () => output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => fail(new Error(`start exited with ${code}:\n${output}`)));
  });
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((done) => {
    if (child.exitCode !== null) return done(child.exitCode);
    child.on('exit', (code) => done(code));
    child.kill(signal);
  });
}

let work: string;

beforeAll(() => {
  // The bin is what users run, so test the build, not the sources.
  execFileSync('npx', ['tsc', '-b', 'packages/sdk', 'packages/server'], { cwd: ROOT, stdio: 'pipe' });
  expect(existsSync(BIN)).toBe(true);
  work = mkdtempSync(join(tmpdir(), 'wps-cli-'));
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('wechatpay-sandbox init', () => {
  it('writes the dev merchant into a new directory and prints where everything is, without secrets', async () => {
    const run = await cli(['init', '--dir', 'sbx', '--mchid', '1900000123'], work);
    expect(run.code).toBe(0);
    const dir = join(work, 'sbx');
    const file = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8'));
    expect(file.merchant.mchid).toBe('1900000123');
    expect(run.stdout).toContain(join(dir, 'credentials.json'));
    expect(run.stdout).toContain(file.merchant.serialNo);
    expect(run.stdout).toContain(file.platform.publicKey.keyId);
    expect(run.stdout).not.toContain(file.merchant.apiV3Key);
    expect(run.stdout).not.toContain(file.merchant.apiV2Key);
    expect(run.stdout).not.toContain('PRIVATE KEY');
  });

  it('changes nothing when run again, even with another mchid', async () => {
    const dir = join(work, 'sbx');
    const files = ['credentials.json', 'merchant/apiclient_key.pem', 'platform/pub_key_private.pem'];
    const before = files.map((f) => [readFileSync(join(dir, f)), statSync(join(dir, f)).mtimeMs] as const);
    const run = await cli(['init', '--dir', 'sbx', '--mchid', '1900000999'], work);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/already initialised; nothing was changed/);
    expect(run.stdout).toContain('1900000123');
    files.forEach((f, i) => {
      expect(readFileSync(join(dir, f)).equals(before[i]?.[0] as Buffer), f).toBe(true);
      expect(statSync(join(dir, f)).mtimeMs, f).toBe(before[i]?.[1]);
    });
  });

  it('prints the APIv3 key only on `credentials show`', async () => {
    const run = await cli(['credentials', 'show', '--dir', 'sbx'], work);
    expect(run.code).toBe(0);
    const shown = JSON.parse(run.stdout);
    const file = JSON.parse(readFileSync(join(work, 'sbx/credentials.json'), 'utf8'));
    expect(shown.merchant.apiV3Key).toBe(file.merchant.apiV3Key);
    expect(shown.merchant.privateKeyFile).toBe(join(work, 'sbx/merchant/apiclient_key.pem'));
  });
});

describe('wechatpay-sandbox bad input', () => {
  let cert: string;
  let key: string;
  beforeAll(() => {
    ({ cert, key } = opensslMerchant(work, '1900000777'));
    writeFileSync(
      join(work, 'ec.key'),
      openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], work),
    );
    writeFileSync(join(work, 'ec.pub'), openssl(['pkey', '-in', 'ec.key', '-pubout'], work));
  });

  const add = (...extra: string[]) => ['merchant', 'add', '--dir', 'bad', '--mchid', '1900000777', ...extra];
  const cases: Array<[string, () => string[], RegExp]> = [
    ['no command', () => [], /Usage: wechatpay-sandbox/],
    ['an unknown command', () => ['frobnicate'], /unknown command "frobnicate"/],
    ['an unknown option', () => ['init', '--bogus'], /Unknown option '--bogus'/],
    [
      'a non-decimal mchid',
      () => ['init', '--dir', 'x', '--mchid', '19abc'],
      /--mchid must be a merchant id/,
    ],
    [
      'a short APIv3 key',
      () => add('--certificate', cert, '--api-v3-key', 'short'),
      /--api-v3-key must be exactly 32 bytes, got 5/,
    ],
    ['a missing APIv3 key', () => add('--certificate', cert), /--api-v3-key is required/],
    [
      'a 32-char APIv3 key of 33 bytes',
      () => add('--certificate', cert, '--api-v3-key', `é${'a'.repeat(31)}`),
      /exactly 32 bytes, got 33/,
    ],
    [
      'no key at all',
      () => add('--api-v3-key', API_V3_KEY),
      /pass --certificate FILE, or --public-key FILE with --serial S/,
    ],
    [
      'both a certificate and a public key',
      () => add('--certificate', cert, '--public-key', cert, '--serial', 'AB', '--api-v3-key', API_V3_KEY),
      /either --certificate or --public-key/,
    ],
    [
      'a public key without serial',
      () => add('--public-key', 'ec.pub', '--api-v3-key', API_V3_KEY),
      /--public-key needs --serial/,
    ],
    [
      'a serial that is not hex',
      () => add('--public-key', 'ec.pub', '--serial', 'XYZ', '--api-v3-key', API_V3_KEY),
      /--serial must be hexadecimal/,
    ],
    [
      'a missing certificate file',
      () => add('--certificate', 'missing.crt', '--api-v3-key', API_V3_KEY),
      /--certificate missing\.crt: cannot read the file \(ENOENT\)/,
    ],
    [
      'a key where the certificate belongs',
      () => add('--certificate', key, '--api-v3-key', API_V3_KEY),
      /cannot read the certificate/,
    ],
    [
      'a private key as public key',
      () => add('--public-key', key, '--serial', 'AB', '--api-v3-key', API_V3_KEY),
      /holds a private key/,
    ],
    [
      'an EC public key',
      () => add('--public-key', 'ec.pub', '--serial', 'AB', '--api-v3-key', API_V3_KEY),
      /needs an RSA key, got ec/,
    ],
    [
      'a serial that contradicts the certificate',
      () => add('--certificate', cert, '--serial', 'ABCDEF', '--api-v3-key', API_V3_KEY),
      /--serial ABCDEF differs from the serial/,
    ],
    [
      'an unknown signing mode',
      () => add('--certificate', cert, '--api-v3-key', API_V3_KEY, '--signing-mode', 'rsa'),
      /--signing-mode must be one of pubkey, certificate, migrating/,
    ],
    [
      'an unregistered parent',
      () => add('--certificate', cert, '--api-v3-key', API_V3_KEY, '--parent', '1900000888'),
      /--parent 1900000888 is not registered/,
    ],
    [
      'a port out of range',
      () => ['start', '--dir', 'bad', '--port', '70000'],
      /--port must be a number from 0 to 65535/,
    ],
    [
      'an unknown notify policy',
      () => ['start', '--dir', 'bad', '--notify-policy', 'open'],
      /--notify-policy must be local or strict, got "open"/,
    ],
    [
      'a missing notify CA file',
      () => ['start', '--dir', 'bad', '--notify-ca-file', 'missing.crt'],
      /--notify-ca-file missing\.crt: cannot read the file \(ENOENT\)/,
    ],
    [
      'a notify CA file without a certificate (a private key)',
      () => ['start', '--dir', 'bad', '--notify-ca-file', key],
      /--notify-ca-file .*: no PEM certificate/,
    ],
    [
      'a corrupt certificate as notify CA file',
      () => {
        writeFileSync(
          join(work, 'corrupt.crt'),
          '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
        );
        return ['start', '--dir', 'bad', '--notify-ca-file', 'corrupt.crt'];
      },
      /--notify-ca-file corrupt\.crt: not a valid certificate/,
    ],
    [
      'both a notify CA file and insecure TLS',
      () => ['start', '--dir', 'bad', '--notify-ca-file', cert, '--notify-insecure-tls'],
      /pass --notify-ca-file or --notify-insecure-tls, not both/,
    ],
    [
      'a notify lease at or below the 5 s delivery timeout',
      () => ['start', '--dir', 'bad', '--notify-lease-seconds', '5'],
      /--notify-lease-seconds must be a whole number from 6 to 3600, got "5"/,
    ],
    [
      'a notify lease that is not a whole number',
      () => ['start', '--dir', 'bad', '--notify-lease-seconds', '7.5'],
      /--notify-lease-seconds must be a whole number from 6 to 3600, got "7\.5"/,
    ],
    [
      'a timeout that is not a whole number of milliseconds',
      () => ['start', '--dir', 'bad', '--request-timeout-ms', '1.5s'],
      /--request-timeout-ms must be a whole number from 1 to 3600000, got "1\.5s"/,
    ],
    [
      'a headers timeout above the request timeout',
      () => ['start', '--dir', 'bad', '--headers-timeout-ms', '20000', '--request-timeout-ms', '10000'],
      /--headers-timeout-ms \(20000\) must not exceed --request-timeout-ms \(10000\)/,
    ],
    [
      'set-mode for an unknown merchant',
      () => ['merchant', 'set-mode', '--dir', 'bad', '--mchid', '1900000666', '--mode', 'certificate'],
      /merchant 1900000666 is not registered/,
    ],
    ['list without a database', () => ['merchant', 'list', '--dir', 'nowhere'], /no database at/],
    [
      'show without credentials',
      () => ['credentials', 'show', '--dir', 'nowhere'],
      /credentials\.json does not exist/,
    ],
  ];
  for (const [what, args, message] of cases) {
    it(`exits 2 with a message on ${what}`, async () => {
      const run = await cli(args(), work);
      expect(run.code).toBe(2);
      expect(run.stdout + run.stderr).toMatch(message);
    });
  }

  it('exits 1 with a hint when the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    const address = taken.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const run = await cli(['start', '--dir', 'busy', '--port', String(port)], work);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`127.0.0.1:${port} is already in use; pass another --port`);
    } finally {
      taken.close();
    }
  });

  it('registered nothing while refusing', async () => {
    const run = await cli(['merchant', 'list', '--dir', 'bad', '--json'], work);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ total_count: 0, data: [] });
  });
});

describe('wechatpay-sandbox start limits', () => {
  it('creates a --db SQLite file elsewhere 0600 (with -wal and -shm) and answers a stalled body 408 after --request-timeout-ms', async () => {
    const dbPath = join(work, 'elsewhere', 'data.db');
    const { child, url } = await startCli(
      [
        '--dir',
        'limits',
        '--port',
        '0',
        '--db',
        `sqlite:${dbPath}`,
        '--headers-timeout-ms',
        '400',
        '--request-timeout-ms',
        '800',
      ],
      work,
    );
    try {
      for (const file of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) {
        expect([file, (statSync(file).mode & 0o777).toString(8)]).toEqual([file, '600']);
      }
      const { hostname, port } = new URL(url);
      const started = Date.now();
      const answer = await new Promise<string>((done, fail) => {
        const socket = connect(Number(port), hostname);
        let data = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          data += chunk;
        });
        socket.on('close', () => done(data));
        socket.on('error', fail);
        socket.write('POST /v3/certificates HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhello');
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(Date.now() - started).toBeLessThan(800 + 2000);
    } finally {
      await stop(child, 'SIGTERM');
    }
  });
});

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`wechatpay-sandbox merchant add + start on ${dialect.name}`, () => {
    let database: TestDatabase;
    let dir: string;
    let platformDir: string;
    beforeAll(async () => {
      database = await dialect.create();
      dir = mkdtempSync(join(work, `${dialect.name}-`));
      platformDir = join(dir, 'sandbox');
    });
    afterAll(async () => {
      await database?.drop();
    });

    it('registers an openssl certificate, serves its signed requests, and stops on SIGTERM', async () => {
      const made = opensslMerchant(dir, '1900000555');
      const add = await cli(
        ['merchant', 'add', '--db', database.url, '--mchid', '1900000555', '--certificate', made.cert].concat(
          ['--api-v3-key', API_V3_KEY, '--name', 'Openssl Shop', '--signing-mode', 'certificate'],
        ),
        dir,
      );
      expect(add.stderr).toBe('');
      expect(add.code).toBe(0);
      expect(add.stdout).toContain(`Registered merchant 1900000555 with key serial ${made.serialNo}`);

      const list = await cli(['merchant', 'list', '--db', database.url, '--json'], dir);
      expect(JSON.parse(list.stdout)).toEqual({
        total_count: 1,
        data: [
          {
            mchid: '1900000555',
            name: 'Openssl Shop',
            signing_mode: 'certificate',
            parent_mchid: null,
            keys: [{ serial_no: made.serialNo, kind: 'certificate' }],
          },
        ],
      });
      expect(list.stdout).not.toContain(API_V3_KEY);

      const server = await startCli(['--dir', platformDir, '--port', '0', '--db', database.url], dir);
      try {
        const merchant: TestMerchant = {
          mchid: '1900000555',
          serialNo: made.serial,
          privateKey: createPrivateKey(readFileSync(made.key)),
          apiV3Key: API_V3_KEY,
        };
        // The platform certificate list is encrypted with the registered APIv3 key and signed by the
        // platform certificate of DIR: both prove the registration and the start options were used.
        const res = await signedRequest(server.url, merchant, { method: 'GET', path: '/v3/certificates' });
        expect(res.status).toBe(200);
        const credentials = JSON.parse(readFileSync(join(platformDir, 'credentials.json'), 'utf8'));
        expect(res.headers['wechatpay-serial']).toBe(credentials.platform.certificate.serialNo);
        const platformCert = readFileSync(
          join(platformDir, credentials.platform.certificate.certificateFile),
        );
        expect(verifyTestResponse(res, createPublicKey(platformCert)).ok).toBe(true);
        const item = res.json<{ data: Array<{ encrypt_certificate: Record<string, string> }> }>().data[0];
        const pem = decryptAeadAes256Gcm({
          apiV3Key: API_V3_KEY,
          nonce: item?.encrypt_certificate.nonce as string,
          associatedData: 'certificate',
          ciphertext: item?.encrypt_certificate.ciphertext as string,
        });
        expect(loadCertificate(pem).serialNo).toBe(credentials.platform.certificate.serialNo);

        // Any other key under the same serial is refused.
        const other = opensslMerchant(dir, '1900000556');
        const forged = await signedRequest(
          server.url,
          { ...merchant, privateKey: createPrivateKey(readFileSync(other.key)) },
          {
            method: 'GET',
            path: '/v3/certificates',
          },
        );
        expect(forged.status).toBe(401);

        const output = server.output();
        expect(output).toContain(`mchid:           ${credentials.merchant.mchid}`);
        expect(output).toContain(credentials.merchant.serialNo);
        expect(output).toContain(join(platformDir, 'credentials.json'));
        expect(output).not.toContain(credentials.merchant.apiV3Key);
        expect(output).not.toContain('PRIVATE KEY');
      } finally {
        expect(await stop(server.child, 'SIGTERM')).toBe(0);
      }
      expect(server.output()).toMatch(/SIGTERM: stopping/);
    });

    it('registers a bare public key with its serial, and switches signing mode', async () => {
      const made = opensslMerchant(dir, '1900000601');
      writeFileSync(join(dir, 'pub.pem'), openssl(['pkey', '-in', made.key, '-pubout'], dir));
      const add = await cli(
        ['merchant', 'add', '--db', database.url, '--mchid', '1900000601', '--public-key', 'pub.pem'].concat([
          '--serial',
          `0x${made.serial.toLowerCase()}`,
          '--api-v3-key',
          API_V3_KEY,
          '--parent',
          '1900000555',
        ]),
        dir,
      );
      expect(add.stderr).toBe('');
      expect(add.code).toBe(0);
      const mode = await cli(
        ['merchant', 'set-mode', '--db', database.url, '--mchid', '1900000601', '--mode', 'migrating'],
        dir,
      );
      expect(mode.code).toBe(0);
      const list = JSON.parse((await cli(['merchant', 'list', '--db', database.url, '--json'], dir)).stdout);
      expect(list.data.find((m: { mchid: string }) => m.mchid === '1900000601')).toEqual({
        mchid: '1900000601',
        name: 'merchant 1900000601',
        signing_mode: 'migrating',
        parent_mchid: '1900000555',
        keys: [{ serial_no: made.serialNo, kind: 'public-key' }],
      });

      const server = await startCli(['--dir', platformDir, '--port', '0', '--db', database.url], dir);
      try {
        const res = await signedRequest(
          server.url,
          {
            mchid: '1900000601',
            serialNo: made.serial,
            privateKey: createPrivateKey(readFileSync(made.key)),
            apiV3Key: API_V3_KEY,
          },
          { method: 'GET', path: '/v3/certificates' },
        );
        // Migrating mode without a Wechatpay-Serial header answers with the platform certificate.
        expect(res.status).toBe(200);
      } finally {
        expect(await stop(server.child, 'SIGINT')).toBe(0);
      }
    });
  });
}
