import { ERROR_CATALOG, type ErrorKey, errors, paramError, WechatError } from '../errors.js';
import { checkRuleCount, checkRuleExpiry } from './rule-limits.js';

/**
 * Fault injection: rules that make matching `/v3` calls fail with a documented WeChat error, wait before
 * answering, or both. A rule belongs to one merchant (or to every merchant: global), matches a method and
 * a path pattern, and fires on the next N matching calls, on a seeded-random fraction of them, or both,
 * until it expires. Injected faults answer before the route handler runs, so they never change state.
 * @see docs/simulation.md "Fault injection"
 */

/** Methods a rule may name; `*` matches any. */
export const FAULT_METHODS = ['*', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** A rule's method. */
export type FaultMethod = (typeof FAULT_METHODS)[number];

/** Longest delay a rule or the header may ask for. */
export const MAX_FAULT_DELAY_MS = 120_000;

/**
 * Statuses a code may be answered with, as the docs list them (docs/protocol.md §5.3): the catalog status
 * first (the default), then documented alternatives. Codes not listed here only have their catalog status.
 */
export const FAULT_STATUS_ALTERNATIVES: Readonly<Record<string, readonly number[]>> = {
  // Busifavor lists a 400 variant of SYSTEM_ERROR.
  SYSTEM_ERROR: [500, 400],
  // "502 and 503 map to SERVICE_UNAVAILABLE".
  SERVICE_UNAVAILABLE: [503, 502],
  // "across families MCH_NOT_EXISTS is 400 or 404".
  MCH_NOT_EXISTS: [400, 404],
};

/**
 * The simulated front-end send endpoints (mini-program plugin, H5, payment gift). Rules may target them
 * too: they answer a send result (`errcode`) rather than an HTTP error, as the plugin's
 * `bind:sendcoupon` event does.
 */
export const SIM_SEND_PATH_PREFIX = '/sandbox/v1/busifavor/send/';

/** The send channels under {@link SIM_SEND_PATH_PREFIX}. */
export const SIM_SEND_CHANNELS = ['miniapp', 'h5', 'paygift'] as const;

/**
 * Plugin `errcode`s a send rule may answer, with the message sent as `msg` (docs/busifavor.md §6.3). The
 * others (PARAM_ERROR, USER_NOT_EXISTS, SIGN_ERROR) and every item code are what real input produces.
 */
export const SEND_RESULT_ERRCODES = {
  SYSTEMERROR: '系统错误，请稍后重试',
  USER_GET_FAILED: '获取用户信息失败，请稍后重试',
} as const;

/** A plugin `errcode` a rule may inject. */
export type SendResultErrcode = keyof typeof SEND_RESULT_ERRCODES;

/** Whether a path (or a rule's pattern) is one of the simulated send endpoints. */
export function isSimSendPath(path: string): boolean {
  return path.startsWith(SIM_SEND_PATH_PREFIX);
}

/** What a firing rule (or the header) does to the call. */
export interface FaultAction {
  /** Wait this long before answering (or before passing the call on). */
  delayMs: number;
  /** Then fail with this error; absent = proceed normally after the delay. */
  error?: { code: string; status: number; message: string };
  /** Send endpoints: then answer 200 with this result and no coupon (instead of `error`). */
  sendResult?: { errcode: SendResultErrcode; msg: string };
}

/** A stored rule. */
export interface FaultRule {
  id: string;
  /** The merchant it applies to, or null for every merchant. */
  mchid: string | null;
  method: FaultMethod;
  /** `/v3/…` with `{name}` (or `*`) for one path segment. */
  pathPattern: string;
  /** The wire code to fail with, or null for a delay-only rule. */
  errorCode: string | null;
  status: number | null;
  /** The error message; null = the catalog's. */
  message: string | null;
  delayMs: number;
  /** Firings left, or null for unlimited. */
  remaining: number | null;
  /** Probability that a matching call fires, or null for every matching call. */
  fraction: number | null;
  /** Seed of the per-rule PRNG (a 32-bit unsigned integer). */
  seed: number;
  /** Matching calls seen (the PRNG's sequence number). */
  matched: number;
  /** Times it fired. */
  fired: number;
  /** Wall-clock expiry in epoch ms, or null. */
  expiresAtMs: number | null;
  createdAtMs: number;
}

/** A rule as a caller describes it, before validation. */
export interface FaultRuleInput {
  mchid: string | null;
  method?: string;
  path: string;
  code?: string;
  status?: number;
  message?: string;
  delayMs?: number;
  count?: number;
  fraction?: number;
  seed?: number;
  expiresAtMs?: number;
}

/** Result of trying to fire a rule against the store. */
export type ClaimOutcome = 'fired' | 'skipped' | 'gone';

/** Persistence of rules, with exact firing counts under concurrency. */
export interface FaultStore {
  /** Rules of a merchant and the global ones (`mchid` undefined = every rule). */
  list(mchid?: string): Promise<FaultRule[]>;
  get(id: string): Promise<FaultRule | undefined>;
  insert(rule: FaultRule): Promise<void>;
  /** Deletes one rule of that owner (null = global); false when there was none. */
  delete(id: string, owner: string | null): Promise<boolean>;
  /** Deletes every rule of that owner; returns how many. */
  deleteAll(owner: string | null): Promise<number>;
  /**
   * Counts a matching call against a rule and decides atomically whether it fires: not when expired or
   * used up (`gone`), not when the seeded PRNG says so for this call's sequence number (`skipped`).
   */
  claim(rule: FaultRule, wallMs: number): Promise<ClaimOutcome>;
}

/**
 * The seeded decision for the `sequence`-th matching call (1-based) of a fractional rule: the same seed
 * gives the same firings in the same order, whatever the timing.
 */
export function fractionFires(seed: number, sequence: number, fraction: number): boolean {
  return prngUnit(seed, sequence) < fraction;
}

/** A uniform number in [0, 1) from (seed, sequence): one splitmix32-style mix, no state. */
export function prngUnit(seed: number, sequence: number): number {
  let z = (seed + Math.imul(sequence, 0x9e3779b9)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return (z >>> 0) / 2 ** 32;
}

/** Compiles a path pattern (`{name}` or `*` = one segment) into an anchored RegExp. */
export function compilePathPattern(pattern: string): RegExp {
  const segments = pattern
    .split('/')
    .map((segment) =>
      /^\{[^{}/]+\}$/.test(segment) || segment === '*'
        ? '[^/]+'
        : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    );
  return new RegExp(`^${segments.join('/')}$`);
}

/** Whether a rule matches a call (method and path without the query). */
export function ruleMatches(rule: FaultRule, method: string, path: string): boolean {
  return (rule.method === '*' || rule.method === method) && compilePathPattern(rule.pathPattern).test(path);
}

/** Resolves a code (a wire code, or the catalog key SYSTEM_ERROR_400) and an optional status. */
export function resolveFaultError(
  code: string,
  status: number | undefined,
  field: { code: string; status: string; location: 'body' | 'header' },
): { code: string; status: number } {
  const known = code in ERROR_CATALOG;
  if (!known && code in SEND_RESULT_ERRCODES) {
    throw paramError(
      field.code,
      `${code} is a plugin send result, only for ${SIM_SEND_PATH_PREFIX}… paths`,
      field.location,
      code,
    );
  }
  if (!known) {
    throw paramError(
      field.code,
      `unknown error code; use one of ${Object.keys(ERROR_CATALOG).join(', ')}`,
      field.location,
      code,
    );
  }
  const key = code as ErrorKey;
  const wire = key === 'SYSTEM_ERROR_400' ? 'SYSTEM_ERROR' : key;
  const catalogStatus: number = ERROR_CATALOG[key].status;
  const allowed = FAULT_STATUS_ALTERNATIVES[wire] ?? [catalogStatus];
  if (status === undefined) return { code: wire, status: catalogStatus };
  if (!allowed.includes(status)) {
    throw paramError(
      field.status,
      `${wire} is documented only with status ${allowed.join(' or ')}`,
      field.location,
      status,
    );
  }
  return { code: wire, status };
}

/** Validates a rule and fills its defaults. Throws PARAM_ERROR naming the body field. */
export function newFaultRule(
  input: FaultRuleInput,
  ids: { id: string; seed: number; nowMs: number },
): FaultRule {
  const method = (input.method ?? '*').toUpperCase();
  if (!(FAULT_METHODS as readonly string[]).includes(method)) {
    throw paramError('/method', `must be one of ${FAULT_METHODS.join(', ')}`, 'body', input.method);
  }
  const sendPath = isSimSendPath(input.path);
  if (sendPath) {
    // One send endpoint, or all of them with `*` / `{channel}`.
    const channel = input.path.slice(SIM_SEND_PATH_PREFIX.length);
    if (!(SIM_SEND_CHANNELS as readonly string[]).includes(channel) && !/^(\*|\{[^{}/]+\})$/.test(channel)) {
      throw paramError(
        '/path',
        `a send path must be ${SIM_SEND_PATH_PREFIX}{${SIM_SEND_CHANNELS.join('|')}} (or * for every channel)`,
        'body',
        input.path,
      );
    }
    if (method !== '*' && method !== 'POST') {
      throw paramError('/method', 'the send endpoints take only POST', 'body', input.method);
    }
  } else if (!/^\/v3\/[\x21-\x7e]{1,505}$/.test(input.path) || input.path.includes('?')) {
    throw paramError(
      '/path',
      `must be a /v3/… path without a query, with {name} for a path parameter, or a ${SIM_SEND_PATH_PREFIX}… path`,
      'body',
      input.path,
    );
  }
  const delayMs = input.delayMs ?? 0;
  if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > MAX_FAULT_DELAY_MS) {
    throw paramError('/delay_ms', `must be an integer in 0..${MAX_FAULT_DELAY_MS}`, 'body', input.delayMs);
  }
  let error: { code: string; status: number | null } | undefined;
  if (sendPath && input.code !== undefined) {
    error = { code: resolveSendErrcode(input.code, { code: '/code', location: 'body' }), status: null };
    if (input.status !== undefined) {
      throw paramError('/status', 'a send result is answered with 200; give no status', 'body', input.status);
    }
  } else if (input.code !== undefined) {
    error = resolveFaultError(input.code, input.status, {
      code: '/code',
      status: '/status',
      location: 'body',
    });
  } else if (input.status !== undefined) {
    throw paramError('/status', 'needs a code', 'body', input.status);
  }
  if (!error && delayMs === 0) throw paramError('/code', 'a rule needs a code, a delay_ms, or both', 'body');
  if (input.message !== undefined && !error) throw paramError('/message', 'needs a code', 'body');
  checkRuleCount(input.count);
  if (input.fraction !== undefined && !(input.fraction > 0 && input.fraction <= 1)) {
    throw paramError('/fraction', 'must be in (0, 1]', 'body', input.fraction);
  }
  const seed = input.seed ?? ids.seed;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw paramError('/seed', 'must be an integer in 0..4294967295', 'body', input.seed);
  }
  checkRuleExpiry(input.expiresAtMs, ids.nowMs);
  return {
    id: ids.id,
    mchid: input.mchid,
    method: method as FaultMethod,
    pathPattern: input.path,
    errorCode: error?.code ?? null,
    status: error?.status ?? null,
    message: error ? (input.message ?? null) : null,
    delayMs,
    remaining: input.count ?? null,
    fraction: input.fraction ?? null,
    seed,
    matched: 0,
    fired: 0,
    expiresAtMs: input.expiresAtMs ?? null,
    createdAtMs: ids.nowMs,
  };
}

/**
 * Checks a send-result errcode (rules and the header on the send endpoints); PARAM_ERROR naming
 * the field otherwise.
 */
export function resolveSendErrcode(
  code: string,
  field: { code: string; location: 'body' | 'header' },
): SendResultErrcode {
  if (code in SEND_RESULT_ERRCODES) return code as SendResultErrcode;
  throw paramError(
    field.code,
    `on a send endpoint the code is a plugin errcode: ${Object.keys(SEND_RESULT_ERRCODES).join(' or ')}`,
    field.location,
    code,
  );
}

/** The plugin answer of a faulted send: the errcode with its message (the documented one by default). */
function sendResultOf(
  errcode: SendResultErrcode,
  msg?: string | null,
): { errcode: SendResultErrcode; msg: string } {
  return { errcode, msg: msg ?? SEND_RESULT_ERRCODES[errcode] };
}

/** The action of a rule that fired. */
export function ruleAction(rule: FaultRule): FaultAction {
  if (rule.errorCode !== null && isSimSendPath(rule.pathPattern)) {
    return {
      delayMs: rule.delayMs,
      sendResult: sendResultOf(rule.errorCode as SendResultErrcode, rule.message),
    };
  }
  if (rule.errorCode === null || rule.status === null) return { delayMs: rule.delayMs };
  return {
    delayMs: rule.delayMs,
    error: {
      code: rule.errorCode,
      status: rule.status,
      message: rule.message ?? defaultMessage(rule.errorCode, rule.status),
    },
  };
}

function defaultMessage(code: string, status: number): string {
  if (code === 'SYSTEM_ERROR' && status === 400) return ERROR_CATALOG.SYSTEM_ERROR_400.message;
  const entry = ERROR_CATALOG[code as ErrorKey];
  return entry ? entry.message : ERROR_CATALOG.SYSTEM_ERROR.message;
}

/** The per-request negative-test header. */
export const FAULT_HEADER = 'Wechatpay-Sandbox-Fault';

/**
 * Parses the {@link FAULT_HEADER} value: `;`- or `,`-separated items, each a code (`SYSTEM_ERROR`),
 * `status=NNN` or `delay=MS`. Throws 400 INVALID_REQUEST (location header) on anything else. On the
 * send endpoints (`sendPath`) the code is a plugin errcode (SYSTEMERROR, USER_GET_FAILED), without status.
 * @example parseFaultHeader('delay=2000; SYSTEM_ERROR; status=400')
 */
export function parseFaultHeader(value: string, options: { sendPath?: boolean } = {}): FaultAction {
  let code: string | undefined;
  let status: number | undefined;
  let delayMs = 0;
  const bad = (issue: string): WechatError =>
    errors.INVALID_REQUEST(`${FAULT_HEADER} 无效：${issue}`, {
      field: FAULT_HEADER,
      value,
      issue,
      location: 'header',
    });
  const items = value
    .split(/[;,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw bad('empty; expected e.g. SYSTEM_ERROR or delay=2000');
  for (const item of items) {
    const kv = /^(delay|status)\s*=\s*(\d{1,6})$/i.exec(item);
    if (kv) {
      const n = Number(kv[2]);
      if ((kv[1] as string).toLowerCase() === 'delay') {
        if (n > MAX_FAULT_DELAY_MS) throw bad(`delay must be at most ${MAX_FAULT_DELAY_MS} ms`);
        delayMs = n;
      } else status = n;
    } else if (/^[A-Z][A-Z0-9_]*$/.test(item) && code === undefined) {
      code = item;
    } else {
      throw bad(`unexpected "${item}"; expected a code, status=NNN or delay=MS`);
    }
  }
  if (code === undefined) {
    if (status !== undefined) throw bad('status needs a code');
    return { delayMs };
  }
  if (options.sendPath) {
    if (status !== undefined) throw bad('a send result is answered with 200; give no status');
    let errcode: SendResultErrcode;
    try {
      errcode = resolveSendErrcode(code, { code: FAULT_HEADER, location: 'header' });
    } catch (err) {
      throw bad(err instanceof WechatError ? String(err.detail?.issue) : 'invalid');
    }
    return { delayMs, sendResult: sendResultOf(errcode) };
  }
  let resolved: { code: string; status: number };
  try {
    resolved = resolveFaultError(code, status, {
      code: FAULT_HEADER,
      status: FAULT_HEADER,
      location: 'header',
    });
  } catch (err) {
    throw bad(err instanceof WechatError ? String(err.detail?.issue) : 'invalid');
  }
  return { delayMs, error: { ...resolved, message: defaultMessage(resolved.code, resolved.status) } };
}

/** Options of {@link FaultInjector}. */
export interface FaultInjectorOptions {
  store: FaultStore;
  /** The wall clock (rule expiry is wall time, not business time). @default Date.now */
  wallClock?: () => number;
  /** How long the in-process rule list may be reused before it is re-read. @default 1000 */
  cacheTtlMs?: number;
}

/**
 * Finds the fault for a call. The rule list is cached (a rule created or deleted through another instance
 * is seen within the TTL), but every firing is confirmed by the store, so counts stay exact and a rule
 * deleted anywhere stops firing at once.
 */
export class FaultInjector {
  readonly store: FaultStore;
  private readonly wallClock: () => number;
  private readonly cacheTtlMs: number;
  private cached: FaultRule[] = [];
  private loadedAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<FaultRule[]> | undefined;

  constructor(options: FaultInjectorOptions) {
    this.store = options.store;
    this.wallClock = options.wallClock ?? Date.now;
    this.cacheTtlMs = options.cacheTtlMs ?? 1000;
  }

  /**
   * The action for a merchant's call, or undefined. Merchant rules are tried before global ones, older
   * before newer; the first that fires wins (a fractional rule that does not fire lets the next one try).
   */
  async match(
    mchid: string,
    method: string,
    path: string,
  ): Promise<{ rule: FaultRule; action: FaultAction } | undefined> {
    const rules = await this.rules();
    const wallMs = this.wallClock();
    const candidates = rules
      .filter((r) => r.mchid === mchid || r.mchid === null)
      .filter((r) => r.remaining !== 0 && (r.expiresAtMs === null || r.expiresAtMs > wallMs))
      .filter((r) => ruleMatches(r, method, path))
      .sort(
        (a, b) =>
          (a.mchid === null ? 1 : 0) - (b.mchid === null ? 1 : 0) ||
          a.createdAtMs - b.createdAtMs ||
          a.id.localeCompare(b.id),
      );
    for (const rule of candidates) {
      const outcome = await this.store.claim(rule, wallMs);
      if (outcome === 'fired') return { rule, action: ruleAction(rule) };
      if (outcome === 'gone') this.invalidate();
    }
    return undefined;
  }

  /** Forgets the cached rule list (after a local create or delete). */
  invalidate(): void {
    this.loadedAt = Number.NEGATIVE_INFINITY;
  }

  private async rules(): Promise<FaultRule[]> {
    if (this.wallClock() - this.loadedAt < this.cacheTtlMs) return this.cached;
    this.inflight ??= this.store
      .list()
      .then((rules) => {
        this.cached = rules;
        this.loadedAt = this.wallClock();
        return rules;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }
}

/** Rules in memory, for unit tests. */
export class MemoryFaultStore implements FaultStore {
  private readonly rules = new Map<string, FaultRule>();

  async list(mchid?: string): Promise<FaultRule[]> {
    return [...this.rules.values()]
      .filter((r) => mchid === undefined || r.mchid === mchid || r.mchid === null)
      .map((r) => ({ ...r }));
  }

  async get(id: string): Promise<FaultRule | undefined> {
    const rule = this.rules.get(id);
    return rule && { ...rule };
  }

  async insert(rule: FaultRule): Promise<void> {
    this.rules.set(rule.id, { ...rule });
  }

  async delete(id: string, owner: string | null): Promise<boolean> {
    const rule = this.rules.get(id);
    if (!rule || rule.mchid !== owner) return false;
    return this.rules.delete(id);
  }

  async deleteAll(owner: string | null): Promise<number> {
    let n = 0;
    for (const [id, rule] of this.rules) if (rule.mchid === owner && this.rules.delete(id)) n++;
    return n;
  }

  async claim(rule: FaultRule, wallMs: number): Promise<ClaimOutcome> {
    const stored = this.rules.get(rule.id);
    if (!stored || stored.remaining === 0 || (stored.expiresAtMs !== null && stored.expiresAtMs <= wallMs)) {
      return 'gone';
    }
    stored.matched++;
    if (stored.fraction !== null && !fractionFires(stored.seed, stored.matched, stored.fraction))
      return 'skipped';
    if (stored.remaining !== null) stored.remaining--;
    stored.fired++;
    return 'fired';
  }
}
