#!/usr/bin/env node
// npm run bench: builds, then runs every benchmark script in this folder one after another (they share
// the two cores, so never in parallel). Each prints its own table of ratios.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
execFileSync(
  process.execPath,
  [join(here, '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'packages/sdk', 'packages/server'],
  {
    stdio: 'inherit',
  },
);
const only = process.argv.slice(2);
const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs')
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
let failed = 0;
for (const script of scripts) {
  console.log(`\n## ${script}\n`);
  const run = spawnSync(process.execPath, [join(here, script)], { stdio: 'inherit' });
  if (run.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
