import type { SimulationOperationId } from '../client/operations.generated.js';
import type { SandboxClient } from './client.js';

/**
 * Every operation of `SIMULATION_OPERATIONS` (generated from the server's endpoint table) has a sandbox
 * client method (`SANDBOX_METHODS`), so a `/sandbox/v1` endpoint added to the table fails the SDK's build
 * until it has one, as `SDK_METHODS` does for the APIv3 operations.
 */

type Families = Pick<
  SandboxClient,
  | 'clock'
  | 'faults'
  | 'subsidyOutcomes'
  | 'appids'
  | 'users'
  | 'send'
  | 'busifavor'
  | 'notifications'
  | 'forwards'
  | 'listen'
>;

/** A typed sandbox client method, as `family.method` (`'faults.create'`). */
export type SandboxMethodName = {
  [F in keyof Families]: `${F}.${keyof Families[F] & string}`;
}[keyof Families];

/**
 * The sandbox client method that calls each simulation operation. A compile error here ("Property 'x' is
 * missing") means the endpoint table has a `/sandbox/v1` operation the client does not call yet: add a
 * method for it (sandbox/client.ts) and an entry here.
 */
export const SANDBOX_METHODS = {
  bindAppid: 'appids.bind',
  createFault: 'faults.create',
  createListenSession: 'listen.open',
  createNotificationForward: 'forwards.add',
  createSubsidyOutcome: 'subsidyOutcomes.create',
  createUser: 'users.create',
  createUserOpenid: 'users.openid',
  deleteFault: 'faults.delete',
  deleteFaults: 'faults.deleteAll',
  deleteListenSession: 'listen.close',
  deleteNotificationForward: 'forwards.delete',
  deleteSubsidyOutcome: 'subsidyOutcomes.delete',
  deleteSubsidyOutcomes: 'subsidyOutcomes.deleteAll',
  dispatchDeliveries: 'notifications.dispatch',
  getClock: 'clock.get',
  getDeliveryState: 'notifications.deliveryState',
  getFault: 'faults.get',
  getNotification: 'notifications.show',
  getSubsidyOutcome: 'subsidyOutcomes.get',
  getUser: 'users.get',
  listAppids: 'appids.list',
  listFaults: 'faults.list',
  listListenDeliveries: 'listen.deliveries',
  listListenSessions: 'listen.list',
  listNotificationForwards: 'forwards.list',
  listNotifications: 'notifications.list',
  listSubsidyOutcomes: 'subsidyOutcomes.list',
  pauseDeliveries: 'notifications.pause',
  probeNotifyUrl: 'notifications.probe',
  renewListenSession: 'listen.renew',
  replayNotification: 'notifications.replay',
  replayNotifications: 'notifications.replayMany',
  resumeDeliveries: 'notifications.resume',
  setClock: 'clock.set',
  simDeleteCoupon: 'busifavor.deleteCoupon',
  simDeliveryPlanEvent: 'notifications.deliveryPlanEvent',
  simProductCouponEvent: 'notifications.productCouponEvent',
  simSendH5: 'send.h5',
  simSendMiniapp: 'send.miniapp',
  simSendPaygift: 'send.paygift',
  simSetStockState: 'busifavor.setStockState',
  unbindAppid: 'appids.unbind',
} as const satisfies Record<SimulationOperationId, SandboxMethodName>;

/**
 * Sandbox client methods that call no operation of their own: the clock shortcuts are `clock.set` with
 * an action, and `send.h5Url` only builds the signed URL `send.h5` sends.
 */
export type SandboxCompositeMethods = 'clock.freeze' | 'clock.advance' | 'clock.resume' | 'send.h5Url';

type Unmapped = Exclude<
  SandboxMethodName,
  (typeof SANDBOX_METHODS)[keyof typeof SANDBOX_METHODS] | SandboxCompositeMethods
>;

/**
 * Compiles only when every typed sandbox method is in `SANDBOX_METHODS` (or is composite), so the
 * mapping stays complete both ways; otherwise the error shows the unmapped methods.
 */
export type EverySandboxMethodMapped = Assert<
  [Unmapped] extends [never] ? true : ['sandbox client methods missing from SANDBOX_METHODS:', Unmapped]
>;
type Assert<T extends true> = T;
