/**
 * What an injected fault does to a call: wait, then either proceed, fail with a WeChat HTTP error, or (on
 * the simulated send endpoints) answer a plugin send result. Rules and the `Wechatpay-Sandbox-Fault` header
 * both produce one of these; the hook answers each kind with its own branch.
 * @see docs/simulation.md "Fault injection"
 */

/** Longest delay a rule or the header may ask for. */
export const MAX_FAULT_DELAY_MS = 120_000;

/** Wait, then let the call through. */
export interface DelayFault {
  kind: 'delay';
  /** Wait this long before passing the call on. */
  delayMs: number;
}

/** Wait, then fail with a documented WeChat error (`/v3` paths). */
export interface HttpFault {
  kind: 'http';
  /** Wait this long before answering. */
  delayMs: number;
  /** The wire code, e.g. `SYSTEM_ERROR`. */
  code: string;
  status: number;
  message: string;
}

/** Wait, then answer 200 with a plugin send result and no coupon (the simulated send endpoints). */
export interface SendResultFault {
  kind: 'send-result';
  /** Wait this long before answering. */
  delayMs: number;
  errcode: SendResultErrcode;
  msg: string;
}

/** What a firing rule (or the header) does to the call. */
export type FaultAction = DelayFault | HttpFault | SendResultFault;

/**
 * Plugin `errcode`s a send rule may answer, with the message sent as `msg` (docs/busifavor.md §6.3). The
 * others (PARAM_ERROR, USER_NOT_EXISTS, SIGN_ERROR) and every item code are what real input produces.
 */
export const SEND_RESULT_ERRCODES = {
  SYSTEMERROR: '系统错误，请稍后重试',
  USER_GET_FAILED: '获取用户信息失败，请稍后重试',
} as const;

/** A plugin `errcode` a rule may inject. */
export type SendResultErrcode = keyof typeof SEND_RESULT_ERRCODES;

/**
 * The simulated front-end send endpoints (mini-program plugin, H5, payment gift). Rules may target them
 * too: they answer a send result (`errcode`) rather than an HTTP error, as the plugin's
 * `bind:sendcoupon` event does.
 */
export const SIM_SEND_PATH_PREFIX = '/sandbox/v1/busifavor/send/';

/** The send channels under {@link SIM_SEND_PATH_PREFIX}. */
export const SIM_SEND_CHANNELS = ['miniapp', 'h5', 'paygift'] as const;

/** Whether a path (or a rule's pattern) is one of the simulated send endpoints. */
export function isSimSendPath(path: string): boolean {
  return path.startsWith(SIM_SEND_PATH_PREFIX);
}

/** The kind of failure a path answers: a send result on the send endpoints, an HTTP error elsewhere. */
export type FaultTarget = 'http' | 'send-result';

/** The {@link FaultTarget} of a path or a rule's path pattern. */
export function faultTargetOf(path: string): FaultTarget {
  return isSimSendPath(path) ? 'send-result' : 'http';
}
