/** The fetch-based typed client. */
export * from './client.js';
export * from './core.js';
export * from './multipart.js';
export {
  OPERATIONS,
  type OperationId,
  SIMULATION_OPERATIONS,
  type SimulationOperationId,
} from './operations.generated.js';
export * from './platform-keys.js';
export * from './request-signer.js';
export * from './retry.js';
export type * from './types/busifavor.js';
export type * from './types/certificates.js';
export type * from './types/common.js';
export type * from './types/media.js';
export type * from './types/notify-settings.js';
export * from './version.js';
