export const id = 325;
export const ids = [325];
export const modules = {

/***/ 9353:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   $j: () => (/* binding */ composeCommands),
/* harmony export */   Hs: () => (/* binding */ parseBackupFileName),
/* harmony export */   I3: () => (/* binding */ remoteComposeArgs),
/* harmony export */   J$: () => (/* binding */ parseDiskFree),
/* harmony export */   RI: () => (/* binding */ backupCommands),
/* harmony export */   Un: () => (/* binding */ releaseCommands),
/* harmony export */   aq: () => (/* binding */ projectTreeCommands),
/* harmony export */   iP: () => (/* binding */ backupFileName),
/* harmony export */   pH: () => (/* binding */ createTarballArgv),
/* harmony export */   q9: () => (/* binding */ preflightCommands),
/* harmony export */   uL: () => (/* binding */ containerCommands),
/* harmony export */   vy: () => (/* binding */ pgDumpArgs)
/* harmony export */ });
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(6760);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_path__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var _compose_args_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(6563);
/* harmony import */ var _exec_remote_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(9018);
/* harmony import */ var _release_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(466);
/**
 * Argv builders for the commands a deploy runs on a host (through the SSH layer, which adds
 * `set -euo pipefail`, closes stdin and quotes every argument). Pure, and table-tested: what runs
 * on production is data that a test can read.
 */




/**
 * `docker compose` for one release: its own project directory, files, overrides, env files
 * and profiles (as its manifest records them), the project's name, and the release's .env last.
 */
function remoteComposeArgs(layout, project, compose) {
    const inRelease = (relative) => node_path__WEBPACK_IMPORTED_MODULE_0__.posix.join(layout.release, relative);
    return [
        'docker',
        'compose',
        '--project-directory',
        inRelease(compose.projectDirectory),
        '-p',
        project,
        ...[...compose.composeFiles, ...compose.overrides].flatMap(file => ['-f', inRelease(file)]),
        ...[...compose.envFiles, '.env'].flatMap(file => ['--env-file', inRelease(file)]),
        ...compose.profiles.flatMap(profile => ['--profile', profile])
    ];
}
/**
 * Hard-links the live release's unchanged files into the new tree, after checking each one's
 * content on the host (a file edited in place there is sent again). Reads `<sha256> <path>`
 * lines; prints the paths it did not link. $1 = the live release's tree, $2 = the new tree.
 */
const LINK_SCRIPT = [
    'umask 022',
    'from=$1 to=$2',
    'while IFS= read -r line; do',
    '  sum=${line%% *} file=${line#* }',
    '  if [ -f "$from/$file" ] && [ ! -L "$from/$file" ] &&',
    '     [ "$(sha256sum < "$from/$file" | cut -d" " -f1)" = "$sum" ]; then',
    '    mkdir -p -- "$(dirname -- "$to/$file")"',
    '    ln -f -- "$from/$file" "$to/$file"',
    '  else',
    '    printf "%s\\n" "$file"',
    '  fi',
    'done'
].join('\n');
/**
 * Makes each missing store object from the release's tree: hard links for read-only material,
 * a copy for a writable single file (so a container's writes never reach a release). Made
 * beside its name, then renamed: an object that exists is whole. Reads
 * `<name> <link|copy> <path>` lines. $1 = the tree, $2 = the store.
 */
const OBJECTS_SCRIPT = [
    'umask 022',
    'tree=$1 store=$2',
    'mkdir -p -- "$store"',
    'while IFS= read -r line; do',
    '  name=${line%% *} rest=${line#* } how=${rest%% *} file=${rest#* }',
    '  [ -e "$store/$name" ] && continue',
    '  tmp="$store/.new-$name.$$"',
    '  rm -rf -- "$tmp"',
    '  if [ "$how" = link ]; then cp -al -- "$tree/$file" "$tmp"; else cp -a -- "$tree/$file" "$tmp"; fi',
    '  mv -T -- "$tmp" "$store/$name"',
    'done'
].join('\n');
/** Prints each of its arguments that does not exist on the host. */
const MISSING_PATHS_SCRIPT = 'for p in "$@"; do [ -e "$p" ] || printf "%s\\n" "$p"; done';
/**
 * Makes the persistent folders (as the deploy user, before compose runs, so Docker never makes
 * them as root) and fails on one that exists but is not a folder. $1 = shared/, then paths.
 */
const SHARED_SCRIPT = [
    'umask 022',
    'shared=$1; shift',
    'for p in "$@"; do',
    '  if [ -e "$shared/$p" ] && [ ! -d "$shared/$p" ]; then echo "$shared/$p exists and is not a folder" >&2; exit 1; fi',
    '  mkdir -p -- "$shared/$p"',
    'done'
].join('\n');
/**
 * Removes folders the deploy user made, even when a shipped folder was read-only (0555: its
 * files cannot be unlinked until it is writable again). Only our own paths are ever given.
 */
function removeTreesArgv(paths) {
    return (0,_exec_remote_js__WEBPACK_IMPORTED_MODULE_1__/* .remoteScriptArgv */ .MO)('chmod -R u+w -- "$@" 2>/dev/null || true; rm -rf -- "$@"', paths);
}
const projectTreeCommands = {
    makeDirs: (layout) => (0,_exec_remote_js__WEBPACK_IMPORTED_MODULE_1__/* .remoteScriptArgv */ .MO)('umask 022; mkdir -p -- "$1"; mkdir -p -m 0700 -- "$2"', [
        layout.tree,
        layout.secrets
    ]),
    linkUnchanged: (fromTree, layout) => (0,_exec_remote_js__WEBPACK_IMPORTED_MODULE_1__/* .remoteScriptArgv */ .MO)(LINK_SCRIPT, [fromTree, layout.tree]),
    /** The tarball on stdin into the tree: modes as sent, owned by the deploy user. */
    extract: (layout) => (0,_exec_remote_js__WEBPACK_IMPORTED_MODULE_1__/* .remoteScriptArgv */ .MO)('umask 022; exec tar -x -f - -C "$1" --no-same-owner --preserve-permissions', [
        layout.tree
    ]),
    makeObjects: (layout) => (0,_exec_remote_js__WEBPACK_IMPORTED_MODULE_1__/* .remoteScriptArgv */ .MO)(OBJECTS_SCRIPT, [layout.tree, layout.store]),
    makeShared: (layout, relatives) => (0,_exec_remote_js__WEBPACK_IMPORTED_MODULE_1__/* .remoteScriptArgv */ .MO)(SHARED_SCRIPT, [layout.shared, ...relatives]),
    missingPaths: (paths) => (0,_exec_remote_js__WEBPACK_IMPORTED_MODULE_1__/* .remoteScriptArgv */ .MO)(MISSING_PATHS_SCRIPT, paths),
    listObjects: (layout) => ['ls', '-1', '-A', layout.store],
    removeObjects: (layout, names) => removeTreesArgv(names.map(name => node_path__WEBPACK_IMPORTED_MODULE_0__.posix.join(layout.store, node_path__WEBPACK_IMPORTED_MODULE_0__.posix.basename(name))))
};
/** The local side of the upload: a tarball of the listed members (NUL-separated on stdin). */
function createTarballArgv(root) {
    return [
        'tar',
        '--create',
        '--file=-',
        `--directory=${root}`,
        '--owner=0',
        '--group=0',
        '--numeric-owner',
        // Positional in GNU tar: these two apply to the names that --files-from reads after them.
        '--no-recursion',
        '--null',
        '--files-from=-'
    ];
}
const preflightCommands = {
    dockerVersion: () => ['docker', 'version', '--format', '{{.Server.Version}}'],
    composeVersion: () => ['docker', 'compose', 'version', '--short'],
    diskFree: (dir) => ['df', '-Pk', dir],
    makeDirs: (layout) => ['mkdir', '-p', layout.releases, layout.backups],
    writable: (layout) => ['test', '-w', layout.root]
};
/** Free space in KiB from `df -Pk` (POSIX format: the 4th column of the second line). */
function parseDiskFree(output) {
    const line = output.trim().split('\n')[1];
    const available = line?.trim().split(/\s+/)[3];
    return available && /^\d+$/.test(available) ? Number(available) : undefined;
}
const releaseCommands = {
    makeRelease: (layout) => ['mkdir', '-p', layout.release],
    listReleases: (layout) => ['ls', '-1', layout.releases],
    /** The live release's id, or nothing on a first deploy. */
    readCurrent: (layout) => ['readlink', layout.current],
    /** Points `current` at a release atomically: a new link, renamed over the old one. */
    linkNew: (layout, target) => [
        'ln',
        '-sfn',
        target,
        `${layout.current}.new`
    ],
    switchCurrent: (layout) => [
        'mv',
        '-T',
        `${layout.current}.new`,
        layout.current
    ],
    removeReleases: (layout, ids) => removeTreesArgv(ids.map(id => node_path__WEBPACK_IMPORTED_MODULE_0__.posix.join(layout.releases, id))),
    /** By image@digest ref: a ref still used by a container, or by another tag, is refused, not forced. */
    removeImages: (refs) => ['docker', 'image', 'rm', ...refs],
    /** Appends stdin to the audit log (no shell redirection needed). */
    appendAudit: (layout) => [
        'dd',
        `of=${layout.auditLog}`,
        'oflag=append',
        'conv=notrunc',
        'status=none'
    ]
};
function scaledToZero(jobs) {
    return jobs.flatMap(job => ['--scale', `${job}=0`]);
}
const composeCommands = {
    pull: (base) => [...base, 'pull', '--quiet'],
    /** One run of the migration service from the new release's image; its dependencies start as needed. */
    migrate: (base, service) => [...base, 'run', '--rm', '-T', service],
    /**
     * `jobsDone`: one-shot jobs that already ran for this release (the migration, run on its own
     * before the switch). Compose starts a one-shot job again on every `up` (docker/compose
     * #11808, #11590), so they are scaled to 0: their old containers go, and compose does not wait
     * for a dependency with no containers.
     */
    up: (base, waitTimeoutSeconds, jobsDone = []) => [
        ...(0,_compose_args_js__WEBPACK_IMPORTED_MODULE_3__/* .composeUpWaitArgs */ .ok)(base, waitTimeoutSeconds),
        '--remove-orphans',
        ...scaledToZero(jobsDone)
    ],
    /**
     * Containers brought to the new configuration without starting them: for the one-shot jobs
     * before a zero-downtime replacement, so that the final `up` does not recreate a job and,
     * because of it, every service that depends on the job (the api just replaced, then web).
     */
    create: (base, services) => [...base, 'create', ...services],
    /**
     * The hash compose labels a service's containers with; a different one means compose would
     * recreate them. (It matches for containers that `up` made without --no-deps: see scaleUp.)
     */
    configHash: (base, service) => [...base, 'config', '--hash', service],
    /**
     * New containers next to the running ones (--no-recreate leaves those as they are). Never
     * --no-deps: compose hashes a service's configuration without its depends_on then, and the
     * next plain `up` would recreate the container it made.
     */
    scaleUp: (base, service, count, jobsDone = []) => [
        ...base,
        'up',
        '--detach',
        '--no-recreate',
        '--scale',
        `${service}=${count}`,
        ...scaledToZero(jobsDone),
        service
    ]
};
/**
 * The database dump, in the running container: the official postgres image's own variables
 * name the user and database, so no credentials cross the wire or appear in argv. `docker exec`
 * on the container compose made (containerCommands.running), not `compose exec`: the live
 * release's compose files need not be read, and a compose start is a second on a busy host.
 */
function pgDumpArgs(container) {
    return [
        'docker',
        'exec',
        container,
        'sh',
        '-c',
        'exec pg_dump --no-owner --username="${POSTGRES_USER:-postgres}" --dbname="${POSTGRES_DB:-${POSTGRES_USER:-postgres}}"'
    ];
}
function backupFileName(releaseId, service) {
    return `${releaseId}-${service}.sql.gz`;
}
/** backupFileName's parts back (a release id has no "-" after its commit); else undefined. */
function parseBackupFileName(name) {
    const match = new RegExp(`^(${_release_js__WEBPACK_IMPORTED_MODULE_2__.RELEASE_ID_PATTERN})-(.+)\\.sql\\.gz$`).exec(name.trim());
    return match ? { releaseId: match[1], service: match[2] } : undefined;
}
const backupCommands = {
    list: (layout) => ['ls', '-1', layout.backups],
    remove: (layout, files) => [
        'rm',
        '-f',
        ...files.map(file => node_path__WEBPACK_IMPORTED_MODULE_0__.posix.join(layout.backups, node_path__WEBPACK_IMPORTED_MODULE_0__.posix.basename(file)))
    ]
};
const containerCommands = {
    /** A service's containers in one project: id, config hash, state. */
    list: (project, service) => [
        'docker',
        'ps',
        '--all',
        '--no-trunc',
        '--filter',
        `label=com.docker.compose.project=${project}`,
        '--filter',
        `label=com.docker.compose.service=${service}`,
        '--format',
        '{{.ID}} {{.Label "com.docker.compose.config-hash"}} {{.State}}'
    ],
    /**
     * A service's running containers in one project, ids only: compose's own labels, without
     * the one-off containers of `compose run` (what `compose ps` lists, without reading the
     * project's compose files).
     */
    running: (project, service) => [
        'docker',
        'ps',
        '--quiet',
        '--no-trunc',
        '--filter',
        `label=com.docker.compose.project=${project}`,
        '--filter',
        `label=com.docker.compose.service=${service}`,
        '--filter',
        'label=com.docker.compose.oneoff=False',
        '--filter',
        'status=running'
    ],
    health: (ids) => [
        'docker',
        'inspect',
        '--format',
        '{{.Id}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}',
        ...ids
    ],
    /** Stops with each container's own grace period (compose sets it from stop_grace_period). */
    stop: (ids) => ['docker', 'stop', ...ids],
    remove: (ids) => ['docker', 'rm', '--force', ...ids]
};


/***/ }),

/***/ 7941:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Cq: () => (/* binding */ parseTakeOverResult),
/* harmony export */   Di: () => (/* binding */ heldCommand),
/* harmony export */   Ln: () => (/* binding */ hostLockPreflightArgv),
/* harmony export */   S2: () => (/* binding */ renewIntervalSeconds),
/* harmony export */   U7: () => (/* binding */ takeOverLockCommand),
/* harmony export */   he: () => (/* binding */ acquireLockCommand),
/* harmony export */   j$: () => (/* binding */ parseAcquireResult),
/* harmony export */   oB: () => (/* binding */ parseReleaseResult),
/* harmony export */   qS: () => (/* binding */ parseRenewResult),
/* harmony export */   rz: () => (/* binding */ heldCommandRemoteTimeoutSeconds),
/* harmony export */   tl: () => (/* binding */ renewLockArgv),
/* harmony export */   vq: () => (/* binding */ releaseLockArgv)
/* harmony export */ });
/* unused harmony exports LOCK_NOT_OURS_EXIT, FLOCK_WAIT_SECONDS, HELD_START_WAIT_SECONDS, HELD_TIMEOUT_EXIT, HELD_KILLED_EXIT, HELD_NOT_STARTED_MARKER, parseHeldLockState, heldCommandNotStarted */
/* harmony import */ var _exec_executor_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(6168);
/* harmony import */ var _exec_remote_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(9018);
/* harmony import */ var _exec_ssh_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(9451);
/* harmony import */ var _lock_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(4332);




/** Exit status of a script that found the lock someone else's (held, lost, not ours). */
const LOCK_NOT_OURS_EXIT = 3;
/** How long a script waits for the host's flock (the critical sections take milliseconds). */
const FLOCK_WAIT_SECONDS = 20;
/** How long heldCommand waits for its detached command to start. */
const HELD_START_WAIT_SECONDS = 30;
/** Exit status of heldCommand when its command ran out of time (coreutils timeout). */
const HELD_TIMEOUT_EXIT = 124;
/** ... and when it had to be killed after ignoring TERM for KILL_AFTER_SECONDS. */
const HELD_KILLED_EXIT = 137;
/** Starts heldCommand's stderr line when the command was not started (lock not ours). */
const HELD_NOT_STARTED_MARKER = 'stack-deploy-lock: not started:';
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
`;
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
`;
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
`;
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
`;
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
`;
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
timeout --kill-after=${_exec_ssh_js__WEBPACK_IMPORTED_MODULE_2__/* .KILL_AFTER_SECONDS */ .eh} "$seconds" "$@" </dev/null >>"$entry/stdout" 2>>"$entry/stderr" || rc=$?
{ printf '%s\\n' "$rc" >"$entry/rc.new" && mv -f -- "$entry/rc.new" "$entry/rc"; } 2>/dev/null || true
lock_host
rm -f -- "$entry/pid"
if [ -e "$lock/release-when-idle" ] && [ "$(lock_token)" = "$token" ] && [ -z "$(busy_entries)" ]; then
  rm -rf -- "$lock"
fi
unlock_host
exit "$rc"
`;
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
`;
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
`;
// ---------------------------------------------------------------------------------------------
// Argv builders
const TOKEN = /^[A-Za-z0-9._:-]{1,128}$/;
const COMMAND_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
function checkLockDir(lockDir) {
    if (!lockDir.startsWith('/') ||
        lockDir === '/' ||
        lockDir.endsWith('/') ||
        lockDir.includes('\0')) {
        throw new Error(`internal error: ${JSON.stringify(lockDir)} is not an absolute lock directory`);
    }
    return lockDir;
}
function checkToken(token) {
    if (!TOKEN.test(token)) {
        throw new Error(`internal error: ${JSON.stringify(token)} is not a lock token`);
    }
    return token;
}
function ownerRecord(owner) {
    checkToken(owner.token);
    return JSON.stringify(owner);
}
/** Preflight: fails (exit 1, naming what is missing) unless the host can run the lock scripts. */
function hostLockPreflightArgv() {
    return (0,_exec_remote_js__WEBPACK_IMPORTED_MODULE_1__/* .remoteScriptArgv */ .MO)(PREFLIGHT_SCRIPT);
}
/**
 * Takes the lock if it is free (or already ours): prints `acquired`, exit 0. Otherwise prints
 * the held state as one JSON line, exit LOCK_NOT_OURS_EXIT: see parseAcquireResult.
 */
function acquireLockCommand(lockDir, owner) {
    return {
        argv: (0,_exec_remote_js__WEBPACK_IMPORTED_MODULE_1__/* .remoteScriptArgv */ .MO)(ACQUIRE_SCRIPT, [checkLockDir(lockDir), owner.token]),
        input: ownerRecord(owner)
    };
}
/**
 * Replaces a lock judged stale (decideOnHeldLock) with ours, only if it is still exactly that
 * lock (same token, same heartbeat) and none of its commands runs: `took-over`, exit 0; else
 * `lost`, exit LOCK_NOT_OURS_EXIT (another run won, or the holder renewed: ask again).
 */
function takeOverLockCommand(lockDir, owner, stale) {
    if (!Number.isInteger(stale.mtime)) {
        throw new Error(`internal error: cannot take over a lock of unknown age (${stale.mtime})`);
    }
    return {
        argv: (0,_exec_remote_js__WEBPACK_IMPORTED_MODULE_1__/* .remoteScriptArgv */ .MO)(TAKE_OVER_SCRIPT, [
            checkLockDir(lockDir),
            owner.token,
            stale.token,
            String(stale.mtime)
        ]),
        input: ownerRecord(owner)
    };
}
/** Touches the heartbeat if the lock is ours: `renewed`, exit 0; else `lost`, exit LOCK_NOT_OURS_EXIT. */
function renewLockArgv(lockDir, token) {
    return (0,_exec_remote_js__WEBPACK_IMPORTED_MODULE_1__/* .remoteScriptArgv */ .MO)(RENEW_SCRIPT, [checkLockDir(lockDir), checkToken(token)]);
}
/**
 * Releases our lock: `released` when none of its commands runs; `kept ID:PID ...` when one
 * does (it removes the lock when it ends); `absent`; `not-ours` (exit LOCK_NOT_OURS_EXIT).
 */
function releaseLockArgv(lockDir, token) {
    return (0,_exec_remote_js__WEBPACK_IMPORTED_MODULE_1__/* .remoteScriptArgv */ .MO)(RELEASE_SCRIPT, [checkLockDir(lockDir), checkToken(token)]);
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
function heldCommand(lockDir, token, id, timeoutSeconds, argv) {
    if (!COMMAND_ID.test(id)) {
        throw new Error(`internal error: ${JSON.stringify(id)} is not a held command id`);
    }
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) {
        throw new Error(`internal error: held command timeout ${timeoutSeconds}`);
    }
    if (argv.length === 0)
        throw new Error('internal error: empty held command');
    return (0,_exec_remote_js__WEBPACK_IMPORTED_MODULE_1__/* .remoteScriptArgv */ .MO)(HELD_OUTER_SCRIPT, [
        `set -euo pipefail\n${HELD_INNER_SCRIPT}`,
        checkLockDir(lockDir),
        checkToken(token),
        id,
        String(timeoutSeconds),
        ...argv
    ]);
}
/** The remote timeout for heldCommand's wrapper: the command's, its kill grace, its start, slack. */
function heldCommandRemoteTimeoutSeconds(timeoutSeconds) {
    return timeoutSeconds + _exec_ssh_js__WEBPACK_IMPORTED_MODULE_2__/* .KILL_AFTER_SECONDS */ .eh + HELD_START_WAIT_SECONDS + 15;
}
/** How often the holder renews: a third of the TTL, at most every 60 s, at least every 1 s. */
function renewIntervalSeconds(ttlSeconds) {
    if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0)
        return 60;
    return Math.max(1, Math.min(60, Math.floor(ttlSeconds / 3)));
}
// ---------------------------------------------------------------------------------------------
// The host's answers
function unexpected(what, result) {
    const tail = (0,_exec_executor_js__WEBPACK_IMPORTED_MODULE_0__/* .lastLines */ .w$)(result.stderr || result.stdout, 5);
    return new Error(`${what}: unexpected answer (exit ${result.exitCode})${tail ? `: ${tail}` : ''}`);
}
function firstLine(text) {
    return text.trim().split('\n')[0]?.trim() ?? '';
}
/** The held state line of the acquire script; undefined if it is not one. */
function parseHeldLockState(line) {
    try {
        const value = JSON.parse(line);
        if (typeof value.ownerBase64 !== 'string' || typeof value.tokenBase64 !== 'string') {
            return undefined;
        }
        const busy = Array.isArray(value.busy) ? value.busy : [];
        const number = (x) => (typeof x === 'number' ? x : NaN);
        return {
            owner: (0,_lock_js__WEBPACK_IMPORTED_MODULE_3__/* .parseLockOwner */ .Gl)(Buffer.from(value.ownerBase64, 'base64').toString('utf8')),
            token: Buffer.from(value.tokenBase64, 'base64').toString('utf8'),
            mtime: number(value.mtime),
            ageSeconds: number(value.ageSeconds),
            busy: busy.flatMap(entry => {
                const { id, pid } = (entry ?? {});
                return typeof id === 'string' && typeof pid === 'number' ? [{ id, pid }] : [];
            })
        };
    }
    catch {
        return undefined;
    }
}
/** The acquire script's answer; throws on anything else (the script failed). */
function parseAcquireResult(result) {
    if (result.exitCode === 0 && firstLine(result.stdout) === 'acquired')
        return { kind: 'acquired' };
    if (result.exitCode === LOCK_NOT_OURS_EXIT) {
        const state = parseHeldLockState(firstLine(result.stdout));
        if (state)
            return { kind: 'held', state };
    }
    throw unexpected('taking the deploy lock', result);
}
/** The take-over script's answer; throws on anything else. */
function parseTakeOverResult(result) {
    const line = firstLine(result.stdout);
    if (result.exitCode === 0 && line === 'took-over')
        return 'took-over';
    if (result.exitCode === LOCK_NOT_OURS_EXIT && line === 'lost')
        return 'lost';
    throw unexpected('taking over the deploy lock', result);
}
/** The renew script's answer: whether the lock is still ours; throws on anything else. */
function parseRenewResult(result) {
    const line = firstLine(result.stdout);
    if (result.exitCode === 0 && line === 'renewed')
        return true;
    if (result.exitCode === LOCK_NOT_OURS_EXIT && line === 'lost')
        return false;
    throw unexpected('renewing the deploy lock', result);
}
/** The release script's answer; throws on anything else. */
function parseReleaseResult(result) {
    const line = firstLine(result.stdout);
    if (result.exitCode === LOCK_NOT_OURS_EXIT && line === 'not-ours')
        return { kind: 'not-ours' };
    if (result.exitCode === 0) {
        if (line === 'released' || line === 'absent')
            return { kind: line };
        const [word, ...entries] = line.split(' ');
        if (word === 'kept') {
            return {
                kind: 'kept',
                busy: entries.map(entry => {
                    const at = entry.lastIndexOf(':');
                    return { id: entry.slice(0, at), pid: Number(entry.slice(at + 1)) };
                })
            };
        }
    }
    throw unexpected('releasing the deploy lock', result);
}
/** Whether heldCommand did not start its command because the lock was not ours. */
function heldCommandNotStarted(result) {
    return result.exitCode === LOCK_NOT_OURS_EXIT && result.stderr.includes(HELD_NOT_STARTED_MARKER);
}


/***/ }),

/***/ 2325:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   BX: () => (/* binding */ currentRelease),
/* harmony export */   HN: () => (/* binding */ writeManifest),
/* harmony export */   PX: () => (/* binding */ readManifests),
/* harmony export */   WI: () => (/* binding */ readManifest),
/* harmony export */   aH: () => (/* binding */ layoutOf),
/* harmony export */   eg: () => (/* binding */ runStep),
/* harmony export */   rs: () => (/* binding */ composeOfRelease),
/* harmony export */   tH: () => (/* binding */ listReleases),
/* harmony export */   wA: () => (/* binding */ hostContext)
/* harmony export */ });
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(6760);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_path__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(3916);
/* harmony import */ var _commands_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(9353);
/* harmony import */ var _release_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(466);
/* harmony import */ var _host_lock_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(7941);
/**
 * One host's share of a task: its session, the shared settings, the reporter, the runtime that
 * brings releases up, and what has happened so far (the report, whether `current` moved, the
 * lock). Every step takes this; `runStep` times a step and turns its failure into a DeployError
 * naming the host and the step.
 */





function hostContext(options) {
    const { session, settings, reporter } = options;
    const ctx = {
        session,
        settings,
        reporter,
        runtime: undefined,
        now: options.now ?? (() => new Date()),
        layout: (0,_release_js__WEBPACK_IMPORTED_MODULE_3__.releaseLayout)(settings.deployPath, settings.project, options.releaseId ?? 'none'),
        report: {
            host: session.host,
            result: 'not started',
            steps: [],
            backup: undefined,
            migrationOutput: '',
            previous: undefined
        },
        onLocked: options.onLocked ?? (() => undefined),
        switched: false,
        lock: undefined
    };
    // The long commands run under the lock this context holds at the time they run: they
    // survive a dropped connection, and the lock stays until they end (host-lock.ts).
    const long = (id, argv, timeoutSeconds) => ctx.lock
        ? {
            argv: (0,_host_lock_js__WEBPACK_IMPORTED_MODULE_4__/* .heldCommand */ .Di)(ctx.layout.lockDir, ctx.lock.token, id, timeoutSeconds, argv),
            timeoutSeconds: (0,_host_lock_js__WEBPACK_IMPORTED_MODULE_4__/* .heldCommandRemoteTimeoutSeconds */ .rz)(timeoutSeconds)
        }
        : { argv, timeoutSeconds };
    ctx.runtime = options.runtime(session, settings, reporter, long);
    return ctx;
}
/** Runs one named step, times it, and turns any failure into a DeployError naming host and step. */
async function runStep(ctx, name, body, task = 'deploy') {
    const started = Date.now();
    ctx.reporter.info(`[${ctx.session.host}] ${name}`);
    const record = (ok, detail) => {
        ctx.report.steps.push({ step: name, seconds: (Date.now() - started) / 1000, ok, detail });
    };
    try {
        // Someone took the lock over: nothing more may change on this host.
        if (ctx.lock?.lost)
            throw new Error('the deploy lock is no longer ours (it was taken over); stopped before this step');
        const value = await body();
        record(true, '');
        return value;
    }
    catch (error) {
        const message = error.message;
        record(false, message.split('\n')[0] ?? '');
        if (error instanceof _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .DeployError */ .sH)
            throw error;
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .DeployError */ .sH({
            task,
            host: ctx.session.host,
            step: name,
            reason: message,
            // Until the switch, the previous release never stopped serving.
            outcome: ctx.switched ? 'not rolled back' : 'nothing switched'
        });
    }
}
/** The layout of another release of the same project. */
function layoutOf(ctx, id) {
    return (0,_release_js__WEBPACK_IMPORTED_MODULE_3__.releaseLayout)(ctx.settings.deployPath, ctx.settings.project, id);
}
/** The live release's id, or undefined on a first deploy. */
async function currentRelease(ctx) {
    const link = await ctx.session.run(_commands_js__WEBPACK_IMPORTED_MODULE_2__/* .releaseCommands */ .Un.readCurrent(ctx.layout), {
        timeoutSeconds: ctx.settings.timeouts.quick
    });
    const id = link.exitCode === 0 ? node_path__WEBPACK_IMPORTED_MODULE_0__.posix.basename(link.stdout.trim()) : '';
    return (0,_release_js__WEBPACK_IMPORTED_MODULE_3__.isReleaseId)(id) ? id : undefined;
}
/** The release ids on the host, oldest first. */
async function listReleases(ctx) {
    const listing = await ctx.session.run(_commands_js__WEBPACK_IMPORTED_MODULE_2__/* .releaseCommands */ .Un.listReleases(ctx.layout), {
        timeoutSeconds: ctx.settings.timeouts.quick
    });
    return listing.stdout.split('\n').filter(_release_js__WEBPACK_IMPORTED_MODULE_3__.isReleaseId).sort();
}
/** A release's manifest on the host; undefined when it is missing or unreadable. */
async function readManifest(ctx, id) {
    const text = await ctx.session.run(['cat', node_path__WEBPACK_IMPORTED_MODULE_0__.posix.join(layoutOf(ctx, id).release, 'manifest.json')], { timeoutSeconds: ctx.settings.timeouts.quick });
    try {
        return text.exitCode === 0 ? JSON.parse(text.stdout) : undefined;
    }
    catch {
        return undefined;
    }
}
/** Several releases' manifests, read at once, by id (undefined for one missing or unreadable). */
async function readManifests(ctx, ids) {
    return new Map(await Promise.all(ids.map(async (id) => [id, await readManifest(ctx, id)])));
}
/**
 * How compose runs another release (the live one, for a backup or a rollback): its own
 * files, overrides and profiles, as its manifest records them, since releases can differ.
 */
async function composeOfRelease(ctx, id) {
    const manifest = await readManifest(ctx, id);
    if (manifest?.compose)
        return manifest.compose;
    if (Array.isArray(manifest?.composeFiles) && manifest.composeFiles.length > 0)
        return (0,_release_js__WEBPACK_IMPORTED_MODULE_3__.legacyCompose)(manifest.composeFiles);
    // No readable manifest: assume the layout the settings give.
    return ctx.settings.fallbackCompose;
}
/** Writes a release's manifest (last in an upload: a release with a manifest is whole). */
async function writeManifest(ctx, manifest) {
    await ctx.session.writeFile(node_path__WEBPACK_IMPORTED_MODULE_0__.posix.join(layoutOf(ctx, manifest.release).release, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, 0o644, { timeoutSeconds: ctx.settings.timeouts.write });
}


/***/ }),

/***/ 4332:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   FC: () => (/* binding */ describeBusy),
/* harmony export */   Gl: () => (/* binding */ parseLockOwner),
/* harmony export */   ys: () => (/* binding */ decideOnHeldLock)
/* harmony export */ });
/* unused harmony export describeHolder */
function parseLockOwner(text) {
    try {
        const value = JSON.parse(text);
        if (typeof value.token !== 'string' || typeof value.acquiredAt !== 'string')
            return undefined;
        return {
            token: value.token,
            owner: String(value.owner ?? 'unknown'),
            runUrl: typeof value.runUrl === 'string' ? value.runUrl : undefined,
            acquiredAt: value.acquiredAt,
            ttlSeconds: Number(value.ttlSeconds ?? 0)
        };
    }
    catch {
        return undefined;
    }
}
/**
 * What to do about a lock someone else holds. Never take over while one of its commands still
 * runs on the host. Otherwise it is stale once its heartbeat is older than the owner's TTL; a
 * lock without a (readable) owner record, or with no TTL in it, is judged by the TTL we would
 * give. The age is the host's (its clock, its file times): the runner's clock plays no part.
 */
function decideOnHeldLock(state, defaultTtlSeconds) {
    const owner = state.owner;
    const holder = owner ? describeHolder(owner) : 'an unknown deploy (no owner record)';
    if (state.busy.length > 0) {
        return {
            action: 'wait',
            holder,
            reason: `${describeBusy(state.busy)} still running on the host`
        };
    }
    const age = state.ageSeconds;
    if (!Number.isFinite(age)) {
        return { action: 'wait', holder, reason: 'the host could not tell how old the lock is' };
    }
    const ownTtl = owner !== undefined && Number.isFinite(owner.ttlSeconds) && owner.ttlSeconds > 0;
    const ttl = ownTtl ? owner.ttlSeconds : defaultTtlSeconds;
    const seconds = Math.round(age);
    if (age > ttl) {
        return {
            action: 'take-over',
            holder,
            reason: owner
                ? `not renewed for ${seconds}s, past its TTL of ${ttl}s`
                : `its lock has no owner record and is ${seconds}s old, past the TTL of ${ttl}s`
        };
    }
    return {
        action: 'wait',
        holder,
        reason: owner
            ? `renewed ${seconds}s ago (TTL ${ttl}s)`
            : `no owner record yet (${seconds}s old, TTL ${ttl}s)`
    };
}
function describeHolder(owner) {
    return `${owner.owner} since ${owner.acquiredAt}${owner.runUrl ? ` (${owner.runUrl})` : ''}`;
}
/** "migrate (pid 4242), up (pid 4250)". */
function describeBusy(busy) {
    return busy.map(command => `${command.id} (pid ${command.pid})`).join(', ');
}


/***/ }),

/***/ 9018:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  Q4: () => (/* binding */ RemoteExecutor),
  MO: () => (/* binding */ remoteScriptArgv)
});

// UNUSED EXPORTS: LOCAL_TIMEOUT_GRACE_SECONDS, MAX_REMOTE_COMMAND_LENGTH, RemoteCommandError, RemoteTimeoutError, Semaphore, WRITE_FILE_SCRIPT, buildRemoteCommand, disposeSsh, writeFileArgv, writeRemoteFile

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: ./src/exec/executor.ts + 1 modules
var executor = __webpack_require__(6168);
// EXTERNAL MODULE: ./src/errors.ts
var errors = __webpack_require__(3916);
// EXTERNAL MODULE: ./src/exec/ssh.ts
var ssh = __webpack_require__(9451);
;// CONCATENATED MODULE: ./src/exec/known-hosts.ts
/**
 * Host key pinning. OpenSSH does the checking: we only ever write a known_hosts file of our
 * own and run ssh with StrictHostKeyChecking=yes against it. This module decides what goes in
 * that file, from the `known-hosts` input, which may hold, line by line:
 *
 * - known_hosts lines, passed through untouched (every key type, hashed `|1|` names,
 *   `[host]:port`, patterns, `@cert-authority`, `@revoked`: OpenSSH handles them all);
 * - SHA256 fingerprints, as `ssh-keygen -lf` prints them: `SHA256:...`, `host SHA256:...`,
 *   or a whole `256 SHA256:... comment (ED25519)` line. For those we fetch the host's keys with
 *   ssh-keyscan, keep only the keys whose fingerprint matches, and write those.
 *
 * Without either for a host, we refuse to connect; trust on first use is an explicit opt-in.
 */



const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;
const KEY_TYPE = /^(?:ssh-|ecdsa-|sk-|rsa-|x509v3-)[A-Za-z0-9@.+-]*$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** `SHA256:abc=` -> `SHA256:abc`; undefined when it is not a SHA256 fingerprint. */
function normalizeFingerprint(text) {
    const trimmed = text.trim();
    return FINGERPRINT.test(trimmed) ? trimmed.replace(/=+$/, '') : undefined;
}
/** The name ssh looks a host up by in known_hosts: `host`, or `[host]:port` off port 22. */
function knownHostsName(endpoint) {
    return endpoint.port === 22 ? endpoint.host : `[${endpoint.host}]:${endpoint.port}`;
}
function isKnownHostsLine(fields) {
    const rest = fields[0]?.startsWith('@') ? fields.slice(1) : fields;
    if (fields[0]?.startsWith('@') && !['@cert-authority', '@revoked'].includes(fields[0])) {
        return false;
    }
    const [hosts, type, key] = rest;
    return (hosts !== undefined &&
        type !== undefined &&
        key !== undefined &&
        KEY_TYPE.test(type) &&
        BASE64.test(key));
}
/** Splits the `known-hosts` input into known_hosts lines and fingerprints, refusing anything else. */
function parseKnownHosts(text, input = 'known-hosts') {
    const parsed = { lines: [], fingerprints: [] };
    const lines = text.replace(/\r\n?/g, '\n').split('\n');
    lines.forEach((raw, index) => {
        const line = raw.trim();
        if (line === '' || line.startsWith('#'))
            return;
        const fields = line.split(/\s+/);
        const where = `line ${index + 1}`;
        // SHA256:...  |  host SHA256:...  |  256 SHA256:... comment (TYPE)
        const fpIndex = fields.findIndex(field => field.startsWith('SHA256:'));
        if (fpIndex >= 0) {
            const fingerprint = normalizeFingerprint(fields[fpIndex]);
            if (!fingerprint) {
                throw new errors/* InputError */.dz(input, `${where}: "${fields[fpIndex]}" is not a SHA256 fingerprint`);
            }
            const keygenLine = fpIndex === 1 && /^\d+$/.test(fields[0]);
            if (fields.length === 1 || keygenLine) {
                parsed.fingerprints.push({ fingerprint });
            }
            else if (fields.length === 2 && fpIndex === 1) {
                parsed.fingerprints.push({ host: fields[0], fingerprint });
            }
            else {
                throw new errors/* InputError */.dz(input, `${where}: expected "SHA256:..." or "host SHA256:..." (as ssh-keygen -lf prints it)`);
            }
            return;
        }
        if (fields[0]?.startsWith('MD5:') || /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/i.test(fields[0] ?? '')) {
            throw new errors/* InputError */.dz(input, `${where}: MD5 fingerprints are not accepted; give the SHA256 one (ssh-keygen -lf prints it)`);
        }
        if (KEY_TYPE.test(fields[0] ?? '')) {
            throw new errors/* InputError */.dz(input, `${where}: a public key without a host name; known_hosts lines start with the host ` +
                `("HOST ${fields[0]} AAAA..."), as ssh-keyscan prints them`);
        }
        if (!isKnownHostsLine(fields)) {
            throw new errors/* InputError */.dz(input, `${where} is neither a known_hosts entry ("host key-type base64-key", as ssh-keyscan ` +
                `prints them) nor a fingerprint ("SHA256:...", as ssh-keygen -lf prints them)`);
        }
        parsed.lines.push(line);
    });
    return parsed;
}
/** The names a fingerprint line may give a host by: `host`, `[host]:port`. */
function namesOf(endpoint) {
    return [endpoint.host, knownHostsName(endpoint), `[${endpoint.host}]:${endpoint.port}`];
}
/** The pinned fingerprints that apply to an endpoint: its own, and those given without a host. */
function fingerprintsFor(pins, endpoint) {
    const names = namesOf(endpoint);
    return pins.fingerprints
        .filter(pin => pin.host === undefined || names.includes(pin.host))
        .map(pin => pin.fingerprint);
}
/** Fingerprints pinned for a host that is none of this deploy's (probably a typo). */
function unusedFingerprintHosts(pins, endpoints) {
    const names = new Set(endpoints.flatMap(namesOf));
    return pins.fingerprints
        .map(pin => pin.host)
        .filter((host) => host !== undefined && !names.has(host));
}
/** `ssh-keyscan -p PORT -T SECONDS -- HOST`: prints the host's keys in known_hosts format. */
function keyscanArgv(endpoint, timeoutSeconds) {
    return [
        'ssh-keyscan',
        '-p',
        String(endpoint.port),
        '-T',
        String(timeoutSeconds),
        '--',
        endpoint.host
    ];
}
/**
 * The keys of ssh-keyscan's output, renamed to the endpoint's known_hosts name. Only plain
 * `host type key` lines are kept: the output may come through a jump host, so nothing in it
 * (markers, patterns, other names) gets to our known_hosts as is.
 */
function scannedKeyLines(output, endpoint) {
    const name = knownHostsName(endpoint);
    const lines = [];
    for (const raw of output.split(/\r?\n/)) {
        const fields = raw.trim().split(/\s+/);
        if (fields.length !== 3 || fields[0]?.startsWith('#'))
            continue;
        const [, type, key] = fields;
        if (KEY_TYPE.test(type) && BASE64.test(key))
            lines.push(`${name} ${type} ${key}`);
    }
    return [...new Set(lines)];
}
/** One key's fingerprint, by `ssh-keygen -lf -` (the key on stdin), exactly as OpenSSH computes it. */
async function fingerprintKeyLine(executor, line) {
    // Only `type key`: the name field of a known_hosts line can confuse ssh-keygen (an
    // all-digit name reads as the bit count of an old RSA1 key).
    const publicKey = line.split(/\s+/).slice(1, 3).join(' ');
    const result = await executor.run(['ssh-keygen', '-l', '-E', 'sha256', '-f', '-'], {
        input: `${publicKey}\n`
    });
    const match = /^\d+ (SHA256:[A-Za-z0-9+/]+) .*\(([^)]+)\)\s*$/m.exec(result.stdout);
    if (result.exitCode !== 0 || !match) {
        throw new Error(`ssh-keygen -lf could not read a host key (${result.stderr.trim() || `exit ${result.exitCode}`}): ${line}`);
    }
    return { line, fingerprint: match[1], type: match[2] };
}
/** Fingerprints of every key in ssh-keyscan's output (one ssh-keygen per key: its output skips lines). */
async function fingerprintScan(executor, output, endpoint) {
    const keys = [];
    for (const line of scannedKeyLines(output, endpoint))
        keys.push(await fingerprintKeyLine(executor, line));
    return keys;
}
/** Whether our known_hosts file has a key (or a CA) for the endpoint: `ssh-keygen -F`, hashed names and patterns included. */
async function isPinned(executor, knownHostsFile, endpoint) {
    const result = await executor.run([
        'ssh-keygen',
        '-F',
        knownHostsName(endpoint),
        '-f',
        knownHostsFile
    ]);
    if (result.exitCode !== 0)
        return false;
    // "# Host h found: line 3", "... line 1 CA"; a @revoked line pins nothing.
    return /^# Host .* found: line \d+( CA)?\s*$/m.test(result.stdout);
}
function listKeys(keys) {
    return keys.map(key => `${key.type} ${key.fingerprint}`).join(', ');
}
/**
 * Makes sure our known_hosts pins the endpoint's host key, before anything connects to it:
 * host-specific fingerprints first (they are the most precise ask), then the given known_hosts
 * lines, then fingerprints given for any host, then trust on first use if asked for. Otherwise
 * refuses, naming the input and how to get its value.
 */
async function pinHostKey(endpoint, options) {
    const input = options.input ?? 'known-hosts';
    const name = knownHostsName(endpoint);
    const ownPins = options.pins.fingerprints.some(pin => pin.host !== undefined && namesOf(endpoint).includes(pin.host));
    const fingerprints = fingerprintsFor(options.pins, endpoint);
    if (!ownPins && (await isPinned(options.executor, options.knownHostsFile, endpoint))) {
        return 'known-hosts';
    }
    const keyscanHelp = `ssh-keyscan -p ${endpoint.port} ${endpoint.host} | ssh-keygen -lf -`;
    if (fingerprints.length === 0 && !options.trustOnFirstUse) {
        throw new errors/* InputError */.dz(input, `no host key is pinned for ${(0,ssh/* endpointLabel */.md)(endpoint)}, so stack-deploy will not connect to it. ` +
            `Set ${input} to the host's known_hosts line(s) (ssh-keyscan -p ${endpoint.port} ${endpoint.host}), ` +
            `or to its key fingerprint (SHA256:...), after checking the fingerprint against the host ` +
            `itself: compare \`${keyscanHelp}\` with \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` ` +
            `run on ${endpoint.host}. (Trusting the key on first use is an explicit opt-in.)`);
    }
    const scan = await options.scan(endpoint);
    const offered = await fingerprintScan(options.executor, scan.stdout, endpoint);
    if (offered.length === 0) {
        const why = scan.stderr
            .split(/\r?\n/)
            .filter(line => line.trim() !== '' && !line.startsWith('#'))
            .slice(-3)
            .join('; ');
        throw new Error(`ssh-keyscan got no host key from ${endpoint.host} port ${endpoint.port}` +
            `${why ? ` (${why})` : ''}: is the host reachable and running sshd?`);
    }
    let accepted;
    let source;
    if (fingerprints.length > 0) {
        accepted = offered.filter(key => fingerprints.includes(key.fingerprint));
        source = 'fingerprint';
        if (accepted.length === 0) {
            throw new errors/* InputError */.dz(input, `no host key of ${name} matches the pinned fingerprint${fingerprints.length > 1 ? 's' : ''} ` +
                `${fingerprints.join(', ')}: refusing to connect (possible man-in-the-middle, or the ` +
                `host was rebuilt: update ${input}). The host offered: ${listKeys(offered)}. Check on ` +
                `the host with ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`);
        }
        options.log.info(`Host key of ${name} matches the pinned fingerprint: ${listKeys(accepted)}`);
    }
    else {
        accepted = offered;
        source = 'trust-on-first-use';
        options.log.warning(`Trust on first use: accepted the host key(s) of ${name} without checking them: ` +
            `${listKeys(accepted)}. Pin them by setting ${input} to:\n${accepted.map(k => k.line).join('\n')}`);
    }
    external_node_fs_.appendFileSync(options.knownHostsFile, accepted.map(key => `${key.line}\n`).join(''));
    return source;
}

;// CONCATENATED MODULE: ./src/exec/quote.ts
/**
 * Quoting for commands that a remote shell will parse (ssh sends one string, which the
 * remote user's shell splits again). This is the only place where argv becomes shell text.
 *
 * Every argument is wrapped in single quotes, inside which POSIX shells interpret nothing;
 * a single quote itself is written as '\'' (close, escaped quote, reopen). Arguments made only
 * of characters that no shell treats specially are left bare, for readable logs.
 */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;
function quoteArg(arg) {
    if (arg.includes('\0'))
        throw new Error('an argument contains a NUL byte, which no shell can pass');
    if (arg !== '' && SAFE.test(arg))
        return arg;
    return `'${arg.replace(/'/g, `'\\''`)}'`;
}
function quoteArgv(argv) {
    if (argv.length === 0)
        throw new Error('internal error: empty argv');
    return argv.map(quoteArg).join(' ');
}

;// CONCATENATED MODULE: ./src/exec/remote.ts
/**
 * Running commands on a deploy host: a RemoteExecutor is an Executor (the same argv builders
 * run locally or remotely) backed by one multiplexed ssh connection per host.
 *
 * Every remote command
 * - is built into shell text in exactly one place, buildRemoteCommand, from an argv, with
 *   quote.ts; input never becomes shell text any other way;
 * - runs under `bash -c 'set -euo pipefail; ...'`, with stdin closed unless we send data
 *   (then our data, then EOF), and its exit status comes back as ours;
 * - has a timeout, enforced on the host (coreutils `timeout`, so nothing keeps running there
 *   when we give up) and here (`timeout` around ssh, in case ssh itself hangs).
 *
 * Secrets never go in a remote argv: the host's `ps` shows every argument (the whole remote
 * command string is an argument of the login shell). They go on stdin (writeFile, or
 * `input` for e.g. `docker login --password-stdin`).
 */






// ---------------------------------------------------------------------------------------------
// The remote command string
/** Linux limits one argument to 128 KiB, and the command string is one argument of the login shell. */
const MAX_REMOTE_COMMAND_LENGTH = 100_000;
/** How much longer than the remote timeout the local one waits, for ssh's own round trips. */
const LOCAL_TIMEOUT_GRACE_SECONDS = 10;
/**
 * THE function that turns an argv into the string ssh sends. ssh joins its arguments with
 * spaces into one string and the remote login shell parses it (`$SHELL -c STRING`), so the
 * string is one quoted `bash -c SCRIPT` in which the argv is quoted once more:
 *
 *   bash -c 'set -euo pipefail; cd -- DIR; export K=V; exec timeout --kill-after=5 N ARGV </dev/null'
 *
 * The login shell must be a POSIX shell (sh, bash, dash, zsh, ksh); bash and coreutils must be
 * installed on the host (RemoteExecutor.open checks both).
 */
function buildRemoteCommand(argv, options) {
    if (argv.length === 0)
        throw new Error('internal error: empty remote argv');
    const seconds = options.timeoutSeconds;
    if (!Number.isInteger(seconds) || seconds < 1) {
        throw new Error(`internal error: remote timeout must be a whole number of seconds, not ${seconds}`);
    }
    const script = ['set -euo pipefail'];
    if (options.cwd !== undefined)
        script.push(`cd -- ${quoteArg(options.cwd)}`);
    for (const [name, value] of Object.entries(options.env ?? {})) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
            throw new Error(`internal error: "${name}" is not an environment variable name`);
        }
        script.push(`export ${name}=${quoteArg(value)}`);
    }
    const timed = ['timeout', `--kill-after=${ssh/* KILL_AFTER_SECONDS */.eh}`, String(seconds), ...argv];
    script.push(`exec ${quoteArgv(timed)}${options.stdin ? '' : ' </dev/null'}`);
    const command = quoteArgv(['bash', '-c', script.join('; ')]);
    if (command.length > MAX_REMOTE_COMMAND_LENGTH) {
        throw new Error(`internal error: remote command of ${command.length} bytes (${argv.slice(0, 3).join(' ')} ...); ` +
            'send large data on stdin');
    }
    return command;
}
/**
 * The argv of a bash script that runs with `set -euo pipefail`. The script is ours (a
 * constant): values go in as positional parameters ("$1", "$2", ...), never into its text.
 */
function remoteScriptArgv(script, args = []) {
    return ['bash', '-c', `set -euo pipefail\n${script}`, 'stack-deploy', ...args];
}
/**
 * Writes stdin to a file atomically: a temp file in the same directory (so the rename is
 * atomic), created 0600 by mktemp under umask 077, filled, chmod-ed, renamed over the target.
 * A failure anywhere removes the temp file. $1 = path, $2 = octal mode.
 */
const WRITE_FILE_SCRIPT = [
    'umask 077',
    'target=$1 mode=$2',
    'if [ -d "$target" ]; then echo "$target is a directory" >&2; exit 1; fi',
    'tmp=$(mktemp "$(dirname -- "$target")/.stack-deploy-write.XXXXXXXX")',
    `trap 'rm -f -- "$tmp"' EXIT`,
    'cat > "$tmp"',
    'chmod "$mode" "$tmp"',
    'mv -f -- "$tmp" "$target"',
    'trap - EXIT'
].join('\n');
/** The argv that writes stdin to `file` with `mode` (see WRITE_FILE_SCRIPT). */
function writeFileArgv(file, mode) {
    const octal = typeof mode === 'number' ? mode.toString(8) : mode;
    if (!/^[0-7]{3,4}$/.test(octal) || (typeof mode === 'number' && (mode < 0 || mode > 0o7777))) {
        throw new Error(`internal error: file mode ${String(mode)} is not an octal mode such as 0600`);
    }
    if (file === '' || file.startsWith('-') || file.endsWith('/')) {
        throw new Error(`internal error: "${file}" is not a file path`);
    }
    return remoteScriptArgv(WRITE_FILE_SCRIPT, [file, octal.padStart(4, '0')]);
}
// ---------------------------------------------------------------------------------------------
// Errors
/** A remote command that ran and failed: names the host, the step, the exit code and stderr's tail. */
class RemoteCommandError extends executor/* CommandFailedError */.ju {
    host;
    step;
    constructor(host, step, result) {
        const tail = (0,executor/* lastLines */.w$)(result.stderr || result.stdout, 15);
        super(`${step} failed on ${host} (exit ${result.exitCode})${tail ? `:\n${tail}` : ''}`, result);
        this.host = host;
        this.step = step;
        this.name = 'RemoteCommandError';
    }
}
/** A remote command that ran out of time (on the host), or an ssh that hung (here). */
class RemoteTimeoutError extends Error {
    host;
    step;
    timeoutSeconds;
    side;
    result;
    constructor(host, step, timeoutSeconds, 
    /** remote: the host's `timeout` stopped the command; local: ssh did not return. */
    side, result) {
        super(side === 'remote'
            ? `${step} timed out on ${host} after ${timeoutSeconds}s and was stopped`
            : `${step} on ${host}: ssh did not return within ${timeoutSeconds + LOCAL_TIMEOUT_GRACE_SECONDS}s (${timeoutSeconds}s for the command, plus ${LOCAL_TIMEOUT_GRACE_SECONDS}s); the connection seems to hang, so it was stopped`);
        this.host = host;
        this.step = step;
        this.timeoutSeconds = timeoutSeconds;
        this.side = side;
        this.result = result;
        this.name = 'RemoteTimeoutError';
    }
}
/** A small counting semaphore: at most `max` holders at once, the others wait in order. */
class Semaphore {
    max;
    active = 0;
    waiting = [];
    constructor(max) {
        this.max = max;
        if (!Number.isInteger(max) || max < 1)
            throw new Error(`semaphore size ${max}`);
    }
    async use(body) {
        if (this.active < this.max)
            this.active++;
        else
            await new Promise(resolve => this.waiting.push(resolve));
        try {
            return await body();
        }
        finally {
            const next = this.waiting.shift();
            if (next)
                next();
            else
                this.active--;
        }
    }
}
const DEFAULT_LOG = {
    info: () => undefined,
    warning: message => process.stderr.write(`${message}\n`)
};
class RemoteExecutor {
    route;
    paths;
    tuning;
    local;
    log;
    /** `user@host` (`:port` when not 22), for messages. */
    host;
    /** How each host key was pinned, by `user@host[:port]` (the jump host too). */
    pinnedBy = {};
    sessions;
    defaultTimeoutSeconds;
    disposed = false;
    /** Whether a master may exist (to close on dispose). */
    masterStarted = false;
    constructor(route, paths, tuning, local, log, options) {
        this.route = route;
        this.paths = paths;
        this.tuning = tuning;
        this.local = local;
        this.log = log;
        this.host = (0,ssh/* endpointLabel */.md)(route.target);
        this.sessions = new Semaphore(options.maxSessions);
        this.defaultTimeoutSeconds = options.defaultTimeoutSeconds;
    }
    /**
     * Writes the key, pins the host keys, opens the master connection, and checks the host has
     * bash and timeout. Nothing runs on the host until its key is pinned; on any failure the
     * private directory is removed again.
     */
    static async open(options) {
        const local = options.local ?? new executor/* LocalExecutor */.nB(process.stderr);
        const log = options.log ?? DEFAULT_LOG;
        const tuning = { ...ssh/* DEFAULT_TUNING */.oE, ...options.tuning };
        for (const [name, value] of Object.entries(tuning)) {
            if (!Number.isInteger(value) || value < 1) {
                throw new Error(`internal error: ssh ${name} must be a whole number >= 1, not ${value}`);
            }
        }
        const route = {
            target: (0,ssh/* checkEndpoint */.q9)(options.target, options.inputs?.host ?? 'host'),
            jump: options.jump
                ? (0,ssh/* checkEndpoint */.q9)(options.jump, options.inputs?.jumpHost ?? 'jump-host')
                : undefined
        };
        const knownHostsInput = options.inputs?.knownHosts ?? 'known-hosts';
        const keyInput = options.inputs?.privateKey ?? 'ssh-key';
        const key = (0,ssh/* normalizePrivateKey */.W3)(options.privateKey, keyInput);
        const pins = parseKnownHosts(options.knownHosts ?? '', knownHostsInput);
        const endpoints = route.jump ? [route.jump, route.target] : [route.target];
        for (const host of unusedFingerprintHosts(pins, endpoints)) {
            log.warning(`${knownHostsInput}: a fingerprint is pinned for ${host}, which this deploy does not connect to`);
        }
        const paths = (0,ssh/* sshPaths */.tn)((0,ssh/* createPrivateDir */.b4)(options.tempDir));
        const remote = new RemoteExecutor(route, paths, tuning, local, log, {
            maxSessions: options.maxSessions ?? 4,
            defaultTimeoutSeconds: options.defaultTimeoutSeconds ?? 600
        });
        try {
            (0,ssh/* writePrivateFile */.Pl)(paths.key, key);
            (0,ssh/* writePrivateFile */.Pl)(paths.config, (0,ssh/* sshConfigText */.WA)(paths, tuning));
            (0,ssh/* writePrivateFile */.Pl)(paths.knownHosts, pins.lines.map(line => `${line}\n`).join(''));
            // The key check and the host key lookups (ssh-keygen -F) are local and independent: they
            // run at once. Fetching a host's keys waits for the key check, so that nothing reaches a
            // host (nor logs a key it offered) with a key that cannot be used, and the key's error is
            // the one reported when both fail, as when the key was checked first.
            const keyChecked = (0,ssh/* checkPrivateKey */.fH)(local, paths.key, keyInput);
            const hostKeysPinned = (async () => {
                // The jump host first: the target's keys may have to be fetched through it.
                for (const endpoint of endpoints) {
                    remote.pinnedBy[(0,ssh/* endpointLabel */.md)(endpoint)] = await pinHostKey(endpoint, {
                        executor: local,
                        knownHostsFile: paths.knownHosts,
                        pins,
                        trustOnFirstUse: options.trustOnFirstUse === true,
                        scan: async (target) => {
                            await keyChecked;
                            return remote.keyscan(target);
                        },
                        log,
                        input: knownHostsInput
                    });
                }
            })();
            // Both settle before anything else happens (dispose removes the files they read).
            const [keyCheck, pinning] = await Promise.allSettled([keyChecked, hostKeysPinned]);
            if (keyCheck.status === 'rejected')
                throw keyCheck.reason;
            if (pinning.status === 'rejected')
                throw pinning.reason;
            await remote.connect();
        }
        catch (error) {
            await remote.dispose();
            throw error;
        }
        return remote;
    }
    /** The host's keys, from ssh-keyscan here, or on the jump host when there is one. */
    async keyscan(endpoint) {
        const seconds = this.tuning.connectTimeoutSeconds;
        const scan = keyscanArgv(endpoint, seconds);
        const jump = this.route.jump;
        if (!jump || endpoint === jump) {
            return this.local.run((0,ssh/* localTimeoutArgv */.FS)(seconds + LOCAL_TIMEOUT_GRACE_SECONDS, scan));
        }
        // The target may be reachable only from the jump host. What the jump host prints is
        // checked here like any scan (fingerprints), and only plain key lines are kept.
        const step = `fetching the host keys of ${endpoint.host} through ${(0,ssh/* endpointLabel */.md)(jump)}`;
        const command = buildRemoteCommand(scan, { timeoutSeconds: seconds + ssh/* KILL_AFTER_SECONDS */.eh });
        const argv = (0,ssh/* sshOneShotArgv */.nx)({ target: jump }, this.paths, this.tuning, command);
        const result = await this.local.run((0,ssh/* localTimeoutArgv */.FS)(seconds * 3 + LOCAL_TIMEOUT_GRACE_SECONDS, argv));
        if (result.exitCode === 255)
            throw this.connectionError(result, step, { target: jump });
        return result;
    }
    /** Opens the master connection (`ssh -fN -o ControlMaster=yes`), then checks it and the host. */
    async connect() {
        const step = 'connecting';
        const seconds = this.tuning.connectTimeoutSeconds * (this.route.jump ? 2 : 1);
        this.masterStarted = true;
        const started = await this.local.run((0,ssh/* localTimeoutArgv */.FS)(seconds + LOCAL_TIMEOUT_GRACE_SECONDS, (0,ssh/* sshMasterArgv */.Lz)(this.route, this.paths, this.tuning)));
        if (started.exitCode !== 0)
            throw this.connectionError(started, step, this.route);
        if (!(await this.isConnected())) {
            throw new ssh/* SshConnectionError */.tK(this.host, 'other', `the shared ssh connection to ${this.host} did not come up (ssh -O check failed)`, started.stderr);
        }
        const check = await this.run(['true'], { timeoutSeconds: 30, step: 'checking the host' });
        if (check.exitCode !== 0) {
            throw new RemoteCommandError(this.host, 'checking the host (it needs bash and coreutils timeout)', check);
        }
        const via = this.route.jump ? ` through ${(0,ssh/* endpointLabel */.md)(this.route.jump)}` : '';
        this.log.info(`Connected to ${this.host}${via} (one shared ssh connection)`);
    }
    connectionError(result, step, route) {
        const label = (0,ssh/* endpointLabel */.md)(route.target);
        if (result.exitCode === 124 || result.exitCode === 137) {
            return new ssh/* SshConnectionError */.tK(label, 'timeout', `ssh to ${label} did not finish ${step} in time (is the host reachable?)`, result.stderr);
        }
        const failure = (0,ssh/* classifySshFailure */.HI)(result.stderr);
        if (failure) {
            return new ssh/* SshConnectionError */.tK(label, failure.kind, (0,ssh/* describeSshFailure */.MZ)(failure, route, step), result.stderr);
        }
        const tail = (0,executor/* lastLines */.w$)(result.stderr, 5);
        return new ssh/* SshConnectionError */.tK(label, 'other', `ssh to ${label} failed while ${step} (exit ${result.exitCode})${tail ? `: ${tail}` : ''}`, result.stderr);
    }
    /**
     * Runs argv on the host and returns its result, like LocalExecutor: a non-zero exit is a
     * result, not an error. Throws SshConnectionError when ssh could not connect (exit 255 with
     * ssh's own message) and RemoteTimeoutError when the command ran out of time: in both cases
     * there is no meaningful exit status of the command.
     */
    async run(argv, options = {}) {
        if (this.disposed)
            throw new Error(`internal error: the ssh connection to ${this.host} is closed`);
        const timeoutSeconds = options.timeoutSeconds ?? this.defaultTimeoutSeconds;
        const step = options.step ?? argv.slice(0, 3).join(' ');
        const stdin = options.input !== undefined;
        const command = buildRemoteCommand(argv, {
            timeoutSeconds,
            cwd: options.cwd,
            env: options.env,
            stdin
        });
        const sshArgv = (0,ssh/* sshCommandArgv */.Up)(this.route, this.paths, this.tuning, command, { stdin });
        const localArgv = (0,ssh/* localTimeoutArgv */.FS)(timeoutSeconds + LOCAL_TIMEOUT_GRACE_SECONDS, sshArgv);
        const result = await this.sessions.use(() => this.local.run(localArgv, {
            input: options.input,
            stream: options.stream,
            onLine: options.onLine
        }));
        const remoteResult = { ...result, argv: [...argv] };
        const timedOut = (result.exitCode === 124 || result.exitCode === 137) &&
            result.durationMs >= timeoutSeconds * 1000 - 250;
        if (timedOut) {
            const local = result.durationMs >= (timeoutSeconds + LOCAL_TIMEOUT_GRACE_SECONDS) * 1000 - 250;
            throw new RemoteTimeoutError(this.host, step, timeoutSeconds, local ? 'local' : 'remote', remoteResult);
        }
        if (result.exitCode === 255 && (0,ssh/* classifySshFailure */.HI)(result.stderr)) {
            throw this.connectionError(result, step, this.route);
        }
        return remoteResult;
    }
    /** Runs argv and throws RemoteCommandError (host, step, exit code, stderr's tail) unless it exits 0. */
    async runChecked(argv, step, options = {}) {
        const result = await this.run(argv, { ...options, step });
        if (result.exitCode !== 0)
            throw new RemoteCommandError(this.host, step, result);
        return result;
    }
    /** Runs one of our bash scripts (set -euo pipefail) with positional args; see remoteScriptArgv. */
    async runScript(script, args, step, options = {}) {
        return this.runChecked(remoteScriptArgv(script, args), step, options);
    }
    /**
     * Writes `content` to `file` on the host with `mode` (e.g. 0o600), atomically (temp file in
     * the same directory, then rename). The content travels on stdin: it never appears in any
     * argv, here or on the host.
     */
    async writeFile(file, content, mode, options = {}) {
        await this.runChecked(writeFileArgv(file, mode), options.step ?? `writing ${file}`, {
            ...options,
            input: content
        });
    }
    /** The host's address (for `{host}` in health URLs). */
    get address() {
        return this.route.target.host;
    }
    /** `ssh -O check`: whether the master connection is up. */
    async isConnected() {
        const result = await this.local.run((0,ssh/* localTimeoutArgv */.FS)(15, (0,ssh/* sshControlArgv */.Sq)(this.route, this.paths, this.tuning, 'check')));
        return result.exitCode === 0;
    }
    /** For the post step: serialise with JSON.stringify, then disposeSsh(state). */
    state() {
        return { dir: this.paths.dir, target: this.route.target, jump: this.route.jump };
    }
    /** Closes the master connection (`ssh -O exit`) and removes the key, known_hosts and socket. Idempotent. */
    async dispose() {
        if (this.disposed)
            return;
        this.disposed = true;
        if (this.masterStarted)
            await disposeSsh(this.state(), this.local);
        else
            external_node_fs_.rmSync(this.paths.dir, { recursive: true, force: true });
    }
}
/** Writes a file on the host; see RemoteExecutor.writeFile. */
async function writeRemoteFile(remote, file, content, mode, options = {}) {
    await remote.writeFile(file, content, mode, options);
}
/**
 * Closes a connection from its state, e.g. in the post step after the main step was killed:
 * `ssh -O exit`, then removes the private directory. Refuses a directory that is not one of
 * ours (the state comes from outside this process).
 */
async function disposeSsh(state, local = new executor/* LocalExecutor */.nB(process.stderr)) {
    const parsed = typeof state === 'string' ? JSON.parse(state) : state;
    const dir = parsed.dir;
    if (typeof dir !== 'string' ||
        !external_node_path_.isAbsolute(dir) ||
        external_node_path_.normalize(dir) !== dir ||
        !external_node_path_.basename(dir).startsWith(ssh/* PRIVATE_DIR_PREFIX */.vP)) {
        throw new Error(`internal error: ${JSON.stringify(dir)} is not an ssh directory of ours`);
    }
    if (!external_node_fs_.existsSync(dir))
        return;
    const paths = (0,ssh/* sshPaths */.tn)(dir);
    try {
        if (external_node_fs_.existsSync(paths.config)) {
            const route = { target: parsed.target, jump: parsed.jump };
            // Exit status 255 when no master is running: nothing to close.
            await local.run((0,ssh/* localTimeoutArgv */.FS)(15, (0,ssh/* sshControlArgv */.Sq)(route, paths, ssh/* DEFAULT_TUNING */.oE, 'exit')));
        }
    }
    finally {
        external_node_fs_.rmSync(dir, { recursive: true, force: true });
    }
}


/***/ })

};
