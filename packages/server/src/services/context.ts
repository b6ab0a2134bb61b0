import type { AppConfig } from '../config.js';
import type { PlatformIdentity } from '../credentials/types.js';
import type { DatabaseHandle } from '../db/connect.js';
import type { Clock, IdGen } from '../domain/ports.js';

/**
 * What the composition root (app.ts) hands the service factories: the database and the shared ports.
 * Only services see the database; routes get services.
 */
export interface ServiceContext {
  config: Readonly<AppConfig>;
  db: DatabaseHandle;
  /** Business time (virtual clock per merchant). */
  clock: Clock;
  /** Wall-clock epoch ms for signatures and their windows; never virtual. */
  wallClock: () => number;
  ids: IdGen;
  platform: PlatformIdentity;
}
