// A real SMTP server (smtp-server) on loopback, plain text and no STARTTLS, recording each message as received.
import crypto from 'node:crypto';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface SmtpMessage {
  from: string | undefined;
  to: string[];
  /** The user that authenticated, if any. */
  user: string | undefined;
  /** The message as transmitted (RFC 822), headers and body. */
  raw: string;
  /** The Subject header, unfolded (not MIME-decoded). */
  subject: string | undefined;
  at: number;
  /** The client's port: two messages with the same one came over one connection (a pooled transport). */
  remotePort: number | undefined;
}

/** An SMTP reply code and text for the next recipient(s), e.g. `{ code: 550, message: 'No such user' }` or 451. */
export interface SmtpFault {
  code: number;
  message?: string;
}

export interface FakeSmtp {
  /** `smtp://user:pass@127.0.0.1:<port>`, ready for nodemailer or SMTP_URL. */
  url: string;
  port: number;
  user: string;
  pass: string;
  messages: SmtpMessage[];
  /** Refuses the next `times` RCPT TO commands with this reply. */
  inject: (fault: SmtpFault, times?: number) => void;
  reset: () => void;
  close: () => Promise<void>;
}

function headerOf(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const m = new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(head);
  return m?.[1]?.replace(/\r?\n[ \t]+/g, ' ').trim();
}

export async function startFakeSmtp(opts: { user?: string; pass?: string } = {}): Promise<FakeSmtp> {
  const user = opts.user ?? 'fake';
  const pass = opts.pass ?? crypto.randomBytes(8).toString('hex');
  const messages: SmtpMessage[] = [];
  let faults: Array<{ fault: SmtpFault; remaining: number }> = [];

  const options: SMTPServerOptions = {
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    logger: false,
    closeTimeout: 100,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === pass) return callback(null, { user });
      return callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(_address, _session, callback) {
      const next = faults[0];
      if (!next) return callback();
      if (--next.remaining <= 0) faults.shift();
      return callback(
        Object.assign(new Error(next.fault.message ?? 'Recipient refused'), { responseCode: next.fault.code }),
      );
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const from = session.envelope.mailFrom;
        messages.push({
          from: from ? from.address : undefined,
          to: session.envelope.rcptTo.map((r) => r.address),
          user: typeof session.user === 'string' ? session.user : undefined,
          raw,
          subject: headerOf(raw, 'Subject'),
          at: Date.now(),
          remotePort: session.remotePort,
        });
        callback(null, `Queued as ${crypto.randomBytes(6).toString('hex')}`);
      });
    },
  };
  const server = new SMTPServer(options);
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@127.0.0.1:${port}`,
    port,
    user,
    pass,
    messages,
    inject: (fault, times = 1) => {
      if (times > 0) faults.push({ fault, remaining: times });
    },
    reset: () => {
      messages.length = 0;
      faults = [];
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
