import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WechatError } from '../errors.js';
import {
  FAULT_HEADER,
  type FaultAction,
  type FaultInjector,
  isSimSendPath,
  parseFaultHeader,
  SIM_SEND_PATH_PREFIX,
} from './faults.js';

/** Response header naming what injected a fault (`header` or `rule=<id>`); WeChat never sends it. */
export const INJECTED_FAULT_HEADER = 'Wechatpay-Sandbox-Injected-Fault';

/** Options of {@link registerFaultHook}. */
export interface FaultHookOptions {
  /** Paths that faults apply to. @default ['/v3/', SIM_SEND_PATH_PREFIX] */
  prefixes?: readonly string[];
  /** How to wait (injectable for tests). @default node:timers/promises setTimeout */
  wait?: (ms: number) => Promise<unknown>;
}

/**
 * Adds the fault-injection hook. It must be registered after the hook that authenticates requests
 * (it needs `request.merchant`) and runs before validation and the handler, so an injected failure
 * answers before anything is read or written. The per-request {@link FAULT_HEADER} wins over rules;
 * without it the merchant's rules, then global rules, are tried. Other `/sandbox/` paths than the send
 * endpoints are never faulted, so a rule can always be deleted. On a send endpoint a fault answers 200
 * with the plugin result `{errcode, msg, send_coupon_result: []}`: no coupon is sent.
 */
export function registerFaultHook(
  app: FastifyInstance,
  injector: FaultInjector,
  options: FaultHookOptions = {},
): void {
  const prefixes = options.prefixes ?? ['/v3/', SIM_SEND_PATH_PREFIX];
  const wait = options.wait ?? ((ms: number) => sleep(ms));
  app.addHook('preValidation', async (request, reply) => {
    const merchant = request.merchant;
    const route = request.routeOptions.url;
    if (!merchant || !route || !prefixes.some((p) => route.startsWith(p))) return;
    const found = faultFor(request) ?? (await fromRules(injector, merchant.mchid, request));
    if (!found) return;
    reply.header(INJECTED_FAULT_HEADER, found.source);
    request.log.info({ fault: found.action, source: found.source }, 'injected fault');
    const action = found.action;
    if (action.delayMs > 0) await wait(action.delayMs);
    switch (action.kind) {
      case 'delay':
        return;
      case 'http':
        throw new WechatError(action.code, action.status, action.message);
      case 'send-result':
        return reply.code(200).send({ errcode: action.errcode, msg: action.msg, send_coupon_result: [] });
    }
  });
}

interface FoundFault {
  source: string;
  action: FaultAction;
}

function faultFor(request: FastifyRequest): FoundFault | undefined {
  const raw = request.headers[FAULT_HEADER.toLowerCase()];
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw.join(',') : raw;
  return {
    source: 'header',
    action: parseFaultHeader(value, { sendPath: isSimSendPath(request.url) }),
  };
}

async function fromRules(
  injector: FaultInjector,
  mchid: string,
  request: FastifyRequest,
): Promise<FoundFault | undefined> {
  const path = request.url.split('?', 1)[0] as string;
  const hit = await injector.match(mchid, request.method, path);
  return hit && { source: `rule=${hit.rule.id}`, action: hit.action };
}
