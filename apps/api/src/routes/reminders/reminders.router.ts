// The /reminders routes: CRUD, assignments, pause and resume, the occurrences to come and a per-channel preview.
// Members read; owners and admins (and the platform admin) write.
import { pathId, type RouteSpec } from '../../http/route';
import type { Services } from '../../services';
import type { ReminderInput, ReminderListQuery, ReminderUpdate } from '../../services/reminders.service';
import { principalOf } from '../../auth/authenticate';
import { idParams } from '../../http/schemas';
import {
  createReminderBody,
  listRemindersQuery,
  occurrencesOut,
  occurrencesQuery,
  previewOut,
  previewQuery,
  reminderClientsBody,
  reminderList,
  reminderOut,
  sendNowBody,
  sendNowOut,
  updateReminderBody,
} from './reminders.schemas';
import { serializeReminder } from './reminders.serializers';

const SCHEDULE_DOC = [
  'A schedule is `{"kind":"once","send_at":<ISO instant, at least a minute ahead>}` or',
  '`{"kind":"recurring","rrule":<RFC 5545 RRULE>,"timezone":<IANA zone or "recipient">,"starts_at"?,"until"?|"count"?}`,',
  'echoed back as given.',
  '',
  "- The RRULE is read as wall-clock times in the timezone (with `recipient`, in each client's own zone): `FREQ=DAILY;BYHOUR=9` is 09:00 local, DST or not.",
  '  `BYHOUR` without `BYMINUTE` means the full hour; without either, the time of day is that of `DTSTART` (a floating `DTSTART:YYYYMMDDTHHMMSS` line before the RRULE, read in the zone), else of `starts_at`, else of the creation.',
  '- A local time that the spring-forward gap skips fires at the first instant after the gap; a time the autumn fall-back repeats fires once, the first time.',
  '- **Last day of the month**: write `BYMONTHDAY=-1` (or, the same, `BYMONTHDAY=28,29,30,31;BYSETPOS=-1`): 31 Jan, 28 Feb, 31 Mar, 30 Apr, with no drift. `BYMONTHDAY=31` follows RFC 5545 and skips the months without a 31st.',
  "- **29 February** yearly (by `BYMONTH=2;BYMONTHDAY=29` or a `DTSTART` on that day) fires in common years on 28 February or 1 March, by the workspace's leap-day rule, as birthdays do.",
  '- Nothing before the creation or `starts_at` is ever scheduled. `count` (or `COUNT` in the rule) counts the occurrences from then on; `until` is inclusive.',
  '- FREQ is HOURLY to YEARLY. Refused with 422 on `schedule.rrule`: what the rrule library cannot parse, out-of-range values, BY parts RFC 5545 does not allow with the FREQ, a rule that matches no date, RDATE/EXDATE, a DTSTART with a TZID.',
].join('\n');

export function remindersRoutes({ reminders, reminderSend }: Services): RouteSpec[] {
  const tags = ['reminders'];
  const notFound = { 404: { description: 'No such reminder in your scope' } };
  const writer = { 403: { description: "Not the workspace's owner or admin" } };
  const finished = { 409: { description: 'The reminder is completed or cancelled (REMINDER_FINISHED)' } };
  const one = { 200: { description: 'The reminder', schema: reminderOut } };
  return [
    {
      method: 'get',
      path: '/reminders/',
      summary: "The caller's workspace's reminders, oldest first, filtered by status, type and client",
      tags,
      access: 'user',
      schemas: { query: listRemindersQuery },
      responses: { 200: { description: 'A page of reminders', schema: reminderList } },
      handler: async (req, res) => {
        const page = await reminders.list(principalOf(req), req.valid.query as unknown as ReminderListQuery);
        res.json({ items: page.items.map(serializeReminder), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'post',
      path: '/reminders/',
      summary: 'A reminder to clients, once or recurring (owners, admins; the platform admin names workspace_id)',
      description:
        'Channels are tried in order (later ones are fallbacks); `auto` is the client\'s preferred channel; omitted, the workspace\'s `default_channels` (or `["auto"]` when it has none). ' +
        'Templates may use `{{client.name}}`, `{{reminder.title}}`, `{{due_date}}`, `{{amount}}`, `{{payment_link}}`, `{{document_link}}`; any other variable answers 422. ' +
        "A payment reminder needs `amount` (integer, minor units); `currency` defaults to the workspace's and is stored upper-case.\n\n" +
        SCHEDULE_DOC,
      tags,
      access: 'user',
      schemas: { body: createReminderBody },
      responses: {
        201: { description: 'The reminder', schema: reminderOut },
        403: { description: 'Not in a workspace (NO_WORKSPACE), or a member' },
        404: { description: 'No such workspace, or a client id unknown or of another workspace' },
        409: {
          description:
            'A payment reminder for a workspace with no connected Stripe account where platform credentials are off (STRIPE_NOT_CONNECTED)',
        },
      },
      handler: async (req, res) => {
        const r = await reminders.create(principalOf(req), req.valid.body as ReminderInput);
        res.status(201).json(serializeReminder(r));
      },
    },
    {
      method: 'get',
      path: '/reminders/:id',
      summary: 'One reminder, with its client ids',
      tags,
      access: 'user',
      schemas: { params: idParams },
      responses: { ...one, ...notFound },
      handler: async (req, res) => {
        res.json(serializeReminder(await reminders.get(principalOf(req), pathId(req))));
      },
    },
    {
      method: 'patch',
      path: '/reminders/:id',
      summary: 'Change a reminder; a new schedule recomputes every next run (and reopens a completed reminder)',
      description: SCHEDULE_DOC,
      tags,
      access: 'user',
      schemas: { params: idParams, body: updateReminderBody },
      responses: {
        ...one,
        ...writer,
        ...notFound,
        409: {
          description:
            'The reminder is cancelled (REMINDER_FINISHED), or becomes a payment reminder with no connected Stripe account where platform credentials are off (STRIPE_NOT_CONNECTED)',
        },
      },
      handler: async (req, res) => {
        const r = await reminders.update(principalOf(req), pathId(req), req.valid.body as ReminderUpdate);
        res.json(serializeReminder(r));
      },
    },
    {
      method: 'delete',
      path: '/reminders/:id',
      summary: 'Cancel a reminder for good; it and its notification history stay, with status cancelled',
      tags,
      access: 'user',
      schemas: { params: idParams },
      responses: { 204: { description: 'Cancelled' }, ...writer, ...notFound },
      handler: async (req, res) => {
        await reminders.cancel(principalOf(req), pathId(req));
        res.status(204).end();
      },
    },
    {
      method: 'post',
      path: '/reminders/:id/clients',
      summary: 'Assign clients (ids already assigned or repeated are ignored)',
      tags,
      access: 'user',
      schemas: { params: idParams, body: reminderClientsBody },
      responses: {
        ...one,
        ...writer,
        404: { description: 'No such reminder in your scope, or a client id unknown or of another workspace' },
      },
      handler: async (req, res) => {
        const { client_ids } = req.valid.body as { client_ids: string[] };
        res.json(serializeReminder(await reminders.addClients(principalOf(req), pathId(req), client_ids)));
      },
    },
    {
      method: 'delete',
      path: '/reminders/:id/clients',
      summary: 'Unassign clients (ids not assigned are ignored)',
      tags,
      access: 'user',
      schemas: { params: idParams, body: reminderClientsBody },
      responses: { ...one, ...writer, ...notFound },
      handler: async (req, res) => {
        const { client_ids } = req.valid.body as { client_ids: string[] };
        res.json(serializeReminder(await reminders.removeClients(principalOf(req), pathId(req), client_ids)));
      },
    },
    {
      method: 'post',
      path: '/reminders/:id/pause',
      summary: 'Pause: no run until resumed (pausing a paused reminder changes nothing)',
      tags,
      access: 'user',
      schemas: { params: idParams },
      responses: { ...one, ...writer, ...notFound, ...finished },
      handler: async (req, res) => {
        res.json(serializeReminder(await reminders.pause(principalOf(req), pathId(req))));
      },
    },
    {
      method: 'post',
      path: '/reminders/:id/resume',
      summary: 'Resume from now: occurrences missed while paused are not sent',
      tags,
      access: 'user',
      schemas: { params: idParams },
      responses: { ...one, ...writer, ...notFound, ...finished },
      handler: async (req, res) => {
        res.json(serializeReminder(await reminders.resume(principalOf(req), pathId(req))));
      },
    },
    // POST /reminders/:id/send-now belongs to the scan's branch (issue 10, point 7) and is added here after merging.
    {
      method: 'get',
      path: '/reminders/:id/occurrences',
      summary: 'The next occurrences from now (with client_id, in each client\'s zone, for a "recipient" schedule)',
      description: SCHEDULE_DOC,
      tags,
      access: 'user',
      schemas: { params: idParams, query: occurrencesQuery },
      responses: { 200: { description: 'Occurrences, earliest first', schema: occurrencesOut }, ...notFound },
      handler: async (req, res) => {
        const list = await reminders.occurrences(principalOf(req), pathId(req), req.valid.query.count as number);
        res.json({
          occurrences: list.map((o) => ({
            at: o.at.toISOString(),
            local: o.local,
            ...(o.client_id ? { client_id: o.client_id } : {}),
          })),
        });
      },
    },
    {
      method: 'get',
      path: '/reminders/:id/preview',
      summary: 'The message per channel for a client (else the first assigned), with the SMS segment count',
      tags,
      access: 'user',
      schemas: { params: idParams, query: previewQuery },
      responses: {
        200: { description: 'One rendering per channel', schema: previewOut },
        404: { description: 'No such reminder in your scope, or no such client' },
      },
      handler: async (req, res) => {
        res.json(
          await reminders.preview(principalOf(req), pathId(req), req.valid.query.client_id as string | undefined),
        );
      },
    },
    {
      method: 'post',
      path: '/reminders/:id/send-now',
      summary:
        'Send a reminder now to its active clients, or those named (owner or admin); a repeat within the same minute answers the same notifications and sends nothing more',
      tags,
      access: 'user',
      schemas: { params: idParams, body: sendNowBody },
      responses: {
        202: { description: 'The notifications, queued', schema: sendNowOut },
        ...writer,
        409: { description: 'The reminder is completed or cancelled (REMINDER_FINISHED), or paused (REMINDER_PAUSED)' },
        429: { description: 'Over REMINDER_SEND_NOW_PER_MINUTE for the workspace' },
      },
      handler: async (req, res) => {
        const body = req.valid.body as { client_ids?: string[] };
        res.status(202).json(await reminderSend.sendNow(principalOf(req), pathId(req), body.client_ids));
      },
    },
  ];
}
