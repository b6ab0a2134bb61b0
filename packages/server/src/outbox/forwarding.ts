import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';

/**
 * Forwarding rules, like `stripe listen --forward-to`: the merchant registers its public notify URL
 * (which passes WeChat's https/no-private-host rules), and the sandbox delivers what is addressed to it
 * to another URL, typically a local one. Rules match by URL prefix; the rest of the path is kept.
 * The forwarded target is still subject to the target policy (strict refuses private addresses).
 */

/** A forwarding rule. */
export interface ForwardRule {
  id: string;
  mchid: string;
  /** Prefix of the registered notify URL. */
  fromUrl: string;
  /** Replacement for that prefix. */
  toUrl: string;
  createdAt: number;
}

/** The URL to deliver to after applying the longest matching rule (or the URL itself). */
export function applyForwarding(notifyUrl: string, rules: readonly ForwardRule[]): string {
  let best: ForwardRule | undefined;
  for (const rule of rules) {
    if (notifyUrl.startsWith(rule.fromUrl) && (!best || rule.fromUrl.length > best.fromUrl.length))
      best = rule;
  }
  return best ? best.toUrl + notifyUrl.slice(best.fromUrl.length) : notifyUrl;
}

/** Forwarding rules of a merchant. */
export async function listForwardRules(db: Kysely<DatabaseSchema>, mchid: string): Promise<ForwardRule[]> {
  const rows = await db
    .selectFrom('notification_forwards')
    .selectAll()
    .where('mchid', '=', mchid)
    .orderBy('created_at')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    mchid: r.mchid,
    fromUrl: r.from_url,
    toUrl: r.to_url,
    createdAt: Number(r.created_at),
  }));
}

/** Adds a rule (replacing one with the same prefix). */
export async function putForwardRule(
  db: Kysely<DatabaseSchema>,
  rule: { mchid: string; fromUrl: string; toUrl: string },
  wallMs: number,
): Promise<ForwardRule> {
  const id = randomUUID();
  await db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom('notification_forwards')
      .where('mchid', '=', rule.mchid)
      .where('from_url', '=', rule.fromUrl)
      .execute();
    await trx
      .insertInto('notification_forwards')
      .values({ id, mchid: rule.mchid, from_url: rule.fromUrl, to_url: rule.toUrl, created_at: wallMs })
      .execute();
  });
  return { id, ...rule, createdAt: wallMs };
}

/** Deletes a rule; false when it did not exist. */
export async function deleteForwardRule(
  db: Kysely<DatabaseSchema>,
  mchid: string,
  id: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('notification_forwards')
    .where('mchid', '=', mchid)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
