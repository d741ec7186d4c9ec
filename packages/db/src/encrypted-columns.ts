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

export const ENCRYPTED_COLUMNS: readonly EncryptedColumn[] = [SLACK_WEBHOOK_COLUMN];

/** The associated data for one row's value: `<table>.<column>:<rowId>`. */
export function fieldContext(col: EncryptedColumn, rowId: string): FieldContext {
  return { table: col.table, column: col.column, rowId };
}
