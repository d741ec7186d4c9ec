import { expect } from 'chai';
import { requeueNotificationForResend, type NotificationRow } from '@nudge/db';
import { addDispatchJob, jobIdFor } from '@nudge/queue';
import { startReminderHarness, type ReminderHarness } from '../helpers/reminder-harness';

describe('reminder delivery', function () {
  this.timeout(30_000);
  let h: ReminderHarness;
  before(async function () {
    this.timeout(60_000);
    h = await startReminderHarness();
  });
  after(() => h.close());

  const notification = async (ws: string, reminder: string, client: string, extra: Partial<NotificationRow>) => {
    const [row] = await h
      .db<NotificationRow>('notifications')
      .insert({
        workspace_id: ws,
        kind: 'reminder',
        reminder_id: reminder,
        client_id: client,
        channel: 'email',
        status: 'queued',
        dedupe_key: `reminder:${reminder}:${client}:${new Date().toISOString()}`,
        occurrence_at: new Date(Date.now() - 60_000),
        ...extra,
      })
      .returning('*');
    return row!;
  };

  it('really sends a resent notification again, as a new attempt under a new job id', async () => {
    const ws = await h.workspace();
    const client = await h.client(ws, { name: 'Second Chance' });
    const reminder = await h.reminder(ws, [client], null, { message_template: 'Again, {{client.name}}' });
    const n = await notification(ws, reminder, client, {
      status: 'failed',
      attempts: 1,
      enqueue_count: 1,
      last_error: 'timeout',
    });
    await h.db('notification_attempts').insert({
      notification_id: n.id,
      attempt: 1,
      outcome: 'failed',
      error: 'timeout',
      duration_ms: 5,
    });
    const queued = await requeueNotificationForResend(h.db, ws, n.id);
    await addDispatchJob(h.producers, 'email', n.id, jobIdFor(n.id, queued!.enqueue_count));
    const { notification: sent, attempts } = await h.settled(ws, n.id);
    expect(sent).to.include({ status: 'sent', attempts: 2, last_error: null });
    expect(attempts.map((a) => [a.attempt, a.outcome])).to.deep.equal([
      [1, 'failed'],
      [2, 'sent'],
    ]);
    expect((await h.mails()).filter((m) => m.includes('Again, Second Chance'))).to.have.length(1);
  });

  it('fails an SMS whose client opted out after it was scheduled, without a try', async () => {
    const ws = await h.workspace();
    const client = await h.client(ws, { phone: 'v1:cipher', opt_out_sms: true });
    const reminder = await h.reminder(ws, [client], null, { channels: ['sms'] });
    const n = await notification(ws, reminder, client, { channel: 'sms' });
    await addDispatchJob(h.producers, 'sms', n.id, jobIdFor(n.id, 0));
    const { notification: failed, attempts } = await h.settled(ws, n.id);
    expect(failed).to.include({ status: 'failed', last_error: 'recipient_opted_out' });
    expect(attempts).to.deep.equal([]);
  });

  it('records a WhatsApp message as sent by the sandbox, with the message rendered', async () => {
    const ws = await h.workspace();
    const client = await h.client(ws, { name: 'Wanda', whatsapp: 'v1:cipher' });
    const reminder = await h.reminder(ws, [client], null, {
      channels: ['whatsapp'],
      message_template: 'Hi {{client.name}}: {{reminder.title}}',
      title: 'Payslips',
    });
    const n = await notification(ws, reminder, client, { channel: 'whatsapp' });
    await addDispatchJob(h.producers, 'whatsapp', n.id, jobIdFor(n.id, 0));
    const { notification: sent } = await h.settled(ws, n.id);
    expect(sent).to.include({ status: 'sent', provider: 'sandbox', body: 'Hi Wanda: Payslips', subject: null });
    expect(sent.provider_message_id).to.match(/^sandbox-/);
  });
});
