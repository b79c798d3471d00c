export const id = 719;
export const ids = [719,253];
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

/***/ 2140:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   n: () => (/* binding */ forEachHost),
/* harmony export */   t: () => (/* binding */ PendingConnections)
/* harmony export */ });
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3916);
/**
 * A task over every host of an environment: deploy, rollback, and the day-2 commands. One
 * function owns what they share: connect to every host before any runs (all at once; a wrong
 * pinned key or address stops the task before the first host changes), record connections and
 * locks for the post step, run the hosts one at a time, undo the hosts already done when a later
 * one fails, and close every connection.
 */

/**
 * Runs `run` on each host in order and returns the contexts. A failure undoes the hosts
 * already run (last first), and is thrown as a DeployError that says what became of them.
 */
async function forEachHost(options) {
    const sessions = [];
    const hosts = [];
    const done = [];
    // Every host is reached at once (a connection is mostly waiting: ssh-keygen, the network),
    // and awaited in order: the failure reported is the first host's that failed, as when they
    // were made one after the other.
    const connecting = options.endpoints.map(endpoint => startConnection(options.connect, endpoint));
    // How many of them were awaited here: the others are awaited at the end, to be closed.
    let awaited = 0;
    try {
        for (const [index, endpoint] of options.endpoints.entries()) {
            awaited = index + 1;
            const session = await connecting[index].catch((error) => {
                options.unreachable?.(options.label(endpoint), error);
                throw error;
            });
            sessions.push(session);
            options.post.connected(session.state());
            hosts.push(options.open(session, lock => options.post.locked(lock)));
        }
        for (const host of hosts)
            await options.prepare?.(host);
        let current;
        try {
            for (const host of hosts) {
                current = host;
                await options.run(host);
                done.push(host);
            }
        }
        catch (error) {
            throw await undoOthers(options, done, error, current);
        }
        return hosts;
    }
    finally {
        for (const host of hosts)
            await options.finish?.(host);
        // The hosts after one that could not be reached: closed too, once connected (their own
        // failures are not reported: the task stopped at the first).
        for (const connection of connecting.slice(awaited)) {
            const session = await connection.catch(() => undefined);
            if (session)
                sessions.push(session);
        }
        for (const session of sessions)
            await session.dispose().catch(() => undefined);
        options.post.clear();
    }
}
/** Puts the hosts already run back (last first); the failure then says what became of them. */
async function undoOthers(options, done, error, failing) {
    if (!options.undo || done.length === 0)
        return error;
    const outcomes = [];
    for (const host of [...done].reverse())
        outcomes.push(await options.undo(host, error));
    outcomes.reverse();
    // The failing host's own outcome stays its own: what became of the others is a field of
    // its own, never mixed into the failing host's (a status once read it as "rolled back").
    if (error instanceof _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .DeployError */ .sH)
        return error.withOtherHosts(outcomes);
    return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .DeployError */ .sH({
        task: 'deploy',
        host: failing ? options.hostOf(failing) : 'a host',
        step: 'deploy',
        reason: error.message,
        outcome: 'nothing switched',
        otherHosts: outcomes
    });
}
/**
 * Starts one connection. A synchronous throw becomes a rejection, and a rejection is never
 * "unhandled" while nobody awaits the connection yet: whoever awaits it later still gets it.
 */
function startConnection(connect, endpoint) {
    const connection = new Promise(resolve => resolve(connect(endpoint)));
    connection.catch(() => undefined);
    return connection;
}
/**
 * Connections started before the task that uses them: the engine starts a deploy's while it
 * still reads the project, so that the hosts are reached by the time the project is. The task
 * takes each one, once, by its endpoint's label (forEachHost then reports a failure to connect,
 * and closes the connection, as any other); `dispose` closes every one not taken, once made,
 * when the task failed before it connected or never ran. Nothing here reports a failure to
 * connect: an untaken connection's failure is dropped, the run's own error is the one to tell.
 */
class PendingConnections {
    /** By label: one connection for each time an endpoint is listed. */
    pending = new Map();
    constructor() { }
    /** Starts a connection to every endpoint, all at once. */
    static start(endpoints, label, connect) {
        const connections = new PendingConnections();
        for (const endpoint of endpoints) {
            const key = label(endpoint);
            const list = connections.pending.get(key) ?? [];
            list.push(startConnection(connect, endpoint));
            connections.pending.set(key, list);
        }
        return connections;
    }
    /**
     * The connection started for the endpoint of this label, from now on the caller's to close;
     * undefined when none is left.
     */
    take(label) {
        return this.pending.get(label)?.shift();
    }
    /** Closes every connection not taken, once it is made. Never rejects. */
    async dispose() {
        const left = [...this.pending.values()].flat();
        this.pending.clear();
        await Promise.all(left.map(async (connection) => {
            const session = await connection.catch(() => undefined);
            await session?.dispose().catch(() => undefined);
        }));
    }
}


/***/ }),

/***/ 4253:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   readPostState: () => (/* binding */ readPostState),
/* harmony export */   releaseAfterCancel: () => (/* binding */ releaseAfterCancel),
/* harmony export */   u: () => (/* binding */ PostStateRecorder)
/* harmony export */ });
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3024);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_fs__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var _exec_executor_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(6168);
/* harmony import */ var _exec_remote_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(9018);
/* harmony import */ var _exec_ssh_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(9451);
/* harmony import */ var _host_lock_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(7941);
/* harmony import */ var _lock_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(4332);
/**
 * The post step's part of a deploy that was cancelled: release the locks the run still holds
 * (only when the lock carries our token, and not while a command of ours still runs on the
 * host: see host-lock.ts) and close the SSH connections, removing the key.
 */






const STATE = { connections: 'ssh', locks: 'deploy-locks' };
/**
 * Records the post step's state as it changes (a connection opened, a lock taken), so that a
 * run cancelled at any moment leaves exactly what must be cleaned up; `clear` once it is.
 */
class PostStateRecorder {
    save;
    state = { connections: [], locks: [] };
    constructor(save) {
        this.save = save;
    }
    connected(connection) {
        this.state.connections.push(connection);
        this.save(STATE.connections, JSON.stringify(this.state.connections));
    }
    locked(lock) {
        this.state.locks.push(lock);
        this.save(STATE.locks, JSON.stringify(this.state.locks));
    }
    clear() {
        this.save(STATE.connections, '');
        this.save(STATE.locks, '');
    }
}
/** The state the main step left; empty lists when it left none (or an unreadable one). */
function readPostState(get) {
    const parse = (name) => {
        try {
            const value = JSON.parse(get(name) || '[]');
            return Array.isArray(value) ? value : [];
        }
        catch {
            return [];
        }
    };
    return { connections: parse(STATE.connections), locks: parse(STATE.locks) };
}
/**
 * Releases each lock that still has our token (or, while a command of ours still runs on the
 * host, leaves it to be released when that ends, with a warning), then closes every SSH
 * connection. Never throws.
 */
async function releaseAfterCancel(locks, connections, reporter, local = new _exec_executor_js__WEBPACK_IMPORTED_MODULE_1__/* .LocalExecutor */ .nB(process.stderr)) {
    for (const lock of locks) {
        try {
            if (!node_fs__WEBPACK_IMPORTED_MODULE_0__.existsSync(lock.ssh.dir))
                continue;
            const paths = (0,_exec_ssh_js__WEBPACK_IMPORTED_MODULE_3__/* .sshPaths */ .tn)(lock.ssh.dir);
            const route = { target: lock.ssh.target, jump: lock.ssh.jump };
            const run = (argv) => local.run((0,_exec_ssh_js__WEBPACK_IMPORTED_MODULE_3__/* .localTimeoutArgv */ .FS)(40, (0,_exec_ssh_js__WEBPACK_IMPORTED_MODULE_3__/* .sshOneShotArgv */ .nx)(route, paths, _exec_ssh_js__WEBPACK_IMPORTED_MODULE_3__/* .DEFAULT_TUNING */ .oE, (0,_exec_remote_js__WEBPACK_IMPORTED_MODULE_2__/* .buildRemoteCommand */ .MQ)(argv, { timeoutSeconds: 30 }))));
            // Under the host's flock, and only if the token is ours. A command of ours that still
            // runs there (a migration the cancellation cut off from us) keeps the lock until it ends.
            const outcome = (0,_host_lock_js__WEBPACK_IMPORTED_MODULE_4__/* .parseReleaseResult */ .oB)(await run((0,_host_lock_js__WEBPACK_IMPORTED_MODULE_4__/* .releaseLockArgv */ .vq)(lock.lockDir, lock.token)));
            const host = lock.ssh.target.host;
            if (outcome.kind === 'released')
                reporter.info(`Released the deploy lock ${lock.lockDir} on ${host} left by the cancelled run`);
            else if (outcome.kind === 'kept')
                reporter.warning(`kept: ${(0,_lock_js__WEBPACK_IMPORTED_MODULE_5__/* .describeBusy */ .FC)(outcome.busy)} still running on ${host}; the deploy lock ${lock.lockDir} is released when it ends`);
        }
        catch (error) {
            reporter.warning(`Could not release a deploy lock on ${lock.ssh.target.host}: ${error.message}`);
        }
    }
    for (const state of connections) {
        try {
            await (0,_exec_remote_js__WEBPACK_IMPORTED_MODULE_2__/* .disposeSsh */ .AB)(state, local);
        }
        catch (error) {
            reporter.warning(`Could not close the SSH connection to ${state.target.host}: ${error.message}`);
        }
    }
}


/***/ }),

/***/ 4719:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  deployStage: () => (/* binding */ deployStage),
  hostSettings: () => (/* binding */ hostSettings),
  hostsOf: () => (/* binding */ hostsOf),
  otherHostOutcome: () => (/* binding */ otherHostOutcome),
  prepareRelease: () => (/* binding */ prepareRelease),
  rollbackStage: () => (/* binding */ rollbackStage),
  startConnections: () => (/* binding */ startConnections)
});

// EXTERNAL MODULE: ./src/exec/remote.ts + 2 modules
var remote = __webpack_require__(9018);
// EXTERNAL MODULE: ./src/exec/ssh.ts
var ssh = __webpack_require__(9451);
// EXTERNAL MODULE: ./src/errors.ts
var errors = __webpack_require__(3916);
// EXTERNAL MODULE: ./src/report/markdown.ts
var markdown = __webpack_require__(4285);
;// CONCATENATED MODULE: ./src/report/deploy-summary.ts

/** A host whose run never started: it could not be reached, or failed before its pipeline. */
function notStartedReport(host, step, error) {
    return {
        host,
        result: 'not started',
        steps: [{ step, seconds: 0, ok: false, detail: error.message.split('\n')[0] ?? '' }],
        backup: undefined,
        migrationOutput: '',
        previous: undefined
    };
}
/** The job summary of a deploy (or a rollback: `title` says which). */
function deploySummary(title, reports, files) {
    const blocks = reports.map(report => {
        const rows = report.steps.map(s => `| ${s.ok ? '✅' : '❌'} ${s.step} | ${s.seconds.toFixed(1)}s | ${(0,markdown/* tableCell */.x)(s.detail)} |`);
        return [
            `#### ${report.host}: ${report.result}`,
            '',
            '| Step | Time | Detail |',
            '|---|---|---|',
            ...rows,
            '',
            report.backup
                ? `Backup: \`${report.backup.file}\` (${report.backup.bytes} bytes)`
                : 'Backup: none',
            ...(report.files
                ? [
                    '',
                    `Files: ${report.files.sent} sent (${report.files.bytesSent} bytes), ${report.files.linked} unchanged and hard-linked`
                ]
                : []),
            '',
            ...(report.migrationOutput
                ? [
                    '<details><summary>Migration output</summary>',
                    '',
                    '```text',
                    report.migrationOutput.replace(/```/g, "'''"),
                    '```',
                    '</details>',
                    ''
                ]
                : [])
        ].join('\n');
    });
    return [`### ${title}`, '', ...(files ? [filesSummary(files), ''] : []), ...blocks].join('\n');
}
/** The summary's account of the release's files: what was shipped, kept, checked. */
function filesSummary(files, counts) {
    const lines = [];
    const shipped = files.shipped.filter(s => !s.usedBy.every(u => u === 'compose file'));
    lines.push(`Shipped with the release: ${files.composeFiles.length} compose file(s)${shipped.length > 0 ? `, ${shipped.map(s => `\`${s.relative}\``).join(', ')}` : ''}${counts
        ? ` (${counts.sent} file(s) sent, ${counts.bytesSent} bytes; ${counts.linked} unchanged, hard-linked)`
        : ''}`);
    if (files.persistent.length > 0)
        lines.push(`Persistent, in \`shared/\` (kept across releases): ${files.persistent
            .map(p => `\`${p.relative}\` (${p.services.join(', ')})`)
            .join(', ')}`);
    if (files.hostPaths.length > 0)
        lines.push(`Host paths, left as they are: ${files.hostPaths.map(h => `\`${h.path}\` (${h.usedBy})`).join(', ')}`);
    if (files.secrets.length > 0)
        lines.push(`Secret files (0400): ${files.secrets.map(s => `\`${s.name}\``).join(', ')}`);
    return lines.join('  \n');
}

// EXTERNAL MODULE: ./src/exec/time.ts
var time = __webpack_require__(5760);
// EXTERNAL MODULE: ./src/deploy/commands.ts
var commands = __webpack_require__(9353);
// EXTERNAL MODULE: ./src/deploy/release.ts
var deploy_release = __webpack_require__(466);
;// CONCATENATED MODULE: ./src/deploy/rolling.ts
function rollingServices(plan) {
    return plan.services
        .filter(service => service.kind === 'build' &&
        service.healthcheck !== undefined &&
        service.ports.length === 0 &&
        service.containerName === undefined &&
        service.volumes.every(volume => volume.type === 'tmpfs' || (volume.type === 'bind' && volume.readOnly)))
        .map(service => service.name)
        .sort();
}
/** Parses `docker ps --no-trunc --format '{{.ID}} {{.Label "com.docker.compose.config-hash"}} {{.State}}'`. */
function parseContainers(stdout) {
    return stdout
        .split('\n')
        .map(line => line.trim().split(/\s+/))
        .filter(fields => fields.length === 3 && /^[0-9a-f]{12,64}$/.test(fields[0]))
        .map(([id, configHash, state]) => ({
        id: id,
        configHash: configHash,
        state: state
    }));
}
/**
 * Whether to roll a service: only when it has running containers and compose would recreate
 * them, i.e. their configuration hash is not the new one (otherwise compose's own `up` creates
 * or leaves them, with nothing to replace).
 */
function decideRoll(containers, newHash) {
    const running = containers.filter(c => c.state === 'running');
    if (running.length === 0)
        return { action: 'skip', reason: 'no running container to replace' };
    if (newHash && running.every(c => c.configHash === newHash))
        return { action: 'skip', reason: 'unchanged' };
    return { action: 'roll', old: running, scaleTo: running.length * 2 };
}
/** Parses `docker inspect --format '{{.Id}} {{.State.Status}} {{health or none}}'` lines. */
function parseHealth(stdout) {
    return stdout
        .split('\n')
        .map(line => line.trim().split(/\s+/))
        .filter(fields => fields.length === 3)
        .map(([id, status, health]) => ({
        id: id,
        status: status,
        health: health
    }));
}

;// CONCATENATED MODULE: ./src/deploy/compose-runtime.ts
/**
 * The Docker Compose runtime: one project per host, each release addressed by its own compose
 * files, overrides and env files (see remoteComposeArgs), zero-downtime services replaced new
 * container first (./rolling.ts). Everything is argv from ./commands.ts.
 */




/** The RuntimeFactory of the compose runtime. */
const composeRuntime = (session, settings, reporter, long) => new ComposeRuntime(session, settings, reporter, long);
class ComposeRuntime {
    session;
    settings;
    reporter;
    long;
    constructor(session, settings, reporter, 
    /** Wraps the commands that change what runs (see LongCommand); the host context's. */
    long) {
        this.session = session;
        this.settings = settings;
        this.reporter = reporter;
        this.long = long;
    }
    base(release) {
        return (0,commands/* remoteComposeArgs */.I3)((0,deploy_release.releaseLayout)(this.settings.deployPath, this.settings.project, release.id), this.settings.project, release.compose);
    }
    get t() {
        return this.settings.timeouts;
    }
    /** A long command, wrapped; throws naming `step` unless it exits 0. */
    async runLong(id, argv, step, timeoutSeconds) {
        const wrapped = this.long(id, argv, timeoutSeconds);
        return this.session.runChecked(wrapped.argv, step, {
            timeoutSeconds: wrapped.timeoutSeconds,
            step
        });
    }
    async pull(release, env) {
        await this.session.runChecked(commands/* composeCommands */.$j.pull(this.base(release)), 'pull images', {
            env,
            timeoutSeconds: this.t.pull
        });
    }
    async dumpArgv(service) {
        const running = await this.session.runChecked(commands/* containerCommands */.uL.running(this.settings.project, service), `find the running ${service} container`, { timeoutSeconds: this.t.quick });
        const container = running.stdout.trim().split('\n')[0]?.trim();
        return container ? (0,commands/* pgDumpArgs */.vy)(container) : undefined;
    }
    async migrate(release, service, timeoutSeconds) {
        const wrapped = this.long('migrate', commands/* composeCommands */.$j.migrate(this.base(release), service), timeoutSeconds);
        return this.session.run(wrapped.argv, {
            timeoutSeconds: wrapped.timeoutSeconds,
            step: 'migrate'
        });
    }
    /** lookAhead's reads, by release id: each used once, by the next bringUp of that release. */
    ahead = new Map();
    lookAhead(release) {
        const decisions = this.decideRolls(this.base(release));
        // Read again by bringUp if it failed; never an unhandled rejection meanwhile.
        decisions.catch(() => undefined);
        this.ahead.set(release.id, decisions);
    }
    /** For each zero-downtime service: keep it, or replace it new container first. */
    decideRolls(base) {
        return Promise.all(this.settings.rollingServices.map(service => this.decideRoll(base, service)));
    }
    async decideRoll(base, service) {
        const [hash, listing] = await Promise.all([
            this.session.runChecked(commands/* composeCommands */.$j.configHash(base, service), 'compose config --hash', {
                timeoutSeconds: this.t.quick * 2
            }),
            this.session.runChecked(commands/* containerCommands */.uL.list(this.settings.project, service), 'docker ps', {
                timeoutSeconds: this.t.quick
            })
        ]);
        // `config --hash api` prints "api <hash>".
        const newHash = hash.stdout.trim().split(/\s+/).pop() ?? '';
        return decideRoll(parseContainers(listing.stdout), newHash);
    }
    async bringUp(release, step, jobsDone = []) {
        const base = this.base(release);
        const { rollingServices, waitTimeoutSeconds } = this.settings;
        const ahead = this.ahead.get(release.id);
        this.ahead.delete(release.id);
        const decisions = rollingServices.length === 0
            ? []
            : await (ahead?.catch(() => this.decideRolls(base)) ?? this.decideRolls(base));
        // The other jobs' new containers first, without starting them: otherwise `up` recreates a
        // job (new image), and compose recreates everything that depends on it.
        const jobs = this.settings.jobs.filter(job => !jobsDone.includes(job));
        if (rollingServices.length > 0 && jobs.length > 0)
            await this.session.runChecked(commands/* composeCommands */.$j.create(base, jobs), 'compose create (jobs)', {
                timeoutSeconds: this.t.containers
            });
        let rolled = false;
        for (const [index, service] of rollingServices.entries()) {
            // Read before any roll: once one has rolled (and compose converged its dependencies),
            // the next is read again.
            const decision = rolled
                ? await this.decideRoll(base, service)
                : decisions[index];
            rolled = (await this.rollService(base, service, decision, jobsDone)) || rolled;
        }
        await this.runLong('up', commands/* composeCommands */.$j.up(base, waitTimeoutSeconds, jobsDone), step, waitTimeoutSeconds + this.t.composeOverhead);
    }
    /** Replaces `service` new-container-first, when compose would recreate it; true if it did. */
    async rollService(base, service, decision, jobsDone) {
        const { project, waitTimeoutSeconds, settleSeconds } = this.settings;
        if (decision.action === 'skip')
            return false;
        const old = decision.old.map(c => c.id);
        this.reporter.info(`[${this.session.host}] ${service}: starting the new container next to the old one (zero-downtime)`);
        await this.runLong(`scale-${service}`, commands/* composeCommands */.$j.scaleUp(base, service, decision.scaleTo, jobsDone), `start the new ${service}`, waitTimeoutSeconds + this.t.composeOverhead);
        // Started (and in Docker's DNS) from here on, not from before `up`, which may first
        // have run a job the service depends on.
        const started = Date.now();
        const after = await this.session.runChecked(commands/* containerCommands */.uL.list(project, service), 'docker ps', { timeoutSeconds: this.t.quick });
        const fresh = parseContainers(after.stdout)
            .map(c => c.id)
            .filter(id => !old.includes(id));
        try {
            await this.waitHealthy(service, fresh);
        }
        catch (error) {
            // The old containers never stopped: take the new ones away, and the release fails.
            await this.session.run(commands/* containerCommands */.uL.remove(fresh), {
                timeoutSeconds: this.t.containers
            });
            throw error;
        }
        // Proxies that cache the service's DNS answer (the reference stack's nginx: 2 s) must have
        // seen the new address before the old one goes away (zero-downtime-settle).
        await (0,time/* sleep */.y)(Math.max(0, started + settleSeconds * 1000 - Date.now()));
        await this.session.runChecked(commands/* containerCommands */.uL.stop(old), `stop the old ${service}`, {
            timeoutSeconds: this.t.containers
        });
        await this.session.run(commands/* containerCommands */.uL.remove(old), { timeoutSeconds: this.t.quick * 2 });
        return true;
    }
    /** Until every one of `ids` is healthy; fails at once on one that exits or turns unhealthy. */
    async waitHealthy(service, ids) {
        if (ids.length === 0)
            throw new Error(`compose started no new ${service} container`);
        const { waitTimeoutSeconds } = this.settings;
        const deadline = Date.now() + waitTimeoutSeconds * 1000;
        for (;;) {
            const inspect = await this.session.run(commands/* containerCommands */.uL.health(ids), {
                timeoutSeconds: this.t.quick
            });
            const states = parseHealth(inspect.stdout);
            const bad = states.find(s => s.status !== 'running' || s.health === 'unhealthy');
            if (bad)
                throw new Error(`the new ${service} container is ${bad.status === 'running' ? 'unhealthy' : bad.status}; the old one kept serving`);
            if (states.length === ids.length && states.every(s => s.health === 'healthy'))
                return;
            if (Date.now() >= deadline)
                throw new Error(`the new ${service} container was not healthy within ${waitTimeoutSeconds}s (wait-timeout); the old one kept serving`);
            await (0,time/* sleep */.y)(this.t.healthPollMs);
        }
    }
}

// EXTERNAL MODULE: ./src/deploy/host.ts
var deploy_host = __webpack_require__(2325);
// EXTERNAL MODULE: ./src/deploy/hosts.ts
var deploy_hosts = __webpack_require__(2140);
// EXTERNAL MODULE: ./node_modules/yaml/dist/index.js
var dist = __webpack_require__(8815);
// EXTERNAL MODULE: ./src/compose/images-override.ts
var images_override = __webpack_require__(1081);
;// CONCATENATED MODULE: ./src/deploy/override.ts


/**
 * The release's image pins: every built service, and every service that runs a built
 * service's image, at image@digest. Build sections are reset (`!reset`, compose 2.24 and
 * later): the host never builds, and their contexts do not exist there.
 */
function deployOverrideYaml(plan, images) {
    const doc = new dist/* Document */.yo({});
    const services = {};
    for (const [name, pin] of Object.entries((0,images_override/* imageOverride */.o)(plan, images)))
        services[name] = { image: pin.image };
    for (const service of plan.services) {
        if (!service.build)
            continue;
        const reset = new dist/* Scalar */.X5(null);
        reset.tag = '!reset';
        services[service.name] = { ...(services[service.name] ?? {}), build: reset };
    }
    doc.contents = doc.createNode({ services });
    return String(doc);
}

// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
;// CONCATENATED MODULE: ./src/deploy/release-files.ts
/**
 * The project's files on a host, as data: how compose addresses a release, which files are
 * sent and which are hard-linked from the live release, where objects, persistent folders and
 * secrets are. Pure; steps/upload.ts runs the commands, report/deploy-summary.ts says what shipped.
 */

/** Where a release keeps the project tree, relative to the release. */
const TREE = 'project';
const IMAGES_OVERRIDE = 'images.override.yaml';
const FILES_OVERRIDE = 'files.override.yaml';
/** How compose runs this release on a host (recorded in its manifest). */
function releaseComposeOf(files, profiles) {
    const inTree = (relative) => external_node_path_.posix.join(TREE, relative);
    return {
        projectDirectory: inTree(files.projectDirectory),
        composeFiles: files.composeFiles.map(inTree),
        envFiles: files.envFiles.map(inTree),
        overrides: [IMAGES_OVERRIDE, FILES_OVERRIDE],
        profiles: [...profiles]
    };
}
/** The manifest's record of the tree: what a later release compares against. */
function manifestFileMap(entries) {
    const map = {};
    for (const entry of entries)
        map[entry.path] =
            entry.type === 'symlink'
                ? `link:${entry.sha256}`
                : entry.type === 'dir'
                    ? `dir:${entry.mode.toString(8).padStart(4, '0')}`
                    : `${entry.sha256}:${entry.mode.toString(8).padStart(4, '0')}`;
    return map;
}
/**
 * Which files are hard-linked from the live release (same content and mode: the host checks the
 * content again before it links) and which are sent. Symlinks and folders are always sent:
 * they are a tar header each.
 */
function splitUnchanged(entries, previous) {
    const current = manifestFileMap(entries);
    const link = [];
    const send = [];
    for (const entry of entries) {
        if (entry.type === 'file' && previous && previous[entry.path] === current[entry.path])
            link.push(entry);
        else
            send.push(entry);
    }
    return { link, send };
}
/** The link script's input: `<sha256> <path>` lines (paths never hold a line break). */
function linkListText(entries) {
    return entries.map(entry => `${entry.sha256} ${entry.path}\n`).join('');
}
/**
 * The tarball's member list (NUL-separated, for `tar --null --files-from=-`): each folder on the
 * way to a sent file first, so that tar records its mode, then the files.
 */
function tarMemberList(send) {
    const dirs = new Set(send.filter(entry => entry.type === 'dir').map(entry => entry.path));
    for (const entry of send) {
        let dir = external_node_path_.posix.dirname(entry.path);
        while (dir !== '.' && !dirs.has(dir)) {
            dirs.add(dir);
            dir = external_node_path_.posix.dirname(dir);
        }
    }
    const others = send.filter(entry => entry.type !== 'dir').map(entry => entry.path);
    return [...[...dirs].sort(), ...others].map(p => `${p}\0`).join('');
}
/** The objects script's input: `<name> <copy|link> <relative path>` lines. */
function objectListText(files) {
    return files.objects
        .map(object => `${object.name} ${object.writable ? 'copy' : 'link'} ${object.relative}\n`)
        .join('');
}
/** Where everything is on the host, for the files override. */
function hostLocations(layout) {
    return {
        object: name => external_node_path_.posix.join(layout.store, name),
        shared: relative => external_node_path_.posix.join(layout.shared, relative),
        secret: name => external_node_path_.posix.join(layout.secrets, name)
    };
}
/** Object names no kept release mounts any more. */
function objectsToPrune(present, kept) {
    const keep = new Set(kept.flatMap(list => list ?? []));
    return present.filter(name => /^[0-9a-f]{16}-/.test(name) && !keep.has(name)).sort();
}

;// CONCATENATED MODULE: ./src/deploy/steps/audit.ts
/** One JSON line per deploy and rollback in the host's audit.log, secrets redacted. */

async function audit(ctx, action, release, detail) {
    const { sha, actor, runUrl } = ctx.settings;
    const line = ctx.reporter.redact(JSON.stringify({
        time: ctx.now().toISOString(),
        action,
        release,
        actor,
        sha,
        run: runUrl,
        detail
    }));
    await ctx.session.run(commands/* releaseCommands */.Un.appendAudit(ctx.layout), {
        input: `${line}\n`,
        timeoutSeconds: ctx.settings.timeouts.quick
    });
}

;// CONCATENATED MODULE: ./src/deploy/steps/backup.ts
/**
 * The live release's database, dumped before anything changes (it only reads what is live, so
 * it runs while the new release uploads and pulls). A database that is not
 * running, a failed dump or an empty one stops the deploy before it migrates: only a first
 * deploy (nothing live) and `backup: false` (no backup service) go without.
 */



/**
 * A fixed script, values as "$1" and "$@": dumps through gzip into a temp file beside the
 * target, proves it a whole gzip stream (gzip -t), renames it and prints its size: a failed
 * dump never leaves a file that looks like a backup. One command: each round trip counts, as
 * the backup is on the way to the migration.
 */
const BACKUP_SCRIPT = [
    'out=$1; shift',
    'tmp=$(mktemp "$out.XXXXXX"); trap \'rm -f "$tmp"\' EXIT',
    '"$@" | gzip -c > "$tmp"',
    'gzip -t "$tmp" || { echo "the dump in $tmp is not a whole gzip stream" >&2; exit 1; }',
    'mv -f "$tmp" "$out"; trap - EXIT',
    'stat -c %s "$out"'
].join('\n');
/** gzip of an empty dump is about 20 bytes; a real pg_dump has a header of several hundred. */
const MIN_DUMP_BYTES = 100;
/** Backups to delete: all dumps of this service but the newest `keep`. */
function backupsToPrune(files, service, keep) {
    const own = files.filter(file => file.endsWith(`-${service}.sql.gz`)).sort();
    return own.slice(0, Math.max(0, own.length - keep));
}
async function backup(ctx, release, manifest, previous, 
/** The upload, which writes the manifest: the backup goes into it, or into a second write. */
uploaded) {
    const wanted = release.backup;
    if (!wanted || !previous)
        return;
    const { session, layout, settings } = ctx;
    const t = settings.timeouts;
    const { service } = wanted;
    await (0,deploy_host/* runStep */.eg)(ctx, 'backup', async () => {
        const dump = await ctx.runtime.dumpArgv(service);
        // No migration without a backup: a stopped database is a reason to stop, not to skip.
        if (!dump) {
            throw new Error(`${service} of the live release ${previous} is not running, so no backup can be taken before the migration; start it, or deploy with backup: false`);
        }
        const file = external_node_path_.posix.join(layout.backups, (0,commands/* backupFileName */.iP)(release.releaseId, service));
        const dumped = await session.runScript(BACKUP_SCRIPT, [file, ...dump], 'pg_dump', {
            timeoutSeconds: t.dump + t.checkDump
        });
        const size = Number(dumped.stdout.trim().split('\n').pop());
        if (!(size > MIN_DUMP_BYTES))
            throw new Error(`the backup ${file} is empty (${size} bytes)`);
        manifest.backup = { service, file, bytes: size };
        ctx.report.backup = manifest.backup;
        const listing = await session.run(commands/* backupCommands */.RI.list(layout), { timeoutSeconds: t.quick });
        const old = backupsToPrune(listing.stdout.split('\n').filter(Boolean), service, wanted.keep);
        if (old.length > 0)
            await session.run(commands/* backupCommands */.RI.remove(layout, old), { timeoutSeconds: t.prune });
        // Into the release's manifest: the upload's write has it if it began after this point;
        // else, once that write is done, a second one. (A failed upload is the deploy's failure.)
        const recorded = await uploaded.then(done => done.backupRecorded, () => true);
        if (!recorded)
            await (0,deploy_host/* writeManifest */.HN)(ctx, manifest);
    });
}

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
// EXTERNAL MODULE: ./src/deploy/host-lock.ts
var host_lock = __webpack_require__(7941);
// EXTERNAL MODULE: ./src/deploy/lock.ts
var deploy_lock = __webpack_require__(4332);
;// CONCATENATED MODULE: ./src/deploy/steps/lock.ts
/**
 * The lock step: take the project's lock on the host (waiting up to lock-timeout for another
 * run, taking over a stale one), keep it renewed while the run lasts, and release it, only if
 * it is still ours. The host does every change under flock (../host-lock.ts), and judges age
 * by its own clock; the decisions are pure (../lock.ts).
 */





async function acquireLock(ctx, owner, task = 'deploy') {
    const { session, layout, settings } = ctx;
    const quick = { timeoutSeconds: settings.timeouts.quick };
    const record = {
        token: (0,external_node_crypto_.randomBytes)(8).toString('hex'),
        owner,
        runUrl: settings.runUrl,
        acquiredAt: ctx.now().toISOString(),
        ttlSeconds: settings.lockTtlSeconds
    };
    await (0,deploy_host/* runStep */.eg)(ctx, 'lock', async () => {
        const deadline = Date.now() + settings.lockTimeoutSeconds * 1000;
        let lostLate = 0;
        // Told before the host answers: a run cancelled right after it took the lock still
        // has it released by the post step (which checks the token first).
        ctx.onLocked({ ssh: session.state(), lockDir: layout.lockDir, token: record.token });
        for (;;) {
            const acquire = (0,host_lock/* acquireLockCommand */.he)(layout.lockDir, record);
            const answer = (0,host_lock/* parseAcquireResult */.j$)(await session.run(acquire.argv, { ...quick, input: acquire.input }));
            if (answer.kind === 'acquired') {
                holdLock(ctx, record.token);
                return;
            }
            const decision = (0,deploy_lock/* decideOnHeldLock */.ys)(answer.state, settings.lockTtlSeconds);
            if (decision.action === 'take-over') {
                const takeOver = (0,host_lock/* takeOverLockCommand */.U7)(layout.lockDir, record, answer.state);
                const won = (0,host_lock/* parseTakeOverResult */.Cq)(await session.run(takeOver.argv, { ...quick, input: takeOver.input }));
                if (won === 'took-over') {
                    ctx.reporter.warning(`[${session.host}] took over a stale deploy lock held by ${decision.holder}: ${decision.reason}`);
                    holdLock(ctx, record.token);
                    return;
                }
                // Another run won it, or its holder renewed it: look again at once (one more look
                // even out of time: the lock has just changed hands).
                if (Date.now() < deadline || lostLate++ === 0)
                    continue;
            }
            if (Date.now() >= deadline) {
                throw new Error(`the deploy lock is held by ${decision.holder} (${decision.reason}); gave up after ${settings.lockTimeoutSeconds}s (lock-timeout)`);
            }
            await (0,time/* sleep */.y)(Math.min(settings.timeouts.lockPollMs, Math.max(0, deadline - Date.now())));
        }
    }, task);
}
/**
 * Ours from now on: renewed every third of its TTL, so that a slow deploy is never taken for a
 * stale one. A renewal that finds the lock gone or someone else's marks it lost, and the next
 * step stops the run (runStep).
 */
function holdLock(ctx, token) {
    const { session, layout, settings } = ctx;
    let renewing;
    const timer = setInterval(() => {
        if (renewing)
            return;
        renewing = session
            .run((0,host_lock/* renewLockArgv */.tl)(layout.lockDir, token), { timeoutSeconds: settings.timeouts.quick })
            .then(result => {
            if (!(0,host_lock/* parseRenewResult */.qS)(result) && ctx.lock) {
                ctx.lock.lost = true;
                ctx.reporter.warning(`[${session.host}] the deploy lock is no longer ours`);
            }
        })
            .catch(error => ctx.reporter.warning(`[${session.host}] could not renew the deploy lock: ${error.message}`))
            .finally(() => (renewing = undefined));
    }, (0,host_lock/* renewIntervalSeconds */.S2)(settings.lockTtlSeconds) * 1000);
    // A pending renewal never keeps the process alive on its own.
    timer.unref();
    ctx.lock = { token, lost: false, stopRenewal: () => clearInterval(timer) };
}
/**
 * Releases our lock. While a command of ours still runs on the host (a migration that lost its
 * connection), the host keeps the lock and removes it when that command ends. Never throws.
 */
async function releaseLock(ctx) {
    const lock = ctx.lock;
    if (!lock)
        return;
    ctx.lock = undefined;
    lock.stopRenewal();
    const { session, layout } = ctx;
    try {
        const answer = (0,host_lock/* parseReleaseResult */.oB)(await session.run((0,host_lock/* releaseLockArgv */.vq)(layout.lockDir, lock.token), {
            timeoutSeconds: ctx.settings.timeouts.quick
        }));
        if (answer.kind === 'not-ours')
            ctx.reporter.warning(`[${session.host}] the deploy lock is no longer ours (taken over?); leaving it`);
        if (answer.kind === 'kept')
            ctx.reporter.warning(`[${session.host}] kept the deploy lock: ${(0,deploy_lock/* describeBusy */.FC)(answer.busy)} still running on the host; the lock goes when it ends`);
    }
    catch (error) {
        ctx.reporter.warning(`[${session.host}] could not release the deploy lock: ${error.message}`);
    }
}

;// CONCATENATED MODULE: ./src/deploy/steps/migrate.ts
/**
 * The migration job of the new release, before the switch: a failure leaves the previous
 * release serving. Its output (the last lines) goes to the summary, redacted.
 */


const OUTPUT_LINES = 40;
/** Compose's own progress lines on stderr ("Container shop-postgres-1  Running"). */
const COMPOSE_PROGRESS = /^\s*Container \S+\s+(?:Creating|Created|Recreate|Recreated|Starting|Started|Running|Waiting|Healthy|Stopping|Stopped|Removing|Removed)\s*$/;
/**
 * The last `count` lines the job itself printed (the reference api logs to stdout), without
 * compose's progress lines, which would otherwise be all an error quotes.
 */
function jobOutputTail(stdout, stderr, count) {
    return [...stdout.split('\n'), ...stderr.split('\n')]
        .map(line => line.trimEnd())
        .filter(line => line.trim() !== '' && !COMPOSE_PROGRESS.test(line))
        .slice(-count);
}
async function migrate(ctx, release) {
    const job = release.migrate;
    if (!job)
        return;
    try {
        await (0,deploy_host/* runStep */.eg)(ctx, 'migrate', async () => {
            const result = await ctx.runtime.migrate({ id: release.releaseId, compose: release.compose }, job.service, job.timeoutSeconds);
            ctx.report.migrationOutput = ctx.reporter.redact(`${result.stdout}${result.stderr}`.trim().split('\n').slice(-OUTPUT_LINES).join('\n'));
            if (result.exitCode !== 0) {
                throw new Error(`the migration (service ${job.service}) exited with code ${result.exitCode}; the previous release keeps serving. Last lines: ${ctx.reporter.redact(jobOutputTail(result.stdout, result.stderr, 3).join(' | '))}`);
            }
        });
    }
    catch (error) {
        // It may have committed part of its work: the error names the backup taken before it.
        if (error instanceof errors/* DeployError */.sH && ctx.report.backup)
            throw new errors/* DeployError */.sH({ ...error.fields(), backup: ctx.report.backup.file });
        throw error;
    }
}

;// CONCATENATED MODULE: ./src/deploy/steps/preflight.ts




async function preflight(ctx, needs) {
    const { session } = ctx;
    const quick = { timeoutSeconds: ctx.settings.timeouts.quick };
    await (0,deploy_host/* runStep */.eg)(ctx, 'preflight', async () => {
        // Independent checks, at once over the one connection.
        const [, compose] = await (0,time/* allSettledOrThrow */.e)([
            session.runChecked(commands/* preflightCommands */.q9.dockerVersion(), 'docker version', quick),
            session.run(commands/* preflightCommands */.q9.composeVersion(), quick),
            // The lock's scripts need flock, setsid and /proc (util-linux, Linux).
            session.runChecked((0,host_lock/* hostLockPreflightArgv */.Ln)(), 'check the lock tools', quick),
            deployPathReady(ctx, needs.minFreeMiB),
            checkHostPaths(ctx, needs.files)
        ]);
        if (compose.exitCode !== 0 || !/^v?2\./.test(compose.stdout.trim())) {
            throw new Error('Docker Compose v2 is not installed on the host (docker compose version failed); install the docker-compose-plugin package');
        }
    });
}
/** The deploy path exists, the deploy user can write it, and it has min-free-disk MiB free. */
async function deployPathReady(ctx, minFreeMiB) {
    const { session, layout } = ctx;
    const quick = { timeoutSeconds: ctx.settings.timeouts.quick };
    await session.runChecked(commands/* preflightCommands */.q9.makeDirs(layout), 'create the deploy path', quick);
    const [writable, df] = await (0,time/* allSettledOrThrow */.e)([
        session.run(commands/* preflightCommands */.q9.writable(layout), quick),
        session.runChecked(commands/* preflightCommands */.q9.diskFree(layout.root), 'free disk', quick)
    ]);
    if (writable.exitCode !== 0)
        throw new Error(`${layout.root} is not writable by the deploy user`);
    const freeKiB = (0,commands/* parseDiskFree */.J$)(df.stdout);
    if (freeKiB !== undefined && freeKiB < minFreeMiB * 1024) {
        throw new Error(`only ${Math.round(freeKiB / 1024)} MiB free under ${layout.root}; need ${minFreeMiB} MiB (min-free-disk)`);
    }
}
/**
 * Paths the compose files name absolutely are the host's own: a read-only one must exist
 * (Docker would make an empty root-owned folder in its place); a writable one Docker makes.
 */
async function checkHostPaths(ctx, files) {
    const hostPaths = files?.hostPaths ?? [];
    if (hostPaths.length === 0)
        return;
    const host = ctx.session.host;
    const result = await ctx.session.runChecked(commands/* projectTreeCommands */.aq.missingPaths(hostPaths.map(h => h.path)), 'check the host paths', { timeoutSeconds: ctx.settings.timeouts.quick });
    const missing = new Set(result.stdout.split('\n').filter(Boolean));
    const absent = hostPaths.filter(h => missing.has(h.path));
    for (const h of absent.filter(h => !h.required))
        ctx.reporter.warning(`[${host}] ${h.path} (${h.usedBy}) does not exist on the host; Docker will create it as an empty folder owned by root`);
    const required = absent.filter(h => h.required);
    if (required.length > 0)
        throw new Error(`${required.map(h => `${h.path} (${h.usedBy})`).join(', ')} ${required.length > 1 ? 'do' : 'does'} not exist on ${host}; these are host paths (written absolute in the compose files): create them there first`);
}

;// CONCATENATED MODULE: ./src/deploy/steps/prune.ts
/**
 * Old releases beyond keep-releases go, with the images only they ran and the store objects no
 * kept release mounts. Pruning never fails a deploy for an image still in use.
 */




async function prune(ctx, keepIds) {
    const { session, layout, settings } = ctx;
    const t = settings.timeouts;
    const host = session.host;
    await (0,deploy_host/* runStep */.eg)(ctx, 'prune', async () => {
        const ids = await (0,deploy_host/* listReleases */.tH)(ctx);
        const old = (0,deploy_release.releasesToPrune)(ids, settings.keepReleases, keepIds);
        if (old.length === 0)
            return;
        // Read before the folders go: which images only the pruned releases ran.
        const manifests = await (0,deploy_host/* readManifests */.PX)(ctx, ids);
        const kept = ids.filter(id => !old.includes(id)).map(id => manifests.get(id));
        const images = (0,deploy_release.imagesToPrune)(old.map(id => manifests.get(id)), kept);
        await session.runChecked(commands/* releaseCommands */.Un.removeReleases(layout, old), 'remove old releases', {
            timeoutSeconds: t.prune
        });
        await pruneObjects(ctx, kept);
        if (images.length === 0) {
            ctx.reporter.info(`[${host}] removed ${old.length} old release(s); their images are still in use`);
            return;
        }
        const removed = await session.run(commands/* releaseCommands */.Un.removeImages(images), {
            timeoutSeconds: t.prune
        });
        // An image still in use (or already gone) stays as it is.
        const refused = removed.stderr
            .split('\n')
            .filter(line => line.trim() && !/No such image/i.test(line));
        if (refused.length > 0)
            ctx.reporter.warning(`[${host}] some old images were kept: ${refused.slice(0, 3).join(' | ')}`);
        ctx.reporter.info(`[${host}] removed ${old.length} old release(s) and ${images.length - refused.length} of their ${images.length} image ref(s)`);
    });
}
/**
 * Store objects that no kept release mounts. Only when every kept manifest could be read: an
 * object a release still needs is never taken away on a guess.
 */
async function pruneObjects(ctx, kept) {
    if (kept.some(manifest => manifest === undefined))
        return;
    const { session, layout, settings } = ctx;
    const listing = await session.run(commands/* projectTreeCommands */.aq.listObjects(layout), {
        timeoutSeconds: settings.timeouts.quick
    });
    if (listing.exitCode !== 0)
        return;
    const unused = objectsToPrune(listing.stdout.split('\n').filter(Boolean), kept.map(manifest => manifest?.objects));
    if (unused.length > 0)
        await session.runChecked(commands/* projectTreeCommands */.aq.removeObjects(layout, unused), 'remove unused store objects', { timeoutSeconds: settings.timeouts.prune });
}

// EXTERNAL MODULE: ./src/exec/docker.ts
var docker = __webpack_require__(4709);
;// CONCATENATED MODULE: ./src/deploy/steps/pull.ts
/**
 * The new release's images, pulled before anything that runs changes. The registry login
 * overlaps the upload; the pull itself needs the release's compose files, so it waits for
 * `uploaded` (and is skipped if the upload failed: that failure is the deploy's).
 *
 * The login goes into a Docker config folder of this run's own (DOCKER_CONFIG), removed
 * afterwards (the logout): the deploy user's ~/.docker/config.json is shared by every project on the host,
 * and another project's deploy logging out there would fail this pull half-way.
 */





/**
 * Makes the run's Docker config folder (0700), with the user's CLI plugins linked in: compose
 * may be installed per user, in ~/.docker/cli-plugins. $1 = the folder.
 */
const DOCKER_CONFIG_SCRIPT = [
    'mkdir -m 700 -- "$1"',
    'plugins="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"',
    'if [ -d "$plugins" ]; then ln -s -- "$plugins" "$1/cli-plugins"; fi'
].join('\n');
async function pull(ctx, release, uploaded = Promise.resolve()) {
    const { session, settings, layout } = ctx;
    const quick = { timeoutSeconds: settings.timeouts.quick };
    await (0,deploy_host/* runStep */.eg)(ctx, 'pull', async () => {
        const registry = release.registry;
        const config = external_node_path_.posix.join(layout.root, `.docker-${(0,external_node_crypto_.randomBytes)(6).toString('hex')}`);
        const env = registry ? { DOCKER_CONFIG: config } : undefined;
        try {
            if (registry) {
                await session.runChecked((0,remote/* remoteScriptArgv */.MO)(DOCKER_CONFIG_SCRIPT, [config]), 'registry login', quick);
                await session.runChecked((0,docker/* loginArgs */.b)(registry.host, registry.username), 'registry login', {
                    input: registry.password,
                    env,
                    timeoutSeconds: settings.timeouts.login
                });
            }
            if (await uploaded.then(() => true, () => false))
                await ctx.runtime.pull({ id: release.releaseId, compose: release.compose }, env);
        }
        finally {
            // The credentials are in the folder's config.json (it names no credential helper), and a
            // registry keeps no session to end: removing the folder is the whole of a logout.
            if (registry)
                await session.run(['rm', '-rf', '--', config], quick);
        }
    });
}

;// CONCATENATED MODULE: ./src/deploy/steps/rollout.ts
/**
 * Switch `current` to a release (a new link renamed over the old one: atomic) and bring that
 * release up through the runtime. Used by the rollout and by every rollback.
 */



async function switchCurrent(ctx, id) {
    const { session, layout, settings } = ctx;
    const quick = { timeoutSeconds: settings.timeouts.quick };
    const target = external_node_path_.posix.join(layout.releases, id);
    await session.runChecked(commands/* releaseCommands */.Un.linkNew(layout, target), 'link the release', quick);
    await session.runChecked(commands/* releaseCommands */.Un.switchCurrent(layout), 'switch current', quick);
}
/**
 * The new release goes live: from here on a failure means rolling back. `jobsDone`: the
 * migration, which already ran for this release and is not run again.
 */
async function rollout(ctx, release, jobsDone = []) {
    await (0,deploy_host/* runStep */.eg)(ctx, 'roll out', async () => {
        await switchCurrent(ctx, release.id);
        ctx.switched = true;
        await ctx.runtime.bringUp(release, 'compose up --wait', jobsDone);
    });
}

// EXTERNAL MODULE: ./src/exec/websocket.ts
var websocket = __webpack_require__(3982);
;// CONCATENATED MODULE: ./src/deploy/steps/verify.ts
/**
 * The health URLs, from the runner, after a rollout or a rollback: each must answer 2xx (a
 * WebSocket one: 101) within health-retries attempts.
 */



/** Substitutes {host} in a health URL. */
function healthUrlFor(template, host) {
    return template.replace(/\{host\}/g, host.includes(':') ? `[${host}]` : host);
}
async function check(url, timeoutMs) {
    if (/^wss?:\/\//.test(url)) {
        const result = await (0,websocket/* checkWebSocket */.e)(url, { timeoutMs });
        return { ok: result.ok, detail: result.detail };
    }
    try {
        const response = await fetch(url, {
            signal: AbortSignal.timeout(timeoutMs),
            redirect: 'manual'
        });
        return {
            ok: response.status >= 200 && response.status < 300,
            detail: `HTTP ${response.status}`
        };
    }
    catch (error) {
        return { ok: false, detail: error.message };
    }
}
async function verify(ctx) {
    const { healthUrls, healthRetries, timeouts } = ctx.settings;
    if (healthUrls.length === 0)
        return;
    await (0,deploy_host/* runStep */.eg)(ctx, 'verify', async () => {
        for (const template of healthUrls) {
            const url = healthUrlFor(template, ctx.session.address);
            let last = { ok: false, detail: '' };
            for (let attempt = 0; attempt <= healthRetries && !last.ok; attempt++) {
                if (attempt > 0)
                    await (0,time/* sleep */.y)(timeouts.pollMs);
                last = await check(url, timeouts.healthRequestMs);
            }
            if (!last.ok)
                throw new Error(`health check ${url} failed after ${healthRetries + 1} attempts: ${last.detail}`);
        }
    });
}

;// CONCATENATED MODULE: ./src/deploy/steps/rollback.ts
/**
 * Back to a release that is on the host: switch current, bring it up the way it was brought
 * up (its own manifest's compose), verify, and record it. Never throws: it says whether the
 * release is back.
 */





async function restoreRelease(ctx, id, why) {
    try {
        await (0,deploy_host/* runStep */.eg)(ctx, `roll back to ${id}`, async () => {
            await switchCurrent(ctx, id);
            await ctx.runtime.bringUp({ id, compose: await (0,deploy_host/* composeOfRelease */.rs)(ctx, id) }, 'compose up --wait (rollback)');
        });
        await verify(ctx);
        await audit(ctx, 'rollback', id, why);
        ctx.report.result = 'rolled back';
        return true;
    }
    catch (error) {
        ctx.reporter.error(`[${ctx.session.host}] rollback to ${id} failed: ${error.message}`);
        return false;
    }
}
/** Removes a release folder that is not live (never switched, or rolled back). Never fails. */
async function discardRelease(ctx, id) {
    if ((await (0,deploy_host/* currentRelease */.BX)(ctx).catch(() => id)) === id)
        return;
    await ctx.session
        .run(commands/* releaseCommands */.Un.removeReleases((0,deploy_host/* layoutOf */.aH)(ctx, id), [id]), {
        timeoutSeconds: ctx.settings.timeouts.prune
    })
        .catch(() => undefined);
}

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: ./src/compose/project-files.ts
var project_files = __webpack_require__(3907);
// EXTERNAL MODULE: ./src/exec/executor.ts + 1 modules
var executor = __webpack_require__(6168);
;// CONCATENATED MODULE: ./src/deploy/steps/upload.ts
/**
 * The release on the host: our own files (.env 0600, the overrides), the secret files (0400),
 * then the project tree: the live release's unchanged files hard-linked, the rest sent as one
 * tarball on the same connection; then the store objects and the persistent folders; the
 * manifest last, so a release with a manifest is whole.
 */








/**
 * Starts the upload. `files` lets the pull start before the manifest is written; `done` is the
 * step (a DeployError on failure).
 */
function upload(ctx, release, manifest, previous) {
    let filesWritten = () => undefined;
    const written = new Promise(resolve => (filesWritten = resolve));
    const done = (0,deploy_host/* runStep */.eg)(ctx, 'upload', async () => {
        const writing = writeFiles(ctx, release, previous);
        filesWritten(writing);
        await writing;
        // The backup, if it is done by now, goes into this write (else the pipeline writes again).
        const backupRecorded = manifest.backup !== undefined;
        await (0,deploy_host/* writeManifest */.HN)(ctx, manifest);
        return { backupRecorded };
    });
    // Settles with the step too: a step that fails before it writes anything (the lock was
    // taken over) must not leave the pull waiting.
    const files = Promise.race([written, done.then(() => undefined)]);
    return { files, done };
}
async function writeFiles(ctx, release, previous) {
    const { session, layout, settings } = ctx;
    // The live release's manifest says which files can be hard-linked; read it meanwhile.
    const [, before] = await Promise.all([
        session.runChecked(commands/* projectTreeCommands */.aq.makeDirs(layout), 'create the release directory', {
            timeoutSeconds: settings.timeouts.quick
        }),
        previous ? (0,deploy_host/* readManifest */.WI)(ctx, previous) : undefined
    ]);
    const write = (file, content, mode, step) => session.writeFile(file, content, mode, { step, timeoutSeconds: settings.timeouts.write });
    const inRelease = (name) => external_node_path_.posix.join(layout.release, name);
    // Independent files, written at once over the one connection (its session limit applies).
    await (0,time/* allSettledOrThrow */.e)([
        write(inRelease(IMAGES_OVERRIDE), release.imagesOverride, 0o644),
        write(inRelease(FILES_OVERRIDE), release.filesOverride, 0o644),
        write(inRelease('.env'), release.envFile, 0o600, 'write the env file'),
        ...release.secretFiles.map(secret => write(external_node_path_.posix.join(layout.secrets, secret.name), secret.content, 0o400, `write the secret file ${secret.name}`)),
        uploadTree(ctx, release, previous, before?.files)
    ]);
}
async function uploadTree(ctx, release, previous, before) {
    const { session, layout, settings } = ctx;
    const { files } = release;
    const t = settings.timeouts;
    if (files.extraComposeFiles.length > 0) {
        await session.runChecked(['mkdir', '-p', external_node_path_.posix.join(layout.tree, project_files/* EXTRA_COMPOSE_DIR */.WV)], 'create the release directory', { timeoutSeconds: t.quick });
        await Promise.all(files.extraComposeFiles.map(file => session.writeFile(external_node_path_.posix.join(layout.tree, file.relative), external_node_fs_.readFileSync(file.absolute, 'utf8'), 0o644, { timeoutSeconds: t.write })));
    }
    const { link, send } = splitUnchanged(files.entries, before);
    let notLinked = [];
    if (link.length > 0 && previous) {
        const linked = await session.runChecked(commands/* projectTreeCommands */.aq.linkUnchanged((0,deploy_host/* layoutOf */.aH)(ctx, previous).tree, layout), 'link unchanged files', { input: linkListText(link), timeoutSeconds: t.files });
        notLinked = linked.stdout.split('\n').filter(Boolean);
    }
    const toSend = [...send, ...link.filter(entry => notLinked.includes(entry.path))];
    let bytesSent = 0;
    if (toSend.length > 0) {
        const tarball = await (0,executor/* runForBytes */.cn)((0,commands/* createTarballArgv */.pH)(files.root), tarMemberList(toSend), files.root);
        if (tarball.exitCode !== 0)
            throw new Error(`tar of the project files failed here: ${(0,executor/* lastLines */.w$)(tarball.stderr, 3)}`);
        bytesSent = tarball.stdout.length;
        await session.runChecked(commands/* projectTreeCommands */.aq.extract(layout), 'unpack the files', {
            input: tarball.stdout,
            timeoutSeconds: t.files
        });
    }
    ctx.report.files = {
        sent: toSend.filter(entry => entry.type !== 'dir').length,
        linked: link.length - notLinked.length,
        bytesSent
    };
    await Promise.all([
        files.objects.length > 0
            ? session.runChecked(commands/* projectTreeCommands */.aq.makeObjects(layout), 'store objects', {
                input: objectListText(files),
                timeoutSeconds: t.files
            })
            : undefined,
        files.persistent.length > 0
            ? session.runChecked(commands/* projectTreeCommands */.aq.makeShared(layout, files.persistent.map(p => p.relative)), 'create the persistent folders', { timeoutSeconds: t.quick * 2 })
            : undefined
    ]);
}

;// CONCATENATED MODULE: ./src/deploy/pipeline.ts
/**
 * The deploy and the rollback on one host, top to bottom, as docs/on-the-host.md lists them:
 *
 *   preflight → lock → upload → (pull ‖ backup) → migrate → roll out → verify → audit → prune → unlock
 *   on a failure after the switch: roll back to the previous release
 *
 * Each step is its own module under ./steps, over a HostContext (./host.ts): the session, the
 * settings, the reporter and the runtime. Failures are DeployErrors carrying the host, the
 * step and the outcome (nothing switched, rolled back, not rolled back).
 */
















/** Preflight and lock: what a multi-host deploy does on every host before the first changes. */
async function prepareHost(ctx, release, owner) {
    await preflight(ctx, { minFreeMiB: release.minFreeMiB, files: release.files });
    await acquireLock(ctx, owner);
}
/**
 * The whole pipeline on this host; throws a DeployError after rolling back when it can.
 * `prepared`: preflight and lock were done already (a multi-host deploy checks and locks every
 * host first), and the caller releases the lock.
 */
async function deployHost(ctx, release, owner, options = {}) {
    if (ctx.layout.release !== (0,deploy_host/* layoutOf */.aH)(ctx, release.releaseId).release)
        throw new Error(`internal error: the host context is for ${ctx.layout.release}, not release ${release.releaseId}`);
    if (!options.prepared)
        await prepareHost(ctx, release, owner);
    try {
        const previous = await (0,deploy_host/* currentRelease */.BX)(ctx);
        ctx.report.previous = previous;
        const manifest = (0,deploy_release.buildManifest)({
            release: release.releaseId,
            project: ctx.settings.project,
            images: release.images,
            sha: ctx.settings.sha,
            actor: ctx.settings.actor,
            createdAt: ctx.now().toISOString(),
            runUrl: ctx.settings.runUrl,
            composeFiles: release.compose.composeFiles,
            compose: release.compose,
            files: manifestFileMap(release.files.entries),
            objects: release.files.objects.map(o => o.name),
            persistent: release.files.persistent.map(p => p.relative),
            secrets: release.secretFiles.map(s => s.name)
        });
        // The upload, the registry login and pull, and the backup of the live database overlap:
        // none touches what runs. All are awaited before anything fails: no work is left running.
        // The pull needs the release's files, not its manifest: it starts as soon as they are up.
        const uploaded = upload(ctx, release, manifest, previous);
        await (0,time/* allSettledOrThrow */.e)([
            uploaded.done,
            backup(ctx, release, manifest, previous, uploaded.done),
            pull(ctx, release, uploaded.files)
        ]);
        // What the rollout decides from is read while the migration runs (it changes nothing).
        const runtimeRelease = { id: release.releaseId, compose: release.compose };
        ctx.runtime.lookAhead(runtimeRelease);
        await migrate(ctx, release);
        try {
            await rollout(ctx, runtimeRelease, release.migrate ? [release.migrate.service] : []);
            await verify(ctx);
        }
        catch (error) {
            throw await rollBackAfterFailure(ctx, error, previous);
        }
        await audit(ctx, 'deploy', release.releaseId, previous ? `from ${previous}` : 'first deploy');
        ctx.report.result = 'deployed';
        await prune(ctx, [release.releaseId, previous ?? '']);
    }
    catch (error) {
        if (ctx.report.result === 'not started')
            ctx.report.result = 'failed';
        // The host's own record of the failure (redacted like every line of it); never fails.
        if (ctx.lock) {
            const reason = error instanceof errors/* DeployError */.sH ? `${error.step}: ${error.reason}` : String(error);
            await audit(ctx, 'deploy failed', release.releaseId, reason.split('\n')[0] ?? '').catch(() => undefined);
        }
        // A release that is not live (it never switched, or was rolled back) goes: nothing
        // half-done stays behind, and a later rollback can never pick it.
        if (!ctx.switched || ctx.report.result === 'rolled back')
            await discardRelease(ctx, release.releaseId);
        throw error;
    }
    finally {
        if (!options.prepared)
            await releaseLock(ctx);
    }
}
/** The rollout or the verification failed after the switch: back to `previous`, if any. */
async function rollBackAfterFailure(ctx, error, previous) {
    // Failed before `current` moved: the previous release never stopped serving.
    if (!ctx.switched && error instanceof errors/* DeployError */.sH)
        return error;
    let rolledBack = false;
    if (!previous)
        ctx.reporter.warning(`[${ctx.session.host}] no previous release to roll back to (first deploy); the new release stays as it is`);
    else
        rolledBack = await restoreRelease(ctx, previous, error.message);
    ctx.report.result = rolledBack ? 'rolled back' : 'failed';
    const failed = error instanceof errors/* DeployError */.sH ? error : undefined;
    return new errors/* DeployError */.sH({
        task: 'deploy',
        host: ctx.session.host,
        step: failed?.step ?? 'roll out',
        reason: failed?.reason ?? error.message,
        outcome: rolledBack ? 'rolled back' : 'not rolled back',
        rolledBackTo: rolledBack ? previous : undefined
    });
}
/**
 * A later host failed: put this one, already deployed, back on its previous release and drop
 * the new one. Takes the lock again when it no longer holds it.
 */
async function undoDeploy(ctx, releaseId, why, owner) {
    const previous = ctx.report.previous;
    if (!previous) {
        ctx.reporter.warning(`[${ctx.session.host}] had no release before this deploy; it keeps the new one`);
        return false;
    }
    const reason = why.split('\n')[0] ?? '';
    const relock = !ctx.lock;
    if (relock)
        await acquireLock(ctx, `${owner}: rollback after ${reason}`);
    try {
        const restored = await restoreRelease(ctx, previous, `another host failed: ${reason}`);
        if (restored)
            await discardRelease(ctx, releaseId);
        return restored;
    }
    finally {
        if (relock)
            await releaseLock(ctx);
    }
}
/** `command: rollback` on this host: to `target`, or to the release before the live one. */
async function rollbackHost(ctx, target, owner) {
    const fail = (reason, outcome) => new errors/* DeployError */.sH({ task: 'rollback', host: ctx.session.host, step: 'rollback', reason, outcome });
    await acquireLock(ctx, owner, 'rollback');
    try {
        const current = await (0,deploy_host/* currentRelease */.BX)(ctx);
        ctx.report.previous = current;
        const ids = await (0,deploy_host/* listReleases */.tH)(ctx);
        const chosen = target ?? (current ? (0,deploy_release.previousRelease)(ids, current) : undefined);
        if (!chosen)
            throw fail(`no release before ${current ?? 'the live one'} is kept on the host`, 'nothing switched');
        if (!ids.includes(chosen))
            throw fail(`release ${chosen} is not on the host (it has: ${ids.join(', ') || 'none'})`, 'nothing switched');
        if (chosen === current) {
            ctx.reporter.info(`[${ctx.session.host}] ${chosen} is already live`);
            ctx.report.result = 'deployed';
            return chosen;
        }
        ctx.switched = true;
        if (!(await restoreRelease(ctx, chosen, `rollback from ${current ?? 'nothing'}`)))
            throw fail(`to ${chosen} failed; see the steps in the job summary`, 'not rolled back');
        return chosen;
    }
    finally {
        await releaseLock(ctx);
    }
}

// EXTERNAL MODULE: ./src/deploy/post.ts
var post = __webpack_require__(4253);
// EXTERNAL MODULE: ./src/compose/load.ts + 1 modules
var load = __webpack_require__(6008);
;// CONCATENATED MODULE: ./src/deploy/settings.ts
const DEFAULT_TIMEOUTS = {
    quick: 30,
    write: 60,
    files: 600,
    login: 60,
    pull: 900,
    dump: 1800,
    checkDump: 300,
    containers: 300,
    prune: 300,
    composeOverhead: 120,
    healthRequestMs: 5000,
    pollMs: 1000,
    healthPollMs: 250,
    lockPollMs: 3000
};

;// CONCATENATED MODULE: ./src/deploy/stage.ts


















/** The new release, read and checked before any connection is made. */
function prepareRelease(context, now) {
    const releaseIdNow = (0,deploy_release.releaseId)(now, context.sha);
    const unpinned = (0,deploy_release.unpinnedImages)(context.images);
    if (Object.keys(context.images).length === 0) {
        throw new errors/* InputError */.dz('images', 'deploy needs the images output of a build step that pushed (push: true)');
    }
    if (unpinned.length > 0) {
        throw new errors/* InputError */.dz('images', `deploys run by digest, but ${unpinned.join(', ')} ${unpinned.length > 1 ? 'have' : 'has'} no image@sha256 ref: build with push: true`);
    }
    let envFile;
    try {
        envFile = (0,deploy_release.buildEnvFile)([context.inputs.envFile, context.inputs.secrets]).text;
    }
    catch (error) {
        if (error instanceof deploy_release.EnvFileError)
            throw new errors/* InputError */.dz('env-file', error.message);
        throw error;
    }
    const secretFiles = (0,load/* loadSecretFiles */.q0)(context.files, context.secretFiles);
    const layout = (0,deploy_release.releaseLayout)(context.inputs.deployPath, context.plan.project, releaseIdNow);
    const services = new Set(context.plan.services.map(s => s.name));
    for (const [input, service] of [
        ['backup-service', context.inputs.backupService],
        ['migrate-service', context.inputs.migrateService]
    ]) {
        if (service && !services.has(service)) {
            throw new errors/* InputError */.dz(input, `unknown service "${service}"; the project has: ${[...services].join(', ')}`);
        }
    }
    const { backupService, migrateService } = context.inputs;
    return {
        releaseId: releaseIdNow,
        compose: releaseComposeOf(context.files, context.ref.profiles),
        files: context.files,
        filesOverride: (0,project_files/* filesOverrideYaml */.h5)(context.files, hostLocations(layout), (0,project_files/* secretHashes */.Z4)(secretFiles)),
        secretFiles,
        images: context.images,
        envFile,
        imagesOverride: deployOverrideYaml(context.plan, context.images),
        registry: context.registry,
        backup: backupService ? { service: backupService, keep: context.inputs.backupKeep } : undefined,
        migrate: migrateService
            ? { service: migrateService, timeoutSeconds: context.inputs.migrateTimeoutSeconds }
            : undefined,
        minFreeMiB: context.inputs.minFreeMiB
    };
}
/** What a deploy and a rollback both need on each host, from the inputs and the compose plan. */
function hostSettings(context, fallbackCompose) {
    return {
        project: context.plan.project,
        deployPath: context.inputs.deployPath,
        fallbackCompose,
        waitTimeoutSeconds: context.waitTimeoutSeconds,
        lockTimeoutSeconds: context.inputs.lockTimeoutSeconds,
        lockTtlSeconds: context.inputs.lockTtlSeconds,
        keepReleases: context.inputs.keepReleases,
        jobs: context.plan.services
            .filter(service => service.kind === 'job')
            .map(service => service.name),
        // A rollback brings the previous release's services back the same way.
        rollingServices: context.inputs.zeroDowntime ? rollingServices(context.plan) : [],
        settleSeconds: context.inputs.zeroDowntimeSettleSeconds,
        healthUrls: context.inputs.healthUrls,
        healthRetries: context.inputs.healthRetries,
        sha: context.sha,
        actor: context.actor,
        runUrl: context.runUrl,
        timeouts: DEFAULT_TIMEOUTS
    };
}
/** Who holds the lock, as the lock and the audit log record it. */
function ownerOf(context) {
    return `${context.actor}${context.runUrl ? ` (${context.runUrl})` : ''}`;
}
/** The environment's URL: the first health URL, on the first host. */
function environmentUrl(inputs) {
    const first = inputs.hosts[0];
    return first && inputs.healthUrls[0] ? healthUrlFor(inputs.healthUrls[0], first.host) : undefined;
}
async function connect(endpoint, inputs, reporter) {
    return remote/* RemoteExecutor */.Q4.open({
        target: endpoint,
        jump: inputs.jumpHost,
        privateKey: inputs.sshKey,
        knownHosts: inputs.knownHosts,
        trustOnFirstUse: inputs.trustOnFirstUse,
        tuning: { connectTimeoutSeconds: inputs.connectTimeoutSeconds },
        log: { info: message => reporter.info(message), warning: message => reporter.warning(message) },
        inputs: {
            knownHosts: 'known-hosts',
            privateKey: 'ssh-key',
            host: 'hosts',
            jumpHost: 'jump-host'
        }
    });
}
/**
 * Starts connecting to every host of a deploy or rollback, all at once, for the engine to do
 * while it reads the project; the stage then takes them (DeployContext.connections). `open`
 * makes one connection (tests give their own).
 */
function startConnections(inputs, reporter, open = endpoint => connect(endpoint, inputs, reporter)) {
    return deploy_hosts/* PendingConnections */.t.start(inputs.hosts, ssh/* endpointLabel */.md, open);
}
/**
 * The hosts of a task: connect (or take the connection already started), record for the post
 * step, and one context each, kept in `opened` (whose reports the summary shows, whether the
 * task succeeded or not).
 */
function hostsOf(context, settings, reporter, releaseId, opened) {
    return {
        endpoints: context.inputs.hosts,
        label: ssh/* endpointLabel */.md,
        connect: endpoint => context.connections?.take((0,ssh/* endpointLabel */.md)(endpoint)) ??
            connect(endpoint, context.inputs, reporter),
        post: new post/* PostStateRecorder */.u((name, value) => reporter.saveState(name, value)),
        open: (session, onLocked) => {
            const host = (0,deploy_host/* hostContext */.wA)({
                session,
                settings,
                reporter,
                runtime: composeRuntime,
                releaseId,
                onLocked
            });
            opened.push(host);
            return host;
        },
        hostOf: host => host.session.host
    };
}
/** Deploys to every host in order; on a failure, rolls back the hosts already switched. */
async function deployStage(context, reporter, now = new Date()) {
    const release = prepareRelease(context, now);
    const settings = hostSettings(context, release.compose);
    for (const secret of release.secretFiles)
        reporter.setSecret(secret.content);
    for (const folder of context.files.persistent.filter(p => p.filesHere > 0))
        reporter.warning(`${folder.relative} (mounted writable by ${folder.services.join(', ')}) has ${folder.filesHere} file(s) in the working tree; persistent folders live in shared/ on the host and start empty, so these are not copied. If they are content to ship, mark the path "release" in the paths input`);
    const owner = ownerOf(context);
    // Hosts that could not be reached, then every host that was.
    const unreached = [];
    const hosts = [];
    const reports = () => [...unreached, ...hosts.map(h => h.report)];
    try {
        await (0,deploy_hosts/* forEachHost */.n)({
            ...hostsOf(context, settings, reporter, release.releaseId, hosts),
            unreachable: (label, error) => unreached.push(notStartedReport(label, 'connect', error)),
            // Every host is reached, checked and locked before the first one changes: a problem
            // with the last host must not cost the first a needless switch and rollback.
            prepare: host => prepareHost(host, release, owner),
            run: host => deployHost(host, release, owner, { prepared: true }),
            undo: async (host, error) => {
                const rolled = await undoDeploy(host, release.releaseId, error.message, owner);
                if (rolled)
                    host.report.result = 'rolled back';
                return otherHostOutcome(host.report, rolled);
            },
            // Every lock this deploy took, released only now (each only if it is still ours).
            finish: host => releaseLock(host)
        });
    }
    finally {
        await reporter.addSummary(deploySummary(`Deploy ${release.releaseId}`, reports(), release.files));
    }
    return { releaseId: release.releaseId, reports: reports(), url: environmentUrl(context.inputs) };
}
/** What became of a host that had already deployed when a later host failed. */
function otherHostOutcome(report, rolledBack) {
    if (rolledBack)
        return { host: report.host, outcome: 'rolled back', release: report.previous };
    if (!report.previous)
        return { host: report.host, outcome: 'kept the new release', release: undefined };
    return { host: report.host, outcome: 'not rolled back', release: report.previous };
}
/** `command: rollback`: every host back to the release before the live one, or to release-id. */
async function rollbackStage(context, reporter) {
    // Each release's manifest says how compose runs it; this is only for one that does not.
    const settings = hostSettings(context, (0,deploy_release.legacyCompose)(context.ref.files));
    let target = context.inputs.releaseId;
    const opened = [];
    try {
        await (0,deploy_hosts/* forEachHost */.n)({
            ...hostsOf(context, settings, reporter, undefined, opened),
            // The first host picks the release (the one before its live one); the others follow.
            run: async (host) => {
                target = await rollbackHost(host, target, ownerOf(context));
            }
        });
    }
    finally {
        await reporter.addSummary(deploySummary(`Rollback to ${target ?? '?'}`, opened.map(h => h.report)));
    }
    return {
        releaseId: target,
        reports: opened.map(h => h.report),
        url: environmentUrl(context.inputs)
    };
}


/***/ })

};
