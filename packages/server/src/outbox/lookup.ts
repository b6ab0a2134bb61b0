import type { Kysely } from 'kysely';
import type { SigningMode } from '../credentials/types.js';
import type { DatabaseSchema } from '../db/schema.js';
import { type ForwardRule, listForwardRules } from './forwarding.js';
import { type ListenSession, listListenSessions } from './listen-sessions.js';

/** What a delivery needs to know about its merchant, read fresh at each attempt. */
export interface DeliveryContext {
  /** Undefined when the merchant no longer exists. */
  merchant: { apiV3Key: string; signingMode: SigningMode } | undefined;
  /** The family's notify URL, if the merchant set one. */
  notifyUrl: string | undefined;
  forwards: ForwardRule[];
  /**
   * The merchant's listen sessions, newest first, expired ones included: whether one is live is decided
   * at each attempt by the dispatcher's wall clock, so an expired session stops receiving at once.
   */
  listens: ListenSession[];
}

/**
 * Loads the merchant's APIv3 key and signing mode, the family's notify URL, the forwarding rules and the
 * live listen sessions.
 * Read at delivery time (not at enqueue) so a URL or key set later is used by the next attempt.
 */
export async function loadDeliveryContext(
  db: Kysely<DatabaseSchema>,
  mchid: string,
  family: string,
): Promise<DeliveryContext> {
  const [merchant, setting, forwards, listens] = await Promise.all([
    db
      .selectFrom('merchants')
      .select(['api_v3_key', 'signing_mode'])
      .where('mchid', '=', mchid)
      .executeTakeFirst(),
    db
      .selectFrom('notify_settings')
      .select('notify_url')
      .where('mchid', '=', mchid)
      .where('family', '=', family)
      .executeTakeFirst(),
    listForwardRules(db, mchid),
    listListenSessions(db, mchid),
  ]);
  return {
    merchant: merchant
      ? { apiV3Key: merchant.api_v3_key, signingMode: merchant.signing_mode as SigningMode }
      : undefined,
    notifyUrl: setting?.notify_url,
    forwards,
    listens,
  };
}
