import { expect } from 'chai';
import { freePort, spawnTs, waitFor } from '@nudge/testing';

const BAD_SID = 'ACthis-is-not-a-sid';

describe('STRICT_VALIDATION in the API process', () => {
  it('when false, starts and logs a warning naming a malformed credential, without its value', async function () {
    this.timeout(30_000);
    const port = await freePort();
    const api = spawnTs('apps/api/src/main.ts', {
      ...process.env,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      STRICT_VALIDATION: 'false',
      TWILIO_ACCOUNT_SID: BAD_SID,
    });
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok, {
        timeoutMs: 20_000,
        what: 'the API',
      });
      const output = await waitFor(() => (api.output().includes('TWILIO_ACCOUNT_SID') ? api.output() : undefined), {
        what: 'the warning',
      });
      expect(output).to.match(/warn.*"TWILIO_ACCOUNT_SID" does not match the expected format/);
      expect(output).to.not.contain(BAD_SID);
    } finally {
      api.child.kill('SIGTERM');
      await api.exited;
    }
  });

  it('when true, refuses to start, exiting non-zero and naming the variable', async function () {
    this.timeout(30_000);
    const api = spawnTs('apps/api/src/main.ts', {
      ...process.env,
      PORT: String(await freePort()),
      STRICT_VALIDATION: 'true',
      TWILIO_ACCOUNT_SID: BAD_SID,
    });
    const code = await api.exited;
    expect(code).to.be.a('number').and.not.equal(0);
    expect(api.output()).to.contain('"TWILIO_ACCOUNT_SID" does not match the expected format');
  });
});
