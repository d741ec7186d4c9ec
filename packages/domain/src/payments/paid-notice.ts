// The workspace owner's "a client paid" mail (workspace setting notify_on_payment). It names the client and what
// was paid, and never carries the client's email address or any other contact detail.
import { formatReminderAmount } from '../reminders/reminder-template';

export interface PaidNoticeFacts {
  workspaceName: string;
  clientName: string | null;
  reminderTitle: string | null;
  /** Minor units. */
  amount: number;
  currency: string;
  paidAt: Date | null;
}

export function paidNoticeMail(f: PaidNoticeFacts): { subject: string; text: string } {
  const who = f.clientName?.trim() || 'A client';
  const amount = formatReminderAmount(f.amount, f.currency);
  const what = f.reminderTitle ? ` for "${f.reminderTitle}"` : '';
  const when = f.paidAt ? ` on ${f.paidAt.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '';
  return {
    subject: `${who} paid ${amount}`,
    text:
      `${who} paid ${amount}${what}${when}, through the payment link Nudge sent for ${f.workspaceName}.\n\n` +
      `No further payment reminders go to ${f.clientName?.trim() || 'this client'} for it.\n\n` +
      `You get this mail because payment notifications are on for ${f.workspaceName}; turn them off in the ` +
      `workspace settings (notify_on_payment).`,
  };
}
