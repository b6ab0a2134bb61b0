import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DIALECTS, startSandbox, type TestSandbox } from '@wechatpay-sandbox/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The runnable docs: every `examples/*.mjs` runs as written (plain `node`, unmodified third-party
 * clients) against a real server, and every code block the README and the walkthrough mark with
 * `<!-- example: examples/X.mjs -->` is a verbatim part of that file, so a page cannot drift from
 * the code that is run here.
 */

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..', '..');
const EXAMPLES = [
  'quickstart.mjs',
  'busifavor-walkthrough.mjs',
  'wechatpay-node-v3.mjs',
  'sandbox-client.mjs',
] as const;

/** Whitespace-insensitive text, so a page may wrap a line differently from the formatted file. */
const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

/** The code blocks of a Markdown page marked as parts of an example file. */
function markedBlocks(page: string): Array<{ example: string; code: string }> {
  const text = readFileSync(join(root, page), 'utf8');
  const blocks: Array<{ example: string; code: string }> = [];
  const marker = /<!-- example: (examples\/[\w.-]+\.mjs) -->\s*```js\n([\s\S]*?)```/g;
  for (const match of text.matchAll(marker)) {
    blocks.push({ example: match[1] as string, code: match[2] as string });
  }
  return blocks;
}

describe('documentation pages quote the examples verbatim', () => {
  for (const page of [
    'README.md',
    'docs/busifavor-walkthrough.md',
    'docs/clients.md',
    'packages/sdk/README.md',
  ]) {
    it(page, () => {
      const blocks = markedBlocks(page);
      expect(blocks.length, `${page} has marked example blocks`).toBeGreaterThan(0);
      for (const { example, code } of blocks) {
        const source = squash(readFileSync(join(root, example), 'utf8'));
        expect(source.includes(squash(code)), `${page}: a block is not part of ${example}:\n${code}`).toBe(
          true,
        );
      }
    });
  }
});

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.available)(`examples/*.mjs run as written on ${dialect.name}`, () => {
    let sandbox: TestSandbox;
    beforeAll(async () => {
      sandbox = await startSandbox({ dialect });
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    const runExample = (name: string) =>
      run(process.execPath, [join(root, 'examples', name)], {
        cwd: root,
        env: { ...process.env, SANDBOX_URL: sandbox.url, SANDBOX_DIR: sandbox.dir },
        timeout: 30_000,
      });

    it.each(EXAMPLES)('%s', async (name) => {
      const { stdout } = await runExample(name);
      if (name === 'quickstart.mjs') {
        expect(stdout).toMatch(/^200 \{/);
        expect(stdout).toContain('USED');
        expect(stdout).toMatch(/COUPON\.SEND [0-9a-f-]{36} pending/);
      } else if (name === 'busifavor-walkthrough.mjs') {
        expect(stdout).toMatch(
          /walkthrough done: stock \d{15}, coupons \d{22} \(USED\) and \d{22} \(EXPIRED\)/,
        );
      } else if (name === 'sandbox-client.mjs') {
        expect(stdout).toMatch(
          /^retried GET \/v3\/marketing\/busifavor\/stocks\/\d+: 500 SYSTEM_ERROR \(rule=\S+\)\nOK SUCCESS \d{22}\nCOUPON\.SEND true\nEXPIRED\n$/,
        );
      } else {
        expect(stdout.match(/verified: true/g)).toHaveLength(2);
        expect(stdout).toContain("code: 'PARAM_ERROR'");
      }
    });
  });
}
