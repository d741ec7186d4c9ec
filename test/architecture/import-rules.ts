// Which file may import what, as one table, and the checker that applies it to source text. The table is the
// machine-readable copy of docs/architecture.md (the test holds the two ids lists equal), so a rule changes in
// both places or the suite fails. Imports are read with the TypeScript parser, not a regex, so comments, strings
// and multi-line statements cannot fool it.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface ImportRule {
  /** Stable id, shown in failures and listed in docs/architecture.md. */
  id: string;
  /** The rule as a sentence, as docs/architecture.md states it. */
  says: string;
  /** Repo-relative paths (posix) of the files the rule applies to. */
  from: RegExp;
  /** Files the rule does not apply to, even when `from` matches. */
  except?: RegExp;
  /**
   * The forbidden targets. A target is a bare specifier (`knex`, `@nudge/db`), a relative specifier resolved to a
   * repo-relative path (`apps/api/src/routes/users/users.serializers`), or `process.env` for a read of it.
   */
  forbids: RegExp | ((imported: FoundImport, file: string) => boolean);
  /** Names that may still be imported from a forbidden target; anything else (or `*`) is reported. */
  allowNames?: readonly string[];
}

/** The workspace (`apps/api`, `packages/db`) a repo-relative path belongs to. */
function workspaceOf(file: string): string | undefined {
  return /^((?:apps|packages)\/[^/]+)\//.exec(file)?.[1];
}

const IO_LIBRARIES = ['knex', 'pg', 'ioredis', 'bullmq', 'express'];
const PROVIDER_SDKS = ['twilio', '@sendgrid/[^/]+', 'stripe', 'nodemailer', 'axios'];
const NODE_IO = [
  'fs',
  'fs/promises',
  'net',
  'http',
  'https',
  'http2',
  'tls',
  'dgram',
  'dns',
  'child_process',
  'worker_threads',
];
const anyOf = (names: string[]): RegExp => new RegExp(`^(?:${names.join('|')})(?:/|$)`);

export const IMPORT_RULES: readonly ImportRule[] = [
  {
    id: 'services-never-import-routes',
    says: 'In apps/api, a service never imports from routes/ (routes → services → packages).',
    from: /^apps\/api\/src\/services\//,
    forbids: /^apps\/api\/src\/routes(?:\/|$)/,
  },
  {
    id: 'auth-never-imports-services',
    says: 'In apps/api, auth/ imports nothing from services/.',
    from: /^apps\/api\/src\/auth\//,
    forbids: /^apps\/api\/src\/services(?:\/|$)/,
  },
  {
    id: 'domain-is-pure',
    says: 'packages/domain imports no I/O: no knex, pg, ioredis, bullmq, express, provider SDK, Node I/O module or other @nudge package.',
    from: /^packages\/domain\//,
    forbids: anyOf([...IO_LIBRARIES, ...PROVIDER_SDKS, ...NODE_IO.map((m) => `(?:node:)?${m}`), '@nudge/[^/]+']),
  },
  {
    id: 'nothing-imports-an-app',
    says: 'No app or package imports an app (@nudge/api, @nudge/worker): apps import packages, never each other.',
    from: /./,
    forbids: /^@nudge\/(?:api|worker)(?:\/|$)/,
  },
  {
    id: 'relative-imports-stay-home',
    says: 'A relative import stays inside its own app or package; another one is imported by its @nudge name.',
    from: /^(?:apps|packages)\//,
    forbids: (imported, file) => imported.relative && !imported.target.startsWith(`${workspaceOf(file)}/`),
  },
  {
    id: 'no-deep-imports',
    says: 'A package is imported by its name only (its src/index.ts), never as @nudge/<package>/<file>.',
    from: /./,
    forbids: /^@nudge\/[^/]+\/./,
  },
  {
    id: 'only-db-imports-knex',
    says: 'Only packages/db imports knex, pg or pg-copy-streams.',
    from: /./,
    except: /^packages\/(?:db|testing)\//,
    forbids: anyOf(['knex', 'pg', 'pg-copy-streams']),
  },
  {
    id: 'only-channels-import-sdks',
    says: 'Only packages/channels imports provider SDKs (twilio, @sendgrid/*, stripe, nodemailer, axios).',
    from: /./,
    except: /^packages\/(?:channels|testing)\//,
    forbids: anyOf(PROVIDER_SDKS),
  },
  {
    id: 'api-uses-channels-narrowly',
    says: 'apps/api imports from @nudge/channels only signature checks, URL rules and Stripe onboarding.',
    from: /^apps\/api\//,
    forbids: /^@nudge\/channels$/,
    // The Slack webhook URL rule, the SMTP host rule (a channel account's server, checked on save), and the Twilio
    // and SendGrid webhook signature checks (with the SendGrid header names and Twilio's address-error rule for
    // status callbacks), the Stripe webhook signature check; and Stripe Connect onboarding, which the API calls itself
    // since the user waits for the URL (the platform's adapter, and the provider-error test that turns its failure
    // into a 503).
    allowNames: [
      'checkSlackWebhookUrl',
      'slackWebhookPolicy',
      'SlackWebhookPolicy',
      'SlackWebhookUrlProblem',
      'verifyTwilioSignature',
      'isTwilioAddressError',
      'verifySendgridEventSignature',
      'SENDGRID_SIGNATURE_HEADER',
      'SENDGRID_TIMESTAMP_HEADER',
      'verifyStripeWebhook',
      'STRIPE_SIGNATURE_HEADER',
      'checkSmtpUrl',
      'outboundHostPolicy',
      'SmtpUrlProblem',
      'createPlatformStripeAdapter',
      'StripeAdapter',
      'isProviderError',
    ],
  },
  {
    id: 'only-config-reads-env',
    says: 'Only packages/config reads process.env.',
    from: /./,
    except: /^packages\/(?:config|testing)\//,
    forbids: /^process\.env$/,
  },
];

/** One import (or `process.env` read) found in a file. `names` holds `*` when everything may be used. */
export interface FoundImport {
  specifier: string;
  /** The specifier, or for a relative one the repo-relative path it points at. */
  target: string;
  relative: boolean;
  names: string[];
  line: number;
}

export interface Violation {
  file: string;
  line: number;
  specifier: string;
  rule: string;
  /** Set when only some of the imported names are forbidden. */
  names?: string[];
}

const SOURCE_EXTENSIONS = /\.(?:[cm]?ts|[cm]?js|tsx)$/;

function scriptKindOf(file: string): ts.ScriptKind {
  return /\.[cm]?js$/.test(file) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
}

/** Every import, re-export, dynamic import, require and `process.env` read in one file's text. */
export function findImports(file: string, text: string): FoundImport[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, scriptKindOf(file));
  const found: FoundImport[] = [];
  const lineOf = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const add = (node: ts.Node, specifier: string, names: string[]) => {
    const relative = specifier.startsWith('.');
    const target = relative ? path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)) : specifier;
    found.push({ specifier, target, relative, names, line: lineOf(node) });
  };
  const isProcess = (e: ts.Expression) =>
    ['process', 'globalThis.process', 'global.process'].includes(e.getText(source));

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const names: string[] = [];
      if (!clause) names.push('*');
      else {
        if (clause.name) names.push('default');
        const bindings = clause.namedBindings;
        if (bindings && ts.isNamespaceImport(bindings)) names.push('*');
        if (bindings && ts.isNamedImports(bindings))
          for (const el of bindings.elements) names.push((el.propertyName ?? el.name).text);
      }
      add(node, node.moduleSpecifier.text, names);
      // `import { env } from 'node:process'` is a read of process.env by another name.
      if (/^(?:node:)?process$/.test(node.moduleSpecifier.text) && names.includes('env'))
        add(node, 'process.env', ['*']);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.exportClause;
      const names =
        clause && ts.isNamedExports(clause) ? clause.elements.map((el) => (el.propertyName ?? el.name).text) : ['*'];
      add(node, node.moduleSpecifier.text, names);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expr = node.moduleReference.expression;
      if (ts.isStringLiteral(expr)) add(node, expr.text, ['*']);
    } else if (ts.isCallExpression(node)) {
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      const arg = node.arguments[0];
      if ((isImport || isRequire) && arg && ts.isStringLiteralLike(arg)) add(node, arg.text, ['*']);
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      add(node, node.argument.literal.text, ['*']);
    } else if (ts.isPropertyAccessExpression(node) && node.name.text === 'env' && isProcess(node.expression)) {
      add(node, 'process.env', ['*']);
    } else if (
      ts.isElementAccessExpression(node) &&
      ts.isStringLiteralLike(node.argumentExpression) &&
      node.argumentExpression.text === 'env' &&
      isProcess(node.expression)
    ) {
      add(node, 'process.env', ['*']);
    } else if (
      ts.isVariableDeclaration(node) &&
      ts.isObjectBindingPattern(node.name) &&
      node.initializer &&
      isProcess(node.initializer)
    ) {
      // const { env } = process
      if (node.name.elements.some((el) => ((el.propertyName ?? el.name) as ts.Identifier).text === 'env'))
        add(node, 'process.env', ['*']);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The violations of `rules` in one file, given its repo-relative path and its text. */
export function checkSource(file: string, text: string, rules: readonly ImportRule[] = IMPORT_RULES): Violation[] {
  const violations: Violation[] = [];
  const applicable = rules.filter((r) => r.from.test(file) && !r.except?.test(file));
  if (applicable.length === 0) return violations;
  for (const imp of findImports(file, text)) {
    for (const rule of applicable) {
      const hit = typeof rule.forbids === 'function' ? rule.forbids(imp, file) : rule.forbids.test(imp.target);
      if (!hit) continue;
      if (rule.allowNames) {
        const refused = imp.names.filter((n) => !rule.allowNames?.includes(n));
        if (refused.length > 0)
          violations.push({ file, line: imp.line, specifier: imp.specifier, rule: rule.id, names: refused });
      } else violations.push({ file, line: imp.line, specifier: imp.specifier, rule: rule.id });
    }
  }
  return violations;
}

/** Repo-relative paths of every source file under apps/<app>/src and packages/<package>/src. */
export function listSourceFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(rel);
      } else if (SOURCE_EXTENSIONS.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(rel);
    }
  };
  for (const group of ['apps', 'packages']) {
    for (const entry of fs.readdirSync(path.join(root, group), { withFileTypes: true })) {
      const src = path.posix.join(group, entry.name, 'src');
      if (entry.isDirectory() && fs.existsSync(path.join(root, src))) walk(src);
    }
  }
  return files.sort();
}

/** Every violation in the tree at `root`. */
export function checkTree(root: string, rules: readonly ImportRule[] = IMPORT_RULES): Violation[] {
  return listSourceFiles(root).flatMap((file) =>
    checkSource(file, fs.readFileSync(path.join(root, file), 'utf8'), rules),
  );
}

export function describeViolation(v: Violation): string {
  const names = v.names ? ` (${v.names.join(', ')})` : '';
  return `${v.file}:${v.line} imports '${v.specifier}'${names}: breaks ${v.rule}`;
}
