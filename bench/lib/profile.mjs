// Reads a V8 CPU profile of the server (`node --cpu-prof`) and says where its event loop spent a time
// window: the share of busy samples per category of code. Timestamps are the monotonic clock in µs, the
// one `process.hrtime` reads, so a window measured by the bench selects its samples.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The categories, in the order the bench prints them. */
export const CATEGORIES = [
  'RSA: verify, hand-off to the signing pool',
  'database: SQL execution and driver',
  'Kysely: query building and compiling',
  "Node.js: HTTP parsing, sockets (the clients' and the database's), streams, timers",
  'Fastify: routing, hooks, reply',
  'sandbox code: gateway, domain, rendering',
  'log, metrics, dashboard feed',
  'garbage collector',
];

function category(frame) {
  const { url, functionName: fn } = frame;
  if (fn === '(garbage collector)') return 'garbage collector';
  if (url.includes('crypto/sig') || url.includes('rsa-signature') || url.includes('response-signature'))
    return CATEGORIES[0];
  if (
    (url.includes('sqlite-driver') && fn === 'executeQuery') ||
    url.includes('better-sqlite3') ||
    url.includes('/pg/') ||
    url.includes('pg-protocol') ||
    url.includes('pg-pool') ||
    url.includes('postgres-driver') ||
    url.includes('/db/connect')
  )
    return CATEGORIES[1];
  if (url.includes('kysely') || url.includes('/db/precompiled')) return CATEGORIES[2];
  if (
    url.includes('pino') ||
    url.includes('prom-client') ||
    /\/http\/(log-output|request-log|metrics|dashboard)/.test(url)
  )
    return CATEGORIES[6];
  if (url.includes('fastify') || url.includes('find-my-way') || url.includes('light-my-request'))
    return CATEGORIES[4];
  if (url.includes('/packages/') || url.includes('@wechatpay-sandbox')) return CATEGORIES[5];
  return CATEGORIES[3];
}

/** The newest profile in `dir`, parsed. */
export function readProfile(dir) {
  try {
    const [newest] = readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort()
      .reverse();
    return newest ? JSON.parse(readFileSync(join(dir, newest), 'utf8')) : undefined;
  } catch {
    return undefined; // No profile was written (the server did not exit cleanly).
  }
}

/**
 * Shares (0..1) of the event loop's busy samples per category within [startUs, endUs], or undefined when
 * the profile has no busy sample there. `(program)` samples (native code V8 cannot attribute to a
 * function) are left out with the idle ones, so their time is spread over the categories.
 */
export function sharesIn(profile, startUs, endUs) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map(CATEGORIES.map((c) => [c, 0]));
  let at = profile.startTime;
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i];
    if (at < startUs || at > endUs) continue;
    const frame = byId.get(profile.samples[i]).callFrame;
    if (frame.functionName === '(idle)' || frame.functionName === '(program)') continue;
    const c = category(frame);
    counts.set(c, counts.get(c) + 1);
    busy++;
  }
  if (busy === 0) return undefined;
  return new Map([...counts].map(([c, n]) => [c, n / busy]));
}
