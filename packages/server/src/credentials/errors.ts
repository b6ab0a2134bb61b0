/**
 * A credentials directory or file that cannot be used. The message names the file and says what to do;
 * the CLI prints it as is.
 */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}
