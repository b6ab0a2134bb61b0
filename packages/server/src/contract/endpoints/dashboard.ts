import { type TProperties, Type } from '@sinclair/typebox';
import { Mchid, StockId, StringEnum } from '../busifavor/common.js';
import { endpoint } from '../endpoint.js';
import { SubsidyOutcomeBody, SubsidyOutcomeView } from '../simulation/busifavor.js';
import { ClockStateResponse, SetClockBody } from '../simulation/clock.js';
import { CreateFaultBody, FaultRuleView } from '../simulation/faults.js';
import { NOTIFICATION_STATES, NOTIFY_FAMILIES, ReplayResponse } from '../simulation/notifications.js';

/**
 * The browser dashboard under `/dashboard` (docs/dashboard.md): server-rendered pages, the live feed's
 * JSON and the actions its pages send. `auth: 'dashboard'` (loopback or the dashboard token, and the
 * CSRF header on every action; http/dashboard/access.ts); not part of the OpenAPI document, which
 * describes the API merchants call. The actions take the simulation API's bodies and answer its views.
 */

const D = '/dashboard';
const HTML = 'text/html; charset=utf-8';
const PAGE = { status: 200, schema: Type.String() } as const;
const NO_CONTENT = { status: 204, schema: null } as const;
const Offset = Type.Integer({ minimum: 0, maximum: 1_000_000_000 });

/** A page's query: its own fields, the merchant it shows, and the token of a first visit. */
function pageQuery<P extends TProperties>(properties: P) {
  return Type.Object(
    {
      ...properties,
      mchid: Type.Optional(Mchid),
      token: Type.Optional(Type.String({ maxLength: 128 })),
    },
    { additionalProperties: false },
  );
}

const page = <const Q extends TProperties>(id: string, path: string, summary: string, query: Q) =>
  ({
    id,
    method: 'GET',
    path,
    family: 'operations',
    summary,
    auth: 'dashboard',
    query: pageQuery(query),
    success: PAGE,
    produces: HTML,
  }) as const;

const MerchantParams = Type.Object({ mchid: Mchid });
const RuleParams = Type.Object({ mchid: Mchid, id: Type.String({ minLength: 1, maxLength: 64 }) });

/** A call of the live feed as its list shows it (the detail page adds headers and the signing string). */
export const CallSummaryView = Type.Object({
  seq: Type.Integer(),
  at: Type.Number(),
  method: Type.String(),
  path: Type.String(),
  target: Type.String(),
  status: Type.Integer(),
  code: Type.Optional(Type.String()),
  ms: Type.Number(),
  mchid: Type.Optional(Type.String()),
  requestId: Type.String(),
  verification: Type.String(),
  error: Type.Optional(
    Type.Object({
      message: Type.String(),
      issue: Type.Optional(Type.String()),
      mistake: Type.Optional(Type.String()),
    }),
  ),
});

export const DASHBOARD_ENDPOINTS = {
  dashboardHome: endpoint(page('dashboardHome', D, 'Dashboard: the live feed of API calls', {})),
  dashboardCall: endpoint({
    ...page('dashboardCall', `${D}/calls/{seq}`, 'Dashboard: one API call as received', {}),
    params: Type.Object({ seq: Type.Integer({ minimum: 1 }) }),
  }),
  dashboardMerchants: endpoint(page('dashboardMerchants', `${D}/merchants`, 'Dashboard: merchants', {})),
  dashboardStocks: endpoint(
    page('dashboardStocks', `${D}/stocks`, "Dashboard: a merchant's stocks", {
      offset: Type.Optional(Offset),
    }),
  ),
  dashboardStock: endpoint({
    ...page('dashboardStock', `${D}/stocks/{stock_id}`, 'Dashboard: a stock and its coupons', {
      offset: Type.Optional(Offset),
    }),
    params: Type.Object({ stock_id: StockId }),
  }),
  dashboardUserCoupons: endpoint(
    page('dashboardUserCoupons', `${D}/coupons`, "Dashboard: a user's coupons by openid", {
      appid: Type.Optional(Type.String({ maxLength: 32 })),
      openid: Type.Optional(Type.String({ maxLength: 128 })),
      offset: Type.Optional(Offset),
    }),
  ),
  dashboardNotifications: endpoint(
    page('dashboardNotifications', `${D}/notifications`, 'Dashboard: the callback delivery log', {
      state: Type.Optional(StringEnum(NOTIFICATION_STATES)),
      family: Type.Optional(StringEnum(NOTIFY_FAMILIES)),
      event_type: Type.Optional(Type.String({ maxLength: 64 })),
      offset: Type.Optional(Offset),
    }),
  ),
  dashboardNotification: endpoint({
    ...page(
      'dashboardNotification',
      `${D}/notifications/{id}`,
      'Dashboard: a notification and its attempts',
      {},
    ),
    params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 40 }) }),
  }),
  dashboardSessions: endpoint(
    page('dashboardSessions', `${D}/sessions`, 'Dashboard: listen sessions and forwarding rules', {}),
  ),
  dashboardSimulation: endpoint(
    page(
      'dashboardSimulation',
      `${D}/simulation`,
      'Dashboard: the clock, fault and subsidy outcome rules',
      {},
    ),
  ),
  dashboardScript: endpoint({
    id: 'dashboardScript',
    method: 'GET',
    path: `${D}/assets/dashboard.js`,
    family: 'operations',
    summary: "Dashboard: the pages' script",
    auth: 'dashboard',
    success: PAGE,
    produces: 'text/javascript; charset=utf-8',
  }),
  dashboardStyle: endpoint({
    id: 'dashboardStyle',
    method: 'GET',
    path: `${D}/assets/dashboard.css`,
    family: 'operations',
    summary: "Dashboard: the pages' style sheet",
    auth: 'dashboard',
    success: PAGE,
    produces: 'text/css; charset=utf-8',
  }),
  dashboardCalls: endpoint({
    id: 'dashboardCalls',
    method: 'GET',
    path: `${D}/api/calls`,
    family: 'operations',
    summary: 'Dashboard: the live feed after a sequence number, newest first',
    auth: 'dashboard',
    query: Type.Object(
      { after: Type.Optional(Type.Integer({ minimum: 0 })) },
      { additionalProperties: false },
    ),
    success: {
      status: 200,
      schema: Type.Object({ latest: Type.Integer(), data: Type.Array(CallSummaryView) }),
    },
  }),
  dashboardReplay: endpoint({
    id: 'dashboardReplay',
    method: 'POST',
    path: `${D}/api/merchants/{mchid}/notifications/{id}/replay`,
    family: 'operations',
    summary: 'Dashboard: replay a notification',
    auth: 'dashboard',
    params: RuleParams,
    success: { status: 200, schema: ReplayResponse },
  }),
  dashboardSetClock: endpoint({
    id: 'dashboardSetClock',
    method: 'POST',
    path: `${D}/api/merchants/{mchid}/clock`,
    family: 'operations',
    summary: "Dashboard: freeze, set, advance or resume a merchant's clock",
    auth: 'dashboard',
    params: MerchantParams,
    body: SetClockBody,
    success: { status: 200, schema: ClockStateResponse },
  }),
  dashboardCreateFault: endpoint({
    id: 'dashboardCreateFault',
    method: 'POST',
    path: `${D}/api/merchants/{mchid}/faults`,
    family: 'operations',
    summary: 'Dashboard: add a fault rule',
    auth: 'dashboard',
    params: MerchantParams,
    body: CreateFaultBody,
    success: { status: 200, schema: FaultRuleView },
  }),
  dashboardDeleteFault: endpoint({
    id: 'dashboardDeleteFault',
    method: 'DELETE',
    path: `${D}/api/merchants/{mchid}/faults/{id}`,
    family: 'operations',
    summary: 'Dashboard: delete a fault rule',
    auth: 'dashboard',
    params: RuleParams,
    success: NO_CONTENT,
  }),
  dashboardCreateSubsidyOutcome: endpoint({
    id: 'dashboardCreateSubsidyOutcome',
    method: 'POST',
    path: `${D}/api/merchants/{mchid}/subsidy-outcomes`,
    family: 'operations',
    summary: 'Dashboard: add a subsidy outcome rule',
    auth: 'dashboard',
    params: MerchantParams,
    body: SubsidyOutcomeBody,
    success: { status: 200, schema: SubsidyOutcomeView },
  }),
  dashboardDeleteSubsidyOutcome: endpoint({
    id: 'dashboardDeleteSubsidyOutcome',
    method: 'DELETE',
    path: `${D}/api/merchants/{mchid}/subsidy-outcomes/{id}`,
    family: 'operations',
    summary: 'Dashboard: delete a subsidy outcome rule',
    auth: 'dashboard',
    params: RuleParams,
    success: NO_CONTENT,
  }),
} as const;
