/**
 * The deploy lock, host side: bash scripts that change the lock directory only while holding
 * `flock` on a sibling file (`<lockDir>.flock`), so that every change is serialised on the
 * host, and a wrapper that runs a long command (a migration, `compose up`) so that it survives
 * the SSH connection and keeps the lock until it has ended.
 *
 * The lock directory holds
 *   token             the holder's token (only the holder renews or releases)
 *   owner.json        its owner record (LockOwner), for messages
 *   heartbeat         touched by `renew`; its mtime, by the host's clock, is the lock's age
 *   busy/<id>/        one per command run with heldCommand: pid ("PID STARTTIME"), rc,
 *                     stdout, stderr
 *   release-when-idle the holder released the lock while a command still ran: the command
 *                     removes the lock when it ends
 *
 * The decisions are pure (lock.ts decideOnHeldLock); these are the host's answers. Every
 * script goes through remoteScriptArgv: our constant text, values as positional parameters.
 * Needs bash, coreutils, util-linux (flock, setsid) and /proc on the host (Linux):
 * hostLockPreflightArgv checks.
 */
import type { CommandResult } from '../exec/executor.js'
import { lastLines } from '../exec/executor.js'
import { remoteScriptArgv } from '../exec/remote.js'
import { KILL_AFTER_SECONDS } from '../exec/ssh.js'
import { parseLockOwner, type BusyCommand, type HeldLockState, type LockOwner } from './lock.js'

/** Exit status of a script that found the lock someone else's (held, lost, not ours). */
export const LOCK_NOT_OURS_EXIT = 3

/** How long a script waits for the host's flock (the critical sections take milliseconds). */
export const FLOCK_WAIT_SECONDS = 20

/** How long heldCommand waits for its detached command to start. */
export const HELD_START_WAIT_SECONDS = 30

/** Exit status of heldCommand when its command ran out of time (coreutils timeout). */
export const HELD_TIMEOUT_EXIT = 124

/** ... and when it had to be killed after ignoring TERM for KILL_AFTER_SECONDS. */
export const HELD_KILLED_EXIT = 137

/** Starts heldCommand's stderr line when the command was not started (lock not ours). */
export const HELD_NOT_STARTED_MARKER = 'stack-deploy-lock: not started:'

/** The argv to run and the data for its stdin. */
export interface HostLockCommand {
  argv: string[]
  input?: string
}

/** What the parsers need of a CommandResult. */
export type ScriptResult = Pick<CommandResult, 'exitCode' | 'stdout' | 'stderr'>

// ---------------------------------------------------------------------------------------------
// The scripts

/** Shared by every script. $lock must be set first. */
const COMMON = `
lock_host() { # takes the host's flock on $lock.flock (fd 9), waiting at most ${FLOCK_WAIT_SECONDS} s
  exec 9>>"$lock.flock" || {
    echo "stack-deploy: cannot open $lock.flock (does the deploy directory exist?)" >&2
    exit 1
  }
  if ! flock -w ${FLOCK_WAIT_SECONDS} 9; then
    echo "stack-deploy: $lock.flock stayed locked for ${FLOCK_WAIT_SECONDS}s" >&2
    exit 1
  fi
}
unlock_host() {
  flock -u 9
  exec 9>&-
}
lock_token() { # the holder's token, '' when there is none
  cat -- "$lock/token" 2>/dev/null || true
}
lock_mtime() { # seconds (host clock) of the last heartbeat, else of the owner record, else of the dir
  local f
  for f in "$lock/heartbeat" "$lock/owner.json" "$lock"; do
    if stat -c %Y -- "$f" 2>/dev/null; then return 0; fi
  done
  return 1
}
starttime_of() { # the start time of a running process (not a zombie), from /proc
  local stat fields
  # read, not $(cat): the held wrapper asks this several times a second, and forks cost.
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  read -r -a fields <<<"\${stat##*) }" || return 1
  case \${fields[0]:-} in Z | X | x | '') return 1 ;; esac
  [ -n "\${fields[19]:-}" ] || return 1
  printf '%s\\n' "\${fields[19]}"
}
ALIVE_PID=
alive() { # $1 = a busy entry: true while the process registered in it runs (same pid and start time)
  local pid='' start='' now
  [ -f "$1/pid" ] || return 1
  read -r pid start 2>/dev/null <"$1/pid" || [ -n "$pid" ] || return 1
  [[ $pid =~ ^[1-9][0-9]*$ && -n $start ]] || return 1
  now=$(starttime_of "$pid") || return 1
  [ "$now" = "$start" ] || return 1
  ALIVE_PID=$pid
}
busy_entries() { # "ID PID" for each command still running under the lock
  local entry id
  for entry in "$lock"/busy/*; do
    [ -d "$entry" ] || continue
    alive "$entry" || continue
    id=\${entry##*/}
    [[ $id =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || id='?'
    printf '%s %s\\n' "$id" "$ALIVE_PID"
  done
  return 0
}
print_state() { # the held lock as one JSON line (owner record and token in base64)
  local now mtime age owner token busy='' id pid
  now=$(date +%s)
  if mtime=$(lock_mtime); then age=$((now - mtime)); else mtime=null age=null; fi
  owner=$(head -c 65536 -- "$lock/owner.json" 2>/dev/null | base64 -w0) || owner=''
  token=$(lock_token)
  token=$(printf '%s' "$token" | base64 -w0)
  while read -r id pid; do
    [ -z "$busy" ] || busy+=,
    busy+='{"id":"'$id'","pid":'$pid'}'
  done < <(busy_entries)
  printf '{"ownerBase64":"%s","tokenBase64":"%s","mtime":%s,"ageSeconds":%s,"busy":[%s]}\\n' "$owner" "$token" "$mtime" "$age" "$busy"
}
make_lock() { # a new lock for $token with $owner_record
  mkdir -- "$lock"
  printf '%s' "$token" >"$lock/token"
  printf '%s\\n' "$owner_record" >"$lock/owner.json"
  : >"$lock/heartbeat"
}
`

/** $1 = lock dir, $2 = our token; stdin = our owner record. */
const ACQUIRE_SCRIPT = `umask 022
lock=$1 token=$2
owner_record=$(head -c 65536)
${COMMON}
lock_host
if [ -e "$lock" ] || [ -L "$lock" ]; then
  if [ ! -d "$lock" ]; then
    echo "stack-deploy: $lock is in the way of the deploy lock: it is not a directory" >&2
    exit 1
  fi
  if [ "$(lock_token)" = "$token" ]; then
    # Ours already (an earlier attempt took it, and its answer was lost).
    touch -- "$lock/heartbeat"
    echo acquired
    exit 0
  fi
  if [ -e "$lock/release-when-idle" ] && [ -z "$(busy_entries)" ]; then
    # Its holder released it while a command ran, and that command is gone: it is free.
    rm -rf -- "$lock"
  else
    print_state
    exit ${LOCK_NOT_OURS_EXIT}
  fi
fi
make_lock
echo acquired
`

/** $1 = lock dir, $2 = our token, $3 = the stale lock's token, $4 = its mtime; stdin = our owner record. */
const TAKE_OVER_SCRIPT = `umask 022
lock=$1 token=$2 stale_token=$3 stale_mtime=$4
owner_record=$(head -c 65536)
${COMMON}
lock_host
# Compare and swap: the lock must be exactly the one judged stale, and idle.
if [ ! -d "$lock" ] || [ "$(lock_token)" != "$stale_token" ] ||
  [ "$(lock_mtime || true)" != "$stale_mtime" ] || [ -n "$(busy_entries)" ]; then
  echo lost
  exit ${LOCK_NOT_OURS_EXIT}
fi
rm -rf -- "$lock"
make_lock
echo took-over
`

/** $1 = lock dir, $2 = our token. */
const RENEW_SCRIPT = `lock=$1 token=$2
${COMMON}
lock_host
if [ -d "$lock" ] && [ "$(lock_token)" = "$token" ]; then
  touch -- "$lock/heartbeat"
  echo renewed
  exit 0
fi
echo lost
exit ${LOCK_NOT_OURS_EXIT}
`

/** $1 = lock dir, $2 = our token. */
const RELEASE_SCRIPT = `lock=$1 token=$2
${COMMON}
lock_host
if [ ! -e "$lock" ] && [ ! -L "$lock" ]; then
  echo absent
  exit 0
fi
if [ "$(lock_token)" != "$token" ]; then
  echo not-ours
  exit ${LOCK_NOT_OURS_EXIT}
fi
busy=$(busy_entries)
if [ -z "$busy" ]; then
  rm -rf -- "$lock"
  echo released
  exit 0
fi
# A command still runs: it removes the lock when it ends (heldCommand).
: >"$lock/release-when-idle"
kept=kept
while read -r id pid; do kept+=" $id:$pid"; done <<<"$busy"
printf '%s\\n' "$kept"
`

/**
 * The detached part of heldCommand: $1 = lock dir, $2 = token, $3 = id, $4 = timeout, then the
 * argv. Its stdout is /dev/null and its stderr the entry's stderr file.
 */
const HELD_INNER_SCRIPT = `lock=$1 token=$2 id=$3 seconds=$4
shift 4
entry=$lock/busy/$id
${COMMON}
lock_host
if [ ! -d "$entry" ] || [ "$(lock_token)" != "$token" ]; then
  echo "${HELD_NOT_STARTED_MARKER} the deploy lock $lock is not held by this run (any more); $id was not started" >&2
  if [ -d "$entry" ]; then : >"$entry/refused"; fi
  exit ${LOCK_NOT_OURS_EXIT}
fi
printf '%s %s\\n' "$$" "$(starttime_of "$$")" >"$entry/pid.new"
mv -f -- "$entry/pid.new" "$entry/pid"
unlock_host
rc=0
timeout --kill-after=${KILL_AFTER_SECONDS} "$seconds" "$@" </dev/null >>"$entry/stdout" 2>>"$entry/stderr" || rc=$?
{ printf '%s\\n' "$rc" >"$entry/rc.new" && mv -f -- "$entry/rc.new" "$entry/rc"; } 2>/dev/null || true
lock_host
rm -f -- "$entry/pid"
if [ -e "$lock/release-when-idle" ] && [ "$(lock_token)" = "$token" ] && [ -z "$(busy_entries)" ]; then
  rm -rf -- "$lock"
fi
unlock_host
exit "$rc"
`

/** The part on the SSH side: $1 = the inner script, $2 = lock dir, $3 = token, $4 = id, $5 = timeout, then the argv. */
const HELD_OUTER_SCRIPT = `inner=$1 lock=$2 token=$3 id=$4 seconds=$5
shift 5
entry=$lock/busy/$id
${COMMON}
lock_host
if [ ! -d "$lock" ] || [ "$(lock_token)" != "$token" ]; then
  echo "${HELD_NOT_STARTED_MARKER} the deploy lock $lock is not held by this run (any more); $id was not started" >&2
  exit ${LOCK_NOT_OURS_EXIT}
fi
if [ -d "$entry" ] && alive "$entry"; then
  echo "stack-deploy: $id is already running under the deploy lock $lock (pid $ALIVE_PID)" >&2
  exit 1
fi
rm -rf -- "$entry"
mkdir -p -- "$lock/busy"
mkdir -m 700 -- "$entry"
: >"$entry/stdout"
: >"$entry/stderr"
unlock_host
# Detached: its own session (so no hang-up, and no timeout of ours, reaches it), reparented
# away from us, no file descriptor of our connection.
(setsid bash -c "$inner" stack-deploy-held "$lock" "$token" "$id" "$seconds" "$@" </dev/null >/dev/null 2>>"$entry/stderr" &)

out_at=0 err_at=0
copy_new() { # $1 = file, $2 = name of its offset variable, $3 = fd: copies what was added since
  local size at=\${!2}
  size=$(stat -c %s -- "$1" 2>/dev/null) || return 0
  [ "$size" -gt "$at" ] || return 0
  dd if="$1" bs=65536 skip="$at" count="$((size - at))" iflag=skip_bytes,count_bytes status=none >&"$3" || return 0
  printf -v "$2" '%s' "$size"
}
start_by=$((SECONDS + ${HELD_START_WAIT_SECONDS})) started='' ended='' polls=0
while :; do
  # rc is read as soon as it is seen: the detached part may remove the whole lock right after
  # it writes rc (a release while it ran), and an rc seen but not read would be a lost status.
  if [ -e "$entry/rc" ] && rc=$(cat -- "$entry/rc" 2>/dev/null); then
    ended=rc
  elif [ -e "$entry/refused" ]; then
    ended=refused
  elif [ ! -d "$entry" ]; then
    ended=gone
  elif [ -e "$entry/pid" ]; then
    started=1
    if ! alive "$entry"; then
      if rc=$(cat -- "$entry/rc" 2>/dev/null); then
        ended=rc
      elif [ ! -d "$entry" ]; then
        ended=gone
      else
        ended=killed
      fi
    fi
  elif [ -z "$started" ] && [ "$SECONDS" -ge "$start_by" ]; then
    lock_host
    if [ ! -e "$entry/pid" ] && [ ! -e "$entry/rc" ] && [ ! -e "$entry/refused" ]; then
      rm -rf -- "$entry"
      unlock_host
      echo "stack-deploy: $id did not start on the host within ${HELD_START_WAIT_SECONDS}s; it will not run" >&2
      exit 1
    fi
    unlock_host
    continue
  fi
  copy_new "$entry/stdout" out_at 1
  copy_new "$entry/stderr" err_at 2
  [ -z "$ended" ] || break
  # Most held commands end within seconds, and every poll interval is added to the deploy's
  # time: 50 ms for the first 5 s, then 200 ms.
  polls=$((polls + 1))
  if [ "$polls" -le 100 ]; then sleep 0.05; else sleep 0.2; fi
done
case $ended in
  rc) [[ $rc =~ ^[0-9]+$ ]] || rc=1 ;;
  refused) rc=${LOCK_NOT_OURS_EXIT} ;;
  gone)
    echo "stack-deploy: the deploy lock $lock was removed while $id ran; its exit status is lost" >&2
    exit 1
    ;;
  killed)
    echo "stack-deploy: $id was killed on the host before it finished (no exit status)" >&2
    rc=1
    ;;
esac
# The detached part is removing its registration; then the entry goes.
for _ in $(seq 250); do alive "$entry" || break; sleep 0.02; done
lock_host
if [ -d "$entry" ] && ! alive "$entry"; then rm -rf -- "$entry"; fi
unlock_host
exit "$rc"
`

/** Checks the host has what the lock scripts use: util-linux flock and setsid, GNU coreutils, /proc. */
const PREFLIGHT_SCRIPT = `missing=''
flock --version >/dev/null 2>&1 || missing+=' flock (util-linux)'
command -v setsid >/dev/null 2>&1 || missing+=' setsid (util-linux)'
for tool in timeout stat dd base64; do
  "$tool" --version >/dev/null 2>&1 || missing+=" $tool (GNU coreutils)"
done
[ -r /proc/self/stat ] || missing+=' /proc'
if [ -n "$missing" ]; then
  echo "the deploy lock needs on the host:$missing" >&2
  exit 1
fi
flock --version
`

// ---------------------------------------------------------------------------------------------
// Argv builders

const TOKEN = /^[A-Za-z0-9._:-]{1,128}$/
const COMMAND_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

function checkLockDir(lockDir: string): string {
  if (
    !lockDir.startsWith('/') ||
    lockDir === '/' ||
    lockDir.endsWith('/') ||
    lockDir.includes('\0')
  ) {
    throw new Error(`internal error: ${JSON.stringify(lockDir)} is not an absolute lock directory`)
  }
  return lockDir
}

function checkToken(token: string): string {
  if (!TOKEN.test(token)) {
    throw new Error(`internal error: ${JSON.stringify(token)} is not a lock token`)
  }
  return token
}

function ownerRecord(owner: LockOwner): string {
  checkToken(owner.token)
  return JSON.stringify(owner)
}

/** Preflight: fails (exit 1, naming what is missing) unless the host can run the lock scripts. */
export function hostLockPreflightArgv(): string[] {
  return remoteScriptArgv(PREFLIGHT_SCRIPT)
}

/**
 * Takes the lock if it is free (or already ours): prints `acquired`, exit 0. Otherwise prints
 * the held state as one JSON line, exit LOCK_NOT_OURS_EXIT: see parseAcquireResult.
 */
export function acquireLockCommand(lockDir: string, owner: LockOwner): HostLockCommand {
  return {
    argv: remoteScriptArgv(ACQUIRE_SCRIPT, [checkLockDir(lockDir), owner.token]),
    input: ownerRecord(owner)
  }
}

/**
 * Replaces a lock judged stale (decideOnHeldLock) with ours, only if it is still exactly that
 * lock (same token, same heartbeat) and none of its commands runs: `took-over`, exit 0; else
 * `lost`, exit LOCK_NOT_OURS_EXIT (another run won, or the holder renewed: ask again).
 */
export function takeOverLockCommand(
  lockDir: string,
  owner: LockOwner,
  stale: Pick<HeldLockState, 'token' | 'mtime'>
): HostLockCommand {
  if (!Number.isInteger(stale.mtime)) {
    throw new Error(`internal error: cannot take over a lock of unknown age (${stale.mtime})`)
  }
  return {
    argv: remoteScriptArgv(TAKE_OVER_SCRIPT, [
      checkLockDir(lockDir),
      owner.token,
      stale.token,
      String(stale.mtime)
    ]),
    input: ownerRecord(owner)
  }
}

/** Touches the heartbeat if the lock is ours: `renewed`, exit 0; else `lost`, exit LOCK_NOT_OURS_EXIT. */
export function renewLockArgv(lockDir: string, token: string): string[] {
  return remoteScriptArgv(RENEW_SCRIPT, [checkLockDir(lockDir), checkToken(token)])
}

/**
 * Releases our lock: `released` when none of its commands runs; `kept ID:PID ...` when one
 * does (it removes the lock when it ends); `absent`; `not-ours` (exit LOCK_NOT_OURS_EXIT).
 */
export function releaseLockArgv(lockDir: string, token: string): string[] {
  return remoteScriptArgv(RELEASE_SCRIPT, [checkLockDir(lockDir), checkToken(token)])
}

/**
 * The argv of a wrapper that runs `argv` on the host under our lock, detached from the SSH
 * connection: a command that must not be cut off halfway (a migration, `compose up`).
 *
 * - It starts only if the lock is ours; else exit LOCK_NOT_OURS_EXIT with
 *   HELD_NOT_STARTED_MARKER on stderr (heldCommandNotStarted).
 * - It runs in its own session with stdin /dev/null, its output in files under
 *   `<lockDir>/busy/<id>/`, registered there (pid and start time, under flock) before it starts,
 *   and stopped after `timeoutSeconds` (TERM, KILL 5 s later: exit HELD_TIMEOUT_EXIT or
 *   HELD_KILLED_EXIT).
 * - The wrapper copies its stdout and stderr back as they grow and exits with its exit status.
 * - If the wrapper dies (connection dropped, job cancelled), the command carries on; while it
 *   runs, the lock is not taken over and release keeps it; when it ends it unregisters, and
 *   removes the lock if that was released meanwhile.
 *
 * Run it with a remote timeout of heldCommandRemoteTimeoutSeconds(timeoutSeconds).
 */
export function heldCommand(
  lockDir: string,
  token: string,
  id: string,
  timeoutSeconds: number,
  argv: readonly string[]
): string[] {
  if (!COMMAND_ID.test(id)) {
    throw new Error(`internal error: ${JSON.stringify(id)} is not a held command id`)
  }
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) {
    throw new Error(`internal error: held command timeout ${timeoutSeconds}`)
  }
  if (argv.length === 0) throw new Error('internal error: empty held command')
  return remoteScriptArgv(HELD_OUTER_SCRIPT, [
    `set -euo pipefail\n${HELD_INNER_SCRIPT}`,
    checkLockDir(lockDir),
    checkToken(token),
    id,
    String(timeoutSeconds),
    ...argv
  ])
}

/** The remote timeout for heldCommand's wrapper: the command's, its kill grace, its start, slack. */
export function heldCommandRemoteTimeoutSeconds(timeoutSeconds: number): number {
  return timeoutSeconds + KILL_AFTER_SECONDS + HELD_START_WAIT_SECONDS + 15
}

/** How often the holder renews: a third of the TTL, at most every 60 s, at least every 1 s. */
export function renewIntervalSeconds(ttlSeconds: number): number {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) return 60
  return Math.max(1, Math.min(60, Math.floor(ttlSeconds / 3)))
}

// ---------------------------------------------------------------------------------------------
// The host's answers

function unexpected(what: string, result: ScriptResult): Error {
  const tail = lastLines(result.stderr || result.stdout, 5)
  return new Error(`${what}: unexpected answer (exit ${result.exitCode})${tail ? `: ${tail}` : ''}`)
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.trim() ?? ''
}

/** The held state line of the acquire script; undefined if it is not one. */
export function parseHeldLockState(line: string): HeldLockState | undefined {
  try {
    const value = JSON.parse(line) as Record<string, unknown>
    if (typeof value.ownerBase64 !== 'string' || typeof value.tokenBase64 !== 'string') {
      return undefined
    }
    const busy = Array.isArray(value.busy) ? (value.busy as unknown[]) : []
    const number = (x: unknown): number => (typeof x === 'number' ? x : NaN)
    return {
      owner: parseLockOwner(Buffer.from(value.ownerBase64, 'base64').toString('utf8')),
      token: Buffer.from(value.tokenBase64, 'base64').toString('utf8'),
      mtime: number(value.mtime),
      ageSeconds: number(value.ageSeconds),
      busy: busy.flatMap(entry => {
        const { id, pid } = (entry ?? {}) as { id?: unknown; pid?: unknown }
        return typeof id === 'string' && typeof pid === 'number' ? [{ id, pid }] : []
      })
    }
  } catch {
    return undefined
  }
}

export type AcquireOutcome = { kind: 'acquired' } | { kind: 'held'; state: HeldLockState }

/** The acquire script's answer; throws on anything else (the script failed). */
export function parseAcquireResult(result: ScriptResult): AcquireOutcome {
  if (result.exitCode === 0 && firstLine(result.stdout) === 'acquired') return { kind: 'acquired' }
  if (result.exitCode === LOCK_NOT_OURS_EXIT) {
    const state = parseHeldLockState(firstLine(result.stdout))
    if (state) return { kind: 'held', state }
  }
  throw unexpected('taking the deploy lock', result)
}

/** The take-over script's answer; throws on anything else. */
export function parseTakeOverResult(result: ScriptResult): 'took-over' | 'lost' {
  const line = firstLine(result.stdout)
  if (result.exitCode === 0 && line === 'took-over') return 'took-over'
  if (result.exitCode === LOCK_NOT_OURS_EXIT && line === 'lost') return 'lost'
  throw unexpected('taking over the deploy lock', result)
}

/** The renew script's answer: whether the lock is still ours; throws on anything else. */
export function parseRenewResult(result: ScriptResult): boolean {
  const line = firstLine(result.stdout)
  if (result.exitCode === 0 && line === 'renewed') return true
  if (result.exitCode === LOCK_NOT_OURS_EXIT && line === 'lost') return false
  throw unexpected('renewing the deploy lock', result)
}

export type ReleaseOutcome =
  | { kind: 'released' }
  | { kind: 'kept'; busy: BusyCommand[] }
  | { kind: 'absent' }
  | { kind: 'not-ours' }

/** The release script's answer; throws on anything else. */
export function parseReleaseResult(result: ScriptResult): ReleaseOutcome {
  const line = firstLine(result.stdout)
  if (result.exitCode === LOCK_NOT_OURS_EXIT && line === 'not-ours') return { kind: 'not-ours' }
  if (result.exitCode === 0) {
    if (line === 'released' || line === 'absent') return { kind: line }
    const [word, ...entries] = line.split(' ')
    if (word === 'kept') {
      return {
        kind: 'kept',
        busy: entries.map(entry => {
          const at = entry.lastIndexOf(':')
          return { id: entry.slice(0, at), pid: Number(entry.slice(at + 1)) }
        })
      }
    }
  }
  throw unexpected('releasing the deploy lock', result)
}

/** Whether heldCommand did not start its command because the lock was not ours. */
export function heldCommandNotStarted(result: ScriptResult): boolean {
  return result.exitCode === LOCK_NOT_OURS_EXIT && result.stderr.includes(HELD_NOT_STARTED_MARKER)
}
