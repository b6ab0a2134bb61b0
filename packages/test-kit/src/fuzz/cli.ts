import { type ChildProcess, fork } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import fc from 'fast-check';
import { type FuzzRequest, fuzzRequestArbitrary, signRequest } from './cases.js';
import { type FuzzTarget, WireClient, type WireOutcome } from './client.js';
import { checkAnswer, FINDING_KINDS, type Finding, type FindingKind, isInjectedFault } from './oracles.js';
import type { FuzzRoute } from './paths.js';
import { hasSample } from './samples.js';
import {
  changedParts,
  type Footprint,
  footprint,
  readState,
  type StatePart,
  type StateReading,
  unexplainedChanges,
  unionFootprints,
} from './state.js';
import { type FuzzWorld, NEVER_FAULTED_PATH, pluginSend, seedWorld } from './world.js';

/**
 * `npm run fuzz`: for each dialect, a real sandbox on loopback (SQLite in a temporary folder, or a
 * PostgreSQL database created for the run and dropped after), seeded with real state, then at least
 * `--cases` validly signed fuzzed requests over every route it lists, checked by the per-answer
 * oracles (oracles.ts) and the state oracle (state.ts). Prints a summary per dialect and the
 * reproductions of failures; exits 1 when any oracle failed or the run stopped short.
 * @see ../../../../docs/testing.md
 */

const USAGE = `npm run fuzz -- [--cases N] [--seed S] [--dialect sqlite|postgres|both] [--max-seconds T]
  --cases N         validly signed fuzzed requests per dialect (default 10000)
  --seed S          seed of the generators (default: random, printed; the same seed makes the same requests)
  --dialect D       sqlite, postgres or both (default both; PostgreSQL is skipped when unreachable)
  --max-seconds T   stop a dialect after T seconds even if N is not reached: the run then fails (default 900)
  --batch B         requests between two readings of the state (default 60)
  --concurrency C   requests in flight (default 8)`;

interface Options {
  cases: number;
  seed: number;
  dialects: Array<'sqlite' | 'postgres'>;
  maxSeconds: number;
  batch: number;
  concurrency: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      cases: { type: 'string', default: '10000' },
      seed: { type: 'string' },
      dialect: { type: 'string', default: 'both' },
      'max-seconds': { type: 'string', default: '900' },
      batch: { type: 'string', default: '60' },
      concurrency: { type: 'string', default: '8' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, text: string | undefined, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) {
      console.error(`--${name} must be a whole number of at least ${min}, got ${text}\n\n${USAGE}`);
      process.exit(2);
    }
    return n;
  };
  const dialect = values.dialect;
  if (dialect !== 'sqlite' && dialect !== 'postgres' && dialect !== 'both') {
    console.error(`--dialect must be sqlite, postgres or both, got ${dialect}\n\n${USAGE}`);
    process.exit(2);
  }
  return {
    cases: int('cases', values.cases, 1),
    seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : int('seed', values.seed, 0),
    dialects: dialect === 'both' ? ['sqlite', 'postgres'] : [dialect],
    maxSeconds: int('max-seconds', values['max-seconds'], 1),
    batch: int('batch', values.batch, 1),
    concurrency: int('concurrency', values.concurrency, 1),
  };
}

/** A running sandbox child and what it announced. */
interface Child {
  process: ChildProcess;
  target: FuzzTarget;
  routes: FuzzRoute[];
  exited: { code: number | null; signal: string | null } | undefined;
  /** Lines the server logged at error level (pino JSON on stdout). */
  errorLogs: string[];
}

interface ReadyMessage {
  type: 'ready';
  url: string;
  routes: FuzzRoute[];
  merchant: { mchid: string; serialNo: string; privateKeyPem: string; apiV2Key: string };
  platformPublicKeyPem: string;
}

async function startChild(dir: string, dbUrl: string, allowedHosts: string[]): Promise<Child> {
  const child = fork(new URL('./sandbox-child.js', import.meta.url), [dir, dbUrl, ...allowedHosts], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const state: Omit<Child, 'target' | 'routes'> = { process: child, exited: undefined, errorLogs: [] };
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let pending = '';
  child.stdout?.on('data', (d: Buffer) => {
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) state.errorLogs.push(line);
  });
  child.on('exit', (code, signal) => {
    state.exited = { code, signal };
  });
  const ready = await new Promise<ReadyMessage>((resolveReady, reject) => {
    child.on('message', (m: { type?: string }) => {
      if (m.type === 'ready') resolveReady(m as ReadyMessage);
    });
    child.once('exit', (code) =>
      reject(new Error(`the sandbox exited (${code}) before it was ready:\n${stderr}`)),
    );
  });
  return {
    ...state,
    get exited() {
      return state.exited;
    },
    routes: ready.routes,
    target: {
      url: ready.url,
      mchid: ready.merchant.mchid,
      serialNo: ready.merchant.serialNo,
      privateKey: createPrivateKey(ready.merchant.privateKeyPem),
      apiV2Key: ready.merchant.apiV2Key,
      platformKey: createPublicKey(ready.platformPublicKeyPem),
    },
  };
}

/** Asks the child to close the server; returns the connections and lookups it refused. */
async function stopChild(child: Child): Promise<string[]> {
  if (child.exited) return [];
  return new Promise((done) => {
    const timer = setTimeout(() => {
      child.process.kill('SIGKILL');
      done([]);
    }, 15_000);
    child.process.on('message', (m: { type?: string; blocked?: string[] }) => {
      if (m.type === 'closed') {
        clearTimeout(timer);
        done(m.blocked ?? []);
      }
    });
    child.process.send({ type: 'close' });
  });
}

/** Runs `task` over `items` with at most `width` in flight; results in input order. */
async function pool<T, R>(items: readonly T[], width: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i] as T);
      }
    }),
  );
  return results;
}

/** A failure worth reproducing: the request, what it got, and what the oracle said. */
interface Repro {
  finding: Finding;
  request: FuzzRequest;
  status: number | undefined;
  answer: string;
  reproduced?: boolean;
}

interface RouteStats {
  cases: number;
  byClass: Record<string, number>;
  findings: number;
}

/** Everything one dialect's run counted. */
interface DialectReport {
  dialect: string;
  skipped?: string;
  cases: number;
  unsendable: number;
  durationMs: number;
  byClass: Record<string, number>;
  byBodyKind: Record<string, number>;
  bySpelling: { plain: number; other: number };
  injectedFaults: number;
  findings: Record<FindingKind, number>;
  byRoute: Map<string, RouteStats>;
  routesWithoutSample: string[];
  /** Readings compared, those where the batch's successes left some parts to check, and those none. */
  stateComparisons: number;
  stateComparisonsNarrow: number;
  stateComparisonsFull: number;
  /** Refused requests sent a second time for the state oracle. */
  replayed: number;
  /** Where the time went: fuzzed requests (both sends), state readings, repairs. */
  sendMs: number;
  readMs: number;
  repairMs: number;
  repairs: number;
  repros: Repro[];
  blockedEgress: string[];
  errorLogs: string[];
  stoppedShort?: string;
}

const CLASS = (status: number | undefined) =>
  status === undefined ? 'none' : `${Math.floor(status / 100)}xx`;
const routeKey = (r: FuzzRoute) => `${r.method} ${r.url}`;

/** Reproductions kept per finding kind and route (the counts are complete; the examples are not). */
const REPROS_PER_KIND_AND_ROUTE = 3;

async function runDialect(name: 'sqlite' | 'postgres', options: Options): Promise<DialectReport> {
  const report: DialectReport = {
    dialect: name,
    cases: 0,
    unsendable: 0,
    durationMs: 0,
    byClass: {},
    byBodyKind: {},
    bySpelling: { plain: 0, other: 0 },
    injectedFaults: 0,
    findings: Object.fromEntries(FINDING_KINDS.map((k) => [k, 0])) as Record<FindingKind, number>,
    byRoute: new Map(),
    routesWithoutSample: [],
    stateComparisons: 0,
    stateComparisonsNarrow: 0,
    stateComparisonsFull: 0,
    replayed: 0,
    sendMs: 0,
    readMs: 0,
    repairMs: 0,
    repairs: 0,
    repros: [],
    blockedEgress: [],
    errorLogs: [],
  };
  const dir = mkdtempSync(join(tmpdir(), 'wps-fuzz-'));
  let dbUrl = `sqlite:${join(dir, 'data.db')}`;
  let dropDatabase = async () => {};
  const allowedHosts: string[] = [];
  if (name === 'postgres') {
    const { DIALECTS, PG_ADMIN_URL } = await import('../dialects.js');
    const pg = DIALECTS.find((d) => d.name === 'postgres');
    if (!pg?.available) {
      rmSync(dir, { recursive: true, force: true });
      return { ...report, skipped: `PostgreSQL is not reachable at ${PG_ADMIN_URL} (set WPS_TEST_PG_URL)` };
    }
    const database = await pg.create();
    dbUrl = database.url;
    dropDatabase = database.drop;
    allowedHosts.push(new URL(PG_ADMIN_URL).hostname);
  }
  const started = performance.now();
  const child = await startChild(dir, dbUrl, allowedHosts);
  const client = new WireClient(child.target, { concurrency: options.concurrency, timeoutMs: 30_000 });
  const seen = new Map<string, number>();
  const keep = (repro: Repro) => {
    const key = `${repro.finding.kind} ${routeKey(repro.request.route)}`;
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    if (n < REPROS_PER_KIND_AND_ROUTE) report.repros.push(repro);
  };
  try {
    const routes = child.routes;
    // A route with no parameter and no body needs no sample; the others reach few rules without one.
    report.routesWithoutSample = routes
      .filter((r) => !hasSample(r) && (r.url.includes(':') || !['GET', 'HEAD', 'DELETE'].includes(r.method)))
      .map(routeKey);
    for (const r of routes) report.byRoute.set(routeKey(r), { cases: 0, byClass: {}, findings: 0 });
    const world = await seedWorld(client);
    // What the repairs restore: the seeded state as last read after a repair (times such as a notify
    // URL's update_time move with every repair, so the seed's own reading would never match again).
    let baseline = await readState(client, world);
    let before = baseline;
    let arbitrary = fuzzRequestArbitrary(routes, world, child.target.url);
    /** Sends a batch, runs the per-answer oracles, and says what each answer may have changed. */
    const sendBatch = async (batch: readonly FuzzRequest[], countAsCases: boolean) => {
      const sendStarted = performance.now();
      const outcomes = await pool(batch, options.concurrency, (request) =>
        client.send(signRequest(client, request)),
      );
      report.sendMs += performance.now() - sendStarted;
      const footprints: Footprint[] = [];
      const refused: boolean[] = [];
      batch.forEach((request, i) => {
        const outcome = outcomes[i] as WireOutcome;
        refused.push(
          outcome.kind === 'response' && outcome.response.status >= 400 && !isInjectedFault(outcome.response),
        );
        if (outcome.kind === 'unsendable') {
          if (countAsCases) report.unsendable++;
          return;
        }
        const status = outcome.kind === 'response' ? outcome.response.status : undefined;
        const stats = report.byRoute.get(routeKey(request.route)) as RouteStats;
        if (countAsCases) {
          report.cases++;
          const cls = CLASS(status);
          report.byClass[cls] = (report.byClass[cls] ?? 0) + 1;
          report.byBodyKind[request.bodyKind] = (report.byBodyKind[request.bodyKind] ?? 0) + 1;
          report.bySpelling[request.spelling === 'plain' ? 'plain' : 'other']++;
          stats.cases++;
          stats.byClass[cls] = (stats.byClass[cls] ?? 0) + 1;
        }
        if (outcome.kind === 'response') {
          const injected = isInjectedFault(outcome.response);
          if (injected && countAsCases) report.injectedFaults++;
          footprints.push(footprint(request.route, request.method, outcome.response.status, injected));
        } else {
          // No answer: what the request did is unknown.
          footprints.push('all');
        }
        for (const finding of checkAnswer(request, outcome, child.target.platformKey)) {
          report.findings[finding.kind]++;
          stats.findings++;
          keep({
            finding,
            request,
            status,
            answer: outcome.kind === 'response' ? outcome.response.text.slice(0, 2000) : outcome.error,
          });
        }
      });
      return { outcomes, footprints, refused };
    };
    /** Compares two readings around a batch; returns the reading to compare the next batch against. */
    const compareState = async (
      batch: readonly FuzzRequest[],
      sent: { outcomes: WireOutcome[]; footprints: Footprint[] },
      stateBefore: StateReading,
      stateAfter: StateReading,
    ): Promise<StateReading> => {
      report.stateComparisons++;
      const allowed = unionFootprints(sent.footprints);
      if (allowed !== 'all') report.stateComparisonsNarrow++;
      if (allowed !== 'all' && allowed.size === 0) report.stateComparisonsFull++;
      const unexplained = unexplainedChanges(changedParts(stateBefore, stateAfter), allowed);
      if (unexplained.length === 0) return stateAfter;
      report.findings['state-change']++;
      report.repros.push(
        ...(await localizeStateChange(
          client,
          world,
          batch,
          sent.outcomes,
          unexplained,
          stateBefore,
          stateAfter,
        )),
      );
      return readState(client, world);
    };
    const deadline = started + options.maxSeconds * 1000;
    for (let batchNo = 0; report.cases < options.cases; batchNo++) {
      if (performance.now() > deadline) {
        report.stoppedShort = `--max-seconds ${options.maxSeconds} reached after ${report.cases} of ${options.cases} cases`;
        break;
      }
      const size = Math.min(options.batch, options.cases - report.cases);
      const batch = fc.sample(arbitrary, { seed: (options.seed + batchNo) | 0, numRuns: size });
      // The batch, then the state oracle's two comparisons (state.ts): the batch against what its
      // successes may change, then its refused requests sent again, against what theirs may.
      const first = await sendBatch(batch, true);
      if (child.exited) {
        report.findings.crash++;
        report.repros.push(...crashRepros(batch, child));
        break;
      }
      const refusedAgain = batch.filter((_, i) => first.refused[i]);
      let checked: StateReading;
      try {
        const readStarted = performance.now();
        const afterBatch = await readState(client, world);
        report.readMs += performance.now() - readStarted;
        checked = await compareState(batch, first, before, afterBatch);
        const second = await sendBatch(refusedAgain, false);
        if (child.exited) {
          report.findings.crash++;
          report.repros.push(...crashRepros(refusedAgain, child));
          break;
        }
        report.replayed += refusedAgain.length;
        const secondReadStarted = performance.now();
        const afterSecond = await readState(client, world);
        report.readMs += performance.now() - secondReadStarted;
        checked = await compareState(refusedAgain, second, checked, afterSecond);
      } catch (err) {
        report.findings.crash++;
        report.repros.push(...crashRepros(batch, child, (err as Error).message));
        break;
      }
      // Repairs cost a reading of their own, so they wait for every fifth batch.
      const repairStarted = performance.now();
      const repaired = batchNo % 5 === 4 && (await repairWorld(client, world, baseline, checked));
      if (repaired) {
        report.repairs++;
        arbitrary = fuzzRequestArbitrary(routes, world, child.target.url);
        before = await readState(client, world);
        baseline = before;
        report.repairMs += performance.now() - repairStarted;
      } else {
        before = checked;
      }
      if (batchNo % 25 === 24) progress(name, report, options.cases, started);
    }
    // The server still answers, unsigned, on a fresh connection.
    if (!child.exited) {
      const health = await new WireClient(child.target).send({
        method: 'GET',
        target: '/metrics',
        headers: { Accept: 'text/plain', 'User-Agent': 'fuzz-health' },
      });
      if (health.kind !== 'response' || health.response.status !== 200) {
        report.findings.crash++;
        report.repros.push({
          finding: {
            kind: 'crash',
            detail: `health probe GET /metrics after the run: ${describeOutcome(health)}`,
          },
          request: healthRequest(),
          status: health.kind === 'response' ? health.response.status : undefined,
          answer: describeOutcome(health),
        });
      }
      await confirmRepros(client, report.repros);
    } else if (report.findings.crash === 0) {
      report.findings.crash++;
    }
  } finally {
    client.close();
    report.blockedEgress = await stopChild(child);
    report.errorLogs = child.errorLogs;
    report.durationMs = performance.now() - started;
    await dropDatabase().catch((err) =>
      console.error(`dropping the fuzz database failed: ${(err as Error).message}`),
    );
    rmSync(dir, { recursive: true, force: true });
  }
  return report;
}

function healthRequest(): FuzzRequest {
  return {
    route: { method: 'GET', url: '/metrics', auth: 'public' },
    method: 'GET',
    target: '/metrics',
    spelling: 'plain',
    headers: {},
    signedBody: '',
    chunked: false,
    authorization: 'single',
    bodyKind: 'none',
  };
}

function describeOutcome(outcome: WireOutcome): string {
  return outcome.kind === 'response'
    ? `${outcome.response.status} ${outcome.response.text.slice(0, 200)}`
    : outcome.error;
}

/** The server died during a batch: every request of the batch is a suspect. */
function crashRepros(batch: readonly FuzzRequest[], child: Child, error?: string): Repro[] {
  const how = child.exited
    ? `the sandbox process exited (code ${child.exited.code}, signal ${child.exited.signal})`
    : `the sandbox stopped answering: ${error}`;
  return batch.map((request) => ({
    finding: { kind: 'crash' as const, detail: `${how}; this request was in the batch` },
    request,
    status: undefined,
    answer: child.errorLogs.slice(-5).join('\n'),
  }));
}

/**
 * A part of the state changed and no success of the batch may change it. Sends the batch's refused
 * requests again one at a time (signed afresh), reading that part before and after each, to name the
 * request that changes it; if none does alone, the whole batch is reported.
 */
async function localizeStateChange(
  client: WireClient,
  world: FuzzWorld,
  batch: readonly FuzzRequest[],
  outcomes: readonly WireOutcome[],
  parts: StatePart[],
  before: StateReading,
  after: StateReading,
): Promise<Repro[]> {
  const diff = parts
    .map((p) => `${p}: before ${before.get(p)?.slice(0, 400)}\n  after  ${after.get(p)?.slice(0, 400)}`)
    .join('\n');
  const suspects = batch.filter((_, i) => {
    const o = outcomes[i] as WireOutcome;
    return o.kind === 'response' && (o.response.status < 200 || o.response.status >= 300);
  });
  const repros: Repro[] = [];
  for (const request of suspects) {
    const start = await readState(client, world);
    const outcome = await client.send(signRequest(client, request));
    const end = await readState(client, world);
    const changed = changedParts(start, end).filter((p) => parts.includes(p));
    if (
      changed.length > 0 &&
      outcome.kind === 'response' &&
      (outcome.response.status < 200 || outcome.response.status >= 300)
    ) {
      repros.push({
        finding: { kind: 'state-change', detail: `refused request changed ${changed.join(', ')}\n${diff}` },
        request,
        status: outcome.response.status,
        answer: outcome.response.text.slice(0, 2000),
        reproduced: true,
      });
    }
  }
  if (repros.length > 0) return repros;
  return suspects.map((request) => ({
    finding: {
      kind: 'state-change' as const,
      detail: `state changed in a batch where nothing allowed it (not reproduced by one request alone)\n${diff}`,
    },
    request,
    status: undefined,
    answer: '',
  }));
}

/**
 * Puts the seeded state back where fuzzed successes moved it (the clock, rules, bindings, notify URLs,
 * used-up coupons), so later requests still reach the business rules. Runs between batches, after the
 * comparison; the next batch is compared against a fresh reading. Returns whether anything changed.
 */
async function repairWorld(
  client: WireClient,
  world: FuzzWorld,
  baseline: StateReading,
  now: StateReading,
): Promise<boolean> {
  let repaired = false;
  const differs = (part: StatePart) => baseline.get(part) !== now.get(part);
  const call = async (method: string, target: string, body?: unknown) => {
    repaired = true;
    const res = await client.call(method, target, body);
    return res.json as Record<string, unknown> | undefined;
  };
  if (differs('clock')) {
    await call('POST', '/sandbox/v1/clock', { action: 'resume', scope: 'global', allow_backwards: true });
    await call('POST', '/sandbox/v1/clock', {
      action: 'freeze',
      time: formatBeijingTime(world.nowMs),
      allow_backwards: true,
    });
  }
  if (differs('faults')) {
    const list = (await call('GET', '/sandbox/v1/faults')) as { data?: Array<{ id: string }> } | undefined;
    for (const rule of list?.data ?? [])
      if (rule.id !== world.faultRuleId) await call('DELETE', `/sandbox/v1/faults/${rule.id}`);
    if (!list?.data?.some((r) => r.id === world.faultRuleId)) {
      const rule = await call('POST', '/sandbox/v1/faults', {
        method: 'PUT',
        path: NEVER_FAULTED_PATH,
        code: 'RULE_LIMIT',
      });
      world.faultRuleId = rule?.id as string;
    }
  }
  if (differs('outcomes')) {
    const list = (await call('GET', '/sandbox/v1/busifavor/subsidy-outcomes')) as
      | { data?: Array<{ id: string }> }
      | undefined;
    for (const rule of list?.data ?? []) {
      if (rule.id !== world.outcomeRuleId)
        await call('DELETE', `/sandbox/v1/busifavor/subsidy-outcomes/${rule.id}`);
    }
    if (!list?.data?.some((r) => r.id === world.outcomeRuleId)) {
      const rule = await call('POST', '/sandbox/v1/busifavor/subsidy-outcomes', {
        fail_reason: 'PAY_RECEIPT_OTHER',
        stock_id: world.uploadStockId,
        count: 1,
      });
      world.outcomeRuleId = rule?.id as string;
    }
  }
  if (differs('forwards')) {
    const list = (await call('GET', '/sandbox/v1/notification-forwards')) as
      | { data?: Array<{ id: string }> }
      | undefined;
    for (const rule of list?.data ?? [])
      if (rule.id !== world.forwardId) await call('DELETE', `/sandbox/v1/notification-forwards/${rule.id}`);
    if (!list?.data?.some((r) => r.id === world.forwardId)) {
      const rule = await call('POST', '/sandbox/v1/notification-forwards', {
        from_url: world.notifyUrl,
        to_url: 'http://127.0.0.1:9/fuzz/forwarded',
      });
      world.forwardId = rule?.id as string;
    }
  }
  if (differs('appids') && !now.get('appids')?.includes(`"${world.appid}"`)) {
    await call('POST', '/sandbox/v1/appids', { appid: world.appid });
  }
  if (differs('callbacks')) {
    await call('POST', '/v3/marketing/busifavor/callbacks', {
      mchid: world.mchid,
      notify_url: world.notifyUrl,
    });
  }
  if (differs('product-coupon-notify')) {
    await call('POST', '/v3/marketing/partner/product-coupon/notify-configs', {
      notify_url: world.notifyUrl,
    });
  }
  if (differs('stock') && !now.get('stock')?.includes('"stock_state":"RUNNING"')) {
    await call('POST', `/sandbox/v1/busifavor/stocks/${world.stockId}/state`, { stock_state: 'RUNNING' });
  }
  const sended = (now.get('coupons') ?? '')
    .split('\n')
    .filter((line) => line.includes('"coupon_state":"SENDED"')).length;
  if (sended < 2) {
    repaired = true;
    world.couponCodes = await pluginSend(client, world, world.stockId, 3).catch(() => world.couponCodes);
  }
  return repaired;
}

/**
 * Sends each kept failure again (signed afresh) and records whether the same oracle fails; if it does,
 * makes it smaller while it still fails: drops the extra headers, the query and the top-level body
 * members one at a time (a body that is not plain JSON text is kept as sent).
 */
async function confirmRepros(client: WireClient, repros: Repro[]): Promise<void> {
  const fails = async (request: FuzzRequest, kind: FindingKind) => {
    const outcome = await client.send(signRequest(client, request));
    return checkAnswer(request, outcome, client.target.platformKey).some((f) => f.kind === kind);
  };
  let budget = 400;
  for (const repro of repros) {
    const kind = repro.finding.kind;
    if (repro.reproduced !== undefined || kind === 'crash' || kind === 'state-change') continue;
    repro.reproduced = await fails(repro.request, kind);
    if (!repro.reproduced) continue;
    let request = repro.request;
    const attempt = async (smaller: FuzzRequest) => {
      if (budget-- <= 0) return;
      if (await fails(smaller, kind)) request = smaller;
    };
    for (const name of Object.keys(request.headers)) {
      if (['Accept', 'User-Agent', 'Content-Type'].includes(name)) continue;
      const { [name]: _dropped, ...headers } = request.headers;
      await attempt({ ...request, headers });
    }
    const [path, query] = request.target.split('?', 2);
    if (query !== undefined) await attempt({ ...request, target: path as string });
    const text = request.body?.toString('utf8');
    let members: Array<[string, unknown]> = [];
    try {
      const parsed = text === undefined ? undefined : JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && JSON.stringify(parsed) === text) {
        members = Object.entries(parsed);
      }
    } catch {
      // not plain JSON text: kept as sent
    }
    for (const [name] of members) {
      const current = JSON.parse(request.body?.toString('utf8') ?? '{}') as Record<string, unknown>;
      if (!(name in current)) continue;
      delete current[name];
      const body = JSON.stringify(current);
      await attempt({ ...request, body: Buffer.from(body), signedBody: body });
    }
    repro.request = request;
  }
}

function progress(name: string, report: DialectReport, total: number, started: number): void {
  const s = (performance.now() - started) / 1000;
  const failures = Object.values(report.findings).reduce((a, b) => a + b, 0);
  console.log(`  ${name}: ${report.cases}/${total} cases, ${s.toFixed(0)} s, ${failures} findings`);
}

/** A body for a terminal: short ones whole, long ones cut in the middle with their size. */
function showBody(body: Buffer | undefined): string {
  if (!body || body.length === 0) return '(no body)';
  const text = body.toString('utf8');
  const shown = JSON.stringify(text.length > 700 ? `${text.slice(0, 400)}…${text.slice(-200)}` : text);
  return `${shown}${text.length > 700 ? ` (${body.length} bytes)` : ''}${text.includes('\ufffd') ? ' (not UTF-8; bytes in the findings file)' : ''}`;
}

/** The target as sent; octets HTTP does not allow raw are shown as \xNN (they were sent as single octets). */
function showTarget(target: string): string {
  if (/^[\x21-\x7e]*$/.test(target)) return target;
  const escaped = target.replace(
    /[^\x21-\x7e]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
  return `${escaped}   (each \\xNN is one raw octet on the wire)`;
}

function showRepro(repro: Repro): string {
  const r = repro.request;
  const headers = Object.entries(r.headers)
    .flatMap(([k, v]) =>
      Array.isArray(v) ? v.map((x) => `    ${k}: ${JSON.stringify(x)}`) : [`    ${k}: ${JSON.stringify(v)}`],
    )
    .join('\n');
  const reproduced =
    repro.reproduced === undefined
      ? ''
      : repro.reproduced
        ? ' (reproduced on resend; shown minimized)'
        : ' (not reproduced on resend)';
  return [
    `  [${repro.finding.kind}] ${routeKey(r.route)}${reproduced}: ${repro.finding.detail}`,
    `    ${r.method} ${showTarget(r.target)}${r.chunked ? '   (Transfer-Encoding: chunked)' : ''}`,
    headers,
    `    Authorization: signed by the dev merchant over this method, target and body${r.authorization === 'single' ? '' : ` (${r.authorization} Authorization header too)`}`,
    `    body: ${showBody(r.body)}`,
    `    got: ${repro.status ?? '(no answer)'} ${repro.answer.slice(0, 300)}`,
  ].join('\n');
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) => `| ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`).join('\n');
}

function printReport(report: DialectReport, options: Options): void {
  console.log(`\n## ${report.dialect}`);
  if (report.skipped) {
    console.log(`skipped: ${report.skipped}`);
    return;
  }
  const f = report.findings;
  const classes = ['2xx', '3xx', '4xx', '5xx', 'none']
    .map((c) => `${c} ${report.byClass[c] ?? 0}`)
    .join(', ');
  console.log(
    `${report.cases} cases in ${(report.durationMs / 1000).toFixed(1)} s (seed ${options.seed}); ${classes}; ${report.unsendable} not sendable by Node's client (not counted)`,
  );
  console.log(
    `bodies: ${Object.entries(report.byBodyKind)
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ', ',
      )}; spellings: plain ${report.bySpelling.plain}, other ${report.bySpelling.other}; injected faults answered: ${report.injectedFaults}`,
  );
  console.log(
    table([
      ['oracle', 'failures'],
      ['5xx (not injected)', String(f['5xx'])],
      ['crashes (process exit, no answer to the state reads or the health probe)', String(f.crash)],
      ['hang-ups (connection reset or closed without an answer, or no answer in 30 s)', String(f['hang-up'])],
      ['malformed (error not {"code","message"} JSON, 2xx not verifiable, 401 signed)', String(f.malformed)],
      ['missing Request-ID (not 48 hex characters)', String(f['missing-request-id'])],
      ['internal details shown (stack, error names, SQL errors)', String(f.leak)],
      ['odd spelling of a signed route answered past authentication', String(f['spelling-accepted'])],
      [
        `state changed by refused requests (${report.stateComparisons} comparisons: ${report.stateComparisonsFull} with no success in the batch, ${report.stateComparisonsNarrow - report.stateComparisonsFull} with some parts left to check; ${report.replayed} refused requests sent again)`,
        String(f['state-change']),
      ],
    ]),
  );
  const rows = [['route', 'cases', '2xx', '4xx', '5xx', 'no answer', 'findings']];
  for (const [key, s] of [...report.byRoute.entries()].sort()) {
    rows.push([
      key,
      String(s.cases),
      String(s.byClass['2xx'] ?? 0),
      String(s.byClass['4xx'] ?? 0),
      String(s.byClass['5xx'] ?? 0),
      String(s.byClass.none ?? 0),
      String(s.findings),
    ]);
  }
  console.log(`\nby route (${report.byRoute.size} routes):\n${table(rows)}`);
  const unfuzzed = [...report.byRoute.entries()].filter(([, s]) => s.cases === 0).map(([k]) => k);
  if (unfuzzed.length > 0) console.log(`routes that got no case (raise --cases): ${unfuzzed.join(', ')}`);
  if (report.routesWithoutSample.length > 0) {
    console.log(
      `routes fuzzed without a valid-ish sample (add one to samples.ts): ${report.routesWithoutSample.join(', ')}`,
    );
  }
  console.log(
    `time: fuzzed requests ${(report.sendMs / 1000).toFixed(1)} s, state readings ${(report.readMs / 1000).toFixed(1)} s, repairs ${(report.repairMs / 1000).toFixed(1)} s (${report.repairs} between batches)`,
  );
  console.log(
    `connections and DNS lookups the sandbox was refused (loopback only): ${report.blockedEgress.length}`,
  );
  const errors = report.errorLogs.filter((l) => /"level":(50|60)/.test(l));
  console.log(
    `server error-level log lines: ${errors.length}${
      errors.length
        ? `\n    ${errors
            .slice(0, 3)
            .map((l) => l.slice(0, 300))
            .join('\n    ')}`
        : ''
    }`,
  );
  if (report.stoppedShort) console.log(`STOPPED SHORT: ${report.stoppedShort}`);
  if (report.repros.length > 0) {
    console.log(
      `\nreproductions (${report.repros.length}; at most ${REPROS_PER_KIND_AND_ROUTE} per oracle and route):`,
    );
    for (const repro of report.repros.slice(0, 60)) console.log(showRepro(repro));
  }
}

function failed(report: DialectReport): boolean {
  return Object.values(report.findings).some((n) => n > 0) || report.stoppedShort !== undefined;
}

/** Writes every kept reproduction, bodies as base64, for replaying outside this run. */
function writeFindings(reports: DialectReport[], options: Options): string {
  const dir = resolve('.test-tmp', 'fuzz');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `findings-${options.seed}.json`);
  const data = reports.map((r) => ({
    dialect: r.dialect,
    findings: r.findings,
    repros: r.repros.map((x) => ({
      ...x,
      request: { ...x.request, body: x.request.body?.toString('base64') ?? null, bodyEncoding: 'base64' },
    })),
  }));
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

const options = parseOptions(process.argv.slice(2));
console.log(
  `fuzzing ${options.dialects.join(' and ')}: ${options.cases} cases per dialect, seed ${options.seed}, batches of ${options.batch}, ${options.concurrency} in flight, at most ${options.maxSeconds} s each`,
);
const reports: DialectReport[] = [];
for (const dialect of options.dialects) {
  console.log(`\n${dialect}: starting a sandbox and seeding its state…`);
  const report = await runDialect(dialect, options);
  reports.push(report);
  printReport(report, options);
}
const ran = reports.filter((r) => !r.skipped);
const anyFailed = ran.some(failed) || ran.length === 0;
if (ran.some((r) => r.repros.length > 0)) console.log(`\nall reproductions: ${writeFindings(ran, options)}`);
console.log(
  `\nFuzz: ${ran.map((r) => `${r.dialect} ${r.cases} cases, ${Object.values(r.findings).reduce((a, b) => a + b, 0)} failures`).join('; ') || 'nothing ran'}${
    reports.some((r) => r.skipped)
      ? ` (skipped: ${reports
          .filter((r) => r.skipped)
          .map((r) => r.dialect)
          .join(', ')})`
      : ''
  } — ${anyFailed ? 'FAILED' : 'passed'}`,
);
process.exit(anyFailed ? 1 : 0);
