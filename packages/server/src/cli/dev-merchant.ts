import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CREDENTIALS_FILE_NAME, readCredentialsFile } from '../credentials/file.js';
import { mchidOption } from './options.js';
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
