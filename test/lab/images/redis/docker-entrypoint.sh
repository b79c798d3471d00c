#!/bin/sh
# Same behaviour as the official redis image's entrypoint (gosu replaced by
# setpriv from util-linux).
set -e

# first arg is `-f` or `--some-option`, or first arg is `something.conf`
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi

if [ "$1" = 'redis-server' ]; then
  # The official image compiles redis with protected mode off ("unnecessary
  # in the context of Docker"); Debian's build has it on. Turn it off the same
  # way unless the command line or the given config file mentions it.
  case " $* " in
    *protected-mode*) ;;
    *)
      if [ "${2%.conf}" != "${2:-}" ] && [ -f "$2" ] && grep -q '^[[:space:]]*protected-mode' "$2"; then
        :
      else
        set -- "$@" --protected-mode no
      fi
      ;;
  esac
fi

# allow the container to be started with `--user`
if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

# set an appropriate umask (if one isn't set already)
um="$(umask)"
if [ "$um" = '0022' ]; then
  umask 0077
fi

exec "$@"
