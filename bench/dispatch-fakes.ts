// The fake SendGrid and Twilio of bench/dispatch.ts, in a child process of their own: the providers are other
// machines in production, so their HTTP servers must take neither the dispatching thread's time nor the CPU time the
// bench counts for the dispatch. The parent asks, by message, for the recipient and time of each send received
// (and the fakes then forget them).
import { startFakeSendgrid, startFakeTwilio } from '@nudge/testing';

export interface FakesReady {
  sendgrid: { url: string; apiKey: string };
  twilio: { url: string; accountSid: string; authToken: string };
}

/** The first recipient of a SendGrid v3 body (one per mail here). */
function recipientOf(body: Record<string, unknown>): string {
  const [p] = (body.personalizations ?? []) as { to?: { email?: string }[] }[];
  return p?.to?.[0]?.email ?? '';
}

const send = process.send?.bind(process);
if (!send) throw new Error('bench/dispatch-fakes.ts runs as a child process with an IPC channel');
const [sendgrid, twilio] = await Promise.all([startFakeSendgrid(), startFakeTwilio()]);
process.on('message', (msg: 'received' | 'close') => {
  if (msg === 'received') {
    const received = [
      ...sendgrid.mails.map((m) => [recipientOf(m.body), m.at]),
      ...twilio.messages.map((m) => [m.form.To, m.at]),
    ];
    sendgrid.reset();
    twilio.reset();
    send(received);
  } else void Promise.allSettled([sendgrid.close(), twilio.close()]).then(() => process.exit(0));
});
send({
  sendgrid: { url: sendgrid.url, apiKey: sendgrid.apiKey },
  twilio: { url: twilio.url, accountSid: twilio.accountSid, authToken: twilio.authToken },
} satisfies FakesReady);
