// A workspace's own provider accounts: SendGrid or SMTP for email, Twilio for SMS and WhatsApp. Members read them;
// owners and admins (and the platform admin) change them. Secrets are format-checked (the formats packages/config
// checks the platform's own by, refused under STRICT_VALIDATION), stored encrypted, never answered, and every change
// is audited by field name only. An SMTP host must not resolve to an internal address in production. A test send is
// only queued here: the worker talks to the provider.
import { credentialFormatOk, type Config } from '@nudge/config';
import { checkSmtpUrl, outboundHostPolicy } from '@nudge/channels';
import {
  type AccountChannel,
  type AccountProvider,
  type ChannelAccountCredentials,
  type ChannelAccountRow,
  type Db,
  UniqueViolation,
  deleteChannelAccount,
  findChannelAccount,
  findWorkspaceById,
  insertChannelAccount,
  listChannelAccounts,
  recordChannelAccountTest,
  updateChannelAccount,
} from '@nudge/db';
import { QUEUES, type Producers } from '@nudge/queue';
import { idScope, isManagerOf, ownScope, type Principal } from '../auth/principal';
import { Conflict, Forbidden, NotFound, ValidationFailed, type ValidationIssue } from '../errors/domain-errors';
import { decodeCursor, encodeCursor, type Page } from '../http/pagination';
import type { AuditLog } from './audit';
import { NoWorkspace } from './birthdays.service';

export interface ChannelAccountInput {
  channel?: AccountChannel;
  provider?: AccountProvider;
  name?: string | null;
  from_email?: string | null;
  from_name?: string | null;
  account_sid?: string | null;
  sms_from?: string | null;
  whatsapp_from?: string | null;
  api_key?: string;
  smtp_url?: string;
  auth_token?: string;
  is_active?: boolean;
  workspace_id?: string;
}

const SECRET_FIELDS = ['api_key', 'smtp_url', 'auth_token'] as const;
type SecretField = (typeof SECRET_FIELDS)[number];

/** Which providers serve which channel. */
const PROVIDERS: Record<AccountChannel, AccountProvider[]> = {
  email: ['sendgrid', 'smtp'],
  sms: ['twilio'],
  whatsapp: ['twilio'],
};

/** The fields an account of a channel and provider has, and those it cannot do without. */
function fieldsOf(channel: AccountChannel, provider: AccountProvider): { allowed: string[]; required: string[] } {
  const common = ['name', 'is_active'];
  if (provider === 'sendgrid')
    return { allowed: [...common, 'from_email', 'from_name', 'api_key'], required: ['from_email', 'api_key'] };
  if (provider === 'smtp')
    return { allowed: [...common, 'from_email', 'from_name', 'smtp_url'], required: ['from_email', 'smtp_url'] };
  const sender = channel === 'sms' ? 'sms_from' : 'whatsapp_from';
  return { allowed: [...common, 'account_sid', 'auth_token', sender], required: ['account_sid', 'auth_token', sender] };
}

/** The variable of packages/config whose format a field shares. */
const FORMAT_OF: Record<string, string> = {
  api_key: 'SENDGRID_API_KEY',
  account_sid: 'TWILIO_ACCOUNT_SID',
  auth_token: 'TWILIO_AUTH_TOKEN',
  sms_from: 'TWILIO_SMS_FROM',
  whatsapp_from: 'TWILIO_WHATSAPP_FROM',
};

const issue = (field: string, msg: string, type: string): ValidationIssue => ({ loc: ['body', field], msg, type });

/** An account as the API shows it: which secrets are set, never their values; an SMTP URL without its password. */
export interface ChannelAccountView extends Omit<ChannelAccountRow, 'credentials'> {
  smtp_url: string | null;
  has_api_key: boolean;
  has_smtp_password: boolean;
  has_auth_token: boolean;
}

function redactSmtpUrl(url: string | undefined): { url: string | null; hasPassword: boolean } {
  if (!url) return { url: null, hasPassword: false };
  try {
    const u = new URL(url);
    const hasPassword = u.password !== '';
    if (hasPassword) u.password = '****';
    return { url: u.toString(), hasPassword };
  } catch {
    return { url: null, hasPassword: false };
  }
}

export function viewOf({ credentials, ...row }: ChannelAccountRow): ChannelAccountView {
  const smtp = redactSmtpUrl(credentials?.smtp_url);
  return {
    ...row,
    smtp_url: smtp.url,
    has_api_key: !!credentials?.api_key,
    has_smtp_password: smtp.hasPassword,
    has_auth_token: !!credentials?.auth_token,
  };
}

export class ChannelAccountsService {
  constructor(private readonly deps: { db: Db; config: Config; audit: AuditLog; producers: Producers }) {}

  /**
   * The request's cross-field rules: the provider serves the channel, the fields belong to that provider, the
   * required ones are there (on create), the credentials have their formats, and an SMTP host is allowed.
   */
  private async check(
    channel: AccountChannel,
    provider: AccountProvider,
    input: ChannelAccountInput,
    creating: boolean,
  ) {
    const issues: ValidationIssue[] = [];
    if (!PROVIDERS[channel].includes(provider))
      issues.push(
        issue('provider', `"provider" must be one of ${PROVIDERS[channel].join(', ')} for ${channel}`, 'any.only'),
      );
    else {
      const { allowed, required } = fieldsOf(channel, provider);
      const given = Object.entries(input).filter(
        ([k, v]) => v !== undefined && !['channel', 'provider', 'workspace_id'].includes(k),
      );
      for (const [k] of given)
        if (!allowed.includes(k))
          issues.push(issue(k, `"${k}" is not a field of a ${provider} account`, 'object.unknown'));
      if (creating)
        for (const k of required)
          if (input[k as keyof ChannelAccountInput] == null)
            issues.push(issue(k, `"${k}" is required`, 'any.required'));
      for (const [k, v] of given) {
        const variable = FORMAT_OF[k];
        if (variable && typeof v === 'string' && this.deps.config.strictValidation && !credentialFormatOk(variable, v))
          issues.push(issue(k, `"${k}" does not have the format of ${variable}`, 'string.pattern.base'));
      }
      if (input.smtp_url !== undefined) {
        const problem = await checkSmtpUrl(input.smtp_url, outboundHostPolicy(this.deps.config));
        if (problem)
          issues.push(
            issue(
              'smtp_url',
              problem === 'invalid_url'
                ? '"smtp_url" must be smtp://user:password@host:port or smtps://…'
                : problem === 'internal_address'
                  ? '"smtp_url" names a host that resolves to a loopback, private or link-local address'
                  : '"smtp_url" names a host that does not resolve',
              `smtp_url.${problem}`,
            ),
          );
      }
    }
    if (issues.length) throw new ValidationFailed(issues);
  }

  private async writable(p: Principal, id: string): Promise<ChannelAccountRow> {
    const a = await findChannelAccount(this.deps.db, idScope(p), id);
    if (!a) throw new NotFound();
    if (!isManagerOf(p, a.workspace_id)) throw new Forbidden();
    return a;
  }

  private audit(p: Principal, action: string, a: ChannelAccountRow, changed: string[] = []) {
    return this.deps.audit.event(action, {
      userId: p.user.id,
      workspaceId: a.workspace_id,
      targetType: 'channel_account',
      targetId: a.id,
      // Names of the fields changed, never their values: some are secrets.
      details: { channel: a.channel, provider: a.provider, ...(changed.length ? { changed } : {}) },
    });
  }

  async list(p: Principal, q: { limit: number; cursor?: string }): Promise<Page<ChannelAccountView>> {
    const after = decodeCursor(q.cursor, ['channel', 'id'] as const);
    const page = await listChannelAccounts(this.deps.db, ownScope(p), { limit: q.limit, after });
    return { items: page.items.map(viewOf), next_cursor: page.next ? encodeCursor(page.next) : null };
  }

  async get(p: Principal, id: string): Promise<ChannelAccountView> {
    const a = await findChannelAccount(this.deps.db, idScope(p), id);
    if (!a) throw new NotFound();
    return viewOf(a);
  }

  async create(p: Principal, input: ChannelAccountInput): Promise<ChannelAccountView> {
    let workspaceId: string;
    if (p.user.is_superuser) {
      if (!input.workspace_id)
        throw ValidationFailed.field('body', 'workspace_id', '"workspace_id" is required for the platform admin');
      workspaceId = input.workspace_id;
    } else {
      if (!p.user.workspace_id) throw new NoWorkspace();
      if (input.workspace_id && input.workspace_id !== p.user.workspace_id) throw new NotFound('No such workspace');
      if (!isManagerOf(p, p.user.workspace_id)) throw new Forbidden();
      workspaceId = p.user.workspace_id;
    }
    if (!(await findWorkspaceById(this.deps.db, workspaceId))) throw new NotFound('No such workspace');
    const channel = input.channel as AccountChannel;
    const provider = input.provider as AccountProvider;
    await this.check(channel, provider, input, true);
    const { api_key, smtp_url, auth_token, workspace_id: _w, channel: _c, provider: _p, ...fields } = input;
    const credentials: ChannelAccountCredentials = { api_key, smtp_url, auth_token };
    let row: ChannelAccountRow;
    try {
      row = await insertChannelAccount(this.deps.db, workspaceId, { channel, provider, ...fields }, credentials);
    } catch (err) {
      throw conflictOf(err);
    }
    await this.audit(
      p,
      'channel_account_created',
      row,
      Object.keys(input).filter((k) => k !== 'workspace_id'),
    );
    return viewOf(row);
  }

  async update(p: Principal, id: string, input: ChannelAccountInput): Promise<ChannelAccountView> {
    const a = await this.writable(p, id);
    await this.check(a.channel, a.provider, input, false);
    const secrets = SECRET_FIELDS.filter((k) => input[k] !== undefined);
    const { api_key: _a, smtp_url: _s, auth_token: _t, ...fields } = input;
    const credentials = secrets.length
      ? { ...(a.credentials ?? {}), ...Object.fromEntries(secrets.map((k: SecretField) => [k, input[k]])) }
      : undefined;
    let row: ChannelAccountRow | undefined;
    try {
      row = await updateChannelAccount(this.deps.db, idScope(p), id, fields, credentials);
    } catch (err) {
      throw conflictOf(err);
    }
    if (!row) throw new NotFound();
    await this.audit(p, 'channel_account_updated', row, Object.keys(input));
    return viewOf(row);
  }

  async remove(p: Principal, id: string): Promise<void> {
    const a = await this.writable(p, id);
    if (!(await deleteChannelAccount(this.deps.db, idScope(p), id))) throw new NotFound();
    await this.audit(p, 'channel_account_deleted', a);
  }

  /** Queues a test send on the account's channel queue; the worker records the verdict on the account. */
  async test(p: Principal, id: string): Promise<ChannelAccountView> {
    const a = await this.writable(p, id);
    const queue =
      a.channel === 'email' ? QUEUES.dispatchEmail : a.channel === 'sms' ? QUEUES.dispatchSms : QUEUES.dispatchWhatsapp;
    await recordChannelAccountTest(this.deps.db, a.id, { status: 'queued' });
    await this.deps.producers.add(queue, {
      kind: 'channel-test',
      accountId: a.id,
      userId: p.user.id,
    });
    await this.audit(p, 'channel_account_test_requested', a);
    return this.get(p, id);
  }
}

function conflictOf(err: unknown): unknown {
  if (err instanceof UniqueViolation && err.constraint === 'channel_accounts_one_active_per_channel')
    return new Conflict(
      'The workspace has an active account for this channel: deactivate it first',
      'CHANNEL_ACCOUNT_ACTIVE_EXISTS',
    );
  return err;
}
