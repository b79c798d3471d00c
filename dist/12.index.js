export const id = 12;
export const ids = [12];
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

/***/ 1012:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   readHostReleases: () => (/* binding */ readHostReleases),
/* harmony export */   releaseEntries: () => (/* binding */ releaseEntries),
/* harmony export */   releasesMarkdown: () => (/* binding */ releasesMarkdown),
/* harmony export */   renderReleasesText: () => (/* binding */ renderReleasesText)
/* harmony export */ });
/* harmony import */ var _deploy_commands_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(9353);
/* harmony import */ var _deploy_host_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(2325);
/* harmony import */ var _report_markdown_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(4285);
/**
 * `command: releases`: each host's releases, newest first, the live one marked, with what each
 * manifest says (commit, actor, time, images) and the backups taken for it (the dump of the
 * database that was live before that release migrated). Read-only: no lock is taken.
 */



/**
 * The releases of one host, newest first, from what the host lists. `backupFiles` are the
 * names in backups/; a backup belongs to the release it was taken for.
 */
function releaseEntries(ids, live, manifests, backupFiles, backupsDir) {
    const backups = new Map();
    for (const name of [...backupFiles].sort()) {
        const parsed = (0,_deploy_commands_js__WEBPACK_IMPORTED_MODULE_0__/* .parseBackupFileName */ .Hs)(name);
        if (!parsed)
            continue;
        const recorded = manifests.get(parsed.releaseId)?.backup;
        const file = `${backupsDir}/${name}`;
        const list = backups.get(parsed.releaseId) ?? [];
        list.push({
            service: parsed.service,
            file,
            bytes: recorded && recorded.file === file ? recorded.bytes : undefined
        });
        backups.set(parsed.releaseId, list);
    }
    return [...ids]
        .sort()
        .reverse()
        .map(id => {
        const manifest = manifests.get(id);
        return {
            id,
            live: id === live,
            sha: manifest?.sha,
            actor: manifest?.actor,
            createdAt: manifest?.createdAt,
            runUrl: manifest?.runUrl,
            images: manifest?.images ?? {},
            backups: backups.get(id) ?? [],
            complete: manifest !== undefined
        };
    });
}
/** Reads one host's releases: the listing, `current`, every manifest and the backups. */
async function readHostReleases(ctx) {
    const [ids, live, backupListing] = await Promise.all([
        (0,_deploy_host_js__WEBPACK_IMPORTED_MODULE_1__/* .listReleases */ .tH)(ctx),
        (0,_deploy_host_js__WEBPACK_IMPORTED_MODULE_1__/* .currentRelease */ .BX)(ctx),
        ctx.session.run(_deploy_commands_js__WEBPACK_IMPORTED_MODULE_0__/* .backupCommands */ .RI.list(ctx.layout), {
            timeoutSeconds: ctx.settings.timeouts.quick
        })
    ]);
    const manifests = await (0,_deploy_host_js__WEBPACK_IMPORTED_MODULE_1__/* .readManifests */ .PX)(ctx, ids);
    // No backups/ folder yet (nothing deployed with a backup) is an empty list.
    const backupFiles = backupListing.exitCode === 0 ? backupListing.stdout.split('\n') : [];
    return {
        host: ctx.session.host,
        live,
        releases: releaseEntries(ids, live, manifests, backupFiles, ctx.layout.backups)
    };
}
const shortSha = (sha) => (sha ? oneLine(sha.slice(0, 7)) : '?');
/**
 * A manifest's text on one line, without control characters: a manifest is a file on the host,
 * and what it says must neither split a line nor drive the terminal (escape sequences).
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it removes
const oneLine = (text) => text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
/** One line per release, each prefixed with its host: what the CLI prints. */
function renderReleasesText(hosts) {
    const lines = [];
    for (const host of hosts) {
        if (host.releases.length === 0)
            lines.push(`[${host.host}] no releases`);
        for (const release of host.releases) {
            const backups = release.backups.map(b => `backup ${b.service}: ${b.file}`);
            const parts = [
                `${release.live ? '*' : ' '} ${release.id}`,
                release.complete
                    ? `${shortSha(release.sha)} by ${oneLine(release.actor ?? '?')} at ${oneLine(release.createdAt ?? '?')}`
                    : 'no manifest (incomplete)',
                ...backups
            ];
            lines.push(`[${host.host}] ${parts.join('  ')}`);
        }
    }
    return `${lines.join('\n')}\n`;
}
/** A manifest's text in a table cell: report/markdown's escaping, after oneLine. */
const cell = (text) => (0,_report_markdown_js__WEBPACK_IMPORTED_MODULE_2__/* .tableCell */ .x)(oneLine(text));
/** The job summary: a table per host. */
function releasesMarkdown(hosts) {
    const parts = ['## Releases\n'];
    for (const host of hosts) {
        parts.push(`### ${cell(host.host)}\n`);
        if (host.releases.length === 0) {
            parts.push('No releases.\n');
            continue;
        }
        parts.push('| | Release | Commit | By | At | Backups |', '|---|---|---|---|---|---|');
        for (const release of host.releases)
            parts.push(`| ${release.live ? 'live' : ''} | \`${release.id}\` | ${release.complete ? (0,_report_markdown_js__WEBPACK_IMPORTED_MODULE_2__/* .codeCell */ .M)(shortSha(release.sha)) : 'no manifest'} | ${cell(release.actor ?? '')} | ${cell(release.createdAt ?? '')} | ${release.backups.map(b => (0,_report_markdown_js__WEBPACK_IMPORTED_MODULE_2__/* .codeCell */ .M)(oneLine(b.file))).join('<br>')} |`);
        parts.push('');
    }
    return `${parts.join('\n')}\n`;
}


/***/ })

};
