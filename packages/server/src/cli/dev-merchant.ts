import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CREDENTIALS_FILE_NAME, readCredentialsFile } from '../credentials/file.js';
import { openTriggerServices, type TriggerServices } from '../offline-trigger.js';
import { existingDatabaseUrl, mchidOption } from './options.js';
import { UsageError } from './usage.js';

/**
 * The merchant of `--mchid`, else the dev merchant of DIR's credentials.json; a {@link UsageError} saying
 * what to pass when neither is there. Shared by the commands that default to the dev merchant.
 */
export function merchantOrDev(value: string | undefined, dir: string): string {
  if (value !== undefined) return mchidOption(value);
  const path = join(resolve(dir), CREDENTIALS_FILE_NAME);
  if (!existsSync(path)) {
    throw new UsageError(
      `--mchid is required: no credentials in ${dir} (${path}) to take the dev merchant from; pass --mchid, or --dir of a sandbox (wechatpay-sandbox init --dir ${dir} makes one)`,
    );
  }
  return readCredentialsFile(path).merchant.mchid;
}

/** A merchant the database does not have: bad input (exit 2), saying where to look. */
export function notRegistered(mchid: string, displayUrl: string): UsageError {
  return new UsageError(
    `merchant ${mchid} is not registered in ${displayUrl}; see wechatpay-sandbox merchant list (or pass the --dir/--db the server runs with)`,
  );
}

/**
 * Runs `fn` with the services that create busifavor data (offline-trigger.ts) over the existing database
 * of `--db` or DIR, for the merchant of `--mchid` (else DIR's dev merchant), which must be registered
 * there; closes the database afterwards. Shared by `trigger` and `seed`.
 */
export async function withMerchantServices<T>(
  values: { db?: string; dir: string; mchid?: string },
  fn: (services: TriggerServices, mchid: string) => Promise<T>,
): Promise<T> {
  const mchid = merchantOrDev(values.mchid, values.dir);
  const services = await openTriggerServices(existingDatabaseUrl(values));
  try {
    if (!(await services.merchants.find(mchid))) throw notRegistered(mchid, services.displayUrl);
    return await fn(services, mchid);
  } finally {
    await services.close();
  }
}
