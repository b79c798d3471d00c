# shellcheck shell=bash
# shellcheck disable=SC2034 # constants are used by up.sh and down.sh
# Shared constants and helpers for test/lab/up.sh and test/lab/down.sh.
# Sourced, never executed. Everything here is side-effect free except the
# functions themselves.

# ---------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT_ROOT=$(cd "$LAB_DIR/../.." && pwd)
ENV_FILE="$PROJECT_ROOT/.lab/env"

# Heavy, long-lived state lives outside the repo so that a fresh clone on the
# same machine reuses keys, caches, registry storage and image layers.
STATE=${LAB_STATE_DIR:-/var/lib/stack-deploy-lab}
PIDS=$STATE/pids
LOGS=$STATE/logs
CACHE=$STATE/cache
SSH_DIR=$STATE/ssh
REG_DIR=$STATE/registry
# Runtime-only paths (sockets, exec-root). /run is tmpfs: gone after a reboot.
RUN_DIR=/run/stack-deploy-lab

# Network: 198.18.0.0/15 is the benchmarking range (RFC 2544); the lab only
# uses 198.18.47.0/24, which never leaves this machine.
NETNS=sdlab-deploy
NETNS_PATH=/run/netns/$NETNS
VETH_HOST=sdlab0
VETH_NS=sdlab1
HOST_IP=198.18.47.1
DEPLOY_IP=198.18.47.2
PREFIX=24

REGISTRY=$HOST_IP:5000
REGISTRY_USER=lab

# Main engine: default socket, data-root and exec-root.
MAIN_SOCK=/var/run/docker.sock
MAIN_EXEC_ROOT=/var/run/docker
MAIN_PIDFILE=$PIDS/dockerd.pid

# Deploy host engine: everything of its own.
DEPLOY_SOCK=$RUN_DIR/deploy/docker.sock
DEPLOY_DOCKER_HOST=unix://$DEPLOY_SOCK
DEPLOY_EXEC_ROOT=$RUN_DIR/deploy/exec
DEPLOY_DATA_ROOT=$STATE/deploy/docker
DEPLOY_PIDFILE=$PIDS/dockerd-deploy.pid
# Only ever used inside the deploy namespace; chosen not to overlap with the
# main engine's docker0 (172.17/16) or its default pools.
DEPLOY_BIP=10.213.0.1/24
DEPLOY_POOL=base=10.214.0.0/16,size=24

SSH_USER=deploy
SSH_PORT=22
SSH_KEY=$SSH_DIR/client_ed25519
SSH_HOST_KEY=$SSH_DIR/ssh_host_ed25519_key
KNOWN_HOSTS=$SSH_DIR/known_hosts
SSHD_CONFIG=$SSH_DIR/sshd_config
SSHD_PIDFILE=$PIDS/sshd.pid
DEPLOY_PATH=/srv/stack-deploy

REGISTRY_PIDFILE=$PIDS/registry.pid

# Deploy host 2: a second, separate "remote" host built like the first (own
# network namespace, veth pair, dockerd, sshd and host key; same user and
# client key). Its veth is a /30 inside the lab's /24: the more specific
# route on this machine sends 198.18.47.4/30 to sdlab2, everything else in
# the /24 stays on sdlab0. Inside the namespace the only route besides the
# /30 is a host route to the registry's address (via this machine's end).
NETNS2=sdlab-deploy2
NETNS2_PATH=/run/netns/$NETNS2
VETH2_HOST=sdlab2
VETH2_NS=sdlab3
HOST2_IP=198.18.47.5
DEPLOY2_IP=198.18.47.6
PREFIX2=30
DEPLOY2_SOCK=$RUN_DIR/deploy2/docker.sock
DEPLOY2_DOCKER_HOST=unix://$DEPLOY2_SOCK
DEPLOY2_EXEC_ROOT=$RUN_DIR/deploy2/exec
DEPLOY2_DATA_ROOT=$STATE/deploy2/docker
DEPLOY2_PIDFILE=$PIDS/dockerd-deploy2.pid
DEPLOY2_BIP=10.215.0.1/24
DEPLOY2_POOL=base=10.216.0.0/16,size=24
SSH_HOST2_KEY=$SSH_DIR/ssh_host2_ed25519_key
SSHD2_CONFIG=$SSH_DIR/sshd2_config
SSHD2_PIDFILE=$PIDS/sshd2.pid
# The filesystem is shared with this machine, so host 2's daemons run in a
# mount namespace of their own where $DEPLOY_PATH is a bind mount of this
# directory (host 1 sees the real $DEPLOY_PATH).
DEPLOY2_PATH_ON_LAB=$STATE/deploy2/srv

DEPLOY_HOSTS=(1 2)

# use_host N: point the H_* variables at deploy host N (1 or 2). Host 1 keeps
# the names and paths it always had.
use_host() {
  case $1 in
  1)
    H_N=1 H_TAG=deploy H_NAME="the deploy host" H_NAMES="the deploy host's"
    H_NETNS=$NETNS H_NETNS_PATH=$NETNS_PATH H_VETH_HOST=$VETH_HOST H_VETH_NS=$VETH_NS
    H_GW=$HOST_IP H_IP=$DEPLOY_IP H_PREFIX=$PREFIX
    # On-link: the registry's address is in the namespace's own /24.
    H_ROUTE_TO=
    H_STATE=$STATE/deploy H_RUN=$RUN_DIR/deploy
    H_SOCK=$DEPLOY_SOCK H_DOCKER_HOST=$DEPLOY_DOCKER_HOST H_EXEC_ROOT=$DEPLOY_EXEC_ROOT
    H_DATA_ROOT=$DEPLOY_DATA_ROOT H_PIDFILE=$DEPLOY_PIDFILE H_BIP=$DEPLOY_BIP H_POOL=$DEPLOY_POOL
    H_SPEC=$PIDS/dockerd-deploy.spec H_DOCKERD_LOG=$LOGS/dockerd-deploy.log
    H_HOST_KEY=$SSH_HOST_KEY H_HOST_KEY_COMMENT=stack-deploy-lab-host
    H_SSHD_CONFIG=$SSHD_CONFIG H_SSHD_PIDFILE=$SSHD_PIDFILE H_SSHD_LOG=$LOGS/sshd.log H_SSHD_NAME=sshd
    # Empty: sees this machine's $DEPLOY_PATH, no mount namespace of its own.
    H_SRV=
    H_SMOKE_MARKER=$STATE/smoke-deploy.ok
    ;;
  2)
    H_N=2 H_TAG=deploy2 H_NAME="deploy host 2" H_NAMES="deploy host 2's"
    H_NETNS=$NETNS2 H_NETNS_PATH=$NETNS2_PATH H_VETH_HOST=$VETH2_HOST H_VETH_NS=$VETH2_NS
    H_GW=$HOST2_IP H_IP=$DEPLOY2_IP H_PREFIX=$PREFIX2
    H_ROUTE_TO=$HOST_IP
    H_STATE=$STATE/deploy2 H_RUN=$RUN_DIR/deploy2
    H_SOCK=$DEPLOY2_SOCK H_DOCKER_HOST=$DEPLOY2_DOCKER_HOST H_EXEC_ROOT=$DEPLOY2_EXEC_ROOT
    H_DATA_ROOT=$DEPLOY2_DATA_ROOT H_PIDFILE=$DEPLOY2_PIDFILE H_BIP=$DEPLOY2_BIP H_POOL=$DEPLOY2_POOL
    H_SPEC=$PIDS/dockerd-deploy2.spec H_DOCKERD_LOG=$LOGS/dockerd-deploy2.log
    H_HOST_KEY=$SSH_HOST2_KEY H_HOST_KEY_COMMENT=stack-deploy-lab-host2
    H_SSHD_CONFIG=$SSHD2_CONFIG H_SSHD_PIDFILE=$SSHD2_PIDFILE H_SSHD_LOG=$LOGS/sshd2.log H_SSHD_NAME=sshd2
    H_SRV=$DEPLOY2_PATH_ON_LAB
    H_SMOKE_MARKER=$STATE/smoke-deploy2.ok
    ;;
  *) die "use_host: no deploy host $1" ;;
  esac
}

# Images built by the lab: <short name>=<repository:tag in the lab registry>.
LAB_IMAGES=(debian node postgres redis nginx)
declare -A IMAGE_REF=(
  [debian]=$REGISTRY/lab/debian:bookworm
  [node]=$REGISTRY/lab/node:24
  [postgres]=$REGISTRY/lab/postgres:16
  [redis]=$REGISTRY/lab/redis:7
  [nginx]=$REGISTRY/lab/nginx:1.27
)
HASH_LABEL=org.stack-deploy.lab.context-hash

# Never let a caller's docker environment redirect our commands.
unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
# The lab's own registry login lives in the state dir, not in ~/.docker.
export DOCKER_CONFIG=$STATE/docker-config
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export LC_ALL=C

# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------
LAB_T0_US=${LAB_T0_US:-${EPOCHREALTIME/./}}
elapsed() {
  local d=$(((${EPOCHREALTIME/./} - LAB_T0_US) / 100000))
  printf '%d.%d' $((d / 10)) $((d % 10))
}
log() { printf '[lab %5ss] %s\n' "$(elapsed)" "$*"; }
warn() { printf '[lab] WARNING: %s\n' "$*" >&2; }
die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }
# die_log MESSAGE LOGFILE: fail with the tail of a daemon's log.
die_log() {
  printf '[lab] ERROR: %s\n' "$1" >&2
  if [[ -f $2 ]]; then
    printf '[lab] --- last lines of %s ---\n' "$2" >&2
    tail -n 30 "$2" >&2 || true
  fi
  exit 1
}

# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------
# pid_alive PID [COMM]: the process exists (not a zombie) and, if COMM is
# given, its command name matches (guards against pid reuse after kill -9).
pid_alive() {
  local pid=$1 comm=${2:-} state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/stat ]] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $state != Z && -n $state ]] || return 1
  if [[ -n $comm ]]; then
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$comm" ]] || return 1
  fi
}

# pidfile_pid FILE [COMM]: print the pid in FILE if that process is alive.
pidfile_pid() {
  local file=$1 comm=${2:-} pid
  [[ -s $file ]] || return 1
  pid=$(tr -dc '0-9' <"$file")
  pid_alive "$pid" "$comm" || return 1
  echo "$pid"
}

# netns_id PID: the network namespace of a process, e.g. net:[4026531840].
netns_id() { readlink "/proc/$1/ns/net" 2>/dev/null; }
# netns_path_id PATH: the namespace behind a /run/netns file, same format.
netns_path_id() {
  local ino
  ino=$(stat -L -c %i "$1" 2>/dev/null) || return 1
  echo "net:[$ino]"
}
# The namespace behind /run/netns/$NETNS (host 1), and of the current host.
lab_netns_id() { netns_path_id "$NETNS_PATH"; }
host_netns_id() { netns_path_id "$H_NETNS_PATH"; }

# pids_in_netns NS_ID: every process in that network namespace.
pids_in_netns() {
  local p
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [[ $(netns_id "$p") == "$1" ]] && echo "$p"
  done
  return 0
}

# host_view_ok PID: the process sees the current host's deploy path (H_SRV
# bind-mounted on $DEPLOY_PATH for a host with its own, else the real one).
# /proc/PID/root resolves paths in that process's mount namespace.
host_view_ok() {
  local want=${H_SRV:-$DEPLOY_PATH} got exp
  got=$(stat -c %d:%i "/proc/$1/root$DEPLOY_PATH" 2>/dev/null) || return 1
  exp=$(stat -c %d:%i "$want" 2>/dev/null) || return 1
  [[ $got == "$exp" ]]
}

# stop_pid PID NAME [TIMEOUT]: SIGTERM, wait, then SIGKILL.
stop_pid() {
  local pid=$1 name=$2 timeout=${3:-15} i
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 10; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  warn "$name (pid $pid) did not exit after ${timeout}s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  warn "$name (pid $pid) is still there after SIGKILL"
}

# stop_pidfile FILE COMM NAME [TIMEOUT]: stop the process named in FILE (only
# if it is alive and really is COMM), then remove FILE.
stop_pidfile() {
  local file=$1 comm=$2 name=$3 timeout=${4:-15} pid
  if pid=$(pidfile_pid "$file" "$comm"); then
    log "stopping $name (pid $pid)"
    stop_pid "$pid" "$name" "$timeout"
  fi
  rm -f "$file"
}

# spawn LOGFILE PIDFILE CMD...: start CMD as a detached daemon. The child gets
# its own session (so it survives the caller's terminal/process group), reads
# /dev/null and writes only to LOGFILE, and inherits no other descriptors: a
# daemon holding the caller's stdout pipe (or our lock fd) would make callers
# such as `npm run` or a test runner wait forever. Because the background
# subshell is not a process-group leader, setsid does not fork and $! is the
# daemon's pid. PIDFILE may be "-" for daemons that write their own.
spawn() {
  local logfile=$1 pidfile=$2 pid
  shift 2
  mkdir -p "$(dirname "$logfile")"
  # Keep logs bounded across many restarts: one previous generation.
  if [[ -f $logfile && $(stat -c %s "$logfile") -gt 20000000 ]]; then mv -f "$logfile" "$logfile.1"; fi
  printf '\n===== %s starting: %s\n' "$(date -Is)" "$*" >>"$logfile"
  (
    for fd in "/proc/$BASHPID/fd/"*; do
      fd=${fd##*/}
      if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    cd /
    exec setsid "$@" </dev/null >>"$logfile" 2>&1
  ) &
  pid=$!
  if [[ $pidfile != - ]]; then echo "$pid" >"$pidfile"; fi
  SPAWNED_PID=$pid
}

# wait_for SECONDS CMD...: poll CMD every 0.2s until it succeeds.
wait_for() {
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 5; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  return 1
}

# Processes whose command line contains STRING (exact substring match on the
# NUL-separated argv joined by spaces), excluding ourselves.
pids_with_cmdline() {
  local needle=$1 p cmd
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [[ $p == "$$" || $p == "$BASHPID" ]] && continue
    cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") || continue
    [[ $cmd == *"$needle"* ]] && echo "$p"
  done
  return 0
}

# cleanup_engine_leftovers NAME EXEC_ROOT NETNS_ID: after a dockerd died
# without cleaning up (kill -9), its supervised containerd, the containerd
# shims and docker-proxy processes may survive. A new dockerd would try to
# reuse the old containerd via its pid file (even if that pid now belongs to
# something else), and orphaned docker-proxy processes keep published ports
# busy. Stop them, found via the exec-root (containerd pid file and socket
# address) and, for docker-proxy, via the network namespace.
cleanup_engine_leftovers() {
  local name=$1 exec_root=$2 ns_id=${3:-} pidf pid p
  pidf=$exec_root/containerd/containerd.pid
  if [[ -f $pidf ]]; then
    if pid=$(pidfile_pid "$pidf" containerd); then
      log "stopping leftover containerd of $name (pid $pid)"
      stop_pid "$pid" "containerd ($name)" 10
    fi
    rm -f "$pidf"
  fi
  # Shims are started with "-address <exec-root>/containerd/containerd.sock".
  for p in $(pids_with_cmdline "-address $exec_root/containerd/containerd.sock"); do
    if [[ $(cat "/proc/$p/comm" 2>/dev/null) == containerd-shim* ]]; then
      log "killing leftover containerd shim of $name (pid $p)"
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  # docker-proxy processes whose dockerd is gone (re-parented) in that netns.
  if [[ -n $ns_id ]]; then
    for p in $(pgrep -x docker-proxy 2>/dev/null || true); do
      [[ $(netns_id "$p") == "$ns_id" ]] || continue
      local ppid
      ppid=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null || echo 1)
      if ! pid_alive "$ppid" dockerd; then
        log "killing orphaned docker-proxy of $name (pid $p)"
        kill -KILL "$p" 2>/dev/null || true
      fi
    done
  fi
  rm -f "$exec_root/containerd/containerd.sock" "$exec_root/containerd/containerd-debug.sock"
}

# ---------------------------------------------------------------------------
# Misc
# ---------------------------------------------------------------------------
# Run a command inside the deploy host's network namespace. nsenter (not
# `ip netns exec`): the latter also unshares the mount namespace and remounts
# /sys, which hides the cgroup mounts dockerd needs.
in_ns() { nsenter --net="$NETNS_PATH" -- "$@"; }
# The same for the current host (use_host).
in_host_ns() { nsenter --net="$H_NETNS_PATH" -- "$@"; }

# host_daemon_cmd: set HOST_CMD to the prefix that starts a daemon as a
# process of the current host: in its network namespace and, for a host with
# its own deploy path (H_SRV), in a new mount namespace (propagation slave:
# this machine's later mounts still show up, the host's own do not leak out)
# where H_SRV is bind-mounted on $DEPLOY_PATH. nsenter, unshare and sh all
# exec, so the spawned pid is the daemon's own pid.
host_daemon_cmd() {
  HOST_CMD=(nsenter --net="$H_NETNS_PATH" --)
  if [[ -n $H_SRV ]]; then
    # shellcheck disable=SC2016 # positional parameters of the inner sh
    HOST_CMD+=(unshare --mount --propagation slave -- sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' "sdlab-$H_TAG-mnt" "$H_SRV" "$DEPLOY_PATH")
  fi
}

sha() { sha256sum | cut -c1-16; }

# Hash of a directory's files (names + contents), stable across checkouts.
dir_hash() {
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha
}

# Debian mirror URLs, read from this machine's apt configuration at run time
# (deb822 *.sources files and one-line sources.list files are both handled),
# so no mirror host name is ever written into the repository.
# debian_mirror [debian|debian-security]
debian_mirror() {
  local want=${1:-debian} f uri
  local -a files=()
  if [[ $want == debian && -n ${LAB_DEBIAN_MIRROR:-} ]]; then echo "$LAB_DEBIAN_MIRROR"; return 0; fi
  shopt -s nullglob
  files=(/etc/apt/sources.list.d/*.sources)
  for f in "${files[@]}"; do
    uri=$(awk -v want="$want" '
      tolower($1) == "uris:" { for (i = 2; i <= NF; i++) { u = $i; sub(/\/+$/, "", u); n = split(u, parts, "/"); if (parts[n] == want) { print u; exit } } }
    ' "$f")
    if [[ -n $uri ]]; then echo "$uri"; shopt -u nullglob; return 0; fi
  done
  files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
  shopt -u nullglob
  for f in "${files[@]}"; do
    [[ -f $f ]] || continue
    uri=$(awk -v want="$want" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        u = $i; sub(/\/+$/, "", u); n = split(u, parts, "/"); if (parts[n] == want) { print u; exit }
      }' "$f")
    if [[ -n $uri ]]; then echo "$uri"; return 0; fi
  done
  return 1
}

# Registry password (generated once, see up.sh).
registry_password() { cat "$REG_DIR/password"; }

# ssh to the deploy host for the lab's own checks. KexAlgorithms: OpenSSH 9's
# default post-quantum kex (sntrup761) costs ~0.3s of CPU per connection here;
# plain curve25519 keeps the warm path fast. The server keeps its defaults.
# ssh_to IP CMD...: the same for any deploy host.
ssh_to() {
  local ip=$1
  shift
  ssh -F none -o KexAlgorithms=curve25519-sha256 -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$KNOWN_HOSTS" \
    -o ConnectTimeout=5 -o LogLevel=ERROR -i "$SSH_KEY" -p "$SSH_PORT" "$SSH_USER@$ip" "$@"
}
ssh_deploy() { ssh_to "$DEPLOY_IP" "$@"; }
ssh_deploy2() { ssh_to "$DEPLOY2_IP" "$@"; }
# ssh to the current host (use_host).
ssh_host() { ssh_to "$H_IP" "$@"; }
