import type { WireClient } from './client.js';
import type { FuzzRoute } from './paths.js';
import type { FuzzWorld } from './world.js';

/**
 * The state oracle: requests that were refused must change nothing. After every batch the run reads
 * the seeded state back through the API and compares it part by part, twice:
 *
 * 1. the reading after the batch against the reading before it. A part may differ only if a request
 *    of the batch that got a 2xx may change it ({@link footprint}: `all` unless the route is known to
 *    touch less), or one got an injected fault (a firing counted on its rule). With many successes in
 *    a batch this check is weak, so:
 * 2. every request of the batch that was refused is sent again (signed afresh), as a batch of its own,
 *    and the state is read once more. These requests were all refused a moment ago, so this batch is
 *    (almost) only refusals, and any difference that none of its own successes explains is a refused
 *    request changing state; the run then sends the suspects one at a time to name it.
 *
 * Reads are GETs made while nothing else is in flight, so no fuzzed request interleaves with a
 * reading. Not read back (no read API): the delivery-plan notify URL and the nonce table.
 */
export type StatePart =
  | 'stock'
  | 'upload-stock'
  | 'api-stock'
  | 'upload-codes'
  | 'user-coupons'
  | 'coupons'
  | 'pay-receipts'
  | 'return-receipt'
  | 'callbacks'
  | 'product-coupon-notify'
  | 'appids'
  | 'user'
  | 'faults'
  | 'outcomes'
  | 'clock'
  | 'notifications'
  | 'delivery'
  | 'forwards';

/** One reading of every part: its status and normalized answer, as comparable text. */
export type StateReading = Map<StatePart, string>;

const B = '/v3/marketing/busifavor';

/** The reads of a reading, part by part (several reads may make up one part). */
function reads(w: FuzzWorld): Array<[StatePart, string]> {
  return [
    ['stock', `${B}/stocks/${w.stockId}`],
    ['upload-stock', `${B}/stocks/${w.uploadStockId}`],
    ['api-stock', `${B}/stocks/${w.apiStockId}`],
    ['upload-codes', `${B}/stocks/${w.uploadStockId}/couponcodes?limit=50`],
    ['user-coupons', `${B}/users/${w.openid}/coupons?appid=${w.appid}&limit=50`],
    ...[...w.couponCodes, w.usedCouponCode].map(
      (code) =>
        ['coupons', `${B}/users/${w.openid}/coupons/${code}/appids/${w.appid}`] as [StatePart, string],
    ),
    ['pay-receipts', `${B}/subsidy/pay-receipts?stock_id=${w.stockId}&coupon_code=${w.usedCouponCode}`],
    ['pay-receipts', `${B}/subsidy/pay-receipts/${w.payReceiptId}`],
    ['return-receipt', `${B}/subsidy/return-receipts/${w.returnReceiptId}`],
    ['callbacks', `${B}/callbacks`],
    ['product-coupon-notify', '/v3/marketing/partner/product-coupon/notify-configs'],
    ['appids', '/sandbox/v1/appids'],
    ['user', `/sandbox/v1/users/${w.userId}`],
    ['faults', '/sandbox/v1/faults'],
    ['outcomes', '/sandbox/v1/busifavor/subsidy-outcomes'],
    ['clock', '/sandbox/v1/clock'],
    ['notifications', '/sandbox/v1/notifications?limit=500'],
    ['delivery', '/sandbox/v1/notifications-delivery'],
    ['forwards', '/sandbox/v1/notification-forwards'],
  ];
}

/**
 * Drops what changes without any request: the wall time of the clock view (and the business time of
 * every clock in it that is not frozen), and a fault rule's `matched` count, which by design counts every matching call
 * (docs/simulation.md) — refused ones included.
 */
function normalize(part: StatePart, body: unknown): unknown {
  if (!body || typeof body !== 'object') return body;
  if (part === 'clock') {
    // A running clock's business time moves with the wall clock: only a frozen one's is state.
    const still = (view: unknown): unknown => {
      if (!view || typeof view !== 'object') return view;
      const { wall_time: _wall, ...rest } = view as Record<string, unknown>;
      if (rest.mode !== 'frozen') {
        delete rest.now;
        delete rest.now_ms;
      }
      return rest;
    };
    const view = still(body) as Record<string, unknown>;
    return { ...view, merchant: still(view.merchant), global: still(view.global) };
  }
  if (part === 'faults') {
    const list = body as { data?: Array<Record<string, unknown>> };
    return { ...list, data: list.data?.map(({ matched: _matched, ...rule }) => rule) };
  }
  return body;
}

/**
 * Reads every part, a few reads at a time (they are GETs, and nothing else is in flight meanwhile). A
 * 429 (the 20/s product-coupon read limit) is read again shortly.
 */
export async function readState(client: WireClient, world: FuzzWorld, width = 6): Promise<StateReading> {
  const list = reads(world);
  const texts = new Array<string>(list.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < list.length) {
        const i = next++;
        const [part, target] = list[i] as [StatePart, string];
        let res = await client.call('GET', target);
        for (let attempt = 0; res.status === 429 && attempt < 20; attempt++) {
          await new Promise((r) => setTimeout(r, 100));
          res = await client.call('GET', target);
        }
        texts[i] = `${res.status} ${JSON.stringify(normalize(part, res.json ?? res.text))}`;
      }
    }),
  );
  const reading: StateReading = new Map();
  list.forEach(([part], i) => {
    const text = texts[i] as string;
    reading.set(part, reading.has(part) ? `${reading.get(part)}\n${text}` : text);
  });
  return reading;
}

/** The parts that differ between two readings. */
export function changedParts(before: StateReading, after: StateReading): StatePart[] {
  const parts = new Set([...before.keys(), ...after.keys()]);
  return [...parts].filter((p) => before.get(p) !== after.get(p));
}

/** `'all'`: the answer may have changed anything the oracle reads. */
export type Footprint = ReadonlySet<StatePart> | 'all';

const NOTIFY: StatePart[] = ['notifications', 'delivery'];
/** What a 2xx of a route may change, by `METHOD pattern`; routes not listed may change anything. */
const FOOTPRINTS: Record<string, StatePart[]> = {
  'POST /v3/marketing/busifavor/callbacks': ['callbacks', ...NOTIFY],
  'POST /v3/marketing/partner/product-coupon/notify-configs': ['product-coupon-notify', ...NOTIFY],
  'POST /v3/marketing/partner/delivery-plan/:sp_mchid/notify-url': NOTIFY,
  'POST /sandbox/v1/faults': ['faults'],
  'DELETE /sandbox/v1/faults/:id': ['faults'],
  'DELETE /sandbox/v1/faults': ['faults'],
  'POST /sandbox/v1/busifavor/subsidy-outcomes': ['outcomes'],
  'DELETE /sandbox/v1/busifavor/subsidy-outcomes/:id': ['outcomes'],
  'DELETE /sandbox/v1/busifavor/subsidy-outcomes': ['outcomes'],
  'POST /sandbox/v1/notification-forwards': ['forwards', ...NOTIFY],
  'DELETE /sandbox/v1/notification-forwards/:id': ['forwards', ...NOTIFY],
  'POST /sandbox/v1/notifications/:id/replay': NOTIFY,
  'POST /sandbox/v1/notifications/replay': NOTIFY,
  'POST /sandbox/v1/notifications-delivery/pause': NOTIFY,
  'POST /sandbox/v1/notifications-delivery/resume': NOTIFY,
  'POST /sandbox/v1/notifications-delivery/dispatch': NOTIFY,
  'POST /sandbox/v1/notifications/probe': NOTIFY,
  'POST /sandbox/v1/product-coupon/events': NOTIFY,
  'POST /sandbox/v1/delivery-plan/events': NOTIFY,
  'POST /sandbox/v1/users': ['user'],
};

/**
 * What one answered request may have changed. Reads change nothing, refusals change nothing, an
 * injected fault counts a firing on its rule; a 2xx of a writing route may change what
 * {@link FOOTPRINTS} says, or anything. The method the request was sent with decides (a GET
 * answered 2xx is a read even if fuzzed onto a writing route's path).
 */
export function footprint(
  route: FuzzRoute,
  method: string,
  status: number,
  injectedFault: boolean,
): Footprint {
  if (injectedFault) return new Set(['faults']);
  if (status < 200 || status >= 300) return new Set();
  if (method === 'GET' || method === 'HEAD') return new Set();
  const parts = FOOTPRINTS[`${method} ${route.url}`];
  return parts ? new Set(parts) : 'all';
}

/** The union of footprints. */
export function unionFootprints(footprints: Iterable<Footprint>): Footprint {
  const all = new Set<StatePart>();
  for (const f of footprints) {
    if (f === 'all') return 'all';
    for (const p of f) all.add(p);
  }
  return all;
}

/** The changed parts no footprint allowed. */
export function unexplainedChanges(changed: readonly StatePart[], allowed: Footprint): StatePart[] {
  if (allowed === 'all') return [];
  return changed.filter((p) => !allowed.has(p));
}
