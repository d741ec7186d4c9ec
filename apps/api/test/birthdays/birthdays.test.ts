import { expect } from 'chai';
import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type { BirthdayRow, UserRow } from '@nudge/db';
import { testApp, testDeps, signUp, superuser, team, unique, type Session } from '../helpers';

const app = () => testApp();

interface Row {
  id: string;
  user_id: string | null;
  workspace_id: string;
  name: string;
  date_of_birth: string;
  next_birthday?: string;
  turning_age?: number;
}
const db = () => testDeps().db;

// Far from UTC on both sides: at any instant one of them is on a different calendar day than UTC, so an order
// computed from the UTC date shows.
const ZONES = ['Pacific/Kiritimati', 'Pacific/Pago_Pago'] as const;

function localToday(tz: string): DateTime {
  return DateTime.now().setZone(tz).startOf('day');
}

/** A date of birth celebrated on `day`: 28 years earlier keeps a 29 February a 29 February. */
function bornOn(day: DateTime): string {
  return day.minus({ years: 28 }).toISODate() as string;
}

async function addBirthday(owner: Session, name: string, dateOfBirth: string): Promise<Row> {
  return (
    await request(app()).post('/birthdays/').set(owner.auth).send({ name, date_of_birth: dateOfBirth }).expect(201)
  ).body as Row;
}

async function linkedRow(userId: string): Promise<BirthdayRow> {
  return (await db()<BirthdayRow>('birthdays').where({ user_id: userId }).first()) as BirthdayRow;
}

describe('GET /birthdays/', () => {
  for (const tz of ZONES) {
    it(`orders by next occurrence from the local today in ${tz} (today first), then by name, then by id`, async () => {
      const today = localToday(tz);
      const owner = await signUp(app(), {
        workspace_name: unique('ws'),
        timezone: tz,
        name: 'Owner',
        date_of_birth: bornOn(today.minus({ days: 1 })),
      });
      const later = await addBirthday(owner, 'Al', bornOn(today.plus({ days: 40 })));
      const tomorrow = await addBirthday(owner, 'Cy', bornOn(today.plus({ days: 1 })));
      const bo1 = await addBirthday(owner, 'Bo', bornOn(today));
      const bo2 = await addBirthday(owner, 'Bo', bornOn(today));
      const ann = await addBirthday(owner, 'Ann', bornOn(today));
      const [boLow, boHigh] = [bo1, bo2].sort((a, b) => a.id.localeCompare(b.id));
      const ownerRow = await linkedRow(owner.user.id);

      const res = await request(app()).get('/birthdays/').set(owner.auth).expect(200);
      expect(res.body).to.be.an('array');
      expect((res.body as Row[]).map((b) => b.id)).to.deep.equal([
        ann.id,
        boLow?.id,
        boHigh?.id,
        tomorrow.id,
        later.id,
        ownerRow.id,
      ]);
      expect(res.body[0]).to.have.keys(
        'id',
        'user_id',
        'workspace_id',
        'name',
        'date_of_birth',
        'created_at',
        'updated_at',
      );
      expect(res.body[0]).to.include({
        name: 'Ann',
        date_of_birth: bornOn(today),
        user_id: null,
        workspace_id: owner.user.workspace_id,
      });
      expect(res.body[5]).to.include({ user_id: owner.user.id, name: 'Owner' });
    });
  }

  it('answers the same body at /birthdays, without a redirect', async () => {
    const owner = await signUp(app(), { workspace_name: unique('ws') });
    await addBirthday(owner, 'Someone', '1980-01-01');
    const slash = await request(app()).get('/birthdays/').set(owner.auth).expect(200);
    const bare = await request(app()).get('/birthdays').set(owner.auth).expect(200);
    expect(bare.headers.location).to.equal(undefined);
    expect(bare.body).to.deep.equal(slash.body);
    expect(bare.body).to.have.length(2);
  });

  it("shows only the caller's workspace", async () => {
    const a = await signUp(app(), { workspace_name: unique('ws') });
    const b = await signUp(app(), { workspace_name: unique('ws') });
    await addBirthday(b, 'Elsewhere', '1980-01-01');
    const res = await request(app()).get('/birthdays/').set(a.auth).expect(200);
    expect((res.body as Row[]).map((r) => r.workspace_id)).to.deep.equal([a.user.workspace_id]);
  });

  it('answers an empty array to a user without a workspace, and 401 without a token', async () => {
    const loner = await signUp(app());
    expect((await request(app()).get('/birthdays/').set(loner.auth).expect(200)).body).to.deep.equal([]);
    await request(app()).get('/birthdays/').expect(401);
  });
});

describe('GET /birthdays/all', () => {
  it('lists every workspace for the platform admin', async () => {
    const root = await superuser(app());
    const a = await signUp(app(), { workspace_name: unique('ws') });
    const b = await signUp(app(), { workspace_name: unique('ws') });
    const res = await request(app()).get('/birthdays/all').set(root.auth).expect(200);
    const userIds = (res.body as Row[]).map((r) => r.user_id);
    expect(userIds).to.include.members([a.user.id, b.user.id]);
  });

  it('answers 403 to an owner', async () => {
    const t = await team(app());
    await request(app()).get('/birthdays/all').set(t.owner.auth).expect(403);
  });
});

describe('GET /birthdays/upcoming', () => {
  for (const tz of ZONES) {
    it(`lists [local today, today + days) in ${tz}, default 7, with next_birthday and turning_age`, async () => {
      const today = localToday(tz);
      const owner = await signUp(app(), {
        workspace_name: unique('ws'),
        timezone: tz,
        name: 'Owner',
        date_of_birth: bornOn(today.minus({ days: 1 })),
      });
      const sixth = await addBirthday(owner, 'Six', bornOn(today.plus({ days: 6 })));
      const seventh = await addBirthday(owner, 'Seven', bornOn(today.plus({ days: 7 })));
      const now = await addBirthday(owner, 'Zoe', bornOn(today));

      const week = await request(app()).get('/birthdays/upcoming').set(owner.auth).expect(200);
      expect((week.body as Row[]).map((b) => b.id)).to.deep.equal([now.id, sixth.id]);
      expect(week.body[0]).to.include({ next_birthday: today.toISODate(), turning_age: 28, name: 'Zoe' });
      expect(week.body[1]).to.include({ next_birthday: today.plus({ days: 6 }).toISODate(), turning_age: 28 });

      const eight = await request(app()).get('/birthdays/upcoming?days=8').set(owner.auth).expect(200);
      expect((eight.body as Row[]).map((b) => b.id)).to.deep.equal([now.id, sixth.id, seventh.id]);

      const one = await request(app()).get('/birthdays/upcoming?days=1').set(owner.auth).expect(200);
      expect((one.body as Row[]).map((b) => b.id)).to.deep.equal([now.id]);

      const year = await request(app()).get('/birthdays/upcoming?days=366').set(owner.auth).expect(200);
      const ownerRow = await linkedRow(owner.user.id);
      expect((year.body as Row[]).at(-1)).to.include({
        id: ownerRow.id,
        next_birthday: today.minus({ days: 1 }).plus({ years: 1 }).toISODate(),
        turning_age: 29,
      });
      const nexts = (year.body as Row[]).map((b) => b.next_birthday);
      expect(nexts).to.deep.equal([...nexts].sort());
    });
  }

  for (const days of ['0', '367', 'abc', '1.5', '-1']) {
    it(`answers 422 for days=${days}`, async () => {
      const owner = await signUp(app(), { workspace_name: unique('ws') });
      const res = await request(app()).get(`/birthdays/upcoming?days=${days}`).set(owner.auth).expect(422);
      expect(res.body.detail[0].loc).to.deep.equal(['query', 'days']);
    });
  }

  it("applies the workspace's leap-day rule to a 29 February birthday", async () => {
    const tz = 'Pacific/Kiritimati';
    const owner = await signUp(app(), { workspace_name: unique('ws'), timezone: tz });
    const leap = await addBirthday(owner, 'Leap', '2000-02-29');
    const today = localToday(tz).toISODate() as string;
    const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    const expected = (rule: 'feb28' | 'mar1') => {
      for (const y of [Number(today.slice(0, 4)), Number(today.slice(0, 4)) + 1]) {
        const date = isLeap(y) ? `${y}-02-29` : rule === 'feb28' ? `${y}-02-28` : `${y}-03-01`;
        if (date >= today) return { next_birthday: date, turning_age: y - 2000 };
      }
      throw new Error('unreachable');
    };
    for (const rule of ['feb28', 'mar1'] as const) {
      await request(app())
        .patch(`/workspaces/${owner.user.workspace_id}`)
        .set(owner.auth)
        .send({ leap_day_rule: rule })
        .expect(200);
      const res = await request(app()).get('/birthdays/upcoming?days=366').set(owner.auth).expect(200);
      expect((res.body as Row[]).find((b) => b.id === leap.id)).to.include(expected(rule));
    }
  });
});

describe('POST /birthdays/', () => {
  let t: Awaited<ReturnType<typeof team>>;
  beforeEach(async () => {
    t = await team(app());
  });

  it('creates a standalone birthday for an owner and an admin, and answers 201', async () => {
    for (const s of [t.owner, t.admin]) {
      const res = await request(app())
        .post('/birthdays/')
        .set(s.auth)
        .send({ name: 'Guest', date_of_birth: '1975-03-04' })
        .expect(201);
      expect(res.body).to.include({
        user_id: null,
        workspace_id: t.workspaceId,
        name: 'Guest',
        date_of_birth: '1975-03-04',
      });
      expect(res.body).to.have.keys(
        'id',
        'user_id',
        'workspace_id',
        'name',
        'date_of_birth',
        'created_at',
        'updated_at',
      );
      expect(await db()('birthdays').where({ id: res.body.id, workspace_id: t.workspaceId }).first()).to.not.equal(
        undefined,
      );
    }
  });

  it('answers 201 at /birthdays without the slash', async () => {
    await request(app())
      .post('/birthdays')
      .set(t.owner.auth)
      .send({ name: 'Guest', date_of_birth: '1975-03-04' })
      .expect(201);
  });

  it('answers 403 to a member and stores nothing', async () => {
    const name = unique('Nope');
    await request(app()).post('/birthdays/').set(t.member.auth).send({ name, date_of_birth: '1975-03-04' }).expect(403);
    expect(await db()('birthdays').where({ name }).first()).to.equal(undefined);
  });

  it('answers 422 for a user_id in the body', async () => {
    const res = await request(app())
      .post('/birthdays/')
      .set(t.owner.auth)
      .send({ name: 'X', date_of_birth: '1975-03-04', user_id: t.member.user.id })
      .expect(422);
    expect(res.body.detail[0]).to.deep.include({ loc: ['body', 'user_id'], type: 'object.unknown' });
  });

  it('answers 422 for a date that does not exist or is in the future, and for a missing name', async () => {
    for (const body of [
      { name: 'X', date_of_birth: '2023-02-29' },
      { name: 'X', date_of_birth: DateTime.utc().plus({ days: 3 }).toISODate() },
      { date_of_birth: '1975-03-04' },
    ]) {
      await request(app()).post('/birthdays/').set(t.owner.auth).send(body).expect(422);
    }
  });

  it('answers 404 to an owner naming another workspace', async () => {
    const other = await signUp(app(), { workspace_name: unique('ws') });
    const name = unique('Smuggled');
    await request(app())
      .post('/birthdays/')
      .set(t.owner.auth)
      .send({ name, date_of_birth: '1975-03-04', workspace_id: other.user.workspace_id })
      .expect(404);
    expect(await db()('birthdays').where({ name }).first()).to.equal(undefined);
  });

  it('makes the platform admin name the workspace: 422 without workspace_id, 404 for an unknown one, 201 with one', async () => {
    const root = await superuser(app());
    const missing = await request(app())
      .post('/birthdays/')
      .set(root.auth)
      .send({ name: 'X', date_of_birth: '1975-03-04' })
      .expect(422);
    expect(missing.body.detail[0].loc).to.deep.equal(['body', 'workspace_id']);
    await request(app())
      .post('/birthdays/')
      .set(root.auth)
      .send({ name: 'X', date_of_birth: '1975-03-04', workspace_id: randomUUID() })
      .expect(404);
    const ok = await request(app())
      .post('/birthdays/')
      .set(root.auth)
      .send({ name: 'X', date_of_birth: '1975-03-04', workspace_id: t.workspaceId })
      .expect(201);
    expect(ok.body).to.include({ workspace_id: t.workspaceId, user_id: null });
  });

  it('answers 403 NO_WORKSPACE to a user without a workspace', async () => {
    const loner = await signUp(app());
    const res = await request(app())
      .post('/birthdays/')
      .set(loner.auth)
      .send({ name: 'X', date_of_birth: '1975-03-04' })
      .expect(403);
    expect(res.body.code).to.equal('NO_WORKSPACE');
  });
});

describe('PATCH /birthdays/{id}', () => {
  let t: Awaited<ReturnType<typeof team>>;
  beforeEach(async () => {
    t = await team(app());
  });

  it('lets a member change their own birthday, and writes it back to their user', async () => {
    const row = await linkedRow(t.member.user.id);
    const res = await request(app())
      .patch(`/birthdays/${row.id}`)
      .set(t.member.auth)
      .send({ name: 'New Name', date_of_birth: '1993-08-21' })
      .expect(200);
    expect(res.body).to.include({
      id: row.id,
      user_id: t.member.user.id,
      name: 'New Name',
      date_of_birth: '1993-08-21',
    });
    const me = await request(app()).get('/users/me').set(t.member.auth).expect(200);
    expect(me.body).to.include({ name: 'New Name', date_of_birth: '1993-08-21' });
  });

  it("lets an owner and an admin change a member's birthday, written back to the member", async () => {
    const row = await linkedRow(t.member.user.id);
    await request(app())
      .patch(`/birthdays/${row.id}`)
      .set(t.owner.auth)
      .send({ date_of_birth: '1960-10-10' })
      .expect(200);
    await request(app()).patch(`/birthdays/${row.id}`).set(t.admin.auth).send({ name: 'By Admin' }).expect(200);
    const user = (await db()<UserRow>('users').where({ id: t.member.user.id }).first()) as UserRow;
    expect(user).to.include({ name: 'By Admin', date_of_birth: '1960-10-10' });
    expect(await linkedRow(t.member.user.id)).to.include({ id: row.id, name: 'By Admin', date_of_birth: '1960-10-10' });
  });

  it("answers 403 to a member changing someone else's birthday, linked or standalone", async () => {
    const owners = await linkedRow(t.owner.user.id);
    const standalone = await addBirthday(t.owner, 'Guest', '1975-03-04');
    for (const id of [owners.id, standalone.id])
      await request(app()).patch(`/birthdays/${id}`).set(t.member.auth).send({ name: 'Hacked' }).expect(403);
    expect(await linkedRow(t.owner.user.id)).to.include({ name: owners.name });
    expect(await db()('birthdays').where({ id: standalone.id }).first()).to.include({ name: 'Guest' });
  });

  it('changes a standalone birthday for an admin and the platform admin, touching no user', async () => {
    const standalone = await addBirthday(t.owner, 'Guest', '1975-03-04');
    await request(app()).patch(`/birthdays/${standalone.id}`).set(t.admin.auth).send({ name: 'Guest Two' }).expect(200);
    const root = await superuser(app());
    const res = await request(app())
      .patch(`/birthdays/${standalone.id}`)
      .set(root.auth)
      .send({ date_of_birth: '1976-04-05' })
      .expect(200);
    expect(res.body).to.include({ name: 'Guest Two', date_of_birth: '1976-04-05', user_id: null });
  });

  it('answers 422 for a malformed id, an empty body or a user_id', async () => {
    await request(app()).patch('/birthdays/not-a-uuid').set(t.owner.auth).send({ name: 'X' }).expect(422);
    const row = await linkedRow(t.member.user.id);
    await request(app()).patch(`/birthdays/${row.id}`).set(t.owner.auth).send({}).expect(422);
    await request(app()).patch(`/birthdays/${row.id}`).set(t.owner.auth).send({ user_id: t.owner.user.id }).expect(422);
  });

  it("answers 404 for an unknown id and for another workspace's birthday", async () => {
    await request(app()).patch(`/birthdays/${randomUUID()}`).set(t.owner.auth).send({ name: 'X' }).expect(404);
    const other = await signUp(app(), { workspace_name: unique('ws') });
    const theirs = await linkedRow(other.user.id);
    await request(app()).patch(`/birthdays/${theirs.id}`).set(t.owner.auth).send({ name: 'X' }).expect(404);
    expect(await linkedRow(other.user.id)).to.include({ name: theirs.name });
  });
});

describe('DELETE /birthdays/{id}', () => {
  let t: Awaited<ReturnType<typeof team>>;
  beforeEach(async () => {
    t = await team(app());
  });

  it('deletes a standalone birthday and answers 204', async () => {
    const standalone = await addBirthday(t.owner, 'Guest', '1975-03-04');
    const res = await request(app()).delete(`/birthdays/${standalone.id}`).set(t.admin.auth).expect(204);
    expect(res.text).to.equal('');
    expect(await db()('birthdays').where({ id: standalone.id }).first()).to.equal(undefined);
  });

  it("clears a linked birthday's user's date of birth", async () => {
    const row = await linkedRow(t.member.user.id);
    await request(app()).delete(`/birthdays/${row.id}`).set(t.owner.auth).expect(204);
    expect(await db()('birthdays').where({ id: row.id }).first()).to.equal(undefined);
    const me = await request(app()).get('/users/me').set(t.member.auth).expect(200);
    expect(me.body.date_of_birth).to.equal(null);
    expect(me.body.workspace_id).to.equal(t.workspaceId);
  });

  it('answers 403 to a member, even for their own birthday', async () => {
    const row = await linkedRow(t.member.user.id);
    await request(app()).delete(`/birthdays/${row.id}`).set(t.member.auth).expect(403);
    expect(await linkedRow(t.member.user.id)).to.not.equal(undefined);
  });

  it("answers 422 for a malformed id and 404 for another workspace's birthday", async () => {
    await request(app()).delete('/birthdays/123').set(t.owner.auth).expect(422);
    const other = await signUp(app(), { workspace_name: unique('ws') });
    const theirs = await linkedRow(other.user.id);
    await request(app()).delete(`/birthdays/${theirs.id}`).set(t.owner.auth).expect(404);
    expect(await linkedRow(other.user.id)).to.not.equal(undefined);
  });

  it('lets the platform admin delete any birthday', async () => {
    const root = await superuser(app());
    const row = await linkedRow(t.admin.user.id);
    await request(app()).delete(`/birthdays/${row.id}`).set(root.auth).expect(204);
    expect((await db()<UserRow>('users').where({ id: t.admin.user.id }).first())?.date_of_birth).to.equal(null);
  });
});
