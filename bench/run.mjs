#!/usr/bin/env node
// npm run bench [-- NAME…]: builds, then runs the benchmark scripts in this folder one after another (they
// share the cores, so never in parallel). Each prints Markdown: its tables of ratios and how it measured.
// A run of every script writes what they printed to docs/benchmarks.md, headed by the date and machine,
// so the page is always one run's output; a run of some scripts (`npm run bench -- server`) only prints.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
execFileSync(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'packages/sdk', 'packages/server'],
  {
    stdio: 'inherit',
    cwd: root,
  },
);

/** Scripts in the order the page shows them; any other script in the folder runs after them. */
const ORDER = ['server', 'notifications', 'scaling', 'sdk', 'dashboard'];
const rank = (file) => {
  const i = ORDER.indexOf(file.replace(/\.mjs$/, ''));
  return i < 0 ? ORDER.length : i;
};
const only = process.argv.slice(2);
const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs')
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));

/** Runs one script, echoing its output, and resolves with its exit code and what it printed. */
function runScript(script) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(here, script)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let printed = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      printed += chunk;
    });
    child.once('close', (code) => resolve({ code: code ?? 1, printed }));
  });
}

const started = Date.now();
const sections = [];
let failed = 0;
for (const script of scripts) {
  console.log(`\n## ${script}\n`);
  const t0 = Date.now();
  const { code, printed } = await runScript(script);
  if (code !== 0) failed++;
  const took = ((Date.now() - t0) / 1000).toFixed(0);
  const status = code === 0 ? '' : ` — **failed (exit ${code})**`;
  sections.push(
    `## ${script.replace(/\.mjs$/, '')} (bench/${script}, ${took} s)${status}\n\n${printed.trim()}\n`,
  );
}

if (only.length === 0) {
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const header = `# Benchmarks

Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)} (the whole run took ${minutes} min):
${availableParallelism()} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node.js ${process.version}, ${process.platform}.
Every figure is from this one run on this one machine; ratios compare measurements taken in the same run,
so they carry over to other machines better than the rates do. Loopback only. Do not edit by hand: run
\`npm run bench\` again.
`;
  writeFileSync(join(root, 'docs', 'benchmarks.md'), `${header}\n${sections.join('\n')}`);
  console.log('\nwrote docs/benchmarks.md');
}
process.exit(failed > 0 ? 1 : 0);
