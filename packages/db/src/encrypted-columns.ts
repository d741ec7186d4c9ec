// Every column stored encrypted with @nudge/crypto's FieldCipher. Key rotation walks this list, so a new encrypted
// column is one entry here (plus a migration encrypting whatever it held before).
import type { FieldContext } from '@nudge/crypto';

export interface EncryptedColumn {
  table: string;
  column: string;
  /** The primary key whose value is bound into each ciphertext as associated data. */
  idColumn: string;
}

export const SLACK_WEBHOOK_COLUMN: EncryptedColumn = { table: 'workspaces', column: 'slack_webhook', idColumn: 'id' };

/** Clients' phone and WhatsApp numbers (E.164); each has a keyed hash beside it for lookups (search-hash). */
export const CLIENT_PHONE_COLUMN: EncryptedColumn = { table: 'clients', column: 'phone', idColumn: 'id' };
export const CLIENT_WHATSAPP_COLUMN: EncryptedColumn = { table: 'clients', column: 'whatsapp', idColumn: 'id' };
/** A channel account's secrets (SendGrid key, SMTP URL, Twilio auth token), as one encrypted JSON object. */
export const CHANNEL_ACCOUNT_CREDENTIALS_COLUMN: EncryptedColumn = {
  table: 'channel_accounts',
  column: 'credentials',
  idColumn: 'id',
};

export const ENCRYPTED_COLUMNS: readonly EncryptedColumn[] = [
  SLACK_WEBHOOK_COLUMN,
  CLIENT_PHONE_COLUMN,
  CLIENT_WHATSAPP_COLUMN,
  CHANNEL_ACCOUNT_CREDENTIALS_COLUMN,
];

/** The associated data for one row's value: `<table>.<column>:<rowId>`. */
export function fieldContext(col: EncryptedColumn, rowId: string): FieldContext {
  return { table: col.table, column: col.column, rowId };
}
