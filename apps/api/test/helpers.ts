// Real dependencies for API tests: the test database and Redis that `npm test` prepared, nothing mocked.
import { getConfig } from '@nudge/config';
import { getLogger } from '@nudge/logger';
import { getDb } from '@nudge/db';
import { Producers, createRedis } from '@nudge/queue';
import type { Express } from 'express';
import { createApp, type AppDeps } from '../src/index';

let deps: AppDeps | undefined;
let app: Express | undefined;

export function testDeps(): AppDeps {
  deps ??= { config: getConfig(), logger: getLogger(), db: getDb(), redis: createRedis('client'), producers: new Producers() };
  return deps;
}

export function testApp(): Express {
  app ??= createApp(testDeps());
  return app;
}

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every (METHOD, path) the app's routers actually serve, read from Express's own routing table. */
export function servedRoutes(app: Express): { method: string; path: string }[] {
  const out: { method: string; path: string }[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const m of Object.keys(layer.route.methods)) if (m !== '_all') for (const p of paths) out.push({ method: m, path: p });
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  const seen = new Set<string>();
  return out.filter((r) => {
    const k = `${r.method} ${r.path}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
