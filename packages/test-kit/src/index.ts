/** Private helpers for the test suites: dialects, signed requests, a running sandbox. */
export * from './dialects.js';
export * from './multipart.js';
export * from './sandbox.js';
export * from './signed-request.js';
