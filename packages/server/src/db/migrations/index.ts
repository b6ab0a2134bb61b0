import type { Migration } from 'kysely';
import * as gateway from './0001-gateway.js';
import * as busifavor from './0002-busifavor.js';
import * as outbox from './0003-outbox.js';
import * as sim from './0004-sim.js';
import * as subsidyReturns from './0005-busifavor-subsidy-returns.js';
import * as simSubsidyOutcomes from './0006-sim-subsidy-outcomes.js';
import * as listenSessions from './0007-listen-sessions.js';
import * as cacheEpochs from './0008-cache-epochs.js';
import * as outboxDueOrder from './0009-outbox-due-order.js';
import * as outboxNoTarget from './0010-outbox-no-target.js';

/**
 * Every migration, by name. Names sort in the order they run; a landed migration is never edited.
 * Reserved: 0002-busifavor, 0003-outbox, 0004-sim.
 */
export const migrations: Record<string, Migration> = {
  '0001-gateway': gateway,
  '0002-busifavor': busifavor,
  '0003-outbox': outbox,
  '0004-sim': sim,
  '0005-busifavor-subsidy-returns': subsidyReturns,
  '0006-sim-subsidy-outcomes': simSubsidyOutcomes,
  '0007-listen-sessions': listenSessions,
  '0008-cache-epochs': cacheEpochs,
  '0009-outbox-due-order': outboxDueOrder,
  '0010-outbox-no-target': outboxNoTarget,
};
