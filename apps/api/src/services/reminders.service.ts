// Reminders: one-time and recurring messages to a workspace's clients. Every write that can change when a reminder
// runs (create, a schedule change, new clients, resume) recomputes each assignment's next run in the same
// transaction, under a lock on the reminder; pause, cancel and completion clear them. The scan advances them.
import { DateTime } from 'luxon';
import {
  DEFAULT_SUBJECT_TEMPLATE,
  countSmsSegments,
  nextOccurrence,
  renderReminderTemplate,
  upcomingOccurrences,
  type LeapDayRule,
  type OccurrenceContext,
  type ReminderSchedule,
  type SmsSegmentCount,
} from '@nudge/domain';
import {
  type Conn,
  type Db,
  type ReminderChannel,
  type ReminderClientInfo,
  type ReminderFields,
  type ReminderPatch,
  type ReminderRow,
  type ReminderStatus,
  type ReminderType,
  type ReminderWithClients,
  type WorkspaceRow,
  clearReminderRuns,
  decodeCursor,
  deleteAssignments,
  findReminder,
  findReminderClients,
  findWorkspaceById,
  findWorkspaceStripeAccount,
  insertAssignments,
  insertReminder,
  listAssignments,
  listReminders,
  lockReminder,
  nextCursorOf,
  refreshReminderNextRun,
  setAssignmentNextRuns,
  updateReminderRow,
} from '@nudge/db';
import { idScope, isManagerOf, ownScope, type Principal } from '../auth/principal';
import { Conflict, Forbidden, NotFound, ValidationFailed } from '../errors/domain-errors';
import { NoWorkspace } from './birthdays.service';
import type { Config } from '@nudge/config';

type Channel = 'email' | 'sms' | 'whatsapp';

export interface ReminderInput {
  title: string;
  type: ReminderType;
  document_url?: string | null;
  message_template: string;
  subject_template?: string;
  channels?: ReminderChannel[];
  schedule: ReminderSchedule;
  client_ids: string[];
  amount?: number | null;
  currency?: string;
  due_date?: string | null;
  workspace_id?: string;
}
export type ReminderUpdate = Partial<Omit<ReminderInput, 'client_ids' | 'workspace_id'>>;

export interface ReminderListQuery {
  status?: ReminderStatus;
  type?: ReminderType;
  client_id?: string;
  limit: number;
  cursor?: string;
}

export interface Occurrence {
  at: Date;
  local: string;
  client_id?: string;
}

export interface ChannelPreview {
  channel: Channel;
  subject: string | null;
  body: string;
  sms: SmsSegmentCount | null;
}

/** The channel 'auto' stands for: the client's preferred one, email when it has none. */
function resolveChannel(c: ReminderChannel, client: Pick<ReminderClientInfo, 'preferred_channel'> | null): Channel {
  return c === 'auto' ? (client?.preferred_channel ?? 'email') : c;
}

/** The schedule's own columns, beside the schedule as given (which the API echoes). */
function scheduleColumns(s: ReminderSchedule) {
  return s.kind === 'once'
    ? {
        schedule_kind: 'once' as const,
        send_at: new Date(s.send_at),
        rrule: null,
        timezone: null,
        starts_at: null,
        until: null,
        count: null,
      }
    : {
        schedule_kind: 'recurring' as const,
        send_at: null,
        rrule: s.rrule,
        timezone: s.timezone,
        starts_at: s.starts_at ? new Date(s.starts_at) : null,
        until: s.until ? new Date(s.until) : null,
        count: s.count ?? null,
      };
}

export class RemindersService {
  constructor(private readonly deps: { db: Db; config: Pick<Config, 'usePlatformCredentials'> }) {}

  /**
   * A payment reminder's links are Checkout Sessions on the workspace's connected account, or on the platform's own
   * only where USE_PLATFORM_CREDENTIALS allows it (a single-business deployment): without either there is nowhere
   * for the client's money to go.
   */
  private async requirePaymentAccount(db: Conn, workspaceId: string): Promise<void> {
    if (this.deps.config.usePlatformCredentials) return;
    const ws = await findWorkspaceStripeAccount(db, workspaceId, workspaceId);
    if (!ws?.stripe_account_id)
      throw new Conflict(
        'Connect a Stripe account first (POST /workspaces/{id}/stripe/connect): payment links need one',
        'STRIPE_NOT_CONNECTED',
      );
  }

  async list(
    p: Principal,
    q: ReminderListQuery,
  ): Promise<{ items: ReminderWithClients[]; next_cursor: string | null }> {
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    if (q.cursor !== undefined && !after) {
      throw ValidationFailed.field('query', 'cursor', '"cursor" is not a cursor this API handed out');
    }
    const items = await listReminders(this.deps.db, ownScope(p), {
      status: q.status,
      type: q.type,
      client_id: q.client_id,
      after,
      limit: q.limit,
    });
    return {
      items,
      next_cursor: nextCursorOf(
        items.map((r) => ({ at: r.cursor_at, id: r.id })),
        q.limit,
      ),
    };
  }

  async get(p: Principal, id: string): Promise<ReminderWithClients> {
    const r = await findReminder(this.deps.db, idScope(p), id);
    if (!r) throw new NotFound();
    return r;
  }

  async create(p: Principal, input: ReminderInput): Promise<ReminderWithClients> {
    const ws = await this.targetWorkspace(p, input.workspace_id);
    this.requireOccurrence(input.schedule, ws, new Date());
    if (input.type === 'payment') await this.requirePaymentAccount(this.deps.db, ws.id);
    const id = await this.deps.db.transaction(async (trx) => {
      const clients = await this.clientsOf(trx, ws.id, input.client_ids);
      const currency = input.currency ?? (input.amount != null ? ws.currency : undefined);
      const fields: ReminderFields = {
        created_by: p.user.id,
        title: input.title,
        type: input.type,
        document_url: input.document_url ?? null,
        message_template: input.message_template,
        subject_template: input.subject_template ?? DEFAULT_SUBJECT_TEMPLATE,
        channels:
          input.channels ?? (ws.default_channels.length ? (ws.default_channels as ReminderChannel[]) : ['auto']),
        schedule: input.schedule,
        ...scheduleColumns(input.schedule),
        amount: input.amount ?? null,
        currency: currency?.toUpperCase() ?? null,
        due_date: input.due_date ?? null,
      };
      const row = await insertReminder(trx, ws.id, fields);
      await insertAssignments(trx, ws.id, row.id, this.nextRuns(row, clients, ws, new Date()));
      await refreshReminderNextRun(trx, row.id);
      return row.id;
    });
    return this.get(p, id);
  }

  async update(p: Principal, id: string, patch: ReminderUpdate): Promise<ReminderWithClients> {
    await this.deps.db.transaction(async (trx) => {
      const { r, ws } = await this.lockForWrite(trx, p, id);
      if (r.status === 'cancelled') throw new Conflict('This reminder is cancelled', 'REMINDER_FINISHED');
      const type = patch.type ?? r.type;
      const amount = patch.amount === undefined ? r.amount : patch.amount;
      if (type === 'payment' && amount == null) {
        throw ValidationFailed.field('body', 'amount', '"amount" is required for a payment reminder', 'any.required');
      }
      if (type === 'payment' && r.type !== 'payment') await this.requirePaymentAccount(trx, r.workspace_id);
      const values: ReminderPatch = {};
      for (const k of [
        'title',
        'type',
        'document_url',
        'message_template',
        'subject_template',
        'channels',
        'due_date',
      ] as const) {
        if (patch[k] !== undefined) (values as Record<string, unknown>)[k] = patch[k];
      }
      if (patch.amount !== undefined) values.amount = patch.amount;
      if (patch.currency !== undefined) values.currency = patch.currency.toUpperCase();
      else if (amount != null && r.currency == null) values.currency = ws.currency;
      if (patch.schedule) {
        this.requireOccurrence(patch.schedule, ws, new Date());
        Object.assign(values, { schedule: patch.schedule, ...scheduleColumns(patch.schedule) });
        // A new schedule gives a completed reminder runs again.
        if (r.status === 'completed') values.status = 'active';
      }
      await updateReminderRow(trx, r.workspace_id, r.id, values);
      if (patch.schedule) await this.recomputeRuns(trx, r.id, ws);
    });
    return this.get(p, id);
  }

  /** DELETE cancels: the reminder stops for good, while it and its notifications stay as history. */
  async cancel(p: Principal, id: string): Promise<void> {
    await this.deps.db.transaction(async (trx) => {
      const { r } = await this.lockForWrite(trx, p, id);
      if (r.status === 'cancelled') return;
      await updateReminderRow(trx, r.workspace_id, r.id, { status: 'cancelled' });
      await clearReminderRuns(trx, r.id);
    });
  }

  async pause(p: Principal, id: string): Promise<ReminderWithClients> {
    await this.deps.db.transaction(async (trx) => {
      const { r } = await this.lockForWrite(trx, p, id);
      this.requireOpen(r);
      if (r.status === 'paused') return;
      await updateReminderRow(trx, r.workspace_id, r.id, { status: 'paused' });
      await clearReminderRuns(trx, r.id);
    });
    return this.get(p, id);
  }

  /** Runs again from now: the occurrences missed while paused are not sent. */
  async resume(p: Principal, id: string): Promise<ReminderWithClients> {
    await this.deps.db.transaction(async (trx) => {
      const { r, ws } = await this.lockForWrite(trx, p, id);
      this.requireOpen(r);
      if (r.status === 'active') return;
      await updateReminderRow(trx, r.workspace_id, r.id, { status: 'active' });
      await this.recomputeRuns(trx, r.id, ws);
    });
    return this.get(p, id);
  }

  async addClients(p: Principal, id: string, clientIds: string[]): Promise<ReminderWithClients> {
    await this.deps.db.transaction(async (trx) => {
      const { r, ws } = await this.lockForWrite(trx, p, id);
      const clients = await this.clientsOf(trx, r.workspace_id, [...new Set(clientIds)]);
      await insertAssignments(trx, r.workspace_id, r.id, this.nextRuns(r, clients, ws, new Date()));
      await refreshReminderNextRun(trx, r.id);
    });
    return this.get(p, id);
  }

  async removeClients(p: Principal, id: string, clientIds: string[]): Promise<ReminderWithClients> {
    await this.deps.db.transaction(async (trx) => {
      const { r } = await this.lockForWrite(trx, p, id);
      await deleteAssignments(trx, r.id, [...new Set(clientIds)]);
      await refreshReminderNextRun(trx, r.id);
    });
    return this.get(p, id);
  }

  /**
   * The next `count` occurrences from now, as the schedule gives them (a paused reminder shows what resuming would
   * bring); none for a completed or cancelled one. A 'recipient' schedule lists each client's own, merged in order.
   */
  async occurrences(p: Principal, id: string, count: number): Promise<Occurrence[]> {
    const r = await this.get(p, id);
    if (r.status === 'completed' || r.status === 'cancelled') return [];
    const ws = await this.workspaceOf(r.workspace_id);
    const now = new Date();
    const s = r.schedule as unknown as ReminderSchedule;
    const local = (at: Date, zone: string) => DateTime.fromJSDate(at, { zone }).toISO() as string;
    if (s.kind === 'recurring' && s.timezone === 'recipient') {
      const all: Occurrence[] = [];
      for (const a of await listAssignments(this.deps.db, r.id)) {
        const ctx = this.context(r, a.client.timezone, ws.leap_day_rule);
        for (const at of upcomingOccurrences(s, ctx, now, count)) {
          all.push({ at, local: local(at, a.client.timezone), client_id: a.client_id });
        }
      }
      // Stable: equal instants keep the clients' assignment order.
      return all.sort((x, y) => x.at.getTime() - y.at.getTime()).slice(0, count);
    }
    const zone = s.kind === 'recurring' ? s.timezone : ws.timezone;
    return upcomingOccurrences(s, this.context(r, zone, ws.leap_day_rule), now, count).map((at) => ({
      at,
      local: local(at, zone),
    }));
  }

  /**
   * The message as each of the reminder's channels would carry it to a client: the one named, else the first
   * assigned, else a sample. The payment link only exists at dispatch time, so it renders empty here.
   */
  async preview(
    p: Principal,
    id: string,
    clientId?: string,
  ): Promise<{ reminder_id: string; client_id: string | null; channels: ChannelPreview[] }> {
    const r = await this.get(p, id);
    let client: ReminderClientInfo | null = null;
    if (clientId) {
      client = (await findReminderClients(this.deps.db, r.workspace_id, [clientId]))[0] ?? null;
      if (!client) throw new NotFound('No such client');
    } else {
      client = (await listAssignments(this.deps.db, r.id))[0]?.client ?? null;
    }
    const values = {
      clientName: client?.name ?? 'Client',
      title: r.title,
      dueDate: r.due_date,
      amountMinor: r.amount,
      currency: r.currency,
      locale: client?.locale ?? null,
      paymentLink: null,
      documentLink: r.document_url,
    };
    const channels = [...new Set(r.channels.map((c) => resolveChannel(c, client)))];
    return {
      reminder_id: r.id,
      client_id: client?.id ?? null,
      channels: channels.map((channel) => {
        const body = renderReminderTemplate(r.message_template, values);
        return {
          channel,
          subject:
            channel === 'email' ? renderReminderTemplate(r.subject_template ?? DEFAULT_SUBJECT_TEMPLATE, values) : null,
          body,
          sms: channel === 'sms' ? countSmsSegments(body) : null,
        };
      }),
    };
  }

  // --- helpers ---

  private context(r: Pick<ReminderRow, 'created_at'>, zone: string, leapDayRule: LeapDayRule): OccurrenceContext {
    return { zone, createdAt: r.created_at, leapDayRule };
  }

  /** Each client's next run after `now`: in the client's zone for a 'recipient' schedule; none unless active. */
  private nextRuns(
    r: ReminderRow,
    clients: Pick<ReminderClientInfo, 'id' | 'timezone'>[],
    ws: WorkspaceRow,
    now: Date,
  ): { client_id: string; next_run_at: Date | null }[] {
    const s = r.schedule as unknown as ReminderSchedule;
    return clients.map((c) => {
      if (r.status !== 'active') return { client_id: c.id, next_run_at: null };
      const zone = s.kind === 'once' ? ws.timezone : s.timezone === 'recipient' ? c.timezone : s.timezone;
      return { client_id: c.id, next_run_at: nextOccurrence(s, this.context(r, zone, ws.leap_day_rule), now) };
    });
  }

  private async recomputeRuns(trx: Conn, reminderId: string, ws: WorkspaceRow): Promise<void> {
    const r = await lockReminder(trx, ws.id, reminderId);
    if (!r) throw new NotFound();
    const clients = (await listAssignments(trx, reminderId)).map((a) => a.client);
    await setAssignmentNextRuns(trx, reminderId, this.nextRuns(r, clients, ws, new Date()));
  }

  /** A schedule must fire at least once from now (in the workspace's zone, for a 'recipient' one). */
  private requireOccurrence(s: ReminderSchedule, ws: WorkspaceRow, now: Date): void {
    const zone = s.kind === 'recurring' && s.timezone !== 'recipient' ? s.timezone : ws.timezone;
    if (!nextOccurrence(s, { zone, createdAt: now, leapDayRule: ws.leap_day_rule }, now)) {
      throw ValidationFailed.field('body', 'schedule', '"schedule" has no occurrence from now on');
    }
  }

  private requireOpen(r: ReminderRow): void {
    if (r.status === 'completed' || r.status === 'cancelled') {
      throw new Conflict(`This reminder is ${r.status}`, 'REMINDER_FINISHED');
    }
  }

  /** The clients named, all of the workspace: an unknown or foreign id answers 404, never an assignment. */
  private async clientsOf(db: Conn, workspaceId: string, ids: string[]): Promise<ReminderClientInfo[]> {
    const found = await findReminderClients(db, workspaceId, ids);
    const missing = ids.filter((cid) => !found.some((c) => c.id === cid));
    if (missing.length) throw new NotFound(`No such client: ${missing.join(', ')}`);
    const byId = new Map(found.map((c) => [c.id, c]));
    return ids.map((cid) => byId.get(cid) as ReminderClientInfo);
  }

  private async workspaceOf(id: string): Promise<WorkspaceRow> {
    const ws = await findWorkspaceById(this.deps.db, id);
    if (!ws) throw new NotFound();
    return ws;
  }

  /** The reminder locked for this transaction, once the caller may change it (404 outside their scope, 403 a member). */
  private async lockForWrite(trx: Conn, p: Principal, id: string): Promise<{ r: ReminderRow; ws: WorkspaceRow }> {
    const r = await lockReminder(trx, idScope(p), id);
    if (!r) throw new NotFound();
    if (!isManagerOf(p, r.workspace_id)) throw new Forbidden();
    const ws = await findWorkspaceById(trx, r.workspace_id);
    if (!ws) throw new NotFound();
    return { r, ws };
  }

  /** The workspace a new reminder goes to: the admin names it; anyone else writes to their own, as a manager. */
  private async targetWorkspace(p: Principal, named: string | undefined): Promise<WorkspaceRow> {
    if (p.user.is_superuser) {
      if (!named) {
        throw ValidationFailed.field(
          'body',
          'workspace_id',
          '"workspace_id" is required for the platform admin',
          'any.required',
        );
      }
      return this.workspaceOf(named).catch(() => {
        throw new NotFound('No such workspace');
      });
    }
    if (!p.user.workspace_id) throw new NoWorkspace();
    if (named && named !== p.user.workspace_id) throw new NotFound('No such workspace');
    if (!isManagerOf(p, p.user.workspace_id)) throw new Forbidden();
    return this.workspaceOf(p.user.workspace_id);
  }
}
