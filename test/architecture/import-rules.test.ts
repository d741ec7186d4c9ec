// The import rules of docs/architecture.md, enforced: every src/ file of apps/* and packages/* is parsed and each
// forbidden import is listed. The checker is first run on synthetic files, so a green tree means "no violation",
// never "the checker saw nothing".
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { IMPORT_RULES, checkSource, checkTree, describeViolation, findImports, listSourceFiles } from './import-rules';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A synthetic source file, the rule it must break and what it shows. */
interface BadCase {
  shows: string;
  file: string;
  text: string;
  rule: string;
}

const BAD: BadCase[] = [
  {
    shows: 'a service importing a route serializer',
    file: 'apps/api/src/services/users.service.ts',
    text: "import { toUserBody } from '../routes/users/users.serializers';\n",
    rule: 'services-never-import-routes',
  },
  {
    shows: 'auth/ importing a service, even for a type',
    file: 'apps/api/src/auth/principal.ts',
    text: "import type { UsersService } from '../services/users.service';\n",
    rule: 'auth-never-imports-services',
  },
  {
    shows: 'packages/domain importing knex',
    file: 'packages/domain/src/recurrence.ts',
    text: "import knex from 'knex';\nexport const k = knex;\n",
    rule: 'domain-is-pure',
  },
  {
    shows: 'packages/domain importing ioredis dynamically',
    file: 'packages/domain/src/recurrence.ts',
    text: "export async function f() {\n  return import('ioredis');\n}\n",
    rule: 'domain-is-pure',
  },
  {
    shows: 'packages/domain re-exporting from another @nudge package',
    file: 'packages/domain/src/index.ts',
    text: "export { getDb } from '@nudge/db';\n",
    rule: 'domain-is-pure',
  },
  {
    shows: 'an app importing another app by name',
    file: 'apps/worker/src/processes/birthdays.ts',
    text: "import { createApp } from '@nudge/api';\n",
    rule: 'nothing-imports-an-app',
  },
  {
    shows: 'an app importing another app by relative path',
    file: 'apps/worker/src/processes/birthdays.ts',
    text: "import { createApp } from '../../../api/src/app';\n",
    rule: 'relative-imports-stay-home',
  },
  {
    shows: "a package reaching into another package's files by path",
    file: 'packages/cache/src/listing-cache.ts',
    text: "import { QUEUES } from '../../queue/src/names';\n",
    rule: 'relative-imports-stay-home',
  },
  {
    shows: 'a deep import into a package',
    file: 'apps/api/src/routes/workspaces/workspaces.schemas.ts',
    text: "import { checkSlackWebhookUrl } from '@nudge/channels/slack/slack-webhook.adapter';\n",
    rule: 'no-deep-imports',
  },
  {
    shows: 'an app importing pg',
    file: 'apps/api/src/http/operations.ts',
    text: "import { Pool } from 'pg';\n",
    rule: 'only-db-imports-knex',
  },
  {
    shows: 'a package other than db importing a knex type',
    file: 'packages/queue/src/producers.ts',
    text: "import type { Knex } from 'knex';\n",
    rule: 'only-db-imports-knex',
  },
  {
    shows: 'a worker importing twilio',
    file: 'apps/worker/src/processors/sms.processor.ts',
    text: "import twilio from 'twilio';\n",
    rule: 'only-channels-import-sdks',
  },
  {
    shows: 'the API importing @sendgrid/mail with require',
    file: 'apps/api/src/services/mail.ts',
    text: "const sg = require('@sendgrid/mail');\nexport default sg;\n",
    rule: 'only-channels-import-sdks',
  },
  {
    shows: 'the API importing a channel adapter',
    file: 'apps/api/src/services/workspaces.service.ts',
    text: "import { SlackWebhookAdapter, checkSlackWebhookUrl } from '@nudge/channels';\n",
    rule: 'api-uses-channels-narrowly',
  },
  {
    shows: 'the API importing a Twilio adapter beside the signature check',
    file: 'apps/api/src/routes/webhooks/webhooks.router.ts',
    text: "import { verifyTwilioSignature, TwilioSmsAdapter } from '@nudge/channels';\n",
    rule: 'api-uses-channels-narrowly',
  },
  {
    shows: 'the API importing all of @nudge/channels',
    file: 'apps/api/src/services/workspaces.service.ts',
    text: "import * as channels from '@nudge/channels';\nexport { channels };\n",
    rule: 'api-uses-channels-narrowly',
  },
  {
    shows: 'a process.env read outside packages/config',
    file: 'packages/queue/src/connection.ts',
    text: 'export const url = process.env.REDIS_URL;\n',
    rule: 'only-config-reads-env',
  },
  {
    shows: 'a process.env read by element access',
    file: 'apps/worker/src/runtime.ts',
    text: "export const env = process['env'];\n",
    rule: 'only-config-reads-env',
  },
  {
    shows: "process.env imported from 'node:process'",
    file: 'apps/api/src/main.ts',
    text: "import { env } from 'node:process';\nexport const port = env.PORT;\n",
    rule: 'only-config-reads-env',
  },
];

/** Synthetic files that break no rule: what each rule still allows. */
const GOOD: { shows: string; file: string; text: string }[] = [
  {
    shows: 'packages/db importing knex and pg',
    file: 'packages/db/src/connection.ts',
    text: "import knex from 'knex';\nimport pg from 'pg';\nexport { knex, pg };\n",
  },
  {
    shows: 'packages/channels importing stripe',
    file: 'packages/channels/src/stripe/stripe.adapter.ts',
    text: "import Stripe from 'stripe';\nexport { Stripe };\n",
  },
  {
    shows: 'packages/testing importing an SDK',
    file: 'packages/testing/src/fakes/fake-stripe.ts',
    text: "import Stripe from 'stripe';\nexport { Stripe };\n",
  },
  {
    shows: 'packages/config reading process.env',
    file: 'packages/config/src/index.ts',
    text: 'export const raw = process.env;\n',
  },
  {
    shows: 'the API importing the webhook signature checks',
    file: 'apps/api/src/routes/webhooks/webhooks.router.ts',
    text: "import { verifyTwilioSignature, verifySendgridEventSignature, SENDGRID_SIGNATURE_HEADER } from '@nudge/channels';\n",
  },
  {
    shows: 'the API importing the Slack URL rule',
    file: 'apps/api/src/routes/workspaces/workspaces.schemas.ts',
    text: "import { checkSlackWebhookUrl, type SlackWebhookPolicy } from '@nudge/channels';\n",
  },
  {
    shows: 'a route importing a service',
    file: 'apps/api/src/routes/users/users.router.ts',
    text: "import type { Services } from '../../services';\n",
  },
  {
    shows: 'packages/domain importing luxon',
    file: 'packages/domain/src/post-time.ts',
    text: "import { DateTime } from 'luxon';\nexport { DateTime };\n",
  },
  {
    shows: 'a forbidden name in a comment or a string',
    file: 'packages/domain/src/post-time.ts',
    text: "// import knex from 'knex';\nexport const note = \"import pg from 'pg'; process.env.X\";\n",
  },
];

describe('import rules', () => {
  describe('the checker', () => {
    for (const bad of BAD) {
      it(`reports ${bad.shows}`, () => {
        const rules = checkSource(bad.file, bad.text).map((v) => v.rule);
        expect(rules).to.include(bad.rule);
      });
    }

    for (const good of GOOD) {
      it(`accepts ${good.shows}`, () => {
        expect(checkSource(good.file, good.text).map(describeViolation)).to.deep.equal([]);
      });
    }

    it('names only the refused names of a partly allowed import', () => {
      const [violation] = checkSource(
        'apps/api/src/x.ts',
        "import { SlackWebhookAdapter, checkSlackWebhookUrl } from '@nudge/channels';\n",
      );
      expect(violation?.names).to.deep.equal(['SlackWebhookAdapter']);
    });

    it('gives the line of each import', () => {
      const found = findImports('apps/api/src/x.ts', "// why\n\nimport a from 'a';\nexport * from './b';\n");
      expect(found.map((f) => [f.target, f.line])).to.deep.equal([
        ['a', 3],
        ['apps/api/src/b', 4],
      ]);
    });
  });

  describe('the tree', () => {
    it('walks the src/ files of every app and package', () => {
      const files = listSourceFiles(ROOT);
      for (const dir of [
        ...fs.readdirSync(path.join(ROOT, 'apps')).map((d) => `apps/${d}`),
        ...fs.readdirSync(path.join(ROOT, 'packages')).map((d) => `packages/${d}`),
      ]) {
        if (fs.existsSync(path.join(ROOT, dir, 'src')))
          expect(
            files.some((f) => f.startsWith(`${dir}/src/`)),
            dir,
          ).to.equal(true);
      }
      expect(files.some((f) => f.includes('/test/'))).to.equal(false);
    });

    it('has no forbidden import (docs/architecture.md says which are)', () => {
      expect(checkTree(ROOT).map(describeViolation)).to.deep.equal([]);
    });
  });

  describe('docs/architecture.md', () => {
    it('lists exactly the rules this test enforces', () => {
      const doc = fs.readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');
      // Rows of the rules table: | `rule-id` | ... |
      const documented = [...doc.matchAll(/^\|\s*`([a-z0-9-]+)`\s*\|/gm)].map((m) => m[1]);
      expect(documented).to.deep.equal(IMPORT_RULES.map((r) => r.id));
    });
  });
});
