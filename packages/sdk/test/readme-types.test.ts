import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The README's TypeScript blocks type-check as written against the SDK's sources: an option put at the
 * wrong level (say `publicKey` beside `apiV3Key` instead of under `keys`) fails here, not in a user's
 * editor. Each block is its own module; the names a snippet leaves to its reader (the client, the web
 * framework's app, the raw body) are declared in a preamble with their real types.
 */

const sdk = join(import.meta.dirname, '..');
const readme = readFileSync(join(sdk, 'README.md'), 'utf8');

/**
 * What the README's first block sets up (imports, the client) and the names a snippet leaves to its
 * reader, with real types. A block that imports a name itself does not get the preamble's line for it.
 */
const PREAMBLE: ReadonlyArray<readonly [name: string, line: string]> = [
  ['readFileSync', "import { readFileSync } from 'node:fs';"],
  ['ApiError', "import { ApiError } from '@wechatpay-sandbox/sdk';"],
  ['WechatPayClient', "import type { WechatPayClient } from '@wechatpay-sandbox/sdk';"],
  ['express', "import express from 'express';"],
  ['FastifyInstance', "import type { FastifyInstance } from 'fastify';"],
  ['client', 'declare const client: WechatPayClient;'],
  ['app', 'declare const app: express.Express;'],
  ['fastify', 'declare const fastify: FastifyInstance;'],
  ['apiV3Key', 'declare const apiV3Key: string;'],
  ['rawBody', 'declare const rawBody: string;'],
  ['appid', 'declare const appid: string;'],
  ['openid', 'declare const openid: string;'],
  ['transaction_id', 'declare const transaction_id: string;'],
  ['payer_merchant', 'declare const payer_merchant: string;'],
  ['payee_merchant', 'declare const payee_merchant: string;'],
  ['refund_id', 'declare const refund_id: string;'],
  ['req', 'declare const req: { headers: Record<string, string | string[] | undefined> };'],
  ['grantPoints', 'declare function grantPoints(couponCode: string, openid?: string): Promise<void>;'],
  ['log', 'declare function log(...values: unknown[]): void;'],
  ['use', 'declare function use(value: string): void;'],
];

function tsBlocks(text: string): string[] {
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] as string);
}

/** A module per block: its own imports, the preamble's lines it neither imports nor declares, the rest. */
function moduleOf(block: string): string {
  const lines = block.split('\n');
  let end = 0;
  let inImport = false;
  for (const [index, line] of lines.entries()) {
    if (!line.startsWith('import ') && !inImport) continue;
    inImport = !line.includes(' from ');
    end = index + 1;
  }
  const imports = lines.slice(0, end).join('\n');
  const body = lines.slice(end).join('\n');
  const imported = (name: string) => new RegExp(`\\b${name}\\b`).test(imports);
  const declared = (name: string) => new RegExp(`\\b(const|let|function) ${name}\\b`).test(body);
  const preamble = PREAMBLE.filter(([name]) => !imported(name) && !declared(name)).map(([, line]) => line);
  return [imports, ...preamble, body, 'export {};', ''].join('\n');
}

function diagnose(files: Map<string, string>): string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(sdk, '..', '..', 'node_modules', '@types')],
    paths: {
      '@wechatpay-sandbox/sdk': [join(sdk, 'src', 'index.ts')],
      '@wechatpay-sandbox/sdk/sandbox': [join(sdk, 'src', 'sandbox', 'index.ts')],
    },
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.readFile = (name) => files.get(name) ?? readFile(name);
  host.fileExists = (name) => files.has(name) || fileExists(name);
  const program = ts.createProgram([...files.keys()], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file !== undefined && files.has(d.file.fileName))
    .map((d) => {
      const { line } = d.file?.getLineAndCharacterOfPosition(d.start ?? 0) ?? { line: 0 };
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      return `${d.file?.fileName}:${line + 1}: ${text}\n  ${d.file?.text.split('\n')[line]?.trim()}`;
    });
}

/** A misplaced option, and the same option where it belongs: proves the check can fail. */
const WRONG = `import { createNodeHandler } from '@wechatpay-sandbox/sdk';
const options = { apiV3Key: 'k', publicKey: { keyId: 'PUB_KEY_ID_1', key: 'pem' } };
createNodeHandler(options, () => {});
export {};`;
const RIGHT = WRONG.replace('publicKey: { keyId', 'keys: { publicKey: { keyId').replace(
  "'pem' }",
  "'pem' } }",
);

describe('packages/sdk/README.md', () => {
  const blocks = tsBlocks(readme);
  const files = new Map(blocks.map((block, i) => [join(sdk, `readme-block-${i}.mts`), moduleOf(block)]));
  files.set(join(sdk, 'readme-wrong.mts'), WRONG);
  files.set(join(sdk, 'readme-right.mts'), RIGHT);
  // One program for all of them: building it is most of the time.
  const found = diagnose(files);
  const about = (name: string) => found.filter((line) => line.startsWith(join(sdk, name)));

  it('has TypeScript blocks to check', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
  });

  it('every ts block type-checks against the SDK as written', () => {
    expect(about('readme-block-')).toEqual([]);
  });

  it('the check catches a misplaced option (publicKey beside apiV3Key, not under keys)', () => {
    expect(about('readme-wrong.mts')).not.toEqual([]);
    expect(about('readme-right.mts')).toEqual([]);
  });
});
