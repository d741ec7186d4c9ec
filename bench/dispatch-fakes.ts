// The fake SendGrid and Twilio of bench/dispatch.ts, on a worker thread of their own: the providers are other
// machines in production, so their HTTP servers must not take the dispatching thread's CPU. The parent asks, by
// message, for the times at which each send was received (and the fakes then forget them).
import { parentPort } from 'node:worker_threads';
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

const port = parentPort;
if (!port) throw new Error('bench/dispatch-fakes.ts runs as a worker thread');
const [sendgrid, twilio] = await Promise.all([startFakeSendgrid(), startFakeTwilio()]);
port.on('message', (msg: 'received' | 'close') => {
  if (msg === 'received') {
    const received = [
      ...sendgrid.mails.map((m) => [recipientOf(m.body), m.at]),
      ...twilio.messages.map((m) => [m.form.To, m.at]),
    ];
    sendgrid.reset();
    twilio.reset();
    port.postMessage(received);
  } else void Promise.allSettled([sendgrid.close(), twilio.close()]).then(() => port.close());
});
port.postMessage({
  sendgrid: { url: sendgrid.url, apiKey: sendgrid.apiKey },
  twilio: { url: twilio.url, accountSid: twilio.accountSid, authToken: twilio.authToken },
} satisfies FakesReady);
