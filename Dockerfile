# syntax=docker/dockerfile:1.7
# One image, two roles: `node dist/src/main.js` (web, the default) or `node dist/jobs/worker.js`.
# Node 24 is the current LTS; the code also runs on Node 20+ (package.json engines).

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY config ./config
COPY src ./src
COPY jobs ./jobs
COPY scripts ./scripts
# tsconfig.build.json compiles the web, the worker and the operator CLIs only: the dev MongoDB
# server, the WeCom sandbox, benches and test helpers never reach dist/ (src/production-imports.test.ts).
RUN npm run build

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only: what dev tools and tests alone use is a devDependency.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node config/.env.example ./config/.env.example
USER node
EXPOSE 3000 3001
# /livez has no dependencies; for the worker role set PORT to its WORKER_HEALTH_PORT or override.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HEALTH_PORT||process.env.PORT||3000)+'/livez').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
