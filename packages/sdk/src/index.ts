/** @wechatpay-sandbox/sdk — typed, dependency-free WeChat Pay APIv3 client. */
export * from './protocol/index.js';
