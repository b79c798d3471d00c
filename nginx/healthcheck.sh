#!/bin/bash
# Healthcheck for the web image without curl or wget.
#
# The official nginx:1.27-bookworm image happens to ship curl, but a slimmer
# or rebuilt nginx image may not, and installing curl only for this would add
# a tool an attacker could use. bash, however, is an Essential package of
# every Debian-based image, and its /dev/tcp redirection is enough to send
# one HTTP request to nginx's own /health and check the status line.
# Exit 0 = healthy, 1 = unhealthy (Docker's healthcheck contract).
port=${1:-8080}
exec 3<>"/dev/tcp/127.0.0.1/${port}" || exit 1
printf 'GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
IFS=' ' read -r -t 3 proto status _ <&3 || { echo "unhealthy: no response" >&2; exit 1; }
[ "$status" = 200 ] || { echo "unhealthy: ${proto} ${status}" >&2; exit 1; }
