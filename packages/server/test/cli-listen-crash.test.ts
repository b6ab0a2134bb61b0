import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DIALECTS } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListenFixture, receivedId, startListenFixture, waitFor } from './listen-helpers.js';

/**
 * A listener process that dies without closing its session (SIGKILL: no handler runs) never swallows
 * callbacks: once its lease has run out, the server delivers to the registered notify URL again. The
 * listener is the built `listenCommand` (dist, as `npm test` builds it) in its own Node process, wired
 * to signals as cli/main.ts wires the commands.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const LISTEN_JS = pathToFileURL(join(ROOT, 'packages/server/dist/cli/listen.js')).href;

/** Runs `listen` with the arguments in LISTEN_ARGS (JSON), printing as the CLI does. */
const CHILD = `
const { listenCommand } = await import(${JSON.stringify(LISTEN_JS)});
const stop = new Promise((r) => { process.on('SIGINT', () => r('SIGINT')); process.on('SIGTERM', () => r('SIGTERM')); });
const output = { out: (l) => process.stdout.write(l + '\\n'), err: (l) => process.stderr.write(l + '\\n') };
process.exitCode = await listenCommand(JSON.parse(process.env.LISTEN_ARGS), { output, stopSignal: () => stop });
`;

function spawnListener(args: string[]): { child: ChildProcess; stdout: string[]; stderr: string[] } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    env: { ...process.env, LISTEN_ARGS: JSON.stringify(args) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout?.on('data', (c: Buffer) => stdout.push(...c.toString().split('\n').filter(Boolean)));
  child.stderr?.on('data', (c: Buffer) => stderr.push(...c.toString().split('\n').filter(Boolean)));
  return { child, stdout, stderr };
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`a killed listen process (${dialect.name})`, () => {
    let f: ListenFixture;
    beforeAll(async () => {
      f = await startListenFixture(dialect);
    });
    afterAll(async () => f?.close());

    it('receives while alive; after SIGKILL, callbacks go to the registered URL once its lease runs out', async () => {
      const lease = 2;
      const { child, stdout, stderr } = spawnListener([
        '--forward-to',
        `${f.listener.url}/hook`,
        ...f.db(),
        '--lease',
        String(lease),
      ]);
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      try {
        await waitFor(() => (stderr.some((l) => l.startsWith('Ready')) ? true : undefined), 'Ready');
        const before = await f.trigger('coupon.send');
        await f.waitReceived(f.listener, before.notification_id);
        await waitFor(
          () => (stdout.some((l) => l.includes(before.notification_id)) ? true : undefined),
          'the printed line',
        );
        // Renewed meanwhile: still live past the first lease.
        await new Promise((r) => setTimeout(r, lease * 1000 + 200));
        const renewed = await f.trigger('coupon.send');
        await f.waitReceived(f.listener, renewed.notification_id);
      } finally {
        child.kill('SIGKILL');
      }
      await exited;
      // Until its lease runs out the session still takes callbacks (the receiver behind it may well be
      // up); the last renewal was at most a third of the lease before the kill.
      await new Promise((r) => setTimeout(r, lease * 1000 + 100));
      const after = await f.trigger('coupon.send');
      const triggeredAt = Date.now();
      await f.waitReceived(f.registered, after.notification_id);
      expect(Date.now() - triggeredAt).toBeLessThan(3000);
      expect(f.listener.received.some((r) => receivedId(r) === after.notification_id)).toBe(false);
      // Nothing closed the session: it is a row still, expired, so no longer listed as live.
      const sessions = await f.sandbox.request({ method: 'GET', path: '/sandbox/v1/listen-sessions' });
      expect(sessions.json<{ data: unknown[] }>().data).toEqual([]);
    });
  });
}
