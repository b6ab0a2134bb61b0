import { sql } from 'kysely';
import type { DatabaseHandle } from '../db/connect.js';
import { pendingMigrations } from '../db/migrate.js';
import { pendingByFamily } from '../outbox/backlog.js';
import type { DispatcherState } from '../outbox/dispatcher.js';

/**
 * What the sandbox's own operations endpoints read about one server process: liveness and readiness
 * (GET /healthz, GET /readyz) and the outbox backlog (GET /metrics, read when scraped). Ready means: the
 * database answers, every migration of this build is applied, and the callback dispatcher runs (when the
 * server delivers callbacks at all). Each check is bounded in time, so a hung database makes the answer
 * "not ready" instead of a request that never ends.
 */

/** The readiness checks, by name. */
export type ReadinessCheckName = 'database' | 'migrations' | 'dispatcher';

/** The outcome of one check, with a short reason. */
export interface ReadinessCheck {
  ok: boolean;
  detail: string;
}

/** Every check; ready when all passed. */
export interface Readiness {
  ready: boolean;
  /** The names of the checks that failed, in check order. */
  failed: ReadinessCheckName[];
  checks: Record<ReadinessCheckName, ReadinessCheck>;
}

/** What the service looks at. */
export interface OperationsServiceDeps {
  db: DatabaseHandle;
  /** The process's callback dispatcher. */
  dispatcher: { readonly state: DispatcherState };
  /** Whether the server delivers callbacks (config.notifyDelivery); when not, the dispatcher is not checked. */
  deliveryEnabled: boolean;
  /** Longest wait for the database per check. @default 2000 */
  timeoutMs?: number;
}

const CHECK_ORDER: readonly ReadinessCheckName[] = ['database', 'migrations', 'dispatcher'];

export class OperationsService {
  private readonly startedAt = Date.now();

  constructor(private readonly deps: OperationsServiceDeps) {}

  /** Notifications waiting for delivery (pending), per family, over every merchant. */
  backlog(): Promise<Map<string, number>> {
    return this.bounded(pendingByFamily(this.deps.db.db));
  }

  /** Seconds since this service (the app) was built. */
  uptimeSeconds(): number {
    return Math.floor((Date.now() - this.startedAt) / 1000);
  }

  /** Runs every readiness check. Never throws: a failure is a failed check. */
  async readiness(): Promise<Readiness> {
    const [database, migrations] = await Promise.all([this.database(), this.migrations()]);
    const checks: Record<ReadinessCheckName, ReadinessCheck> = {
      database,
      migrations,
      dispatcher: this.dispatcher(),
    };
    const failed = CHECK_ORDER.filter((name) => !checks[name].ok);
    return { ready: failed.length === 0, failed, checks };
  }

  private async database(): Promise<ReadinessCheck> {
    try {
      await this.bounded(sql`select 1`.execute(this.deps.db.db));
      return { ok: true, detail: `${this.deps.db.dialect} reachable` };
    } catch (err) {
      return { ok: false, detail: `${this.deps.db.dialect} unreachable: ${reason(err)}` };
    }
  }

  private async migrations(): Promise<ReadinessCheck> {
    try {
      const pending = await this.bounded(pendingMigrations(this.deps.db.db));
      if (pending.length === 0) return { ok: true, detail: 'all applied' };
      return { ok: false, detail: `not applied: ${pending.join(', ')}` };
    } catch (err) {
      return { ok: false, detail: `could not be read: ${reason(err)}` };
    }
  }

  private dispatcher(): ReadinessCheck {
    if (!this.deps.deliveryEnabled) return { ok: true, detail: 'callback delivery is off (notifyDelivery)' };
    const state = this.deps.dispatcher.state;
    if (state === 'running') return { ok: true, detail: 'running' };
    return { ok: false, detail: state === 'died' ? 'its loop died' : 'stopped' };
  }

  private bounded<T>(work: Promise<T>): Promise<T> {
    const ms = this.deps.timeoutMs ?? 2000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}

/** An error's message, one line and short (no stack, no connection string). */
function reason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n', 1)[0]?.slice(0, 200) ?? '';
}
