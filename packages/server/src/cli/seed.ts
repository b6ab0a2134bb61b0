import { WechatError } from '../errors.js';
import {
  planSeed,
  SEED_LIMITS,
  SeedPlanError,
  type SeedProgress,
  SeedRefusedError,
  type SeedResult,
} from '../services/seed.js';
import { withMerchantServices } from './dev-merchant.js';
import { DB_OPTIONS, parse } from './options.js';
import { type CliOutput, EXIT, UsageError } from './usage.js';

/**
 * `wechatpay-sandbox seed`: fills a sandbox's database with stocks, simulated users and coupons in their
 * hands (services/seed.ts), showing progress on stderr, and prints what it made so it can be queried.
 * @see ../../../../docs/cli.md "seed"
 */

/** Where the progress goes: a terminal gets one bar redrawn in place, anything else plain lines. */
export interface ProgressStream {
  isTTY: boolean;
  write(text: string): void;
}

/** A whole number option within bounds, or a UsageError naming it. */
function countOption(value: string, option: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < min || n > max) {
    throw new UsageError(`--${option} must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

/**
 * `seed --coupons M [--stocks N] [--users U] [--mchid N] [--json] [--dir D] [--db URL]`. Every value is
 * checked before the database is opened, so a bad flag writes nothing. Returns the exit code.
 */
export async function seedCommand(
  args: string[],
  out: CliOutput,
  progress?: ProgressStream,
): Promise<number> {
  const values = parse(args, {
    ...DB_OPTIONS,
    stocks: { type: 'string', default: '1' },
    coupons: { type: 'string' },
    users: { type: 'string' },
    mchid: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (values.coupons === undefined) throw new UsageError('--coupons is required (how many coupons to seed)');
  const coupons = countOption(values.coupons, 'coupons', 0, SEED_LIMITS.coupons);
  const stocks = countOption(values.stocks, 'stocks', 1, SEED_LIMITS.stocks);
  const users =
    values.users === undefined
      ? Math.min(SEED_LIMITS.users, Math.max(1, Math.ceil(coupons / 10)))
      : countOption(values.users, 'users', 1, SEED_LIMITS.users);
  try {
    planSeed({ stocks, coupons, users });
  } catch (err) {
    if (err instanceof SeedPlanError) throw new UsageError(err.message);
    throw err;
  }
  try {
    await withMerchantServices(values, async (services, mchid) => {
      const show = values.json ? () => {} : progressDisplay(progress, out);
      const result = await services.seed.seed({ mchid, stocks, coupons, users }, show);
      if (values.json) out.out(JSON.stringify(seedJson(result), null, 2));
      else printSeed(result, services.displayUrl, out);
    });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof SeedRefusedError) throw new Error(`cannot seed: ${err.message}`);
    if (err instanceof WechatError) throw new Error(`cannot seed: ${err.code} ${err.message}`);
    throw err;
  }
}

/** The --json summary: snake_case like the API. */
function seedJson(r: SeedResult) {
  return {
    mchid: r.mchid,
    appid: r.appid,
    stock_ids: r.stocks.map((s) => s.stockId),
    stocks: r.stocks.map((s) => ({ stock_id: s.stockId, coupons: s.coupons })),
    users: r.users,
    coupons: r.coupons,
    examples: r.examples,
    elapsed_ms: r.elapsedMs,
    coupons_per_second: r.elapsedMs > 0 ? Math.round((r.coupons * 1000) / r.elapsedMs) : null,
  };
}

function printSeed(r: SeedResult, displayUrl: string, out: CliOutput): void {
  const first = r.stocks[0]?.stockId as string;
  const last = r.stocks.at(-1)?.stockId as string;
  const seconds = (r.elapsedMs / 1000).toFixed(1);
  const rate = r.elapsedMs > 0 ? ` (${Math.round((r.coupons * 1000) / r.elapsedMs)} coupons/s)` : '';
  out.out(`Seeded ${displayUrl} for merchant ${r.mchid} in ${seconds} s${rate}`);
  out.out(`  appid:    ${r.appid} (bound to ${r.mchid}; every user has an openid under it)`);
  out.out(
    `  stocks:   ${r.stocks.length} (${r.stocks.length === 1 ? first : `${first} … ${last}`}), ${r.coupons} coupons SENDED`,
  );
  out.out(`  users:    ${r.users}`);
  const example = r.examples[0];
  if (example) {
    out.out(`  example:  openid ${example.openid} holds ${example.coupons} coupon(s); list them with`);
    out.out(
      `            GET /v3/marketing/busifavor/users/${example.openid}/coupons?appid=${r.appid}&creator_merchant=${r.mchid}`,
    );
  }
}

const PHASE_NAMES: Record<SeedProgress['phase'], string> = {
  users: 'users  ',
  stocks: 'stocks ',
  coupons: 'coupons',
};

/**
 * A progress display: on a terminal one bar per phase redrawn in place (at most every 100 ms); elsewhere
 * (or without a stream) a line at the start and end of a phase and at every 10% of it.
 */
function progressDisplay(stream: ProgressStream | undefined, out: CliOutput): (p: SeedProgress) => void {
  let lastDraw = 0;
  let lastDecile = -1;
  let phase: SeedProgress['phase'] | undefined;
  let finishedPhase: SeedProgress['phase'] | undefined;
  return (p) => {
    const fraction = p.total === 0 ? 1 : p.done / p.total;
    const finished = p.done >= p.total;
    if (finished && finishedPhase === p.phase) return;
    if (finished) finishedPhase = p.phase;
    if (stream?.isTTY) {
      const now = Date.now();
      if (!finished && p.phase === phase && now - lastDraw < 100) return;
      phase = p.phase;
      lastDraw = now;
      const width = 30;
      const filled = Math.round(fraction * width);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
      const pct = `${(fraction * 100).toFixed(0)}%`.padStart(4);
      stream.write(`\r${PHASE_NAMES[p.phase]} ${bar} ${pct} ${p.done}/${p.total}${finished ? '\n' : ''}`);
      return;
    }
    if (p.phase !== phase) {
      phase = p.phase;
      lastDecile = -1;
    }
    const decile = finished ? 10 : Math.floor(fraction * 10);
    if (decile === lastDecile) return;
    lastDecile = decile;
    const line = `${p.phase}: ${p.done}/${p.total} (${(fraction * 100).toFixed(0)}%)`;
    if (stream) stream.write(`${line}\n`);
    else out.err(line);
  };
}
