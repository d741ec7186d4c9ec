// Clients: a workspace's customers. Members read them, with phone numbers masked; owners and admins (and the
// platform admin) see the numbers and make changes. An import takes CSV or a JSON array, checks every row, and
// upserts the valid ones in one transaction; a dry run does the same and rolls back.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { maskPhone } from '@nudge/domain';
import {
  type ClientFields,
  type ClientRow,
  type ClientCounts,
  type Db,
  UniqueViolation,
  clientCounts,
  deleteClient,
  findClient,
  findWorkspaceById,
  insertClient,
  listClients,
  startClientImport,
  updateClient,
} from '@nudge/db';
import { idScope, isManagerOf, ownScope, type Principal } from '../auth/principal';
import { Conflict, Forbidden, NotFound, ValidationFailed } from '../errors/domain-errors';
import { decodeCursor, encodeCursor, type Page } from '../http/pagination';
import { NoWorkspace } from './birthdays.service';
import { type ClientInput, toFields } from './client-fields';
import { csvRows, type ImportFailure, ImportRowChecker, jsonRows } from './client-import-rows';

export type { ClientInput } from './client-fields';

export interface ClientListQuery {
  limit: number;
  cursor?: string;
  search?: string;
  is_active?: boolean;
}

export interface ImportResult {
  imported_count: number;
  updated_count: number;
  failed_count: number;
  failed_imports: ImportFailure[];
}

// Rows checked between two turns of the event loop during an import: the import's statements go out and their
// answers come in between slices (so PostgreSQL writes one statement while the next rows are checked), and other
// requests are not kept waiting behind the whole file. The transaction's statements run one after another, and the
// next can only be sent at a turn: with slices of 1,000 rows (20-30 ms of checking) PostgreSQL waited for turns and
// fell behind, so that half its work was left for after the last row was checked. A quarter of a statement's rows
// keeps it fed.
const IMPORT_SLICE = 250;

function conflictOf(err: unknown): unknown {
  if (!(err instanceof UniqueViolation)) return err;
  if (err.constraint === 'clients_workspace_external_ref_unique')
    return new Conflict('A client with this external_ref exists in the workspace', 'CLIENT_EXTERNAL_REF_EXISTS');
  if (err.constraint === 'clients_workspace_email_unique')
    return new Conflict('A client without an external_ref has this email in the workspace', 'CLIENT_EMAIL_EXISTS');
  return err;
}

/** Thrown inside a dry run's transaction to roll it back with the result it would have had. */
class DryRunDone extends Error {
  constructor(readonly result: { inserted: number; updated: number }) {
    super('dry run');
  }
}

export class ClientsService {
  constructor(private readonly deps: { db: Db }) {}

  /** The row as the caller may see it: numbers in full to whoever manages its workspace, masked to the others. */
  private visible<T extends ClientRow>(p: Principal, c: T): T {
    if (isManagerOf(p, c.workspace_id)) return c;
    return { ...c, phone: c.phone && maskPhone(c.phone), whatsapp: c.whatsapp && maskPhone(c.whatsapp) };
  }

  /** The workspace a write goes to: the caller's own (owners and admins), or the one the platform admin names. */
  private async targetWorkspace(p: Principal, named: string | undefined, where: 'body' | 'query') {
    let workspaceId: string;
    if (p.user.is_superuser) {
      if (!named)
        throw ValidationFailed.field(
          where,
          'workspace_id',
          '"workspace_id" is required for the platform admin',
          'any.required',
        );
      workspaceId = named;
    } else {
      if (!p.user.workspace_id) throw new NoWorkspace();
      if (named && named !== p.user.workspace_id) throw new NotFound('No such workspace');
      if (!isManagerOf(p, p.user.workspace_id)) throw new Forbidden();
      workspaceId = p.user.workspace_id;
    }
    const ws = await findWorkspaceById(this.deps.db, workspaceId);
    if (!ws) throw new NotFound('No such workspace');
    return ws;
  }

  /** An existing client the caller may change: another workspace's is a 404, a member's attempt a 403. */
  private async writable(p: Principal, id: string): Promise<ClientRow> {
    const c = await findClient(this.deps.db, idScope(p), id);
    if (!c) throw new NotFound();
    if (!isManagerOf(p, c.workspace_id)) throw new Forbidden();
    return c;
  }

  async list(p: Principal, q: ClientListQuery): Promise<Page<ClientRow>> {
    const after = decodeCursor(q.cursor, ['name', 'id'] as const);
    const page = await listClients(this.deps.db, ownScope(p), {
      search: q.search,
      isActive: q.is_active,
      limit: q.limit,
      after,
    });
    return {
      items: page.items.map((c) => this.visible(p, c)),
      next_cursor: page.next ? encodeCursor(page.next) : null,
    };
  }

  async get(p: Principal, id: string): Promise<ClientRow & { counts: ClientCounts }> {
    const c = await findClient(this.deps.db, idScope(p), id);
    if (!c) throw new NotFound();
    return this.visible(p, { ...c, counts: await clientCounts(this.deps.db, id) });
  }

  async create(p: Principal, input: ClientInput): Promise<ClientRow> {
    const { workspace_id, ...rest } = input;
    const ws = await this.targetWorkspace(p, workspace_id, 'body');
    const fields = { timezone: ws.timezone, ...toFields(rest) } as ClientFields;
    try {
      return await insertClient(this.deps.db, ws.id, fields);
    } catch (err) {
      throw conflictOf(err);
    }
  }

  async update(p: Principal, id: string, input: ClientInput): Promise<ClientRow> {
    const c = await this.writable(p, id);
    try {
      const updated = await updateClient(this.deps.db, idScope(p), c.id, toFields(input));
      if (!updated) throw new NotFound();
      return updated;
    } catch (err) {
      throw conflictOf(err);
    }
  }

  /** Deletes a client: its assignments go with it, its notifications stay with client_id set null. */
  async remove(p: Principal, id: string): Promise<void> {
    const c = await this.writable(p, id);
    if (!(await deleteClient(this.deps.db, idScope(p), c.id))) throw new NotFound();
  }

  /**
   * Imports CSV text or a JSON array. Every row is checked; the valid ones are upserted in one transaction (rolled
   * back for a dry run) and the others answered with their row number and each failing field.
   */
  async import(p: Principal, body: unknown, opts: { dryRun: boolean; workspaceId?: string }): Promise<ImportResult> {
    const ws = await this.targetWorkspace(p, opts.workspaceId, 'query');
    const rows = typeof body === 'string' ? csvRows(body) : jsonRows(body as unknown[]);
    const checker = new ImportRowChecker(rows);
    let result = { inserted: 0, updated: 0 };
    try {
      result = await this.deps.db.transaction(async (trx) => {
        const importer = startClientImport(trx, ws.id, checker.expectedKeys(), { timezone: ws.timezone });
        let written: { inserted: number; updated: number };
        try {
          for (let from = 0; from < checker.length; from += IMPORT_SLICE) {
            await importer.write(checker.check(from, from + IMPORT_SLICE));
            await nextTurn();
          }
          written = await importer.finish();
        } catch (err) {
          importer.abort();
          throw err;
        }
        if (opts.dryRun) throw new DryRunDone(written);
        return written;
      });
    } catch (err) {
      if (err instanceof DryRunDone) result = err.result;
      else throw conflictOf(err);
    }
    return {
      imported_count: result.inserted,
      updated_count: result.updated,
      failed_count: checker.failures.length,
      failed_imports: checker.failures,
    };
  }
}
