#!/usr/bin/env node
// npm run fuzz: builds the packages and copies their dist, compiles the fuzzer (packages/test-kit/src/fuzz,
// TypeScript, type-checked by npm run typecheck) next to the copy with TypeScript's transpiler, then runs
// it. Loopback only, bounded (--cases, --max-seconds); not part of npm test. Arguments go to the fuzzer:
// npm run fuzz -- --help
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const build = spawnSync(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'packages/sdk', 'packages/server'],
  { stdio: 'inherit', cwd: root },
);
if (build.status !== 0) process.exit(build.status ?? 1);

// The test kit has no build of its own (tests load its sources); the fuzzer needs it as JavaScript.
const source = join(root, 'packages', 'test-kit', 'src');
const out = join(root, '.test-tmp', 'fuzz-build');
rmSync(out, { recursive: true, force: true });
// A copy of the built packages, found before the workspace links: every dialect of the run fuzzes the
// same build, even if packages/*/dist is rebuilt meanwhile (the run takes minutes).
for (const pkg of ['sdk', 'server']) {
  const into = join(out, 'node_modules', '@wechatpay-sandbox', pkg);
  mkdirSync(into, { recursive: true });
  cpSync(join(root, 'packages', pkg, 'package.json'), join(into, 'package.json'));
  cpSync(join(root, 'packages', pkg, 'dist'), join(into, 'dist'), { recursive: true });
}
const compile = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) compile(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      const { outputText } = ts.transpileModule(readFileSync(path, 'utf8'), {
        fileName: path,
        compilerOptions: {
          module: ts.ModuleKind.ESNext,
          target: ts.ScriptTarget.ES2022,
          verbatimModuleSyntax: true,
          sourceMap: false,
        },
      });
      const target = join(out, relative(source, path)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, outputText);
    }
  }
};
compile(source);

const run = spawnSync(process.execPath, [join(out, 'fuzz', 'cli.js'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(run.status ?? 1);
