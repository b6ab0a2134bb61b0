#!/usr/bin/env node
// `npm run generate`: writes packages/sdk/src/client/operations.generated.ts (the method and path of every
// APIv3 operation, which the SDK client builds its requests from) from the server's endpoint table.
// packages/server/test/sdk-operations.test.ts fails while the file differs from what this would write.
//
// It reads the built server (packages/server/dist), so it builds first. That build may fail precisely
// because the file is stale (the SDK conformance check); tsc -b emits the server anyway, so generation
// goes on, and the build that follows it shows what still fails (an operation without an SDK method).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const build = () =>
  spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'packages/sdk', 'packages/server'],
    { cwd: root, encoding: 'utf8' },
  );
const fromDist = (path) => import(pathToFileURL(join(root, 'packages/server/dist', path)).href);

const first = build();
let ENDPOINTS;
let renderSdkOperations;
let SDK_OPERATIONS_FILE;
try {
  ({ ENDPOINTS } = await fromDist('contract/endpoints/index.js'));
  ({ renderSdkOperations, SDK_OPERATIONS_FILE } = await fromDist('contract/sdk-operations.js'));
} catch (err) {
  process.stdout.write(first.stdout);
  console.error(`Cannot load the endpoint table from packages/server/dist (${err.message}).`);
  process.exit(1);
}

const file = join(root, SDK_OPERATIONS_FILE);
const text = renderSdkOperations(ENDPOINTS);
let current;
try {
  current = readFileSync(file, 'utf8');
} catch {}
if (current === text) {
  console.log(`${SDK_OPERATIONS_FILE} is up to date.`);
} else {
  writeFileSync(file, text);
  console.log(`Wrote ${SDK_OPERATIONS_FILE}.`);
}

const last = current === text ? first : build();
if (last.status !== 0) {
  process.stdout.write(last.stdout);
  process.stderr.write(last.stderr);
  console.error('The build fails (above). An operation without a client method is named in SDK_METHODS.');
  process.exit(1);
}
