// The error handler is the one place a catalogue error becomes an HTTP answer: each class gets its status, its
// headers and a `{detail, code}` body, and database errors that escaped a service still answer 4xx.
import crypto from 'node:crypto';
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { getDb, insertWorkspace, insertUser } from '@nudge/db';
import { errorHandler } from '../../src/http/error-handler';
import { ALL_ERROR_CODES } from '../../src/errors/error-codes';
import {
  BadRequest,
  Conflict,
  Forbidden,
  MethodNotAllowed,
  NotFound,
  PayloadTooLarge,
  RateLimited,
  Unauthorized,
  Unavailable,
  UnsupportedMediaType,
  ValidationFailed,
} from '../../src/errors/domain-errors';
import { NoWorkspace } from '../../src/services/birthdays.service';
import { memoryLogger } from '../memory-logger';

/** What the handler answers for an error thrown by a route. */
async function answerFor(err: unknown): Promise<request.Response> {
  const app = express();
  app.get('/x', () => {
    throw err;
  });
  app.use(errorHandler(memoryLogger().logger));
  return request(app).get('/x');
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

describe('the error handler', () => {
  const cases: [string, Error, number, { detail: unknown; code: string }, Record<string, string>][] = [
    [
      'BadRequest',
      new BadRequest('LOGIN_BAD_CREDENTIALS'),
      400,
      { detail: 'LOGIN_BAD_CREDENTIALS', code: 'LOGIN_BAD_CREDENTIALS' },
      {},
    ],
    [
      'Unauthorized',
      new Unauthorized(),
      401,
      { detail: 'Unauthorized', code: 'UNAUTHORIZED' },
      { 'www-authenticate': 'Bearer' },
    ],
    [
      'Forbidden',
      new Forbidden('Only an owner may invite an admin'),
      403,
      { detail: 'Only an owner may invite an admin', code: 'FORBIDDEN' },
      {},
    ],
    [
      'a Forbidden subclass',
      new NoWorkspace(),
      403,
      { detail: 'You are not in a workspace', code: 'NO_WORKSPACE' },
      {},
    ],
    ['NotFound', new NotFound(), 404, { detail: 'Not Found', code: 'NOT_FOUND' }, {}],
    [
      'MethodNotAllowed',
      new MethodNotAllowed(['GET', 'POST']),
      405,
      { detail: 'Method Not Allowed', code: 'METHOD_NOT_ALLOWED' },
      { allow: 'GET, POST' },
    ],
    [
      'Conflict',
      new Conflict('The last owner cannot be demoted', 'LAST_OWNER'),
      409,
      { detail: 'The last owner cannot be demoted', code: 'LAST_OWNER' },
      {},
    ],
    ['PayloadTooLarge', new PayloadTooLarge(), 413, { detail: 'Payload Too Large', code: 'PAYLOAD_TOO_LARGE' }, {}],
    [
      'UnsupportedMediaType',
      new UnsupportedMediaType(),
      415,
      { detail: 'Unsupported Media Type', code: 'UNSUPPORTED_MEDIA_TYPE' },
      {},
    ],
    [
      'ValidationFailed',
      ValidationFailed.field('body', 'role', 'bad'),
      422,
      { detail: [{ loc: ['body', 'role'], msg: 'bad', type: 'any.invalid' }], code: 'VALIDATION_ERROR' },
      {},
    ],
    [
      'RateLimited',
      new RateLimited(2.2),
      429,
      { detail: 'Too Many Requests', code: 'RATE_LIMITED' },
      { 'retry-after': '3' },
    ],
    ['Unavailable', new Unavailable(), 503, { detail: 'Service Unavailable', code: 'SERVICE_UNAVAILABLE' }, {}],
  ];
  for (const [name, err, status, body, headers] of cases) {
    it(`answers ${status} for ${name}, with its code${Object.keys(headers).length ? ` and ${Object.keys(headers).join(', ')}` : ''}`, async () => {
      const res = await answerFor(err);
      expect(res.status).to.equal(status);
      expect(res.body).to.deep.equal(body);
      expect(res.headers).to.include(headers);
      expect(ALL_ERROR_CODES).to.include(res.body.code);
    });
  }

  it('adds no authentication challenge to an answer other than 401', async () => {
    expect((await answerFor(new Forbidden())).headers).to.not.have.property('www-authenticate');
  });

  it('answers 409 CONFLICT for a unique violation no service expected', async () => {
    const name = `eh-${crypto.randomUUID()}`;
    await insertWorkspace(getDb(), { name });
    const res = await answerFor(await rejection(insertWorkspace(getDb(), { name })));
    expect(res.status).to.equal(409);
    expect(res.body).to.deep.equal({ detail: 'Conflict', code: 'CONFLICT' });
  });

  it('answers 409 CONFLICT for a foreign key violation no service expected', async () => {
    const err = await rejection(
      insertUser(getDb(), {
        email: `${crypto.randomUUID()}@example.com`,
        password_hash: 'x',
        workspace_id: crypto.randomUUID(),
        role: 'member',
      }),
    );
    const res = await answerFor(err);
    expect(res.status).to.equal(409);
    expect(res.body).to.deep.equal({ detail: 'A referenced row does not exist or is still in use', code: 'CONFLICT' });
  });

  it('answers 422 for a value PostgreSQL cannot store', async () => {
    const res = await answerFor(await rejection(getDb().raw('SELECT ?::uuid', ['nope'])));
    expect(res.status).to.equal(422);
    expect(res.body.code).to.equal('VALIDATION_ERROR');
  });

  it('answers 503 when the bcrypt pool is full', async () => {
    const busy = Object.assign(new Error('busy'), { name: 'HashPoolBusyError' });
    const res = await answerFor(busy);
    expect(res.status).to.equal(503);
    expect(res.body.code).to.equal('SERVICE_UNAVAILABLE');
  });

  it('answers 500 INTERNAL_ERROR, without the message, for any other error', async () => {
    const res = await answerFor(new Error('secret'));
    expect(res.status).to.equal(500);
    expect(res.body).to.deep.equal({ detail: 'Internal Server Error', code: 'INTERNAL_ERROR' });
  });
});
