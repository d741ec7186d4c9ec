// The one place that decides which provider account a workspace's message goes out through: the workspace's own
// active channel account, else the platform's credentials when USE_PLATFORM_CREDENTIALS allows them, else nothing
// (`channel_not_configured`, permanent). Outside production a channel with no credentials at all goes to the sandbox
// (DESIGN.md: nothing leaves the machine); production refuses to start without them (packages/config).
//
// Adapters hold keep-alive connections, so they are built once and cached per account id and its `updated_at`: an
// edited account gets a fresh adapter (and the old one is closed), an unchanged one is reused by every job.
// close() ends them all on shutdown.
import type { Config } from '@nudge/config';
import { findActiveChannelAccount, type ChannelAccountRow, type Db } from '@nudge/db';
import {
  SendgridEmailAdapter,
  SmtpEmailAdapter,
  TwilioMessagingClient,
  TwilioSmsAdapter,
  TwilioWhatsappAdapter,
  outboundHostPolicy,
  type EmailAdapter,
  type TextAdapter,
  type TextChannel,
} from '@nudge/channels';

export const CHANNEL_NOT_CONFIGURED = 'channel_not_configured';

/** Where a message goes out: the adapter, the sender, and the account key pacing and caching go by. */
export type EmailRoute = { kind: 'email'; adapter: EmailAdapter; account: string; from?: string; fromName?: string };
export type TextRoute =
  { kind: 'text'; adapter: TextAdapter; account: string; from: string } | { kind: 'sandbox'; account: string };
export type Resolution<R> = R | { notConfigured: string };

export type ResolverConfig = Pick<
  Config,
  'isProduction' | 'usePlatformCredentials' | 'twilio' | 'sendgrid' | 'emailFrom'
>;

/**
 * The workspace's active account for the channel when the caller has read it already (null: it has none), so the
 * resolver does not read it again; left out, the resolver reads it.
 */
export type KnownAccount = ChannelAccountRow | null | undefined;

export interface AdapterResolver {
  email(workspaceId: string, known?: KnownAccount): Promise<Resolution<EmailRoute>>;
  text(workspaceId: string, channel: TextChannel, known?: KnownAccount): Promise<Resolution<TextRoute>>;
  /** Closes every adapter built so far (on shutdown). */
  close(): Promise<void>;
}

/** An email adapter built from a workspace's own account (SendGrid or SMTP); the SMTP host is checked on connect. */
export function emailAdapterForAccount(account: ChannelAccountRow, config: ResolverConfig): EmailAdapter {
  const creds = account.credentials ?? {};
  const from = account.from_email ?? config.emailFrom;
  return account.provider === 'sendgrid'
    ? new SendgridEmailAdapter({ apiKey: creds.api_key ?? '', apiUrl: config.sendgrid.apiUrl, from })
    : new SmtpEmailAdapter({
        url: creds.smtp_url ?? '',
        from,
        hostPolicy: outboundHostPolicy(config),
        // The fake SMTP server has no TLS: plain smtp:// to loopback outside production only.
        allowInsecureLoopback: !config.isProduction,
      });
}

interface Cached<A> {
  version: number;
  adapter: A;
}

export function createAdapterResolver(deps: {
  db: Db;
  config: ResolverConfig;
  /** The platform's email adapter (SendGrid, SMTP or the sandbox outbox), owned by the caller. */
  platformEmail?: EmailAdapter;
}): AdapterResolver {
  const { db, config } = deps;
  const emailCache = new Map<string, Cached<EmailAdapter>>();
  const textCache = new Map<string, Cached<TextAdapter>>();
  let platformTwilio: TwilioMessagingClient | undefined;
  const platformText = new Map<TextChannel, TextAdapter>();

  /** The cached adapter of this version of the account, closing one built for an older version. */
  function cached<A extends { close(): Promise<void> }>(
    cache: Map<string, Cached<A>>,
    account: ChannelAccountRow,
    build: () => A,
  ): A {
    const version = account.updated_at.getTime();
    const hit = cache.get(account.id);
    if (hit?.version === version) return hit.adapter;
    if (hit) void hit.adapter.close().catch(() => undefined);
    const adapter = build();
    cache.set(account.id, { version, adapter });
    return adapter;
  }

  const unusable = (account: ChannelAccountRow) =>
    account.credentials === null ? { notConfigured: `${CHANNEL_NOT_CONFIGURED}: credentials_unreadable` } : undefined;

  return {
    async email(workspaceId, known) {
      const account = known === undefined ? await findActiveChannelAccount(db, workspaceId, 'email') : known;
      if (account) {
        const bad = unusable(account);
        if (bad) return bad;
        return {
          kind: 'email',
          adapter: cached(emailCache, account, () => emailAdapterForAccount(account, config)),
          account: `account:${account.id}`,
          fromName: account.from_name ?? undefined,
        };
      }
      if (!config.usePlatformCredentials || !deps.platformEmail) return { notConfigured: CHANNEL_NOT_CONFIGURED };
      return { kind: 'email', adapter: deps.platformEmail, account: 'platform' };
    },

    async text(workspaceId, channel, known) {
      const account = known === undefined ? await findActiveChannelAccount(db, workspaceId, channel) : known;
      if (account) {
        const bad = unusable(account);
        if (bad) return bad;
        const from = channel === 'sms' ? account.sms_from : account.whatsapp_from;
        if (!from || !account.account_sid) return { notConfigured: `${CHANNEL_NOT_CONFIGURED}: no_sender` };
        const options = {
          accountSid: account.account_sid,
          authToken: account.credentials?.auth_token ?? '',
          apiUrl: config.twilio.apiUrl,
          from,
        };
        const adapter = cached(textCache, account, () =>
          channel === 'sms' ? new TwilioSmsAdapter(options) : new TwilioWhatsappAdapter(options),
        );
        return { kind: 'text', adapter, account: `account:${account.id}`, from };
      }
      if (!config.usePlatformCredentials) return { notConfigured: CHANNEL_NOT_CONFIGURED };
      const { accountSid, authToken, apiUrl } = config.twilio;
      const from = channel === 'sms' ? config.twilio.smsFrom : config.twilio.whatsappFrom;
      if (accountSid && authToken && from) {
        let adapter = platformText.get(channel);
        if (!adapter) {
          // SMS and WhatsApp on the platform's account share one client, and with it its kept-alive sockets.
          platformTwilio ??= new TwilioMessagingClient({ accountSid, authToken, apiUrl });
          const options = { client: platformTwilio, from };
          adapter = channel === 'sms' ? new TwilioSmsAdapter(options) : new TwilioWhatsappAdapter(options);
          platformText.set(channel, adapter);
        }
        return { kind: 'text', adapter, account: `platform:${accountSid}`, from };
      }
      if (config.isProduction) return { notConfigured: CHANNEL_NOT_CONFIGURED };
      return { kind: 'sandbox', account: 'sandbox' };
    },

    async close() {
      const adapters = [...emailCache.values(), ...textCache.values()].map((c) => c.adapter);
      emailCache.clear();
      textCache.clear();
      await Promise.allSettled([...adapters, ...platformText.values()].map((a) => a.close()));
      platformText.clear();
      await platformTwilio?.close();
      platformTwilio = undefined;
    },
  };
}
