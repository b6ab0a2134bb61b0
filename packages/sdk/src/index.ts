/** @wechatpay-sandbox/sdk — typed, dependency-free WeChat Pay APIv3 client. */
export * from './client/index.js';
export * from './notifications/index.js';
export * from './protocol/index.js';
export * from './sandbox/index.js';
