/**
 * How long one delivery attempt may take, and the shortest lease that outlives it. Its own module (no
 * I/O imports) so configuration and the CLI can check a lease without loading the delivery stack.
 * @see docs/protocol.md §6.4
 */

/** Per-attempt total timeout (connect + response), WeChat's 5 s budget. */
export const DELIVERY_TIMEOUT_MS = 5000;

/**
 * The shortest lease of a claimed delivery, in whole seconds: longer than one attempt, or a slow but live
 * attempt would be retaken by another instance and sent twice.
 */
export const MIN_NOTIFY_LEASE_SECONDS = Math.floor(DELIVERY_TIMEOUT_MS / 1000) + 1;
