import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, spawnTs, waitFor } from '@nudge/testing';
import { redact, redactString } from '@nudge/logger';

const SECRETS = {
  bearer: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXZhbHVl',
  password: 'Hunter2-very-secret-pw',
  refresh: 'rtok_9f8e7d6c5b4a39281706',
  webhook: 'https://hooks.slack.com/services/T0SECRET1/B0SECRET2/abcdefSECRETxyz',
  phone: '+15558675309',
  apiKey: 'SG.SECRETkey123.abcdefghijklmnop',
};


describe('packages/logger', () => {
  describe('redact', () => {
    it('replaces sensitive fields and the secrets inside strings', () => {
      const out = redact({ headers: { authorization: `Bearer ${SECRETS.bearer}` }, body: { user: { password: SECRETS.password, note: `call ${SECRETS.phone}` } }, message: `posting to ${SECRETS.webhook}` });
      const text = JSON.stringify(out);
      for (const v of Object.values(SECRETS)) expect(text).to.not.contain(v);
    });

    it('redacts key=value and "key": "value" pairs inside messages', () => {
      expect(redactString(`reset?token=${SECRETS.refresh}&x=1`)).to.not.contain(SECRETS.refresh);
      expect(redactString(`{"password": "${SECRETS.password}"}`)).to.not.contain(SECRETS.password);
    });
  });

  describe('a real request to the API', () => {
    it('logs the request id and leaves no secret in the console output or the log file', async function () {
      this.timeout(30_000);
      const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nudge-log-'));
      const port = await freePort();
      const api = spawnTs('apps/api/src/main.ts', { ...process.env, PORT: String(port), LOG_LEVEL: 'debug', LOG_DIR: logDir });
      try {
        const base = `http://127.0.0.1:${port}`;
        await waitFor(async () => (await fetch(`${base}/health`)).ok, { timeoutMs: 20_000, what: 'the API' });
        // Headers, a nested body, and a malformed body whose parse error quotes the secrets back.
        const headers = { authorization: `Bearer ${SECRETS.bearer}`, 'x-api-key': SECRETS.apiKey, 'content-type': 'application/json', 'x-request-id': 'redaction-test-1' };
        const nested = { user: { password: SECRETS.password, contact: { phone: SECRETS.phone } }, refresh_token: SECRETS.refresh, workspace: { slack_webhook: SECRETS.webhook } };
        await fetch(`${base}/auth/jwt/login`, { method: 'POST', headers, body: JSON.stringify(nested) });
        const malformed = `{"password": "${SECRETS.password}", "phone": "${SECRETS.phone}", "hook": "${SECRETS.webhook}", "token": "${SECRETS.refresh}" x`;
        const bad = await fetch(`${base}/auth/jwt/login`, { method: 'POST', headers: { ...headers, 'x-request-id': 'redaction-test-2' }, body: malformed });
        expect(bad.status).to.equal(400);
        const file = await waitFor(() => fs.readdirSync(logDir).find((f) => /^nudge_web_\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}\.log$/.test(f)), { what: 'the log file' });
        const fileText = await waitFor(() => {
          const t = fs.readFileSync(path.join(logDir, file), 'utf8');
          return t.includes('redaction-test-2') && t.includes('MALFORMED_JSON') ? t : undefined;
        }, { what: 'the request lines in the log file' });
        const console = api.output();
        expect(console).to.contain('redaction-test-1');
        // The request detail line really carries the headers and body, only redacted.
        expect(fileText).to.contain('"requestId":"redaction-test-1"').and.contain('[REDACTED]');
        for (const [name, value] of Object.entries(SECRETS)) {
          expect(console, `${name} in console`).to.not.contain(value);
          expect(fileText, `${name} in file`).to.not.contain(value);
        }
      } finally {
        api.child.kill('SIGTERM');
        await api.exited;
      }
    });
  });
});
