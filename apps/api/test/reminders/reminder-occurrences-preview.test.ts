// GET /reminders/{id}/occurrences and /preview: the schedule's instants in UTC and local time (per client for a
// 'recipient' schedule), and the message each channel would carry, with its SMS segment count.
import { expect } from 'chai';
import request from 'supertest';
import { DateTime } from 'luxon';
import { team, testApp, testDeps, unique } from '../helpers';

type Team = Awaited<ReturnType<typeof team>>;
interface OccurrenceOut {
  at: string;
  local: string;
  client_id?: string;
}

async function insertClient(workspaceId: string, over: Record<string, unknown> = {}): Promise<string> {
  const [row] = await testDeps()
    .db<{ id: string; workspace_id: string; name: string; timezone: string }>('clients')
    .insert({ workspace_id: workspaceId, name: unique('Client '), timezone: 'Europe/London', ...over })
    .returning('id');
  return (row as { id: string }).id;
}

describe('reminder occurrences and preview', () => {
  let t: Team;
  before(async function () {
    this.timeout(30_000);
    t = await team(testApp());
  });
  const create = async (b: object) =>
    (
      await request(testApp())
        .post('/reminders/')
        .set(t.owner.auth)
        .send({ title: 'Rent', type: 'deadline', message_template: 'Hi {{client.name}}', client_ids: [], ...b })
        .expect(201)
    ).body as { id: string };
  const occurrences = async (id: string, count: number) =>
    (
      (await request(testApp()).get(`/reminders/${id}/occurrences?count=${count}`).set(t.member.auth).expect(200))
        .body as { occurrences: OccurrenceOut[] }
    ).occurrences;

  describe('GET /reminders/{id}/occurrences', () => {
    it('lists the last day of each month with BYMONTHDAY=-1, in UTC and as local time with its offset', async () => {
      const { id } = await create({
        schedule: { kind: 'recurring', rrule: 'FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9', timezone: 'Europe/Paris' },
      });
      const list = await occurrences(id, 13);
      expect(list).to.have.length(13);
      for (const o of list) {
        const local = DateTime.fromISO(o.local, { setZone: true });
        expect(local.toMillis()).to.equal(Date.parse(o.at));
        expect(o.local).to.match(/[+-]\d{2}:\d{2}$/);
        const paris = DateTime.fromISO(o.at, { zone: 'Europe/Paris' });
        expect([paris.hour, paris.day]).to.deep.equal([9, paris.daysInMonth]);
        expect(o).to.not.have.property('client_id');
      }
    });

    it("gives each client's own occurrences, at 09:00 where the client lives, for a 'recipient' schedule", async () => {
      const london = await insertClient(t.workspaceId, { timezone: 'Europe/London' });
      const sydney = await insertClient(t.workspaceId, { timezone: 'Australia/Sydney' });
      const { id } = await create({
        schedule: { kind: 'recurring', rrule: 'FREQ=DAILY;BYHOUR=9', timezone: 'recipient' },
        client_ids: [london, sydney],
      });
      const list = await occurrences(id, 6);
      expect(list).to.have.length(6);
      expect(new Set(list.map((o) => o.client_id))).to.deep.equal(new Set([london, sydney]));
      for (const o of list) {
        const zone = o.client_id === london ? 'Europe/London' : 'Australia/Sydney';
        expect(DateTime.fromISO(o.at, { zone }).hour).to.equal(9);
        expect(DateTime.fromISO(o.local, { setZone: true }).hour).to.equal(9);
      }
      const ats = list.map((o) => Date.parse(o.at));
      expect(ats).to.deep.equal([...ats].sort((a, b) => a - b));
    });

    it('answers nothing for a cancelled reminder', async () => {
      const { id } = await create({ schedule: { kind: 'recurring', rrule: 'FREQ=WEEKLY', timezone: 'UTC' } });
      await request(testApp()).delete(`/reminders/${id}`).set(t.owner.auth).expect(204);
      expect(await occurrences(id, 3)).to.deep.equal([]);
    });
  });

  describe('GET /reminders/{id}/preview', () => {
    it("renders each channel for the client, the amount in the client's locale, with the SMS segment count", async () => {
      const client = await insertClient(t.workspaceId, {
        name: 'Jürgen',
        locale: 'de-DE',
        preferred_channel: 'whatsapp',
      });
      const { id } = await create({
        type: 'payment',
        amount: 123456,
        currency: 'eur',
        title: 'Rechnung 7',
        channels: ['email', 'sms', 'auto'],
        message_template: 'Hallo {{client.name}}, bitte {{amount}} zahlen. {{document_link}}',
        document_url: 'https://docs.example.com/r7.pdf',
        schedule: { kind: 'once', send_at: new Date(Date.now() + 3600_000).toISOString() },
        client_ids: [client],
      });
      const res = await request(testApp())
        .get(`/reminders/${id}/preview?client_id=${client}`)
        .set(t.member.auth)
        .expect(200);
      const text = 'Hallo Jürgen, bitte 1.234,56\u00a0€ zahlen. https://docs.example.com/r7.pdf';
      expect(res.body).to.deep.equal({
        reminder_id: id,
        client_id: client,
        channels: [
          { channel: 'email', subject: 'Rechnung 7', body: text, sms: null },
          // ü is in GSM-7, but the no-break space Intl puts before € is not: UCS-2, 70 units, one segment.
          { channel: 'sms', subject: null, body: text, sms: { encoding: 'UCS-2', segments: 1, units: 70 } },
          { channel: 'whatsapp', subject: null, body: text, sms: null },
        ],
      });
    });

    it('uses the first assigned client without client_id, and answers 404 for a client of another workspace', async () => {
      const first = await insertClient(t.workspaceId, { name: 'Ann' });
      const { id } = await create({
        channels: ['sms'],
        schedule: { kind: 'recurring', rrule: 'FREQ=DAILY', timezone: 'UTC' },
        client_ids: [first],
      });
      const res = await request(testApp()).get(`/reminders/${id}/preview`).set(t.member.auth).expect(200);
      expect(res.body.client_id).to.equal(first);
      expect(res.body.channels[0]).to.deep.include({
        body: 'Hi Ann',
        sms: { encoding: 'GSM-7', segments: 1, units: 6 },
      });
      const stranger = await team(testApp());
      const foreign = await insertClient(stranger.workspaceId);
      await request(testApp()).get(`/reminders/${id}/preview?client_id=${foreign}`).set(t.member.auth).expect(404);
    });
  });
});
