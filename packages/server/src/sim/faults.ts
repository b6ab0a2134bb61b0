/**
 * Fault injection: rules that make matching `/v3` calls fail with a documented WeChat error, wait before
 * answering, or both (on the simulated send endpoints: answer a plugin send result). Injected faults answer
 * before the route handler runs, so they never change state. The pieces live in `faults/`: the action
 * union and its two cases, the rule model, the header parser, the store port and the injector.
 * @see docs/simulation.md "Fault injection"
 */

export {
  type DelayFault,
  type FaultAction,
  type FaultTarget,
  faultTargetOf,
  type HttpFault,
  isSimSendPath,
  MAX_FAULT_DELAY_MS,
  SEND_RESULT_ERRCODES,
  type SendResultErrcode,
  type SendResultFault,
  SIM_SEND_CHANNELS,
  SIM_SEND_PATH_PREFIX,
} from './faults/action.js';
export { FAULT_HEADER, parseFaultHeader } from './faults/header.js';
export { FAULT_STATUS_ALTERNATIVES, resolveFaultError } from './faults/http-fault.js';
export { FaultInjector, type FaultInjectorOptions } from './faults/injector.js';
export { MemoryFaultStore } from './faults/memory-store.js';
export {
  compilePathPattern,
  FAULT_METHODS,
  type FaultMethod,
  type FaultRule,
  type FaultRuleInput,
  newFaultRule,
  ruleAction,
  ruleMatches,
} from './faults/rule.js';
export { resolveSendErrcode } from './faults/send-result-fault.js';
export { type ClaimOutcome, type FaultStore, fractionFires, prngUnit } from './faults/store.js';
