import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

/**
 * One sandbox for `npm run fuzz`, in its own process so that a crash shows as an exit the fuzzer
 * reports instead of killing it. Fuzzed bodies can name any notify, forward or probe URL, so this
 * process refuses every connection and DNS lookup that is not loopback (`--allow-host` adds the
 * database host): nothing the fuzzer sends can make the sandbox reach another machine.
 *
 * Started by cli.ts with `fork()`: argv is `DIR DB_URL [ALLOWED_HOST…]`; it answers `ready` with the
 * URL, the routes and the dev merchant's keys, `stats` with the blocked connection count, and exits
 * after `close`.
 */

const [dir, dbUrl, ...allowedHosts] = process.argv.slice(2);
if (!dir || !dbUrl) throw new Error('usage: sandbox-child DIR DB_URL [ALLOWED_HOST…]');

const blocked: string[] = [];

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    h === 'localhost' ||
    h === '::1' ||
    /^127\.\d+\.\d+\.\d+$/.test(h) ||
    /^::ffff:127\.\d+\.\d+\.\d+$/.test(h) ||
    allowedHosts.includes(h)
  );
}

function refused(what: string): NodeJS.ErrnoException {
  blocked.push(what);
  return Object.assign(new Error(`fuzz sandbox is loopback only: ${what} refused`), { code: 'ECONNREFUSED' });
}

// Connections: every TCP connect goes through net.Socket.prototype.connect (http, https and tls too).
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
  const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  const options = (typeof first === 'object' && first !== null ? first : {}) as {
    host?: string;
    path?: string;
  };
  const host = typeof first === 'object' ? (options.host ?? 'localhost') : String(args[1] ?? 'localhost');
  if (options.path === undefined && !isLoopback(host)) {
    const error = refused(`connect to ${host}`);
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof connect;

// Names: only localhost resolves (the target policy looks names up before it connects).
const lookupPromise = dns.promises.lookup;
dns.promises.lookup = (async (hostname: string, options?: unknown) => {
  if (!isLoopback(hostname)) throw Object.assign(refused(`DNS lookup of ${hostname}`), { code: 'ENOTFOUND' });
  return (lookupPromise as (h: string, o?: unknown) => Promise<unknown>)(hostname, options);
}) as typeof dns.promises.lookup;
const lookupCallback = dns.lookup;
dns.lookup = ((hostname: string, ...rest: unknown[]) => {
  const callback = rest[rest.length - 1] as (err: Error | null) => void;
  if (!isLoopback(hostname)) {
    const error = Object.assign(refused(`DNS lookup of ${hostname}`), { code: 'ENOTFOUND' });
    process.nextTick(() => callback(error));
    return {};
  }
  return (lookupCallback as (...a: unknown[]) => unknown)(hostname, ...rest);
}) as typeof dns.lookup;
syncBuiltinESMExports();

const { startServer } = await import('@wechatpay-sandbox/server/server');
const server = await startServer({
  dir,
  host: '127.0.0.1',
  port: 0,
  dbUrl,
  // No delivery loop (its retries would change the notifications the state oracle reads); deliveries
  // happen only when a fuzzed request asks (dispatch, replay, probe). Errors are logged to stdout.
  config: { logLevel: 'error', notifyDelivery: false },
});
const credentials = server.credentials;
const send = (message: unknown) => process.send?.(message);
send({
  type: 'ready',
  url: server.url,
  // The dashboard's pages are for browsers on loopback (docs/dashboard.md), not merchants' calls.
  routes: server.routes.filter((route) => route.auth !== 'dashboard'),
  merchant: {
    mchid: credentials.merchant.mchid,
    serialNo: credentials.merchant.serialNo,
    privateKeyPem: credentials.merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    apiV2Key: credentials.merchant.apiV2Key,
  },
  platformPublicKeyPem: credentials.platform.publicKey.publicKey
    .export({ type: 'spki', format: 'pem' })
    .toString(),
});
process.on('message', async (message: { type?: string }) => {
  if (message.type === 'stats') send({ type: 'stats', blocked });
  if (message.type === 'close') {
    await server.close();
    send({ type: 'closed', blocked });
    process.disconnect();
  }
});
