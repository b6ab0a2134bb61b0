#!/usr/bin/env node
// Builds, type-checks, checks the import rules and runs Biome, then runs the whole vitest suite and prints
// one plain closing line ("Tests: N passed, N failed, N skipped") so CI logs state what ran. Extra
// arguments go to vitest (e.g. `npm test -- packages/sdk`).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Tests that run the CLI as a child process use dist/: build it first (incremental, fast when unchanged).
const build = spawnSync(
  process.execPath,
  [join(process.cwd(), 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'packages/sdk', 'packages/server'],
  { stdio: 'inherit' },
);
if (build.status !== 0) {
  console.log('Tests: 0 passed, 1 failed (the TypeScript build failed)');
  process.exit(1);
}
// Tests and benches are TypeScript too: type-check them with the sources (npm run typecheck).
const typecheck = spawnSync(
  process.execPath,
  [join(process.cwd(), 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
  { stdio: 'inherit' },
);
if (typecheck.status !== 0) {
  console.log('Tests: 0 passed, 1 failed (type-checking the tests failed)');
  process.exit(1);
}

// Import rules (.dependency-cruiser.cjs): no import cycles, dependencies point inward, the SDK's protocol
// module depends on nothing. Prints each violation.
const imports = spawnSync(
  process.execPath,
  [
    join(process.cwd(), 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs'),
    '--config',
    '.dependency-cruiser.cjs',
    '--output-type',
    'err',
    'packages',
    'bench',
    'scripts',
  ],
  { stdio: 'inherit' },
);
if (imports.status !== 0) {
  console.log('Tests: 0 passed, 1 failed (an import cycle or a forbidden import: see above)');
  process.exit(1);
}
// Lint and format (npm run lint).
const lint = spawnSync(
  process.execPath,
  [join(process.cwd(), 'node_modules', '@biomejs', 'biome', 'bin', 'biome'), 'check', '.'],
  { stdio: 'inherit' },
);
if (lint.status !== 0) {
  console.log('Tests: 0 passed, 1 failed (biome check failed: see above)');
  process.exit(1);
}

const outDir = join(process.cwd(), '.test-tmp');
mkdirSync(outDir, { recursive: true });
const report = join(outDir, 'vitest-report.json');
const vitest = join(process.cwd(), 'node_modules', 'vitest', 'vitest.mjs');
const run = spawnSync(
  process.execPath,
  [
    vitest,
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
try {
  const result = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = (result.numPendingTests ?? 0) + (result.numTodoTests ?? 0);
  console.log(`Tests: ${result.numPassedTests} passed, ${result.numFailedTests} failed, ${skipped} skipped`);
} catch {
  console.log('Tests: no report was written');
}
process.exit(run.status ?? 1);
