import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../../errors.js';
import { headerValue } from '../authenticate.js';

/**
 * Who may use the dashboard (routes whose table entry says `auth: 'dashboard'`; the gateway calls
 * {@link DashboardGuard.authorize} for them and for nothing else):
 *
 * - A client that is not on loopback always needs the token, and so does every client once the server
 *   listens on a host that is not loopback; the token is random per start (or given), printed by the
 *   CLI. `?token=` on a GET sets an HttpOnly, SameSite=Strict cookie, which authenticates what follows.
 * - Without a token (loopback only), the `Host` header must name loopback too, so a web page whose own
 *   name was rebound to 127.0.0.1 cannot read the dashboard as "same origin".
 * - Every state change (any method but GET/HEAD) needs the page's CSRF secret in {@link CSRF_HEADER} and
 *   an `Origin` equal to the dashboard's own, even on loopback: a web page in the same browser can send a
 *   form to 127.0.0.1, but can neither read the secret nor set the header without CORS, which is never
 *   granted.
 *
 * Refusals are WeChat's error shape: 403 NO_AUTH with a `detail.issue` saying what is missing.
 */

/** The cookie that carries the token after the first visit. */
export const DASHBOARD_COOKIE = 'wps_dashboard';
/** The header the dashboard's own JavaScript sends the CSRF secret in. */
export const CSRF_HEADER = 'x-dashboard-csrf';

/** What the gateway asks about a dashboard route. */
export interface DashboardGuard {
  /** Throws a WechatError (403 NO_AUTH) when the request may not use the dashboard; may set a cookie. */
  authorize(request: FastifyRequest, reply: FastifyReply): void;
}

/** Whether a host name or address literal is loopback (`localhost`, 127.0.0.0/8, `::1`, mapped 127/8). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === 'localhost.' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIPv4(v4) && v4.startsWith('127.');
}

/** The host name of a `Host` header value (without the port). */
function hostName(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  return hostHeader.split(':', 1)[0] as string;
}

/** The value of one cookie in a `Cookie` header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function refuse(issue: string) {
  return errors.NO_AUTH('无权访问沙箱仪表盘', { issue });
}

/** The dashboard's access rules for one server (see the module comment). */
export class DashboardAccess implements DashboardGuard {
  /** The token; required from every client once {@link listeningOn} names a non-loopback host. */
  readonly token: string;
  /** The secret the pages embed and their JavaScript sends back on every state change. */
  readonly csrfSecret: string;
  private tokenForAll = false;

  /** @param token the token to accept (e.g. shared by cluster workers); random when absent */
  constructor(token?: string) {
    this.token = token ?? randomBytes(24).toString('base64url');
    this.csrfSecret = createHmac('sha256', this.token).update('dashboard csrf').digest('base64url');
  }

  /** Call before listening: on a non-loopback host every client needs the token. */
  listeningOn(host: string): void {
    this.tokenForAll = !isLoopbackHost(host);
  }

  /** Whether every client needs the token (the server listens beyond loopback). */
  get tokenRequired(): boolean {
    return this.tokenForAll;
  }

  authorize(request: FastifyRequest, reply: FastifyReply): void {
    const remote = request.socket?.remoteAddress ?? request.ip;
    if (this.tokenForAll || !isLoopbackHost(remote)) this.requireToken(request, reply);
    else {
      const host = headerValue(request.headers.host);
      if (!host || !isLoopbackHost(hostName(host))) {
        throw refuse(
          `the Host header must name loopback (127.0.0.1, localhost or [::1]), got "${host ?? ''}"`,
        );
      }
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') this.requireSameOrigin(request);
  }

  private requireToken(request: FastifyRequest, reply: FastifyReply): void {
    if (sameSecret(cookieValue(headerValue(request.headers.cookie), DASHBOARD_COOKIE), this.token)) return;
    const query = request.query as Record<string, unknown> | undefined;
    const given = typeof query?.token === 'string' ? query.token : undefined;
    if (request.method === 'GET' && sameSecret(given, this.token)) {
      reply.header(
        'set-cookie',
        `${DASHBOARD_COOKIE}=${this.token}; Path=/dashboard; HttpOnly; SameSite=Strict`,
      );
      return;
    }
    throw refuse(
      given === undefined
        ? 'open the dashboard with the token the server printed at start: /dashboard?token=…'
        : 'the token is not the one this server printed at start',
    );
  }

  private requireSameOrigin(request: FastifyRequest): void {
    if (!sameSecret(headerValue(request.headers[CSRF_HEADER]), this.csrfSecret)) {
      throw refuse(`a dashboard action needs the page's ${CSRF_HEADER} header`);
    }
    const origin = headerValue(request.headers.origin);
    const host = headerValue(request.headers.host);
    if (!origin || !host || (origin !== `http://${host}` && origin !== `https://${host}`)) {
      throw refuse(`a dashboard action must come from the dashboard's own origin, got "${origin ?? ''}"`);
    }
  }
}
