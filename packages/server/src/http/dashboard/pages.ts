import { formatBeijingTime } from '@wechatpay-sandbox/sdk/protocol';
import type { SubsidyOutcomeView } from '../../contract/simulation/busifavor.js';
import type { ClockStateResponse } from '../../contract/simulation/clock.js';
import type { FaultRuleView } from '../../contract/simulation/faults.js';
import type {
  NotificationDetailResponse,
  NotificationListResponse,
} from '../../contract/simulation/notifications.js';
import type { Coupon, Stock } from '../../domain/busifavor/model.js';
import type { NotifyFamily } from '../../domain/ports.js';
import type { ForwardRule } from '../../outbox/forwarding.js';
import type { ListenSession } from '../../outbox/listen-sessions.js';
import type { MerchantListing } from '../../services/merchants.js';
import { PAY_FAIL_REASONS, RETURN_FAIL_REASONS } from '../../sim/subsidy-outcomes.js';
import type { CallRecord, CallSummary } from './feed.js';
import { Html, html } from './html.js';

/**
 * The dashboard's pages: plain functions from the services' views to HTML (escaped by `html`). Every
 * list is one page of at most {@link PAGE_SIZE} rows.
 */

/** Rows per page of every list. */
export const PAGE_SIZE = 50;

/** What every page's frame needs. */
export interface Frame {
  title: string;
  /** The nav entry to highlight. */
  here: string;
  csrf: string;
  /** The merchant the pages show, and the ones to choose from. */
  mchid: string | undefined;
  merchants: readonly string[];
}

const NAV: ReadonlyArray<[string, string]> = [
  ['feed', '/dashboard'],
  ['merchants', '/dashboard/merchants'],
  ['stocks', '/dashboard/stocks'],
  ['user coupons', '/dashboard/coupons'],
  ['notifications', '/dashboard/notifications'],
  ['sessions', '/dashboard/sessions'],
  ['clock & rules', '/dashboard/simulation'],
];

const time = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? '' : formatBeijingTime(ms);

/** A link keeping the chosen merchant. */
function href(
  path: string,
  mchid: string | undefined,
  query: Record<string, string | number | undefined> = {},
) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ mchid, ...query }))
    if (v !== undefined && v !== '') params.set(k, String(v));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** The whole document around a page's content. */
export function layout(frame: Frame, content: Html): string {
  const nav = NAV.map(
    ([label, path]) =>
      html`<a href="${href(path, frame.mchid)}" class="${label === frame.here ? 'here' : ''}">${label}</a>`,
  );
  const chooser =
    frame.merchants.length > 1
      ? html`<form method="get"><select name="mchid" onchange="this.form.submit()">${frame.merchants.map(
          (m) => html`<option value="${m}" ${m === frame.mchid ? new Html('selected') : ''}>${m}</option>`,
        )}</select></form>`
      : html`<span class="muted">mchid ${frame.mchid ?? '—'}</span>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${frame.title} · wechatpay-sandbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="dashboard-csrf" content="${frame.csrf}">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/assets/dashboard.css"></head>
<body><header><strong>wechatpay-sandbox</strong>${nav}${chooser}</header>
<main><h1>${frame.title}</h1>${content}</main>
<script src="/dashboard/assets/dashboard.js"></script></body></html>`.text;
}

function pager(
  path: string,
  mchid: string | undefined,
  query: Record<string, string | undefined>,
  offset: number,
  total: number,
) {
  const prev = offset > 0 ? Math.max(0, offset - PAGE_SIZE) : undefined;
  const next = offset + PAGE_SIZE < total ? offset + PAGE_SIZE : undefined;
  const last = Math.min(total, offset + PAGE_SIZE);
  return html`<div class="pager"><span class="muted">${total === 0 ? 'none' : `${offset + 1}–${last} of ${total}`}</span>
${prev !== undefined ? html`<a href="${href(path, mchid, { ...query, offset: prev || undefined })}">← newer</a>` : ''}
${next !== undefined ? html`<a href="${href(path, mchid, { ...query, offset: next })}">older →</a>` : ''}</div>`;
}

function callRow(call: CallSummary): Html {
  return html`<tr class="${call.status >= 400 ? 'bad' : ''}" data-seq="${call.seq}"><td>${new Date(call.at).toISOString().slice(11, 19)}</td><td>${call.method}</td>
<td><a href="/dashboard/calls/${call.seq}">${call.path}</a></td><td>${call.status}</td><td>${call.code ?? ''}</td>
<td class="num">${call.ms} ms</td><td>${call.mchid ?? ''}</td><td class="mono">${call.requestId}</td></tr>`;
}

/** The live feed: the newest calls now, then the script polls for more. */
export function feedPage(
  frame: Frame,
  calls: readonly CallSummary[],
  latest: number,
  feed: { kept: number; shown: number },
): string {
  return layout(
    frame,
    html`<p class="muted">Every API call this server answered (the newest ${feed.kept} are kept in memory), updated
live (the newest ${feed.shown} are shown). Open one for its headers, the verification result and, for a 401, the signing string the server expected.</p>
<table id="feed" data-after="${latest}" data-max="${feed.shown}"><thead><tr><th>time (UTC)</th><th>method</th><th>path</th>
<th>status</th><th>code</th><th>ms</th><th>merchant</th><th>Request-ID</th></tr></thead>
<tbody>${calls.map(callRow)}</tbody></table>`,
  );
}

/** One call as received. */
export function callPage(frame: Frame, call: CallRecord): string {
  return layout(
    frame,
    html`<dl><dt>method</dt><dd>${call.method}</dd><dt>request-target</dt><dd class="mono">${call.target}</dd>
<dt>status</dt><dd>${call.status} ${call.code ?? ''}</dd><dt>time</dt><dd>${time(call.at)} (${call.ms} ms)</dd>
<dt>merchant</dt><dd>${call.mchid ?? ''}</dd><dt>Request-ID</dt><dd class="mono">${call.requestId}</dd>
<dt>verification</dt><dd id="verification">${call.verification}</dd>
${call.error ? html`<dt>error</dt><dd>${call.error.message}</dd>` : ''}
${call.error?.mistake ? html`<dt>diagnosis</dt><dd id="diagnosis">${call.error.mistake}: ${call.error.issue ?? ''}</dd>` : ''}
${!call.error?.mistake && call.error?.issue ? html`<dt>issue</dt><dd>${call.error.issue}</dd>` : ''}</dl>
${
  call.expectedSigningString !== undefined
    ? html`<h2>Signing string the server expected</h2>
<p class="muted">Each line ends with \\n (shown as ⏎). Compare it with the string your client signed.</p>
<pre id="expected-signing-string">${call.expectedSigningString.replace(/\n/g, '⏎\n')}</pre>`
    : ''
}
<h2>Headers as received</h2>
<table><tbody>${call.headers.map(([name, value]) => html`<tr><th>${name}</th><td class="mono">${value}</td></tr>`)}</tbody></table>`,
  );
}

/** A merchant with the notify URL of each family. */
export interface MerchantRow {
  merchant: MerchantListing;
  notifyUrls: Partial<Record<NotifyFamily, string>>;
}

export function merchantsPage(frame: Frame, rows: readonly MerchantRow[]): string {
  return layout(
    frame,
    html`<table><thead><tr><th>mchid</th><th>name</th><th>signing mode</th><th>parent</th><th>API key serials</th>
<th>busifavor notify URL</th><th>product-coupon notify URL</th><th>delivery-plan notify URL</th></tr></thead><tbody>
${rows.map(
  ({
    merchant: m,
    notifyUrls,
  }) => html`<tr><td class="mono">${m.mchid}</td><td>${m.name}</td><td>${m.signingMode}</td>
<td>${m.parentMchid ?? ''}</td><td class="mono">${m.keys.map((k) => html`${k.serialNo} (${k.kind})<br>`)}</td>
<td>${notifyUrls.busifavor ?? '—'}</td><td>${notifyUrls['product-coupon'] ?? '—'}</td><td>${notifyUrls['delivery-plan'] ?? '—'}</td></tr>`,
)}</tbody></table>`,
  );
}

function stockName(stock: Stock): string {
  const name = (stock.definition as { stock_name?: unknown }).stock_name;
  return typeof name === 'string' ? name : '';
}

export function stocksPage(
  frame: Frame,
  page: { stocks: readonly Stock[]; total: number },
  offset: number,
): string {
  return layout(
    frame,
    html`${pager('/dashboard/stocks', frame.mchid, {}, offset, page.total)}
<table id="stocks"><thead><tr><th>stock_id</th><th>name</th><th>state</th><th>type</th><th>budget (max coupons)</th><th>sent</th>
<th>available window</th><th>created</th></tr></thead><tbody>
${page.stocks.map(
  (
    s,
  ) => html`<tr><td class="mono"><a href="${href(`/dashboard/stocks/${s.stockId}`, frame.mchid)}">${s.stockId}</a></td>
<td>${stockName(s)}</td><td>${s.state}</td><td>${s.stockType}</td><td class="num">${s.maxCoupons}${s.maxCouponsByDay === null ? '' : ` (${s.maxCouponsByDay}/day)`}</td>
<td class="num">${s.totalSendNum}</td><td>${time(s.availableBeginMs)} – ${time(s.availableEndMs)}</td><td>${time(s.createdAt)}</td></tr>`,
)}</tbody></table>`,
  );
}

function couponsTable(coupons: readonly Coupon[], showHolder: boolean): Html {
  return html`<table class="coupons"><thead><tr><th>coupon_code</th><th>stock_id</th><th>state</th>${showHolder ? html`<th>user</th>` : ''}
<th>channel</th><th>received</th><th>expires</th><th>used</th></tr></thead><tbody>
${coupons.map(
  (
    c,
  ) => html`<tr><td class="mono">${c.couponCode}</td><td class="mono">${c.stockId}</td><td>${c.state}</td>${showHolder ? html`<td class="mono">${c.userId}</td>` : ''}
<td>${c.sendChannel}</td><td>${time(c.receiveMs)}</td><td>${time(c.expireMs)}</td><td>${time(c.useTimeMs)}</td></tr>`,
)}</tbody></table>`;
}

export function stockPage(
  frame: Frame,
  stock: Stock,
  counts: Readonly<Record<string, number>>,
  page: { coupons: readonly Coupon[]; total: number },
  offset: number,
): string {
  const count = (state: string) => counts[state] ?? 0;
  return layout(
    frame,
    html`<dl><dt>stock_id</dt><dd class="mono">${stock.stockId}</dd><dt>name</dt><dd>${stockName(stock)}</dd>
<dt>state</dt><dd id="stock-state">${stock.state}</dd><dt>creator / belongs to</dt><dd>${stock.creatorMchid} / ${stock.belongMerchant}</dd>
<dt>type / code mode</dt><dd>${stock.stockType} / ${stock.codeMode}</dd>
<dt>budget</dt><dd>${stock.maxCoupons} coupons, ${stock.maxCouponsPerUser} per user${stock.maxCouponsByDay === null ? '' : `, ${stock.maxCouponsByDay} a day`}</dd>
<dt>sent / used / returned</dt><dd id="stock-counts">${stock.totalSendNum} sent, ${count('USED')} used, ${count('RETURNED')} returned, ${count('DEACTIVATED')} deactivated</dd>
<dt>available window</dt><dd>${time(stock.availableBeginMs)} – ${time(stock.availableEndMs)}</dd></dl>
<h2>Coupons</h2>${pager(`/dashboard/stocks/${stock.stockId}`, frame.mchid, {}, offset, page.total)}
${couponsTable(page.coupons, true)}`,
  );
}

export function userCouponsPage(
  frame: Frame,
  query: { appid?: string | undefined; openid?: string | undefined },
  found: { coupons: readonly Coupon[]; total: number } | 'unknown' | undefined,
  offset: number,
): string {
  return layout(
    frame,
    html`<form method="get" class="inline"><input type="hidden" name="mchid" value="${frame.mchid ?? ''}">
<label>appid <input name="appid" value="${query.appid ?? ''}" required></label>
<label>openid <input name="openid" value="${query.openid ?? ''}" size="34" required></label><button>show coupons</button></form>
${
  found === 'unknown'
    ? html`<p class="result error">No simulated user has this openid under this appid.</p>`
    : found === undefined
      ? html`<p class="muted">Coupons of a user, by the openid the user has under an appid.</p>`
      : html`${pager('/dashboard/coupons', frame.mchid, { appid: query.appid, openid: query.openid }, offset, found.total)}${couponsTable(found.coupons, false)}`
}`,
  );
}

/** The filters of the notifications page. */
export interface NotificationFilter {
  state?: string | undefined;
  family?: string | undefined;
  event_type?: string | undefined;
}

const STATES = ['', 'pending', 'no-target', 'delivered', 'dead'];
const FAMILIES = ['', 'busifavor', 'product-coupon', 'delivery-plan'];

function select(name: string, options: readonly string[], chosen: string | undefined): Html {
  return html`<select name="${name}">${options.map(
    (o) =>
      html`<option value="${o}" ${o === (chosen ?? '') ? new Html('selected') : ''}>${o || `any ${name}`}</option>`,
  )}</select>`;
}

export function notificationsPage(
  frame: Frame,
  filter: NotificationFilter,
  list: NotificationListResponse,
): string {
  return layout(
    frame,
    html`<form method="get" class="inline"><input type="hidden" name="mchid" value="${frame.mchid ?? ''}">
${select('state', STATES, filter.state)}${select('family', FAMILIES, filter.family)}
<input name="event_type" placeholder="event type, e.g. COUPON.SEND" value="${filter.event_type ?? ''}"><button>filter</button></form>
${pager('/dashboard/notifications', frame.mchid, { ...filter }, list.offset, list.total_count)}
<table id="notifications"><thead><tr><th>created</th><th>event type</th><th>family</th><th>state</th><th>attempts</th>
<th>last status</th><th>next attempt</th><th>id</th><th></th></tr></thead><tbody>
${list.data.map(
  (
    n,
  ) => html`<tr><td>${n.create_time}</td><td>${n.event_type}</td><td>${n.family}</td><td>${n.state}</td><td class="num">${n.attempts}</td>
<td>${n.last_status ?? n.last_error ?? ''}</td><td>${n.next_attempt_time ?? ''}</td>
<td class="mono"><a href="${href(`/dashboard/notifications/${n.id}`, frame.mchid)}">${n.id}</a></td>
<td>${replayButton(frame.mchid, n.id)}</td></tr>`,
)}</tbody></table>`,
  );
}

function replayButton(mchid: string | undefined, id: string): Html {
  if (mchid === undefined) return html``;
  return html`<button data-action="/dashboard/api/merchants/${mchid}/notifications/${id}/replay" class="replay">replay</button>`;
}

export function notificationPage(frame: Frame, n: NotificationDetailResponse): string {
  return layout(
    frame,
    html`<dl><dt>id</dt><dd class="mono">${n.id}</dd><dt>event</dt><dd>${n.event_type} (${n.family}) — ${n.summary}</dd>
<dt>state</dt><dd id="notification-state">${n.state}</dd><dt>attempts</dt><dd>${n.attempts}</dd><dt>created</dt><dd>${n.create_time}</dd>
<dt>next attempt</dt><dd>${n.next_attempt_time ?? '—'}</dd><dt>delivered</dt><dd>${n.delivered_time ?? '—'}</dd></dl>
<p>${replayButton(frame.mchid, n.id)}</p>
<h2>Attempts</h2><table id="attempts"><thead><tr><th>#</th><th>started</th><th>outcome</th><th>status</th><th>latency</th><th>URL</th>
<th>response excerpt</th></tr></thead><tbody>
${n.attempt_log.map(
  (
    a,
  ) => html`<tr class="${a.outcome === 'delivered' ? '' : 'bad'}"><td>${a.attempt_no}</td><td>${a.start_time}</td><td>${a.outcome}</td>
<td>${a.status ?? a.error ?? ''}</td><td class="num">${a.latency_ms} ms</td><td class="mono">${a.url ?? ''}</td>
<td class="mono">${a.response_excerpt ?? ''}</td></tr>`,
)}</tbody></table>
<h2>Event (decrypted resource)</h2><pre>${JSON.stringify(n.plaintext, null, 2)}</pre>`,
  );
}

export function sessionsPage(
  frame: Frame,
  listens: readonly ListenSession[],
  forwards: readonly ForwardRule[],
  wallMs: number,
): string {
  return layout(
    frame,
    html`<h2>Listen sessions</h2><p class="muted">While a session's lease runs, the merchant's callbacks of its event types go
to its URL instead of the notify URL (<code>wechatpay-sandbox listen --forward-to URL</code>).</p>
<table id="listens"><thead><tr><th>id</th><th>target URL</th><th>event types</th><th>lease</th><th>expires in</th></tr></thead><tbody>
${listens.map(
  (
    s,
  ) => html`<tr><td class="mono">${s.id}</td><td class="mono">${s.targetUrl}</td><td>${s.eventTypes?.join(', ') ?? 'all'}</td>
<td>${s.leaseMs / 1000} s</td><td>${Math.max(0, Math.round((s.expiresAt - wallMs) / 1000))} s</td></tr>`,
)}</tbody></table>
<h2>Forwarding rules</h2><table id="forwards"><thead><tr><th>id</th><th>notify URL prefix</th><th>forwarded to</th><th>created</th></tr></thead><tbody>
${forwards.map(
  (f) =>
    html`<tr><td class="mono">${f.id}</td><td class="mono">${f.fromUrl}</td><td class="mono">${f.toUrl}</td><td>${time(f.createdAt)}</td></tr>`,
)}</tbody></table>`,
  );
}

export function simulationPage(
  frame: Frame,
  clock: ClockStateResponse | undefined,
  faults: readonly FaultRuleView[],
  outcomes: readonly SubsidyOutcomeView[],
): string {
  const api = `/dashboard/api/merchants/${frame.mchid ?? ''}`;
  const clockPart = clock
    ? html`<dl><dt>business time</dt><dd id="clock-now">${clock.now}</dd><dt>mode</dt><dd id="clock-mode">${clock.mode} (${clock.source})</dd>
<dt>wall time</dt><dd>${clock.wall_time}</dd></dl>
<form class="inline" data-action="${api}/clock"><input type="hidden" name="action" value="advance">
<label>advance by <input name="seconds" data-type="number" value="86400" size="9"></label> seconds
<button>advance</button></form>
<form class="inline" data-action="${api}/clock"><input type="hidden" name="action" value="freeze"><button>freeze</button></form>
<form class="inline" data-action="${api}/clock"><input type="hidden" name="action" value="resume">
<label><input type="checkbox" name="allow_backwards" checked> allow going back</label><button>resume</button></form>`
    : html`<p class="muted">This server runs on a plain clock (no virtual clock).</p>`;
  return layout(
    frame,
    html`<h2>Virtual clock</h2>${clockPart}
<h2>Fault rules</h2><table id="faults"><thead><tr><th>id</th><th>scope</th><th>method</th><th>path</th><th>answer</th><th>delay</th>
<th>remaining</th><th>fired/matched</th><th></th></tr></thead><tbody>
${faults.map(
  (
    f,
  ) => html`<tr><td class="mono">${f.id}</td><td>${f.scope}</td><td>${f.method}</td><td class="mono">${f.path}</td>
<td>${f.status ?? ''} ${f.code ?? ''}</td><td>${f.delay_ms} ms</td><td>${f.remaining ?? '∞'}</td><td>${f.fired}/${f.matched}</td>
<td><button data-method="DELETE" data-action="${api}/faults/${f.id}">delete</button></td></tr>`,
)}</tbody></table>
<form class="inline" data-action="${api}/faults"><input name="method" placeholder="method (*)" size="7">
<input name="path" placeholder="/v3/marketing/busifavor/*" required><input name="code" placeholder="code, e.g. SYSTEM_ERROR">
<input name="status" data-type="number" placeholder="status" size="5"><input name="delay_ms" data-type="number" placeholder="delay ms" size="7">
<input name="count" data-type="number" placeholder="count" size="5"><button>add fault rule</button></form>
<h2>Subsidy outcome rules</h2><table id="outcomes"><thead><tr><th>id</th><th>scope</th><th>receipt</th><th>stock</th><th>fail reason</th>
<th>remaining</th><th>fired</th><th></th></tr></thead><tbody>
${outcomes.map(
  (
    o,
  ) => html`<tr><td class="mono">${o.id}</td><td>${o.scope}</td><td>${o.receipt_type}</td><td>${o.stock_id ?? 'any'}</td><td>${o.fail_reason}</td>
<td>${o.remaining ?? '∞'}</td><td>${o.fired}</td><td><button data-method="DELETE" data-action="${api}/subsidy-outcomes/${o.id}">delete</button></td></tr>`,
)}</tbody></table>
<form class="inline" data-action="${api}/subsidy-outcomes">${select('fail_reason', [...PAY_FAIL_REASONS, ...RETURN_FAIL_REASONS], PAY_FAIL_REASONS[0])}
<input name="stock_id" placeholder="stock_id (any)"><input name="count" data-type="number" placeholder="count" size="5"><button>add outcome rule</button></form>`,
  );
}
