import type { DASHBOARD_ENDPOINTS } from '../../contract/endpoints/dashboard.js';
import type {
  SIM_BUSIFAVOR_ENDPOINTS,
  SIM_INFRA_ENDPOINTS,
  SIM_NOTIFICATION_ENDPOINTS,
} from '../../contract/endpoints/simulation.js';
import type { ClockStateResponse } from '../../contract/simulation/clock.js';
import type { NotifySettingsStore } from '../../domain/notify-settings.js';
import type { NotifyFamily } from '../../domain/ports.js';
import { errors } from '../../errors.js';
import type { BusifavorAdapters } from '../../services/busifavor.js';
import type { MerchantsService } from '../../services/merchants.js';
import type { NotificationsService } from '../../services/notifications.js';
import type { DashboardAccess } from '../dashboard/access.js';
import { DASHBOARD_SCRIPT, DASHBOARD_STYLE } from '../dashboard/assets.js';
import type { CallFeed } from '../dashboard/feed.js';
import {
  callPage,
  type Frame,
  feedPage,
  merchantsPage,
  notificationPage,
  notificationsPage,
  PAGE_SIZE,
  sessionsPage,
  simulationPage,
  stockPage,
  stocksPage,
  userCouponsPage,
} from '../dashboard/pages.js';
import type { EndpointHandlers, MerchantCaller } from '../endpoints.js';

/**
 * The dashboard's handlers (docs/dashboard.md): pages over the services, the live feed, and actions that
 * run the simulation API's own handlers for the merchant a page names, so a replay, a clock change or a
 * rule added from the browser is checked and answered exactly as the signed API would.
 */

/** The simulation API handlers the dashboard reuses (for reads it renders and for its actions). */
export interface DashboardSimHandlers {
  infra: Pick<
    EndpointHandlers<typeof SIM_INFRA_ENDPOINTS>,
    'getClock' | 'setClock' | 'listFaults' | 'createFault' | 'deleteFault'
  >;
  notifications: Pick<
    EndpointHandlers<typeof SIM_NOTIFICATION_ENDPOINTS>,
    'listNotifications' | 'getNotification' | 'replayNotification'
  >;
  busifavor: Pick<
    EndpointHandlers<typeof SIM_BUSIFAVOR_ENDPOINTS>,
    'listSubsidyOutcomes' | 'createSubsidyOutcome' | 'deleteSubsidyOutcome'
  >;
}

/** What the dashboard reads and acts through. */
export interface DashboardDeps {
  access: DashboardAccess;
  feed: CallFeed;
  merchants: MerchantsService;
  notifySettings: Pick<NotifySettingsStore, 'get'>;
  notifications: NotificationsService;
  busifavor: BusifavorAdapters;
  sim: DashboardSimHandlers;
  wallClock: () => number;
}

const FAMILIES: readonly NotifyFamily[] = ['busifavor', 'product-coupon', 'delivery-plan'];
/** Calls the feed's JSON answers at once. */
const FEED_PAGE = 200;

export function dashboardHandlers(deps: DashboardDeps): EndpointHandlers<typeof DASHBOARD_ENDPOINTS> {
  const { access, feed, merchants, busifavor, sim } = deps;

  /** The page frame for the merchant asked for (else the first one registered). */
  const frameFor = async (title: string, here: string, mchid: string | undefined): Promise<Frame> => {
    const ids = (await merchants.list()).map((m) => m.mchid);
    if (mchid !== undefined && !ids.includes(mchid)) {
      throw errors.RESOURCE_NOT_EXISTS('商户不存在', { field: 'mchid', value: mchid, location: 'query' });
    }
    return { title, here, csrf: access.csrfSecret, mchid: mchid ?? ids[0], merchants: ids };
  };

  /** The merchant an action or a read acts as, as the simulation handlers expect their caller. */
  const callerFor = async (mchid: string | undefined): Promise<MerchantCaller> => {
    const merchant = mchid === undefined ? undefined : await merchants.find(mchid);
    if (!merchant) throw errors.RESOURCE_NOT_EXISTS('商户不存在', { field: 'mchid', value: mchid ?? '' });
    // No key signed this call: the dashboard acts for the merchant (the serial is never read by these handlers).
    return { merchant: { ...merchant, serialNo: '' }, parts: undefined };
  };
  const none = { params: {}, query: {} } as const;

  return {
    dashboardHome: async ({ query }) => {
      const frame = await frameFor('Live feed', 'feed', query.mchid);
      return feedPage(frame, feed.since(0, FEED_PAGE), feed.latest, {
        kept: feed.size,
        shown: Math.min(feed.size, FEED_PAGE),
      });
    },
    dashboardCall: async ({ params, query }) => {
      const call = feed.get(params.seq);
      if (!call) throw errors.RESOURCE_NOT_EXISTS('该调用已不在仪表盘的内存中（环形缓冲区已覆盖）');
      return callPage(
        await frameFor(`${call.method} ${call.path} → ${call.status}`, 'feed', query.mchid),
        call,
      );
    },
    dashboardMerchants: async ({ query }) => {
      const frame = await frameFor('Merchants', 'merchants', query.mchid);
      const rows = [];
      for (const merchant of await merchants.list()) {
        const notifyUrls: Partial<Record<NotifyFamily, string>> = {};
        for (const family of FAMILIES) {
          const setting = await deps.notifySettings.get(merchant.mchid, family);
          if (setting) notifyUrls[family] = setting.notifyUrl;
        }
        rows.push({ merchant, notifyUrls });
      }
      return merchantsPage(frame, rows);
    },
    dashboardStocks: async ({ query }) => {
      const frame = await frameFor('Stocks', 'stocks', query.mchid);
      const offset = query.offset ?? 0;
      const page =
        frame.mchid === undefined
          ? { stocks: [], total: 0 }
          : await busifavor.deps.store.read.stocks.listByCreator(frame.mchid, { offset, limit: PAGE_SIZE });
      return stocksPage(frame, page, offset);
    },
    dashboardStock: async ({ params, query }) => {
      const stock = await busifavor.deps.store.read.stocks.find(params.stock_id);
      if (!stock)
        throw errors.RESOURCE_NOT_EXISTS('批次不存在', { field: 'stock_id', value: params.stock_id });
      const frame = await frameFor(`Stock ${stock.stockId}`, 'stocks', query.mchid ?? stock.creatorMchid);
      const offset = query.offset ?? 0;
      const coupons = busifavor.deps.store.read.coupons;
      const [counts, page] = await Promise.all([
        coupons.countByState(stock.stockId),
        coupons.list({
          stockId: stock.stockId,
          nowMs: busifavor.deps.clock.now(stock.creatorMchid),
          offset,
          limit: PAGE_SIZE,
        }),
      ]);
      return stockPage(frame, stock, counts, page, offset);
    },
    dashboardUserCoupons: async ({ query }) => {
      const frame = await frameFor('User coupons', 'user coupons', query.mchid);
      const offset = query.offset ?? 0;
      if (!query.appid || !query.openid) return userCouponsPage(frame, query, undefined, offset);
      const user = await busifavor.users.userByOpenid(query.appid, query.openid);
      if (!user) return userCouponsPage(frame, query, 'unknown', offset);
      const nowMs = busifavor.deps.clock.now(frame.mchid ?? '');
      const page = await busifavor.deps.store.read.coupons.list({
        userId: user.userId,
        nowMs,
        offset,
        limit: PAGE_SIZE,
      });
      return userCouponsPage(frame, query, page, offset);
    },
    dashboardNotifications: async ({ query }) => {
      const frame = await frameFor('Notifications', 'notifications', query.mchid);
      const { state, family, event_type } = query;
      const filter = { state, family, event_type };
      const list = await sim.notifications.listNotifications(
        {
          params: {},
          body: undefined,
          query: {
            ...(state ? { state } : {}),
            ...(family ? { family } : {}),
            ...(event_type ? { event_type } : {}),
            limit: PAGE_SIZE,
            offset: query.offset ?? 0,
          },
        },
        await callerFor(frame.mchid),
      );
      return notificationsPage(frame, filter, list);
    },
    dashboardNotification: async ({ params, query }) => {
      const frame = await frameFor(`Notification ${params.id}`, 'notifications', query.mchid);
      const detail = await sim.notifications.getNotification(
        { params, query: {}, body: undefined },
        await callerFor(frame.mchid),
      );
      return notificationPage(frame, detail);
    },
    dashboardSessions: async ({ query }) => {
      const frame = await frameFor('Listen sessions and forwarding', 'sessions', query.mchid);
      const mchid = frame.mchid;
      const [listens, forwards] =
        mchid === undefined
          ? [[], []]
          : await Promise.all([deps.notifications.listens(mchid), deps.notifications.listForwards(mchid)]);
      return sessionsPage(frame, listens, forwards, deps.wallClock());
    },
    dashboardSimulation: async ({ query }) => {
      const frame = await frameFor('Clock, faults and subsidy outcomes', 'clock & rules', query.mchid);
      const caller = await callerFor(frame.mchid);
      const request = { ...none, body: undefined };
      let clock: ClockStateResponse | undefined;
      try {
        clock = await sim.infra.getClock(request, caller);
      } catch {
        clock = undefined; // a plain clock: nothing to show or move
      }
      const [faults, outcomes] = await Promise.all([
        sim.infra.listFaults(request, caller),
        sim.busifavor.listSubsidyOutcomes(request, caller),
      ]);
      return simulationPage(frame, clock, faults.data, outcomes.data);
    },
    dashboardScript: async () => DASHBOARD_SCRIPT,
    dashboardStyle: async () => DASHBOARD_STYLE,
    dashboardCalls: async ({ query }) => ({
      latest: feed.latest,
      data: feed.since(query.after ?? 0, FEED_PAGE),
    }),
    dashboardReplay: async ({ params }) =>
      sim.notifications.replayNotification(
        { params: { id: params.id }, query: {}, body: undefined },
        await callerFor(params.mchid),
      ),
    dashboardSetClock: async ({ params, body }) =>
      sim.infra.setClock({ ...none, body }, await callerFor(params.mchid)),
    dashboardCreateFault: async ({ params, body }) =>
      sim.infra.createFault({ ...none, body }, await callerFor(params.mchid)),
    dashboardDeleteFault: async ({ params }) =>
      sim.infra.deleteFault(
        { params: { id: params.id }, query: {}, body: undefined },
        await callerFor(params.mchid),
      ),
    dashboardCreateSubsidyOutcome: async ({ params, body }) =>
      sim.busifavor.createSubsidyOutcome({ ...none, body }, await callerFor(params.mchid)),
    dashboardDeleteSubsidyOutcome: async ({ params }) =>
      sim.busifavor.deleteSubsidyOutcome(
        { params: { id: params.id }, query: {}, body: undefined },
        await callerFor(params.mchid),
      ),
  };
}
