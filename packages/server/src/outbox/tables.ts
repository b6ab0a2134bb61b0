/**
 * Kysely table types of the notification outbox (migration 0003-outbox). Merged into DatabaseSchema.
 */

/** One notification: the plaintext event and its delivery state. */
export interface NotificationOutboxTable {
  /** Notification id (UUID), stable across redeliveries and replays. */
  id: string;
  mchid: string;
  /** 'busifavor' | 'product-coupon' | 'delivery-plan' */
  family: string;
  event_type: string;
  summary: string;
  original_type: string;
  associated_data: string;
  /** JSON of the business object encrypted into resource.ciphertext. */
  plaintext: string;
  /** Business time of the event (envelope create_time), epoch ms. */
  create_time: number;
  /** 'pending' | 'no-target' | 'delivered' | 'dead' */
  state: string;
  attempts: number;
  round_attempts: number;
  /** Business time (the merchant's virtual clock) when the next attempt is due. */
  next_attempt_at: number;
  /** Wall-clock lease: a claimed row is not claimed again before this. */
  locked_until: number | null;
  locked_by: string | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
  created_at: number;
  updated_at: number;
}

/** One delivery attempt. */
export interface NotificationAttemptsTable {
  id: string;
  notification_id: string;
  attempt_no: number;
  /** 'delivered' | 'failed' | 'no-target' | 'refused' */
  outcome: string;
  url: string | null;
  target_address: string | null;
  status: number | null;
  error: string | null;
  latency_ms: number;
  response_excerpt: string | null;
  request_id: string | null;
  instance_id: string | null;
  business_at: number;
  started_at: number;
  /** The listen session the attempt was delivered for (migration 0007-listen-sessions), else null. */
  listen_session_id?: string | null;
}

/** A merchant whose deliveries are paused. */
export interface NotificationPausesTable {
  mchid: string;
  paused_at: number;
}

/** A forwarding rule: a registered notify URL (prefix) delivered to another (local) URL. */
export interface NotificationForwardsTable {
  id: string;
  mchid: string;
  from_url: string;
  to_url: string;
  created_at: number;
}

/** A listen session (migration 0007-listen-sessions): the merchant's callbacks go to its URL while live. */
export interface NotificationListenSessionsTable {
  id: string;
  mchid: string;
  target_url: string;
  /** JSON array of event types; null = every event type. */
  event_types: string | null;
  lease_ms: number;
  /** Wall-clock lease end (epoch ms); the session is ignored from then on and deleted lazily. */
  expires_at: number;
  created_at: number;
}

/** The outbox tables, merged into DatabaseSchema. */
export interface OutboxTables {
  notification_outbox: NotificationOutboxTable;
  notification_attempts: NotificationAttemptsTable;
  notification_pauses: NotificationPausesTable;
  notification_forwards: NotificationForwardsTable;
  notification_listen_sessions: NotificationListenSessionsTable;
}
