# Web image for the stack-deploy reference stack: the static page from
# example/web, built with its dependency-free build script, served by nginx
# running unprivileged with nginx/nginx.conf.
#
# Build context: the repository root, because the image needs both
# example/web/ and nginx/. dockerfiles/web.Dockerfile.dockerignore (read by
# BuildKit next to this file) limits the context to those two paths; the
# COPY lines below name only them either way. (The legacy non-BuildKit builder
# ignores per-Dockerfile ignore files and would send the whole repository.)
#   docker build -f dockerfiles/web.Dockerfile .
ARG NODE_IMAGE=node:24-bookworm-slim
ARG NGINX_IMAGE=nginx:1.27-bookworm

# --- build: copy + content-hash the assets into dist/
FROM ${NODE_IMAGE} AS build
WORKDIR /web
COPY example/web/build.js ./
COPY example/web/src ./src
RUN node build.js dist

# --- runtime
FROM ${NGINX_IMAGE}
# nginx.conf is complete on its own: drop the stock server block and page.
RUN rm -rf /etc/nginx/conf.d/default.conf /usr/share/nginx/html/*
COPY nginx/nginx.conf /etc/nginx/nginx.conf
COPY nginx/healthcheck.sh /usr/local/bin/web-healthcheck
COPY --from=build /web/dist/ /usr/share/nginx/html/

# uid 101 is the `nginx` user of the official image. Numeric, so that
# "must run as non-root" checks can verify it without reading /etc/passwd.
USER 101
EXPOSE 8080
# No curl/wget needed: the check speaks HTTP through bash's /dev/tcp (bash is
# part of every Debian base). See nginx/healthcheck.sh.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["bash", "/usr/local/bin/web-healthcheck"]
# SIGQUIT = graceful shutdown for nginx (finish open requests, then exit).
STOPSIGNAL SIGQUIT
# -e stderr: log startup errors to stderr before nginx.conf is read, instead
# of trying to open the compiled-in /var/log/nginx/error.log.
CMD ["nginx", "-e", "stderr", "-g", "daemon off;"]
