# syntax=docker/dockerfile:1
# One image for the worker, the API and the CLI; the command picks the role (see docker-compose.yml).
# bookworm (glibc), not alpine: @temporalio/core-bridge ships prebuilt glibc binaries.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Code stays owned by root and read-only to the `node` user the processes run as.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# dist/ops/dev requires scripts/toolchain.js at load; keep the relative path valid.
COPY --from=build /app/scripts ./scripts
COPY policies ./policies
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 8080
# Worker by default; the API runs `node dist/api/server.js`, the CLI `node dist/ops/cli/main.js`.
CMD ["node", "dist/gate/worker.js"]
