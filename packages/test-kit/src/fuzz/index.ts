/**
 * The fuzzer's parts, for the `npm test` properties (packages/server/test/fuzz.test.ts) and `npm run fuzz`
 * (cli.ts): request generators derived from the server's route list, the per-answer and state oracles.
 * @see ../../../../docs/testing.md
 */
export {
  type FuzzRequest,
  type FuzzRequestOptions,
  fuzzRequestArbitraries,
  fuzzRequestArbitrary,
  signRequest,
} from './cases.js';
export {
  type FuzzTarget,
  WireClient,
  type WireOutcome,
  type WireRequest,
  type WireResponse,
} from './client.js';
export {
  awkwardString,
  deepNesting,
  type Json,
  mutatedJson,
  RawJson,
  RepeatedMembers,
  writeJson,
} from './json.js';
export { checkAnswer, type Finding, type FindingKind, isInjectedFault, leaksIn } from './oracles.js';
export {
  type FuzzRoute,
  fillPattern,
  parameterNames,
  percentEncode,
  SPELLINGS,
  type Spelling,
  segmentArbitrary,
  spell,
  spellingArbitrary,
} from './paths.js';
export { hasSample, knownParameterValues, type Sample, sampleRequest } from './samples.js';
export {
  changedParts,
  footprint,
  readState,
  type StatePart,
  type StateReading,
  unexplainedChanges,
  unionFootprints,
} from './state.js';
export { type FuzzWorld, seedWorld, worldDictionary } from './world.js';
