/** Private helpers for the test suites: dialects, keys, signed requests, a running sandbox. */
export * from './dialects.js';
