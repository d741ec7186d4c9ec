// A notification as the history API shows it: never its body or dedupe key, and `attempts` (the column) as
// attempt_count, so that the detail's `attempts` can be the array of tries.
import type { NotificationAttemptRow, NotificationDetail, NotificationRow } from '@nudge/db';

export function serializeNotification(n: NotificationRow) {
  return {
    id: n.id,
    kind: n.kind,
    reminder_id: n.reminder_id,
    client_id: n.client_id,
    channel: n.channel,
    status: n.status,
    attempt_count: n.attempts,
    last_error: n.last_error,
    provider: n.provider,
    provider_message_id: n.provider_message_id,
    occurrence_at: n.occurrence_at,
    sent_at: n.sent_at,
    delivered_at: n.delivered_at,
    created_at: n.created_at,
  };
}

export function serializeAttempt(a: NotificationAttemptRow) {
  return {
    attempt: a.attempt,
    outcome: a.outcome,
    http_status: a.http_status,
    error: a.error,
    duration_ms: a.duration_ms,
    created_at: a.created_at,
  };
}

export function serializeNotificationDetail(n: NotificationDetail) {
  return {
    ...serializeNotification(n),
    reminder_title: n.reminder_title,
    client_name: n.client_name,
    attempts: n.attempt_rows.map(serializeAttempt),
  };
}
