# Gatehouse container image. Build: docker build -t gatehouse .
# Run:   docker run -v ./configuration.yml:/config/configuration.yml:ro -e GATEHOUSE_SESSION_SECRET_FILE=... gatehouse
# Configuration: the file mounted at /config/configuration.yml (the default command reads it), overridden key by key
# by GATEHOUSE_* environment variables; secrets by GATEHOUSE_..._FILE (see docs/operators-guide.md).

# Node.js major version of both stages (an active LTS release).
ARG NODE_VERSION=24

# ---- build: compile the TypeScript with the dev dependencies ----
FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: only dev-only packages have any, and package.json's allowScripts refuses them too.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY views ./views
RUN npm run build

# ---- runtime: production dependencies, the compiled code and the files it reads at run time ----
FROM node:${NODE_VERSION}-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
# The compiled page templates; the browser assets (CSS, logo, the pages' scripts) are served as they are.
COPY --from=build /app/dist/views ./dist/views
COPY views/assets ./views/assets
COPY src/storage/migrations ./src/storage/migrations

# An unprivileged user of its own, by number so that Kubernetes' runAsNonRoot can check it. /data holds the embedded
# storage and the notification file when Redis/PostgreSQL/SMTP are not configured (one replica only).
RUN groupadd --system --gid 10001 gatehouse \
 && useradd --system --uid 10001 --gid gatehouse --home-dir /app --no-create-home --shell /usr/sbin/nologin gatehouse \
 && mkdir -p /config /data \
 && chown gatehouse:gatehouse /data
USER 10001:10001

EXPOSE 9091
# /api/health is 200 while Redis and storage answer. Node's own fetch: the slim image has no curl or wget.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9091/api/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]

# Node flags: src/node-flags.ts says why.
ENTRYPOINT ["node", "--max-semi-space-size=4", "dist/src/cli.js"]
CMD ["serve", "--config", "/config/configuration.yml"]
