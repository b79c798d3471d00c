#!/usr/bin/env bash
# Stops everything test/lab/up.sh started (by pid: each deploy host's sshd and
# dockerd, the registry, the main dockerd if the lab started it), removes the
# deploy hosts' network namespaces and veth pairs and the env file. The state
# dir (keys, caches, registry storage, image layers) stays, so the next up.sh
# is quick.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $EUID -eq 0 ]] || die "down.sh must run as root"
[[ -d $STATE ]] || { log "no lab state at $STATE; nothing to do"; rm -f "$ENV_FILE"; exit 0; }

exec 9>"$STATE/lock"
if ! flock -n 9; then
  log "another lab up/down is running; waiting for it"
  flock -w 1800 9 || die "timed out waiting for the lab lock ($STATE/lock)"
fi

# Consumers treat a missing env file as "lab not up".
rm -f "$ENV_FILE"

# Each deploy host: sshd, dockerd, what is left in its namespace.
for n in "${DEPLOY_HOSTS[@]}"; do
  use_host "$n"
  # sshd: the listener by pid file, plus a listener whose pid file got lost.
  stop_pidfile "$H_SSHD_PIDFILE" sshd "$H_SSHD_NAME" 10
  for p in $(pids_with_cmdline "-f $H_SSHD_CONFIG"); do
    if pid_alive "$p" sshd && tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- ' -D '; then stop_pid "$p" "$H_SSHD_NAME" 10; fi
  done

  # The host's dockerd (it stops its containers on SIGTERM; allow for that).
  ns_id=$(host_netns_id || true)
  stop_pidfile "$H_PIDFILE" dockerd "$H_TAG dockerd" 40
  for p in $(pids_with_cmdline "--exec-root $H_EXEC_ROOT"); do
    pid_alive "$p" dockerd && stop_pid "$p" "$H_TAG dockerd" 40
  done
  cleanup_engine_leftovers "dockerd-$H_TAG" "$H_EXEC_ROOT" "$ns_id"
  rm -f "$H_SOCK" "$H_SPEC"

  # Anything still in the namespace: ssh sessions of clients that are still
  # connected. For a host with its own mount namespace (host 2) these are
  # also the last holders of its bind mount of $DEPLOY_PATH.
  if [[ -n $ns_id ]]; then
    for p in $(pids_in_netns "$ns_id"); do
      [[ $p == "$$" ]] && continue
      log "stopping leftover process in $H_NETNS: pid $p ($(cat "/proc/$p/comm" 2>/dev/null || echo gone))"
      stop_pid "$p" "process $p in $H_NETNS" 5
    done
  fi
done

stop_pidfile "$REGISTRY_PIDFILE" docker-registry registry 10
for p in $(pids_with_cmdline "serve $REG_DIR/config.yml"); do
  pid_alive "$p" docker-registry && stop_pid "$p" registry 10
done

# The main dockerd only if the lab started it (its pid file is ours).
if pid=$(pidfile_pid "$MAIN_PIDFILE" dockerd); then
  log "stopping dockerd (pid $pid)"
  stop_pid "$pid" dockerd 40
  cleanup_engine_leftovers dockerd "$MAIN_EXEC_ROOT" "$(netns_id $$)"
fi
rm -f "$MAIN_PIDFILE"
rm -f "$STATE/smoke-main.ok" "$STATE/smoke-deploy.ok" "$STATE/smoke-deploy2.ok"

# Network: deleting one end of a veth pair deletes both.
for n in "${DEPLOY_HOSTS[@]}"; do
  use_host "$n"
  if ip link show dev "$H_VETH_HOST" >/dev/null 2>&1; then
    log "removing veth $H_VETH_HOST"
    ip link delete "$H_VETH_HOST" || true
  fi
  if [[ -e $H_NETNS_PATH ]]; then
    log "removing network namespace $H_NETNS"
    ip netns delete "$H_NETNS" 2>/dev/null || { umount "$H_NETNS_PATH" 2>/dev/null || true; rm -f "$H_NETNS_PATH"; }
  fi
done

log "lab is down (state kept in $STATE)"
