# API image for the stack-deploy reference stack (example/api).
#
# Build context: example/api (see example/api/.dockerignore), e.g.
#   docker build -f dockerfiles/api.Dockerfile example/api
# The base image is a build argument so the same file builds from the
# official image by default and from a mirror/stand-in when one is given.
# No `# syntax=` line: that would fetch a frontend image from a registry.
ARG NODE_IMAGE=node:24-bookworm-slim

# --- dependencies: only package*.json, so a source change reuses this layer
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# --- runtime
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
# Root-owned and not writable by the app user: the code cannot be modified at
# run time (compose also mounts the root filesystem read-only).
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY migrations ./migrations
COPY src ./src

# Last, so a new version only rebuilds these metadata layers.
ARG APP_VERSION=dev
ENV APP_VERSION=${APP_VERSION}
LABEL org.opencontainers.image.title="stack-deploy example api" \
      org.opencontainers.image.version="${APP_VERSION}"

# The official node images ship this unprivileged user (uid 1000).
USER node
EXPOSE 3000
# Node's own fetch: no curl/wget needed in the image.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "src/healthcheck.js"]
# server.js handles SIGTERM itself (node is PID 1 here unless run with --init).
STOPSIGNAL SIGTERM
CMD ["node", "src/server.js"]
