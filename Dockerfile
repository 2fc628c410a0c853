# syntax=docker/dockerfile:1
# One build, two images that share every layer but their last few:
#   docker build --target gateway -t agentcast-gateway .
#   docker build --target worker  -t agentcast-worker  .
# See docs/deploy.md.

# ---- build: install, compile gateway + worker and what they depend on, keep production deps only ----
FROM node:24-bookworm-slim AS build
ENV TURBO_TELEMETRY_DISABLED=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
COPY package.json package-lock.json turbo.json tsconfig.json ./
COPY packages ./packages
COPY apps ./apps
# Not `npm ci`: it refuses this lockfile, which lacks turbo's binaries for other platforms (the registry
# does not serve them). `npm install` installs the committed lockfile's versions and fills in only those.
RUN npm install --no-audit --no-fund
RUN npx turbo run build --filter=@agentcast/gateway... --filter=@agentcast/worker... --filter=@agentcast/web
# The web console is static files the gateway serves (WEB_ROOT): keep its build, not its workspace.
RUN mv apps/web/dist /app/web-console
# Production dependencies only; then drop sources, tests, build info and the workspaces neither process runs.
RUN npm prune --omit=dev --no-audit --no-fund \
 && rm -rf apps/cli apps/web packages/client packages/react packages/testkit \
           node_modules/@agentcast/cli node_modules/@agentcast/web node_modules/@agentcast/client \
           node_modules/@agentcast/react node_modules/@agentcast/testkit \
           apps/*/src apps/*/test packages/*/src packages/*/test apps/*/.turbo packages/*/.turbo \
           apps/*/tsconfig*.json packages/*/tsconfig*.json apps/*/vitest.config.ts packages/*/vitest.config.ts \
 && find apps packages -name "*.tsbuildinfo" -delete \
 && find node_modules -xtype l -delete \
 && npm cache clean --force

# ---- runtime: what both images share ----
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by the unprivileged `node` user (uid/gid 1000) that the processes run as.
COPY --from=build --chown=node:node /app/package.json /app/package-lock.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/packages ./packages
COPY --from=build --chown=node:node /app/apps ./apps
USER node

# ---- gateway: Socket.IO + HTTP API + /healthz + /readyz on PORT (3000); /metrics on METRICS_PORT (9464) ----
FROM runtime AS gateway
# The web console on PORT next to the API (docker compose: http://localhost:3000).
COPY --from=build --chown=node:node /app/web-console ./web-console
ENV WEB_ROOT=/app/web-console
EXPOSE 3000 9464
# /healthz: the process serves HTTP. Redis and draining are /readyz's business, not a reason to restart.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM starts the drain: /readyz turns 503, clients are moved off over DRAIN_WINDOW_MS (10 s).
STOPSIGNAL SIGTERM
CMD ["node", "apps/gateway/dist/main.js"]

# ---- worker: runs agents; /metrics and /healthz on METRICS_PORT (9465) ----
FROM runtime AS worker
EXPOSE 9465
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||9465)+'/healthz',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM: no new jobs; active runs get WORKER_DRAIN_MS (20 s), then end as worker_shutdown and are re-queued.
STOPSIGNAL SIGTERM
CMD ["node", "apps/worker/dist/main.js"]
