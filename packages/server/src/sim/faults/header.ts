import { errors, WechatError } from '../../errors.js';
import { type FaultAction, MAX_FAULT_DELAY_MS } from './action.js';
import { httpFault, resolveFaultError } from './http-fault.js';
import { resolveSendErrcode, sendResultFault } from './send-result-fault.js';

/** The per-request negative-test header. */
export const FAULT_HEADER = 'Wechatpay-Sandbox-Fault';

/**
 * Parses the {@link FAULT_HEADER} value: `;`- or `,`-separated items, each a code (`SYSTEM_ERROR`),
 * `status=NNN` or `delay=MS`. Throws 400 INVALID_REQUEST (location header) on anything else. On the
 * send endpoints (`sendPath`) the code is a plugin errcode (SYSTEMERROR, USER_GET_FAILED), without status.
 * @example parseFaultHeader('delay=2000; SYSTEM_ERROR; status=400')
 */
export function parseFaultHeader(value: string, options: { sendPath?: boolean } = {}): FaultAction {
  let code: string | undefined;
  let status: number | undefined;
  let delayMs = 0;
  const bad = (issue: string): WechatError =>
    errors.INVALID_REQUEST(`${FAULT_HEADER} 无效：${issue}`, {
      field: FAULT_HEADER,
      value,
      issue,
      location: 'header',
    });
  const items = value
    .split(/[;,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw bad('empty; expected e.g. SYSTEM_ERROR or delay=2000');
  for (const item of items) {
    const kv = /^(delay|status)\s*=\s*(\d{1,6})$/i.exec(item);
    if (kv) {
      const n = Number(kv[2]);
      if ((kv[1] as string).toLowerCase() === 'delay') {
        if (n > MAX_FAULT_DELAY_MS) throw bad(`delay must be at most ${MAX_FAULT_DELAY_MS} ms`);
        delayMs = n;
      } else status = n;
    } else if (/^[A-Z][A-Z0-9_]*$/.test(item) && code === undefined) {
      code = item;
    } else {
      throw bad(`unexpected "${item}"; expected a code, status=NNN or delay=MS`);
    }
  }
  if (code === undefined) {
    if (status !== undefined) throw bad('status needs a code');
    return { kind: 'delay', delayMs };
  }
  if (options.sendPath && status !== undefined)
    throw bad('a send result is answered with 200; give no status');
  // The resolvers name body-style fields; the header reports their issue as its own INVALID_REQUEST.
  try {
    if (options.sendPath) {
      return sendResultFault(
        resolveSendErrcode(code, { code: FAULT_HEADER, location: 'header' }),
        null,
        delayMs,
      );
    }
    const field = { code: FAULT_HEADER, status: FAULT_HEADER, location: 'header' } as const;
    return httpFault(resolveFaultError(code, status, field), delayMs);
  } catch (err) {
    throw bad(err instanceof WechatError ? String(err.detail?.issue) : 'invalid');
  }
}
