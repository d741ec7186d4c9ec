// One-click unsubscribe from reminder mail (RFC 8058): the List-Unsubscribe link carries a signed per-client token.
// A GET only shows a page with a button (mail scanners follow links; they must not opt anyone out); the POST, from
// that button or from the mail client's one-click, opts the client out of email, cancels their queued mail and is
// audited. Posting again changes nothing.
import { ALL_WORKSPACES, findClient, setClientChannelOptOut, type Db } from '@nudge/db';
import { verifyUnsubscribeToken } from '@nudge/crypto';
import { NotFound } from '../errors/domain-errors';
import type { AuditLog } from './audit';

const escapeHtml = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

export class UnsubscribeService {
  constructor(private readonly deps: { db: Db; audit: AuditLog }) {}

  private async clientOf(token: string) {
    const clientId = verifyUnsubscribeToken(token);
    const client = clientId ? await findClient(this.deps.db, ALL_WORKSPACES, clientId) : undefined;
    if (!client) throw new NotFound('No such unsubscribe link');
    return client;
  }

  /** The confirmation page: a button that posts back to the same URL. */
  async confirmationPage(token: string, action: string): Promise<string> {
    await this.clientOf(token);
    return page(
      'Unsubscribe from these reminders?',
      `<p>You will no longer receive reminder emails from this sender.</p><form method="post" action="${escapeHtml(action)}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
    );
  }

  /** Opts the token's client out of email; answers the page that says so. */
  async unsubscribe(token: string): Promise<string> {
    const client = await this.clientOf(token);
    // The client's flag and its cancelled mail change together.
    const { changed, cancelled } = await this.deps.db.transaction((trx) =>
      setClientChannelOptOut(trx, client.workspace_id, client.id, 'email', true),
    );
    if (changed)
      await this.deps.audit.event('client.opt_out', {
        workspaceId: client.workspace_id,
        targetType: 'client',
        targetId: client.id,
        details: { channel: 'email', source: 'list-unsubscribe', cancelled },
      });
    return page('You are unsubscribed', '<p>You will no longer receive reminder emails from this sender.</p>');
  }
}
