import {
  type KnownEventType,
  type NotificationEvent,
  type NotificationEventOf,
  UNKNOWN_EVENT_TYPE,
  type UnknownNotificationEvent,
} from './events.js';

/** A handler for one event type. */
export type EventHandler<E> = (event: E) => void | Promise<void>;

/** Routes verified events to handlers typed by `event_type`. */
export interface NotificationDispatcher {
  /** Registers the handler of a known event type (its `resource` is typed). */
  on<T extends KnownEventType>(
    type: T,
    handler: EventHandler<NotificationEventOf<T>>,
  ): NotificationDispatcher;
  /** Registers the handler of an event type this SDK does not model (by the type WeChat sends). */
  on(type: string, handler: EventHandler<UnknownNotificationEvent>): NotificationDispatcher;
  /** Handles events no handler was registered for. @default ignore them (answer success) */
  otherwise(handler: EventHandler<NotificationEvent>): NotificationDispatcher;
  /** Dispatches one event; pass this to `createNodeHandler` / `createFetchHandler`. */
  readonly dispatch: (event: NotificationEvent) => Promise<void>;
}

/**
 * Creates a dispatcher.
 * @example
 * const events = createNotificationDispatcher()
 *   .on('COUPON.SEND', async (e) => grant(e.resource.coupon_code, e.resource.openid));
 * http.createServer(createNodeHandler(parserOptions, events.dispatch));
 */
export function createNotificationDispatcher(): NotificationDispatcher {
  const handlers = new Map<string, EventHandler<never>>();
  let fallback: EventHandler<NotificationEvent> | undefined;
  const dispatcher: NotificationDispatcher = {
    on(type: string, handler: EventHandler<never>) {
      handlers.set(type, handler);
      return dispatcher;
    },
    otherwise(handler) {
      fallback = handler;
      return dispatcher;
    },
    dispatch: async (event) => {
      const type = event.event_type === UNKNOWN_EVENT_TYPE ? event.unknownEventType : event.event_type;
      const handler = handlers.get(type) as EventHandler<NotificationEvent> | undefined;
      if (handler) await handler(event);
      else if (fallback) await fallback(event);
    },
  };
  return dispatcher;
}
