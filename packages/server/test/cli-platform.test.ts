import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCredentials } from '../src/credentials/load.js';

const root = join(import.meta.dirname, '..', '..', '..');
const cli = (args: string[]) =>
  spawnSync(process.execPath, ['packages/server/dist/cli/main.js', ...args], { cwd: root, encoding: 'utf8' });

// The built CLI (npm test builds dist first).
describe('wechatpay-sandbox platform rotate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wps-rotate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a new certificate current and keeps the old one until the overlap ends', () => {
    execFileSync(process.execPath, ['packages/server/dist/cli/main.js', 'init', '--dir', dir], { cwd: root });
    const before = loadCredentials(dir).platform.certificates.map((c) => c.serialNo);
    const run = cli(['platform', 'rotate', '--dir', dir, '--overlap-hours', '6']);
    expect(run.status).toBe(0);
    const after = loadCredentials(dir).platform.certificates;
    expect(after).toHaveLength(2);
    expect(after[0]?.serialNo).toBe(before[0]);
    expect(run.stdout).toContain(after[1]?.serialNo);
    const hours = ((after[0]?.expireTime.getTime() ?? 0) - Date.now()) / 3600_000;
    expect(hours).toBeGreaterThan(5.9);
    expect(hours).toBeLessThanOrEqual(6);
    expect(readFileSync(join(dir, 'credentials.json'), 'utf8')).toContain('retiringCertificates');
  });

  it.each([[['--overlap-hours', 'soon']], [['--overlap-hours', '1000']]])(
    'refuses %j with exit code 2',
    (extra) => {
      const run = cli(['platform', 'rotate', '--dir', dir, ...extra]);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('--overlap-hours');
    },
  );

  it('refuses a directory without credentials', () => {
    const run = cli(['platform', 'rotate', '--dir', join(dir, 'nothing')]);
    expect(run.status).toBe(2);
  });
});
