/** The sandbox's simulation client (`/sandbox/v1`), from a `wechatpay-sandbox init` credentials directory. */
export * from './client.js';
export * from './credentials.js';
export { SANDBOX_METHODS, type SandboxMethodName } from './operations.js';
export type * from './types.js';
