#!/usr/bin/env bash
# Stops everything test/lab/up.sh started (by pid: sshd, the deploy host's
# dockerd, the registry, the main dockerd if the lab started it), removes the
# network namespace and veth pair and the env file. The state dir (keys,
# caches, registry storage, image layers) stays, so the next up.sh is quick.
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

# sshd: the listener by pid file, plus a listener whose pid file got lost.
stop_pidfile "$SSHD_PIDFILE" sshd sshd 10
for p in $(pids_with_cmdline "-f $SSHD_CONFIG"); do
  if pid_alive "$p" sshd && tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- ' -D '; then stop_pid "$p" sshd 10; fi
done

# Deploy host's dockerd (it stops its containers on SIGTERM; allow for that).
ns_id=$(lab_netns_id || true)
stop_pidfile "$DEPLOY_PIDFILE" dockerd "deploy dockerd" 40
for p in $(pids_with_cmdline "--exec-root $DEPLOY_EXEC_ROOT"); do
  pid_alive "$p" dockerd && stop_pid "$p" "deploy dockerd" 40
done
cleanup_engine_leftovers dockerd-deploy "$DEPLOY_EXEC_ROOT" "$ns_id"
rm -f "$DEPLOY_SOCK" "$PIDS/dockerd-deploy.spec"

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
rm -f "$STATE/smoke-main.ok" "$STATE/smoke-deploy.ok"

# Network: deleting one end of the veth pair deletes both.
if ip link show dev "$VETH_HOST" >/dev/null 2>&1; then
  log "removing veth $VETH_HOST"
  ip link delete "$VETH_HOST" || true
fi
if [[ -e $NETNS_PATH ]]; then
  log "removing network namespace $NETNS"
  ip netns delete "$NETNS" 2>/dev/null || { umount "$NETNS_PATH" 2>/dev/null || true; rm -f "$NETNS_PATH"; }
fi

log "lab is down (state kept in $STATE)"
