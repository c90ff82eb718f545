# Gatehouse container image: `docker build -t gatehouse .`
#
# Two stages: `build` installs every dependency, generates the Prisma client
# and compiles the server (and the migration command) into dist/app, then
# drops the development dependencies; the runtime stage copies only that
# production file set onto a slim Node image and runs it as the unprivileged
# `node` user. tests/deploy.test.ts builds the same file set from this file's
# COPY lines and starts it with this file's CMD.

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The workspace of the typed client package (packages/client), which npm ci links.
COPY packages/client/package.json ./packages/client/
# Install scripts are not needed: bcrypt ships prebuilt binaries, and the
# Prisma client is generated below from the schema.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY prisma.config.ts tsconfig.json tsconfig.build.json ./
COPY prisma ./prisma
RUN npx prisma generate
COPY server ./server
COPY routers ./routers
COPY scripts ./scripts
# The access-token claims are defined by gatehouse/verify, the tokens' public contract.
COPY verify ./verify
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/tmp/gatehouse \
    MALLOC_ARENA_MAX=2
WORKDIR /app
# Owned by root and not writable by the process: the image's files cannot be
# changed by the server it runs.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/prisma/migrations ./prisma/migrations
COPY --from=build /app/dist/app ./dist/app
USER node
EXPOSE 3000
# Ready means the database answers (GET /readyz); node's fetch, as the slim image has no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The node flags of package.json's config.nodeFlags, as `npm start` runs the build.
CMD ["node", "--max-old-space-size=512", "--max-semi-space-size=6", "dist/app/server/main.js"]
