import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliDeps, runCli, type StartConfig } from '../src/cli/commands.js';
import { COMMAND_HELP } from '../src/cli/usage.js';
import { openDatabase } from '../src/db/connect.js';
import { sampleEvent } from '../src/outbox/events.js';
import { NotificationsService } from '../src/services/notifications.js';

/**
 * The conventions every `wechatpay-sandbox` command follows, with the commands run in-process
 * (runCli, as main.ts runs it) against a real sandbox server and its real database: `--help` and
 * `--version` exit 0, `--json` prints exactly what the matching HTTP API answers, notification ids are
 * accepted by unique prefix, and errors say what to do next. The built bin in child processes is
 * covered by cli.test.ts and cli-notifications.test.ts.
 */

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const ROOT = join(import.meta.dirname, '../../..');
const VERSION = `wechatpay-sandbox ${JSON.parse(readFileSync(join(import.meta.dirname, '../package.json'), 'utf8')).version}`;

/** Runs a command line in-process; `start` gets the server and stop signal of `extra`. */
async function cli(args: string[], extra: Partial<CliDeps> = {}): Promise<Run> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli(args, {
    output: { out: (l) => stdout.push(`${l}\n`), err: (l) => stderr.push(`${l}\n`) },
    loadStartServer: async () => {
      throw new Error('this test does not start servers');
    },
    stopSignal: async () => 'SIGTERM',
    version: VERSION,
    ...extra,
  });
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}

const json = (run: Run): unknown => {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout);
};

let empty: string;
beforeAll(() => {
  empty = mkdtempSync(join(tmpdir(), 'wps-cli-conv-'));
});
afterAll(() => rmSync(empty, { recursive: true, force: true }));

describe('wechatpay-sandbox --help and --version', () => {
  it.each(Object.keys(COMMAND_HELP))('`%s --help` prints the command and exits 0', async (command) => {
    const run = await cli([command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`  ${command} `);
    expect(run.stderr).toBe('');
  });

  it('takes --help or -h after a subcommand and its options, and `help COMMAND`', async () => {
    for (const args of [
      ['merchant', 'add', '--mchid', '1', '--help'],
      ['notifications', 'forward', 'add', '-h'],
      ['start', '--port', '0', '--help'],
      ['help', 'platform'],
    ]) {
      const run = await cli(args);
      expect([args, run.code]).toEqual([args, 0]);
      expect(run.stdout).toMatch(/^Usage:/);
    }
    // After `--` it is an argument, not a request for help.
    expect((await cli(['notifications', 'show', '--dir', empty, '--', '--help'])).code).toBe(2);
  });

  it('--version, -V and `version` print the package version', async () => {
    for (const flag of ['--version', '-V', 'version']) {
      const run = await cli([flag]);
      expect(run).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    }
  });

  it('`npx wechatpay-sandbox` runs the built command from the repository root and the server package', async () => {
    // npm's bin link (node_modules/.bin) to packages/server/bin/wechatpay-sandbox.cjs; npm test builds dist first.
    for (const cwd of [ROOT, join(ROOT, 'packages/server')]) {
      const stdout = await new Promise<string>((done, fail) =>
        execFile(
          'npx',
          ['--offline', 'wechatpay-sandbox', '--version'],
          { cwd, encoding: 'utf8' },
          (err, out) => (err ? fail(err) : done(out)),
        ),
      );
      expect(stdout.startsWith(VERSION)).toBe(true);
    }
  });

  it('no command prints the usage as an error; an unknown one names the commands', async () => {
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^Usage: wechatpay-sandbox/);
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      'the commands are init, start, merchant, notifications, listen, trigger, seed, platform, credentials',
    );
  });
});

describe('wechatpay-sandbox errors say what to do next', () => {
  it.each([
    [
      ['merchant', 'list', '--dir', 'nowhere'],
      /no database at .*; run `wechatpay-sandbox start --dir nowhere` once/,
    ],
    [
      ['notifications', 'list', '--dir', 'nowhere'],
      /no credentials in nowhere .*wechatpay-sandbox init --dir nowhere/,
    ],
    [['credentials', 'show', '--dir', 'nowhere'], /run `wechatpay-sandbox init --dir nowhere` first/],
    [['platform', 'rotate', '--dir', 'nowhere'], /run `wechatpay-sandbox init --dir nowhere` first/],
    [['merchant'], /merchant needs a command: add, set-mode or list \(wechatpay-sandbox merchant --help\)/],
    [
      ['notifications', 'forward', 'move'],
      /use add, list or remove \(wechatpay-sandbox notifications forward --help\)/,
    ],
    [
      ['start', '--dir', 'nowhere', '--log-level', 'loud'],
      /--log-level must be one of fatal, error, warn, info, debug, trace/,
    ],
    [
      ['start', '--dir', 'nowhere', '--dashboard-feed-size', '0'],
      /--dashboard-feed-size must be a whole number from 1 to 100000, got "0"/,
    ],
    [
      ['start', '--dir', 'nowhere', '--notify-concurrency', '0'],
      /--notify-concurrency must be a whole number from 1 to 1024, got "0"/,
    ],
    [
      ['start', '--dir', 'nowhere', '--notify-concurrency', '8', '--notify-merchant-concurrency', '9'],
      /--notify-merchant-concurrency \(9\) must not exceed --notify-concurrency \(8\)/,
    ],
  ])('%j', async (args, message) => {
    const run = await cli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/Run wechatpay-sandbox .*--help for usage\./);
  });
});

describe('wechatpay-sandbox start --log-level and --dashboard-feed-size', () => {
  /** Runs `start` with a server that records its configuration (the flags' end of the contract). */
  async function startWith(args: string[], env: Record<string, string>) {
    const seen: StartConfig[] = [];
    const run = await cli(['start', '--dir', join(empty, 'start'), '--port', '0', ...args], {
      env,
      loadStartServer: async () => async (options) => {
        seen.push(options.config);
        return { url: 'http://127.0.0.1:1', close: async () => {} };
      },
    });
    return { run, config: seen[0] };
  }

  it('passes the flag, else WPS_LOG_LEVEL, else info to the server, and prints it with the delivery policy', async () => {
    const flag = await startWith(['--log-level', 'debug'], { WPS_LOG_LEVEL: 'warn' });
    expect(flag.run.code).toBe(0);
    expect(flag.config?.logLevel).toBe('debug');
    expect(flag.run.stdout).toContain('log level:       debug');
    // The policy is about delivery targets; a merchant's notify_url is https whatever it says.
    expect(flag.run.stdout).toMatch(
      /notify policy: +local \(delivery targets .*notify_url itself must be https\)/,
    );
    expect((await startWith([], { WPS_LOG_LEVEL: 'warn' })).config?.logLevel).toBe('warn');
    expect((await startWith([], {})).config?.logLevel).toBe('info');
    const bad = await startWith([], { WPS_LOG_LEVEL: 'chatty' });
    expect(bad.run.code).toBe(2);
    expect(bad.config).toBeUndefined();
    expect(bad.run.stderr).toContain('WPS_LOG_LEVEL must be one of');
    expect(bad.run.stderr).toContain('fix or unset it, or pass --log-level');
  });

  it('passes --dashboard-feed-size to the server (500 without it)', async () => {
    expect((await startWith(['--dashboard-feed-size', '2000'], {})).config?.dashboardFeedSize).toBe(2000);
    expect((await startWith([], {})).config?.dashboardFeedSize).toBe(500);
  });

  it('passes --notify-concurrency and --notify-merchant-concurrency to the server (128 and 64 without them)', async () => {
    const flags = await startWith(['--notify-concurrency', '16', '--notify-merchant-concurrency', '4'], {});
    expect([flags.config?.notifyConcurrency, flags.config?.notifyMerchantConcurrency]).toEqual([16, 4]);
    const defaults = await startWith([], {});
    expect([defaults.config?.notifyConcurrency, defaults.config?.notifyMerchantConcurrency]).toEqual([
      128, 64,
    ]);
  });
});

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`wechatpay-sandbox --json and id prefixes on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    let db: string[];
    let close: () => Promise<void>;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
      db = ['--dir', sandbox.dir, '--db', sandbox.dbUrl];
      // Notifications with chosen ids, two sharing the prefix "cafe": written by the service the CLI
      // and the simulation API use, as an event would write them.
      const handle = openDatabase(sandbox.dbUrl);
      close = () => handle.close();
      const ids = [
        'cafe0001-0000-4000-8000-000000000001',
        'cafe0002-0000-4000-8000-000000000002',
        'beef0001-0000-4000-8000-000000000003',
      ];
      const notifications = new NotificationsService({
        db: handle.db,
        clock: { now: () => Date.now() },
        wallClock: Date.now,
        ids: { uuid: () => ids.shift() as string },
      });
      for (let i = 0; i < 3; i++) {
        await notifications.enqueue(
          sandbox.merchant.mchid,
          sampleEvent('busifavor', sandbox.merchant.mchid, Date.now()),
        );
      }
    });
    afterAll(async () => {
      await close?.();
      await sandbox?.close();
    });

    it('notifications list --json is what GET /sandbox/v1/notifications answers', async () => {
      const http = await sandbox.request({
        method: 'GET',
        path: '/sandbox/v1/notifications?limit=2&offset=1',
      });
      expect(http.status).toBe(200);
      const printed = json(
        await cli(['notifications', 'list', ...db, '--limit', '2', '--offset', '1', '--json']),
      );
      expect(printed).toEqual(http.json());
      expect(printed).toMatchObject({ total_count: 3, offset: 1 });
      const all = json(await cli(['notifications', 'list', ...db, '--json'])) as {
        data: Array<{ create_time: string }>;
      };
      expect(all.data).toHaveLength(3);
      expect(all.data[0]?.create_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
    });

    it('notifications show takes a unique id prefix, and --json is what GET /sandbox/v1/notifications/{id} answers', async () => {
      const id = 'beef0001-0000-4000-8000-000000000003';
      const http = await sandbox.request({ method: 'GET', path: `/sandbox/v1/notifications/${id}` });
      expect(http.status).toBe(200);
      expect(json(await cli(['notifications', 'show', 'beef', ...db, '--json']))).toEqual(http.json());
      expect(json(await cli(['notifications', 'show', 'cafe0002', ...db, '--json']))).toMatchObject({
        id: 'cafe0002-0000-4000-8000-000000000002',
      });
      const text = await cli(['notifications', 'show', 'beef0001-0000', ...db]);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain(`${id}  `);
    });

    it('an ambiguous prefix is a usage error listing the candidates; an unknown one says where to look', async () => {
      for (const command of [['show'], ['replay']]) {
        const run = await cli(['notifications', ...command, 'cafe', ...db]);
        expect(run.code).toBe(2);
        expect(run.stderr).toContain(
          'notification id "cafe" is ambiguous: it starts 2 notifications (cafe0001-0000-4000-8000-000000000001, cafe0002-0000-4000-8000-000000000002); give more of the id',
        );
      }
      // A LIKE wildcard in a prefix is a character, not a pattern.
      const wildcard = await cli(['notifications', 'show', 'caf_', ...db]);
      expect(wildcard.code).toBe(1);
      expect(wildcard.stderr).toContain('no notification caf_; see wechatpay-sandbox notifications list');
      const other = await cli(['notifications', 'show', 'beef', '--mchid', '1900000999', ...db]);
      expect(other.code).toBe(1);
      expect(other.stderr).toContain('no notification beef of merchant 1900000999');
    });

    it('replays by prefix, all or nothing', async () => {
      const partly = await cli(['notifications', 'replay', 'cafe0001', 'dead', ...db]);
      expect(partly.code).toBe(1);
      expect(partly.stderr).toContain('no notification dead; nothing was replayed');
      const run = await cli(['notifications', 'replay', 'cafe0001', 'beef', ...db]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('replayed cafe0001-0000-4000-8000-000000000001');
      expect(run.stdout).toContain('replayed beef0001-0000-4000-8000-000000000003');
    });

    it('pause/resume --json and forward add/list --json are what the HTTP API answers', async () => {
      const mchid = ['--mchid', sandbox.merchant.mchid];
      const paused = json(await cli(['notifications', 'pause', ...mchid, ...db, '--json']));
      const state = await sandbox.request({ method: 'GET', path: '/sandbox/v1/notifications-delivery' });
      expect(paused).toEqual(state.json());
      expect(paused).toMatchObject({ paused: true });
      const resumed = json(await cli(['notifications', 'resume', ...mchid, ...db, '--json']));
      expect(resumed).toEqual({ paused: false, paused_time: null });

      const added = json(
        await cli([
          'notifications',
          'forward',
          'add',
          ...mchid,
          ...db,
          '--from',
          'https://a.example/x',
          '--to',
          'http://127.0.0.1:9/y',
          '--json',
        ]),
      ) as { id: string };
      expect(added).toEqual({
        id: added.id,
        from_url: 'https://a.example/x',
        to_url: 'http://127.0.0.1:9/y',
      });
      const rules = await sandbox.request({ method: 'GET', path: '/sandbox/v1/notification-forwards' });
      expect(json(await cli(['notifications', 'forward', 'list', ...mchid, ...db, '--json']))).toEqual(
        rules.json(),
      );
    });

    it('merchant list --json is snake_case like the HTTP API, without secrets', async () => {
      const listed = json(await cli(['merchant', 'list', ...db, '--json'])) as {
        total_count: number;
        data: unknown[];
      };
      expect(listed.total_count).toBe(1);
      expect(listed.data).toEqual([
        {
          mchid: sandbox.merchant.mchid,
          name: expect.any(String),
          signing_mode: expect.stringMatching(/^(pubkey|certificate|migrating)$/),
          parent_mchid: null,
          keys: [{ serial_no: expect.stringMatching(/^[0-9A-F]+$/), kind: 'certificate' }],
        },
      ]);
      expect(JSON.stringify(listed)).not.toContain(sandbox.merchant.apiV3Key);
    });
  });
}
