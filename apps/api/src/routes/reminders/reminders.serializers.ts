// The wire shape of a reminder, applied by the routes to whatever the reminders service returns.
import { DEFAULT_SUBJECT_TEMPLATE } from '@nudge/domain';
import type { ReminderWithClients } from '@nudge/db';

export function serializeReminder(r: ReminderWithClients) {
  return {
    id: r.id,
    workspace_id: r.workspace_id,
    created_by: r.created_by,
    title: r.title,
    type: r.type,
    document_url: r.document_url,
    message_template: r.message_template,
    subject_template: r.subject_template ?? DEFAULT_SUBJECT_TEMPLATE,
    channels: r.channels,
    schedule: r.schedule,
    status: r.status,
    amount: r.amount,
    currency: r.currency,
    due_date: r.due_date,
    client_ids: r.client_ids,
    next_run_at: r.next_run_at,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}
export type ReminderOut = ReturnType<typeof serializeReminder>;
