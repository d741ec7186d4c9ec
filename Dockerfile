# syntax=docker/dockerfile:1
# One image for every Nudge process: the API (the default command), each worker and the release step, all running the
# bundled JavaScript from dist/ with no TypeScript loader, as the unprivileged `node` user. docker-compose.yml shows
# the commands (the same as the Procfile's).
#   docker build -t nudge .
#   docker run --env-file .env -p 8000:8000 nudge                 # the API
#   docker run --env-file .env nudge node dist/reminders.js       # a worker
#   docker run --env-file .env nudge node dist/migrate.js         # the release step

# Node 24 LTS: Node 20 reached its end of life in April 2026.
ARG NODE_IMAGE=node:24-bookworm-slim

# Only the package manifests (root and every workspace) and patches/ (what `npm ci`'s postinstall, patch-package,
# applies to node_modules), so that the `npm ci` layers below are rebuilt when one of them changes, not on every
# source edit.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir -p /manifests \
 && cp package.json package-lock.json /manifests/ \
 && cp -r patches /manifests/ \
 && for f in apps/*/package.json packages/*/package.json; do \
      mkdir -p "/manifests/$(dirname "$f")" && cp "$f" "/manifests/$f"; \
    done

# Build: every dependency (tsup and esbuild are dev dependencies), then the bundles.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsup --silent && test -f dist/web.js && test -f dist/migrate.js && test -f dist/hash.worker.mjs

# Production dependencies only: the bundles leave third-party packages to node_modules. No install scripts: the only
# native modules (msgpackr-extract under bullmq, @napi-rs/nice under piscina) come prebuilt for N-API as optional
# platform packages, which npm installs without running anything.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    ENV=production \
    PORT=8000
WORKDIR /app
# package.json says "type": "module", which the .js bundles need; the workspace manifests keep node_modules/@nudge/*
# links pointing somewhere.
COPY --from=manifests /manifests/ ./
COPY --from=prod-deps /app/node_modules ./node_modules
# prod-deps runs no install scripts, so its copies of the packages patches/ changes are unpatched: the build stage's
# (patched by npm ci's postinstall) replace them.
COPY --from=build /app/node_modules/libphonenumber-js ./node_modules/libphonenumber-js
COPY --from=build /app/dist ./dist
COPY Procfile ./
COPY scripts/healthcheck.mjs ./scripts/healthcheck.mjs
# Everything above belongs to root and is read-only for the process. Outside production (a local try-out with
# ENV=development) Nudge writes per-run logs to logs/ and sandbox mail to .nudge/outbox: those two are the node user's.
RUN mkdir -p logs .nudge && chown node:node logs .nudge
USER node
EXPOSE 8000
# The API's /health (no HTTPS needed for probes); compose points each worker's check at its metrics port.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "scripts/healthcheck.mjs"]
# The old generation capped at 128 MB, as in the Procfile: left to itself V8 lets garbage pile up to about 190 MB of
# heap under load before collecting (a peak RSS of 320 MB in bench/read-path.ts); the live set is about 50 MB, and a
# 10,000-row import fits. With a cap that small V8 collects once the heap is ~1.4 times its live set (a mark-compact
# every 0.2 s under load); --heap-growing-percent=100 lets it reach twice (README, Deployment). Exec form: node is
# PID 1 and gets SIGTERM itself, so in-flight requests and jobs finish before it exits.
CMD ["node", "--max-old-space-size=128", "--heap-growing-percent=100", "dist/web.js"]
