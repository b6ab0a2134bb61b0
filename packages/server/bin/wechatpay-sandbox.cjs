#!/usr/bin/env node
// The `wechatpay-sandbox` command (also what `npm start` runs). A plain CommonJS file, not built:
// - npm links a bin into node_modules/.bin only if its file exists, and on a fresh clone `npm install`
//   links before the `prepare` script has built dist/ ("could not determine executable to run").
// - It sizes libuv's thread pool, which signs responses and callbacks, before anything starts the pool.
//   One thread per core signs fastest (Node's default of four on a two-core machine contends with the
//   event loop for the cores; docs/benchmarks.md). libuv reads the size once, when the pool starts, and
//   loading an ES module starts it on the Node.js versions we run on (the loader reads files
//   asynchronously), so this cannot be set from dist/cli/main.js: it must happen here, in a CommonJS
//   entry, before the import. An explicit UV_THREADPOOL_SIZE wins.
const { existsSync } = require('node:fs');
const { availableParallelism } = require('node:os');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

process.env.UV_THREADPOOL_SIZE ??= String(availableParallelism());

const main = join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!existsSync(main)) {
  process.stderr.write(
    'error: wechatpay-sandbox is not built yet; run `npm run build` in the repository (npm install builds it too)\n',
  );
  process.exit(1);
}
import(pathToFileURL(main).href).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
