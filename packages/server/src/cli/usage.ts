/**
 * Usage text, exit codes, the error type for bad command-line input (exit code 2) and where commands
 * write.
 * @see ../../../../docs/cli.md
 */

/** Where a command writes. */
export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

/** Bad input on the command line: printed with a hint, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit codes of the `wechatpay-sandbox` command. */
export const EXIT = {
  ok: 0,
  /** The command was valid but failed (database unreachable, port in use, …). */
  failure: 1,
  /** Bad input: unknown command or option, invalid value, unreadable key file. */
  usage: 2,
  /** `notifications probe`: the endpoint accepted at least one forged notification. */
  forgeryAccepted: 3,
} as const;

/** A {@link UsageError} for a command group called without a known subcommand. */
export function unknownSubcommand(
  group: string,
  sub: string | undefined,
  known: readonly string[],
): UsageError {
  const list = `${known.slice(0, -1).join(', ')}${known.length > 1 ? ' or ' : ''}${known.at(-1)}`;
  return new UsageError(
    sub === undefined
      ? `${group} needs a command: ${list} (wechatpay-sandbox ${group} --help)`
      : `unknown ${group} command "${sub}"; use ${list} (wechatpay-sandbox ${group} --help)`,
  );
}

/** The commands, each with its own help (`wechatpay-sandbox <command> --help`). */
export const COMMAND_HELP = {
  init: `  init [--dir DIR] [--mchid N]
      Write a dev merchant and the platform identity into DIR (default .sandbox).
      Never overwrites: when DIR/credentials.json exists, prints what is there.`,

  start: `  start [--dir DIR] [--port 8080] [--host 127.0.0.1] [--db sqlite:PATH | postgres://…] [--workers N]
        [--log-level fatal|error|warn|info|debug|trace]
        [--notify-policy local|strict] [--notify-ca-file FILE | --notify-insecure-tls]
        [--notify-lease-seconds 30] [--notify-concurrency 128] [--notify-merchant-concurrency 64]
        [--headers-timeout-ms 10000] [--request-timeout-ms 30000] [--idle-timeout-ms 60000]
        [--dashboard-feed-size 500]
      Serve the sandbox with the credentials of DIR (initialised if absent) and every merchant
      registered in the database (default sqlite:DIR/data.db). --log-level: the request log's level
      (default $WPS_LOG_LEVEL, else info).
      Callback delivery targets (notify URLs after forwarding rules): --notify-policy strict refuses
      loopback/private addresses and plain http (default local allows them, so a forwarding rule can
      point at a receiver on this machine; a merchant's notify_url itself must be https either way);
      --notify-ca-file trusts a PEM CA (self-signed receivers) next to the system ones;
      --notify-insecure-tls skips verification; --notify-lease-seconds is how long a crashed
      instance's deliveries wait before they are retaken; --notify-concurrency is how many
      deliveries a process keeps in flight, --notify-merchant-concurrency how many of them one
      merchant may hold (so a slow receiver cannot take every slot).
      Timeouts: a client gets 408 and the connection closes when its headers take longer than
      --headers-timeout-ms or its whole request longer than --request-timeout-ms; an idle keep-alive
      connection closes after --idle-timeout-ms.
      --dashboard-feed-size: how many API calls the dashboard's live feed keeps in memory (1 to 100000).`,

  merchant: `  merchant add --mchid N (--certificate FILE | --public-key FILE --serial S) --api-v3-key K
               [--api-v2-key K] [--name NAME] [--signing-mode pubkey|certificate|migrating]
               [--parent SP_MCHID] [--db URL] [--dir DIR]
      Register a merchant whose API key was made elsewhere (for example with openssl).
      Adding again with another serial adds a key; the same serial replaces it.

  merchant set-mode --mchid N --mode pubkey|certificate|migrating [--db URL] [--dir DIR]
  merchant list [--json] [--db URL] [--dir DIR]
      --json: {"total_count", "data": [{"mchid", "name", "signing_mode", "parent_mchid", "keys"}]}.`,

  notifications: `  notifications list [--mchid N] [--state pending|no-target|delivered|dead] [--family F]
                     [--event-type T] [--limit 50] [--offset 0] [--json]
  notifications show ID [--mchid N] [--json]
      The delivery log: notifications newest first; one with every attempt (status, latency, response).
      Without --mchid: the dev merchant of DIR (list), the notification's own merchant (show, replay).
  notifications replay (ID… | --all-failed) [--mchid N]
      Queue again for immediate delivery (same notification id, fresh signature). --all-failed: every
      dead notification of the merchant.
  notifications pause|resume --mchid N [--json]
  notifications probe --mchid N [--url URL] [--family busifavor|product-coupon|delivery-plan]
                      [--policy local|strict] [--ca-file FILE] [--insecure] [--json]
      Send the endpoint (default: the merchant's notify URL) a correct notification and forged ones;
      exit code 3 when it accepted a forgery.
  notifications forward add --mchid N --from URL --to URL [--json]
  notifications forward list --mchid N [--json]
  notifications forward remove --mchid N ID
      Every notifications command takes [--db URL] [--dir DIR] like merchant. An ID may be any unique
      prefix of a notification id (as list prints them). --json prints what the simulation API
      (/sandbox/v1/notifications…) answers: snake_case, times in RFC 3339 +08:00.`,

  listen: `  listen --forward-to URL [--mchid N] [--events T,T] [--lease 15] [--json] [--db URL] [--dir DIR]
      Like stripe listen: while it runs, the merchant's callbacks (every family, or the --events
      types) go to URL instead of the registered notify URL, signed and encrypted as usual; URL may
      be plain http on loopback. One line per delivery (--json: one JSON object per line, as the
      listen-session deliveries API answers). Ctrl+C closes the session; a listener that dies stops
      receiving when its lease (--lease seconds, 1-300) runs out.`,

  trigger: `  trigger EVENT [--mchid N] [--json] [--db URL] [--dir DIR]
      Like stripe trigger: make one callback happen and print what it created and the notification
      it queued. EVENT: coupon.send, product-coupon.send, product-coupon.image-generation,
      delivery-plan.change.`,

  seed: `  seed --coupons M [--stocks 1] [--users U] [--mchid N] [--json] [--db URL] [--dir DIR]
      Fill the database with M coupons for load tests: binds a new appid to the merchant (default the
      dev merchant of DIR), creates U simulated users with an openid under it (default M/10), N stocks
      (NORMAL, WeChat Pay codes, max_coupons_per_user 100, budget M/N + 10000) and spreads each
      stock's coupons evenly over the users, SENDED, the stocks' send counters to match; no callbacks
      are queued. Every run adds new data. A user may hold at most 100 coupons of one stock.
      Progress on stderr; prints the appid, the stock ids and a user to query (--json: one JSON
      summary).`,

  platform: `  platform rotate [--dir DIR] [--overlap-hours 24]
      Begin a platform certificate rotation: a new certificate signs after the next start, and the old
      one stays listed by /v3/certificates and accepted until the overlap ends (as WeChat does it).`,

  credentials: `  credentials show [--dir DIR]
      Print DIR/credentials.json with absolute paths, including the APIv3 and APIv2 keys.`,
} as const;

/** A command with its own help. */
export type CommandName = keyof typeof COMMAND_HELP;

const EXIT_CODES =
  "Exit codes: 0 success, 1 failure, 2 bad input, 3 the probe's endpoint accepted a forgery.";

/** Help text of every command. */
export const USAGE = `Usage: wechatpay-sandbox <command> [options]
       wechatpay-sandbox <command> --help
       wechatpay-sandbox --version

Commands:
${Object.values(COMMAND_HELP).join('\n\n')}

${EXIT_CODES}`;

/** Help text of one command. */
export function commandHelp(command: CommandName): string {
  return `Usage:\n${COMMAND_HELP[command]}\n\nRun wechatpay-sandbox --help for every command. ${EXIT_CODES}`;
}
