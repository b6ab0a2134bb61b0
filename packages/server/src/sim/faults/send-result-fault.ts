import { paramError } from '../../errors.js';
import {
  SEND_RESULT_ERRCODES,
  type SendResultErrcode,
  type SendResultFault,
  SIM_SEND_CHANNELS,
  SIM_SEND_PATH_PREFIX,
} from './action.js';

/**
 * The send-result case of a fault (the simulated send endpoints): which paths, methods and errcodes a rule
 * may name, and the plugin result it answers.
 */

/**
 * Checks a send-result errcode (rules and the header on the send endpoints); PARAM_ERROR naming
 * the field otherwise.
 */
export function resolveSendErrcode(
  code: string,
  field: { code: string; location: 'body' | 'header' },
): SendResultErrcode {
  if (code in SEND_RESULT_ERRCODES) return code as SendResultErrcode;
  throw paramError(
    field.code,
    `on a send endpoint the code is a plugin errcode: ${Object.keys(SEND_RESULT_ERRCODES).join(' or ')}`,
    field.location,
    code,
  );
}

/** Checks a rule's send path (one channel, or all of them with `*` / `{channel}`) and its method. */
export function checkSendRuleTarget(path: string, method: string, rawMethod: string | undefined): void {
  const channel = path.slice(SIM_SEND_PATH_PREFIX.length);
  if (!(SIM_SEND_CHANNELS as readonly string[]).includes(channel) && !/^(\*|\{[^{}/]+\})$/.test(channel)) {
    throw paramError(
      '/path',
      `a send path must be ${SIM_SEND_PATH_PREFIX}{${SIM_SEND_CHANNELS.join('|')}} (or * for every channel)`,
      'body',
      path,
    );
  }
  if (method !== '*' && method !== 'POST') {
    throw paramError('/method', 'the send endpoints take only POST', 'body', rawMethod);
  }
}

/** The plugin answer of a faulted send: the errcode with its message (the documented one by default). */
export function sendResultFault(
  errcode: SendResultErrcode,
  msg: string | null | undefined,
  delayMs: number,
): SendResultFault {
  return { kind: 'send-result', delayMs, errcode, msg: msg ?? SEND_RESULT_ERRCODES[errcode] };
}
