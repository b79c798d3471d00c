#!/bin/sh
# Same behaviour as the official node image's entrypoint.
set -e

# Run command with node if the first argument contains a "-" or is not a
# system command. The last part inside the "{}" is a workaround for a bug in
# ash/dash (Debian bug #874264).
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi

exec "$@"
