// Birthdays: listings ordered from the workspace's local today, upcoming ones, and edits that write a linked row
// back to its user in the same transaction.
import { celebrationDateIn, localDateClock, type LeapDayRule } from '@nudge/domain';
import {
  type Db,
  type BirthdayRow,
  ALL_WORKSPACES,
  deleteBirthdayRow,
  deleteOrphanBirthdays,
  findBirthday,
  findWorkspaceById,
  insertStandaloneBirthday,
  listBirthdays,
  syncBirthdayForUser,
  updateBirthdayRow,
  usersMissingBirthday,
  usersWithBirthdays,
} from '@nudge/db';
import { idScope, isManagerOf, type Principal } from '../auth/principal';
import { Forbidden, NotFound, ValidationFailed } from '../errors/domain-errors';
import { ALL_KEY, jsonListing, type JsonListing, type ListingCache } from '@nudge/cache';
import type { UsersService } from './users.service';

export interface BirthdayOut {
  id: string;
  user_id: string | null;
  workspace_id: string;
  name: string;
  date_of_birth: string;
  created_at: Date;
  updated_at: Date;
}

export function serializeBirthday(b: BirthdayRow): BirthdayOut {
  return {
    id: b.id,
    user_id: b.user_id,
    workspace_id: b.workspace_id,
    name: b.name,
    date_of_birth: b.date_of_birth,
    created_at: b.created_at,
    updated_at: b.updated_at,
  };
}

/** The next date on or after `today` on which a birthday is celebrated, with the leap-day rule applied. */
export function nextBirthday(dateOfBirth: string, today: string, rule: LeapDayRule): string {
  const year = Number(today.slice(0, 4));
  const thisYear = celebrationDateIn(dateOfBirth, year, rule);
  return thisYear >= today ? thisYear : celebrationDateIn(dateOfBirth, year + 1, rule);
}

function byNext(today: string, rule: LeapDayRule) {
  return (a: BirthdayRow, b: BirthdayRow) =>
    nextBirthday(a.date_of_birth, today, rule).localeCompare(nextBirthday(b.date_of_birth, today, rule)) ||
    a.name.localeCompare(b.name) ||
    a.id.localeCompare(b.id);
}

export class NoWorkspace extends Forbidden {
  constructor() {
    super('You are not in a workspace', 'NO_WORKSPACE');
  }
}

export class BirthdaysService {
  /** A workspace's local date, remembered until its midnight (every cached read asks for it). */
  private readonly today = localDateClock();

  constructor(private readonly deps: { db: Db; cache: ListingCache; users: UsersService }) {}

  private async workspaceCalendar(workspaceId: string): Promise<{ tz: string; rule: LeapDayRule }> {
    const ws = await findWorkspaceById(this.deps.db, workspaceId);
    if (!ws) throw new NotFound();
    return { tz: ws.timezone, rule: ws.leap_day_rule };
  }

  /**
   * The caller's workspace's birthdays, by next occurrence from its local today, as JSON bytes with their ETag: a
   * cache hit is sent as stored, not parsed and re-serialised. The cache entry is stamped with that day.
   */
  async listOwnJson(p: Principal): Promise<JsonListing> {
    const ws = p.user.workspace_id;
    if (!ws) return jsonListing('[]');
    const load = async () => {
      const { tz, rule } = await this.workspaceCalendar(ws);
      const today = this.today(new Date(), tz) as string;
      const rows = (await listBirthdays(this.deps.db, ws)).sort(byNext(today, rule));
      return { tz, data: rows.map(serializeBirthday) };
    };
    return this.deps.cache.getOrLoadJson('birthdays', ws, async () => (await load()).data, {
      stampFor: (tz) => this.today(new Date(), tz) ?? '',
      load,
    });
  }

  async listAll(): Promise<BirthdayOut[]> {
    return this.deps.cache.getOrLoad('birthdays', ALL_KEY, async () =>
      (await listBirthdays(this.deps.db, ALL_WORKSPACES)).map(serializeBirthday),
    );
  }

  async upcoming(
    p: Principal,
    days: number,
  ): Promise<(BirthdayOut & { next_birthday: string; turning_age: number })[]> {
    const ws = p.user.workspace_id;
    if (!ws) return [];
    const { tz, rule } = await this.workspaceCalendar(ws);
    const today = this.today(new Date(), tz) as string;
    const end = new Date(Date.parse(`${today}T00:00:00Z`) + days * 86400_000).toISOString().slice(0, 10);
    return (await listBirthdays(this.deps.db, ws))
      .map((b) => ({ b, next: nextBirthday(b.date_of_birth, today, rule) }))
      .filter(({ next }) => next < end)
      .sort((x, y) => x.next.localeCompare(y.next) || x.b.name.localeCompare(y.b.name) || x.b.id.localeCompare(y.b.id))
      .map(({ b, next }) => ({
        ...serializeBirthday(b),
        next_birthday: next,
        turning_age: Number(next.slice(0, 4)) - Number(b.date_of_birth.slice(0, 4)),
      }));
  }

  async create(
    p: Principal,
    input: { name: string; date_of_birth: string; workspace_id?: string },
  ): Promise<BirthdayOut> {
    let workspaceId: string;
    if (p.user.is_superuser) {
      if (!input.workspace_id)
        throw ValidationFailed.field(
          'body',
          'workspace_id',
          '"workspace_id" is required for the platform admin',
          'any.required',
        );
      if (!(await findWorkspaceById(this.deps.db, input.workspace_id))) throw new NotFound('No such workspace');
      workspaceId = input.workspace_id;
    } else {
      if (!p.user.workspace_id) throw new NoWorkspace();
      if (input.workspace_id && input.workspace_id !== p.user.workspace_id) throw new NotFound('No such workspace');
      if (!isManagerOf(p, p.user.workspace_id)) throw new Forbidden();
      workspaceId = p.user.workspace_id;
    }
    const row = await insertStandaloneBirthday(this.deps.db, workspaceId, {
      name: input.name,
      date_of_birth: input.date_of_birth,
    });
    await this.deps.cache.invalidate('birthdays', [workspaceId]);
    return serializeBirthday(row);
  }

  async update(p: Principal, id: string, input: { name?: string; date_of_birth?: string }): Promise<BirthdayOut> {
    const { db, cache, users } = this.deps;
    const b = await findBirthday(db, idScope(p), id);
    if (!b) throw new NotFound();
    if (b.user_id) {
      // A linked row is a view of its user: the change is a user change, under the user rules (an admin cannot
      // edit an owner), in one transaction with the row, and the row follows.
      await users.update(p, b.user_id, input);
      const row = await findBirthday(db, b.workspace_id, b.id);
      if (!row) throw new NotFound();
      return serializeBirthday(row);
    }
    if (!isManagerOf(p, b.workspace_id)) throw new Forbidden();
    const updated = await updateBirthdayRow(db, b.workspace_id, b.id, input);
    if (!updated) throw new NotFound();
    await cache.invalidate('birthdays', [b.workspace_id]);
    return serializeBirthday(updated);
  }

  async remove(p: Principal, id: string): Promise<void> {
    const { db, cache, users } = this.deps;
    const b = await findBirthday(db, idScope(p), id);
    if (!b) throw new NotFound();
    if (!isManagerOf(p, b.workspace_id)) throw new Forbidden();
    if (b.user_id) {
      // Without a date of birth the user no longer has a birthday: the user write removes the row with it.
      await users.update(p, b.user_id, { date_of_birth: null });
      return;
    }
    await deleteBirthdayRow(db, b.workspace_id, b.id);
    await cache.invalidate('birthdays', [b.workspace_id]);
  }

  /** Re-syncs every linked row from its user, creates the missing ones and removes orphans, in one transaction. */
  async refreshTable(): Promise<{ count: number; created: number; updated: number; removed: number }> {
    const counts = await this.deps.db.transaction(async (trx) => {
      let created = 0;
      let updated = 0;
      for (const user of await usersWithBirthdays(trx)) {
        const outcome = await syncBirthdayForUser(trx, user);
        if (outcome === 'created') created += 1;
        if (outcome === 'updated') updated += 1;
      }
      const removed = await deleteOrphanBirthdays(trx);
      return { created, updated, removed };
    });
    await this.deps.cache.invalidateAll(['birthdays']);
    return { count: counts.created + counts.updated + counts.removed, ...counts };
  }

  async backfill(): Promise<{ count: number }> {
    const count = await this.deps.db.transaction(async (trx) => {
      let n = 0;
      for (const user of await usersMissingBirthday(trx))
        if ((await syncBirthdayForUser(trx, user)) === 'created') n += 1;
      return n;
    });
    await this.deps.cache.invalidateAll(['birthdays']);
    return { count };
  }
}
