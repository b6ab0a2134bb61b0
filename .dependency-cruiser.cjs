// Import rules, checked by `npm test` (scripts/test.mjs) with dependency-cruiser: no cycles, and
// dependencies point inward — cli → app → http → services → domain ← db/outbox adapters; the SDK's
// protocol module depends on nothing.
// By hand: npx depcruise --config .dependency-cruiser.cjs packages bench scripts

const SERVER = '^packages/server/src/';
/** Tests and test helpers may import anything (the test-kit rule below aside). */
const TESTS = ['\\.test\\.ts$', '\\.type-test\\.ts$', '^packages/[^/]+/test/'];
/** The server's outer layers and adapters: nothing inward of them may import these. */
const SERVER_OUTSIDE_DOMAIN = `${SERVER}(http|db|outbox|cli|sim|services|credentials)/|${SERVER}(app|offline|server|cluster|cluster-worker|config)\\.ts$`;
/** The SDK's public entry points (package.json "exports"). */
const SDK_ENTRY_POINTS = '^packages/sdk/src/(index|protocol/index|client/index|notifications/index)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Import cycles make the load order matter and the layers meaningless: move the shared piece to the module that owns it.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment:
        'An import the checker cannot resolve would escape every rule below. Imports of built output (bench/ reads packages/*/dist) resolve only after the build, which npm test runs first.',
      from: {},
      to: { couldNotResolve: true, pathNot: '(^|/)dist/' },
    },
    {
      name: 'protocol-depends-on-nothing',
      severity: 'error',
      comment: 'sdk/src/protocol is pure wire code: it imports only itself and node: builtins.',
      from: { path: '^packages/sdk/src/protocol/', pathNot: TESTS },
      to: { pathNot: '^packages/sdk/src/protocol/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'sdk-is-standalone',
      severity: 'error',
      comment:
        'The SDK is published on its own with zero runtime dependencies: its own files and node: builtins only, never the server or the test-kit.',
      from: { path: '^packages/sdk/src/', pathNot: TESTS },
      to: { pathNot: '^packages/sdk/src/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'domain-points-inward',
      severity: 'error',
      comment:
        'domain/ holds business rules over plain data and ports. It may import domain/, errors.ts, contract/ (wire types and schemas), the SDK protocol and TypeBox; never adapters (db, outbox, sim), http, cli, credentials, config or the composition root.',
      from: { path: `${SERVER}domain/`, pathNot: TESTS },
      to: {
        pathNot: [
          `${SERVER}domain/`,
          `${SERVER}errors\\.ts$`,
          `${SERVER}contract/`,
          '^packages/sdk/src/protocol/',
          '(^|/)node_modules/@sinclair/typebox/',
        ],
        dependencyTypesNot: ['core'],
      },
    },
    {
      name: 'domain-does-no-io',
      severity: 'error',
      comment:
        'domain/ calls ports for I/O: no node:http, node:fs, sockets, DNS, child processes or workers.',
      from: { path: `${SERVER}domain/`, pathNot: TESTS },
      to: {
        dependencyTypes: ['core'],
        path: '^(node:)?(http|https|http2|net|tls|dgram|dns|fs|fs/promises|child_process|cluster|worker_threads)$',
      },
    },
    {
      name: 'contract-is-plain-data',
      severity: 'error',
      comment:
        'contract/ (the endpoint table and its schemas) is read by every layer and by the SDK check: it imports only contract/, errors.ts, TypeBox and the SDK (types), never a server layer.',
      from: { path: `${SERVER}contract/`, pathNot: TESTS },
      to: { path: [SERVER_OUTSIDE_DOMAIN, `${SERVER}domain/`] },
    },
    {
      name: 'adapters-point-inward',
      severity: 'error',
      comment:
        'db/, outbox/ and sim/ are adapters under the services: they never reach up into services/, http/, cli/ or the composition root.',
      from: { path: `${SERVER}(db|outbox|sim)/`, pathNot: TESTS },
      to: {
        path: `${SERVER}(services|http|cli)/|${SERVER}(app|offline|server|cluster|cluster-worker)\\.ts$`,
      },
    },
    {
      name: 'services-below-http',
      severity: 'error',
      comment:
        'services/ is what routes, the CLI and the dashboard call: it never imports them or the composition root.',
      from: { path: `${SERVER}services/`, pathNot: TESTS },
      to: { path: `${SERVER}(http|cli)/|${SERVER}(app|offline|server|cluster|cluster-worker)\\.ts$` },
    },
    {
      name: 'http-does-not-import-cli',
      severity: 'error',
      from: { path: `${SERVER}http/`, pathNot: TESTS },
      to: { path: `${SERVER}cli/` },
    },
    {
      name: 'cli-gets-services',
      severity: 'error',
      comment:
        'Commands receive services (built by the composition roots, app.ts and offline.ts), never the database: no repository, migration or connection in cli/.',
      from: { path: `${SERVER}cli/`, pathNot: TESTS },
      to: { path: `${SERVER}db/` },
    },
    {
      name: 'only-cli-imports-cli',
      severity: 'error',
      comment: 'cli/ is the outermost layer: only cli/ itself and tests import it.',
      from: { pathNot: [`${SERVER}cli/`, ...TESTS] },
      to: { path: `${SERVER}cli/` },
    },
    {
      name: 'config-imports-no-feature-module',
      severity: 'error',
      comment:
        'config.ts parses and freezes settings: it may read contract/ (plain data such as documented rate limits) and errors.ts, never a feature module or the composition root.',
      from: { path: `${SERVER}config\\.ts$` },
      to: { path: [SERVER_OUTSIDE_DOMAIN, `${SERVER}domain/`] },
    },
    {
      name: 'server-uses-sdk-exports',
      severity: 'error',
      comment: 'The server reaches the SDK through its package exports, as any other user does.',
      from: { path: SERVER, pathNot: TESTS },
      to: { path: '^packages/sdk/', pathNot: SDK_ENTRY_POINTS },
    },
    {
      name: 'test-kit-uses-entry-points',
      severity: 'error',
      comment:
        'The test-kit reaches the server and the SDK through their package exports only (server: app.ts, server.ts), never their internals.',
      from: { path: '^packages/test-kit/' },
      to: {
        path: ['^packages/server/', '^packages/sdk/'],
        pathNot: [`${SERVER}(app|server)\\.ts$`, SDK_ENTRY_POINTS],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^packages/[^/]+/dist/' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: a type cycle is still a cycle between the two files.
    tsPreCompilationDeps: true,
    // Workspace packages resolve to their sources (the "source" export condition, as in tsconfig.json),
    // so rules see packages/sdk/src/… rather than node_modules/@wechatpay-sandbox/sdk/dist/….
    preserveSymlinks: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['source', 'import', 'node', 'default'],
      extensions: ['.ts', '.mjs', '.js', '.cjs', '.json'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};
