/** Notification intake: parse → verify → decrypt → typed event, adapters and a typed dispatcher. */
export * from './dispatcher.js';
export * from './events.js';
export * from './handlers.js';
export * from './parse.js';
