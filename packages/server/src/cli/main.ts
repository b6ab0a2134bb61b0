#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { runCli, type StartServerFn } from './commands.js';

/**
 * The `wechatpay-sandbox` command. The only place that touches `process`: arguments, output, signals
 * and the exit code. @see docs/cli.md
 */

const output = {
  out: (line: string) => process.stdout.write(`${line}\n`),
  err: (line: string) => process.stderr.write(`${line}\n`),
};

function stopSignal(): Promise<string> {
  return new Promise((resolveSignal) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      // A second Ctrl+C while connections drain means "now".
      if (stopping) process.exit(130);
      stopping = true;
      resolveSignal(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** The server package's version (dist/cli/main.js and src/cli/main.ts both sit two levels below it). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    name: string;
    version: string;
  };
  return `wechatpay-sandbox ${pkg.version} (${pkg.name}, Node.js ${process.versions.node})`;
}

const code = await runCli(process.argv.slice(2), {
  output,
  env: process.env,
  version: packageVersion(),
  progress: { isTTY: process.stderr.isTTY === true, write: (text) => process.stderr.write(text) },
  // Imported lazily so init and merchant commands do not load Fastify and the routes.
  // The annotation makes tsc check startServer against what `start` needs.
  loadStartServer: async (): Promise<StartServerFn> => (await import('../server.js')).startServer,
  stopSignal,
});
process.exitCode = code;
