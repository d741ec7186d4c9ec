// The platform's own email channel (password resets, and workspaces allowed to use platform credentials):
// SendGrid when a key is configured, else SMTP, else the sandbox outside production.
import type { Config } from '@nudge/config';
import { ChannelNotConfiguredError } from '../errors';
import type { EmailAdapter } from './email.types';
import { SandboxEmailAdapter } from './sandbox-email.adapter';
import { SendgridEmailAdapter } from './sendgrid-email.adapter';
import { SmtpEmailAdapter } from './smtp-email.adapter';

export type PlatformEmailConfig = Pick<Config, 'isProduction' | 'rootDir' | 'emailFrom' | 'smtpUrl'> & {
  sendgrid: Pick<Config['sendgrid'], 'apiKey' | 'apiUrl'>;
};

export function createPlatformEmailAdapter(
  config: PlatformEmailConfig,
  { timeoutMs }: { timeoutMs?: number } = {},
): EmailAdapter {
  const from = config.emailFrom;
  if (config.sendgrid.apiKey)
    return new SendgridEmailAdapter({
      apiKey: config.sendgrid.apiKey,
      apiUrl: config.sendgrid.apiUrl,
      from,
      timeoutMs,
    });
  if (config.smtpUrl)
    return new SmtpEmailAdapter({
      url: config.smtpUrl,
      from,
      timeoutMs,
      allowInsecureLoopback: !config.isProduction,
    });
  if (config.isProduction)
    throw new ChannelNotConfiguredError(
      'no email credentials: set SENDGRID_API_KEY or SMTP_URL (the sandbox is not allowed in production)',
    );
  return new SandboxEmailAdapter({ rootDir: config.rootDir, from, isProduction: false });
}
