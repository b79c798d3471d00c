export const id = 272;
export const ids = [272];
export const modules = {

/***/ 2272:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  deployStage: () => (/* binding */ deployStage),
  otherHostOutcome: () => (/* binding */ otherHostOutcome),
  prepareDeployPlan: () => (/* binding */ prepareDeployPlan),
  rollbackStage: () => (/* binding */ rollbackStage)
});

// EXTERNAL MODULE: ./src/exec/remote.ts + 2 modules
var remote = __webpack_require__(9018);
// EXTERNAL MODULE: ./src/exec/ssh.ts
var ssh = __webpack_require__(9451);
// EXTERNAL MODULE: ./src/errors.ts
var errors = __webpack_require__(3916);
// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: ./src/compose/args.ts
var args = __webpack_require__(6563);
;// CONCATENATED MODULE: ./src/deploy/commands.ts
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
    const inRelease = (relative) => external_node_path_.posix.join(layout.release, relative);
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
    return (0,remote/* remoteScriptArgv */.MO)('chmod -R u+w -- "$@" 2>/dev/null || true; rm -rf -- "$@"', paths);
}
const projectTreeCommands = {
    makeDirs: (layout) => (0,remote/* remoteScriptArgv */.MO)('umask 022; mkdir -p -- "$1"; mkdir -p -m 0700 -- "$2"', [
        layout.tree,
        layout.secrets
    ]),
    linkUnchanged: (fromTree, layout) => (0,remote/* remoteScriptArgv */.MO)(LINK_SCRIPT, [fromTree, layout.tree]),
    /** The tarball on stdin into the tree: modes as sent, owned by the deploy user. */
    extract: (layout) => (0,remote/* remoteScriptArgv */.MO)('umask 022; exec tar -x -f - -C "$1" --no-same-owner --preserve-permissions', [
        layout.tree
    ]),
    makeObjects: (layout) => (0,remote/* remoteScriptArgv */.MO)(OBJECTS_SCRIPT, [layout.tree, layout.store]),
    makeShared: (layout, relatives) => (0,remote/* remoteScriptArgv */.MO)(SHARED_SCRIPT, [layout.shared, ...relatives]),
    missingPaths: (paths) => (0,remote/* remoteScriptArgv */.MO)(MISSING_PATHS_SCRIPT, paths),
    listObjects: (layout) => ['ls', '-1', '-A', layout.store],
    removeObjects: (layout, names) => removeTreesArgv(names.map(name => external_node_path_.posix.join(layout.store, external_node_path_.posix.basename(name))))
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
const lockCommands = {
    /** Fails when the lock exists: mkdir is the atomic test-and-set. */
    acquire: (layout) => ['mkdir', layout.lockDir],
    readOwner: (layout) => [
        'cat',
        external_node_path_.posix.join(layout.lockDir, 'owner.json')
    ],
    /** Seconds since the lock directory was made, from the host's own clock. */
    age: (layout) => ['stat', '-c', '%Y', layout.lockDir],
    now: () => ['date', '+%s'],
    /** A stale lock is moved aside atomically, so two deploys can't both take it over. */
    moveAside: (layout, token) => [
        'mv',
        '-T',
        layout.lockDir,
        `${layout.lockDir}.stale-${token}`
    ],
    removeAside: (layout, token) => [
        'rm',
        '-rf',
        `${layout.lockDir}.stale-${token}`
    ],
    release: (layout) => ['rm', '-rf', layout.lockDir]
};
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
    removeReleases: (layout, ids) => removeTreesArgv(ids.map(id => external_node_path_.posix.join(layout.releases, id))),
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
const composeCommands = {
    pull: (base) => [...base, 'pull', '--quiet'],
    /** One run of the migration service from the new release's image; its dependencies start as needed. */
    migrate: (base, service) => [...base, 'run', '--rm', '-T', service],
    up: (base, waitTimeoutSeconds) => [
        ...(0,args/* composeUpWaitArgs */.ok)(base, waitTimeoutSeconds),
        '--remove-orphans'
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
    scaleUp: (base, service, count) => [
        ...base,
        'up',
        '--detach',
        '--no-recreate',
        '--scale',
        `${service}=${count}`,
        service
    ]
};
/**
 * The database dump, in the container: the official postgres image's own variables name the
 * user and database, so no credentials cross the wire or appear in argv.
 */
function pgDumpArgs(base, service) {
    return [
        ...base,
        'exec',
        '-T',
        service,
        'sh',
        '-c',
        'exec pg_dump --no-owner --username="${POSTGRES_USER:-postgres}" --dbname="${POSTGRES_DB:-${POSTGRES_USER:-postgres}}"'
    ];
}
function backupFileName(releaseId, service) {
    return `${releaseId}-${service}.sql.gz`;
}
const backupCommands = {
    /** gzip -t proves the file is a whole gzip stream; the size proves it is not empty. */
    verify: (file) => ['gzip', '-t', file],
    size: (file) => ['stat', '-c', '%s', file],
    list: (layout) => ['ls', '-1', layout.backups],
    remove: (layout, files) => [
        'rm',
        '-f',
        ...files.map(file => external_node_path_.posix.join(layout.backups, external_node_path_.posix.basename(file)))
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

// EXTERNAL MODULE: ./src/exec/executor.ts + 1 modules
var executor = __webpack_require__(6168);
// EXTERNAL MODULE: ./src/exec/websocket.ts
var websocket = __webpack_require__(3982);
// EXTERNAL MODULE: ./src/exec/time.ts
var time = __webpack_require__(5760);
// EXTERNAL MODULE: ./src/exec/docker.ts
var docker = __webpack_require__(4709);
// EXTERNAL MODULE: ./src/compose/project-files.ts
var project_files = __webpack_require__(3907);
;// CONCATENATED MODULE: ./src/deploy/release-files.ts
/**
 * The project's files on a host, as data: how compose addresses a release, which files are
 * sent and which are hard-linked from the live release, where objects, persistent folders and
 * secrets are, and what the summary says about them. Pure; deploy.ts runs the commands.
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

// EXTERNAL MODULE: ./src/deploy/lock.ts
var lock = __webpack_require__(4332);
// EXTERNAL MODULE: ./src/deploy/release.ts
var release = __webpack_require__(466);
;// CONCATENATED MODULE: ./src/deploy/deploy.ts
/**
 * The deploy stage, per host, in order:
 *
 *   preflight → lock → upload release → registry login → pull → backup → migrate →
 *   switch current + up --wait → verify → (on failure after the switch: roll back) → prune → unlock
 *
 * Several hosts deploy one at a time; the first host that fails stops the deploy, and the hosts
 * already switched are rolled back. Nothing here builds shell text: commands are argv from
 * ./commands.ts, sent through a HostSession (./session.ts; over SSH, src/exec/remote.ts).
 */














/** Substitutes {host} in a health URL. */
function healthUrlFor(template, host) {
    return template.replace(/\{host\}/g, host.includes(':') ? `[${host}]` : host);
}
/** Backups to delete: all dumps of this service but the newest `keep`. */
function backupsToPrune(files, service, keep) {
    const own = files.filter(file => file.endsWith(`-${service}.sql.gz`)).sort();
    return own.slice(0, Math.max(0, own.length - keep));
}
/**
 * A fixed script, values as "$1" and "$@": dumps through gzip into a temp file beside the
 * target and renames it, so a failed dump never leaves a file that looks like a backup.
 */
const BACKUP_SCRIPT = 'out=$1; shift; tmp=$(mktemp "$out.XXXXXX"); trap \'rm -f "$tmp"\' EXIT; "$@" | gzip -c > "$tmp"; mv -f "$tmp" "$out"; trap - EXIT';
class HostDeployment {
    remote;
    plan;
    reporter;
    now;
    onLocked;
    report;
    layout;
    token = (0,external_node_crypto_.randomBytes)(8).toString('hex');
    locked = false;
    switched = false;
    constructor(remote, plan, reporter, now = () => new Date(), 
    /** Told when a lock is taken, so that the post step can release it after a cancellation. */
    onLocked) {
        this.remote = remote;
        this.plan = plan;
        this.reporter = reporter;
        this.now = now;
        this.onLocked = onLocked;
        this.layout = (0,release.releaseLayout)(plan.deployPath, plan.project, plan.releaseId);
        this.report = {
            host: remote.host,
            result: 'not started',
            steps: [],
            backup: undefined,
            migrationOutput: '',
            previous: undefined
        };
    }
    get base() {
        return remoteComposeArgs(this.layout, this.plan.project, this.plan.compose);
    }
    /**
     * Compose for another release (the live one, for a backup or a rollback): its own files,
     * overrides and profiles, as its manifest records them, since releases can differ.
     */
    async baseOf(id) {
        const manifest = await this.readManifest(id);
        const compose = manifest?.compose ??
            (Array.isArray(manifest?.composeFiles) && manifest.composeFiles.length > 0
                ? (0,release.legacyCompose)(manifest.composeFiles)
                : // No readable manifest: assume the same layout as this release.
                    this.plan.compose);
        return remoteComposeArgs((0,release.releaseLayout)(this.plan.deployPath, this.plan.project, id), this.plan.project, compose);
    }
    /** Runs one named step, times it, and turns any failure into a DeployError naming host and step. */
    async step(name, body) {
        const started = Date.now();
        this.reporter.info(`[${this.remote.host}] ${name}`);
        try {
            const value = await body();
            this.report.steps.push({
                step: name,
                seconds: (Date.now() - started) / 1000,
                ok: true,
                detail: ''
            });
            return value;
        }
        catch (error) {
            const message = error.message;
            this.report.steps.push({
                step: name,
                seconds: (Date.now() - started) / 1000,
                ok: false,
                detail: message.split('\n')[0] ?? ''
            });
            if (error instanceof errors/* DeployError */.sH)
                throw error;
            throw new errors/* DeployError */.sH({
                task: 'deploy',
                host: this.remote.host,
                step: name,
                reason: message,
                // Until the switch, the previous release never stopped serving.
                outcome: this.switched ? 'not rolled back' : 'nothing switched'
            });
        }
    }
    async preflight() {
        await this.step('preflight', async () => {
            await this.remote.runChecked(preflightCommands.dockerVersion(), 'docker version', {
                timeoutSeconds: 30
            });
            const compose = await this.remote.run(preflightCommands.composeVersion(), {
                timeoutSeconds: 30
            });
            if (compose.exitCode !== 0 || !/^v?2\./.test(compose.stdout.trim())) {
                throw new Error('Docker Compose v2 is not installed on the host (docker compose version failed); install the docker-compose-plugin package');
            }
            await this.remote.runChecked(preflightCommands.makeDirs(this.layout), 'create the deploy path', { timeoutSeconds: 30 });
            const writable = await this.remote.run(preflightCommands.writable(this.layout), {
                timeoutSeconds: 30
            });
            if (writable.exitCode !== 0)
                throw new Error(`${this.layout.root} is not writable by the deploy user`);
            const df = await this.remote.runChecked(preflightCommands.diskFree(this.layout.root), 'free disk', { timeoutSeconds: 30 });
            const freeKiB = parseDiskFree(df.stdout);
            if (freeKiB !== undefined && freeKiB < this.plan.minFreeMiB * 1024) {
                throw new Error(`only ${Math.round(freeKiB / 1024)} MiB free under ${this.layout.root}; need ${this.plan.minFreeMiB} MiB (min-free-disk)`);
            }
            await this.checkHostPaths();
        });
    }
    /**
     * Paths the compose files name absolutely are the host's own: a read-only one must exist
     * (Docker would make an empty root-owned folder in its place); a writable one Docker makes.
     */
    async checkHostPaths() {
        const hostPaths = this.plan.files?.hostPaths ?? [];
        if (hostPaths.length === 0)
            return;
        const result = await this.remote.runChecked(projectTreeCommands.missingPaths(hostPaths.map(h => h.path)), 'check the host paths', { timeoutSeconds: 30 });
        const missing = new Set(result.stdout.split('\n').filter(Boolean));
        const absent = hostPaths.filter(h => missing.has(h.path));
        for (const h of absent.filter(h => !h.required))
            this.reporter.warning(`[${this.remote.host}] ${h.path} (${h.usedBy}) does not exist on the host; Docker will create it as an empty folder owned by root`);
        const required = absent.filter(h => h.required);
        if (required.length > 0)
            throw new Error(`${required.map(h => `${h.path} (${h.usedBy})`).join(', ')} ${required.length > 1 ? 'do' : 'does'} not exist on ${this.remote.host}; these are host paths (written absolute in the compose files): create them there first`);
    }
    async lock(owner) {
        await this.step('lock', async () => {
            const deadline = Date.now() + this.plan.lockTimeoutSeconds * 1000;
            let holder = 'another deploy';
            for (;;) {
                const made = await this.remote.run(lockCommands.acquire(this.layout), {
                    timeoutSeconds: 30
                });
                if (made.exitCode === 0) {
                    const record = {
                        token: this.token,
                        owner,
                        runUrl: this.plan.runUrl,
                        acquiredAt: this.now().toISOString(),
                        ttlSeconds: this.plan.lockTtlSeconds
                    };
                    this.locked = true;
                    this.onLocked?.({
                        ssh: this.remote.state(),
                        lockDir: this.layout.lockDir,
                        token: this.token
                    });
                    await this.remote.writeFile(external_node_path_.posix.join(this.layout.lockDir, 'owner.json'), JSON.stringify(record), 0o644, { step: 'write the lock owner', timeoutSeconds: 30 });
                    return;
                }
                const ownerText = await this.remote.run(lockCommands.readOwner(this.layout), {
                    timeoutSeconds: 30
                });
                const [mtime, hostNow] = await Promise.all([
                    this.remote.run(lockCommands.age(this.layout), { timeoutSeconds: 30 }),
                    this.remote.run(lockCommands.now(), { timeoutSeconds: 30 })
                ]);
                const age = Number(hostNow.stdout.trim()) - Number(mtime.stdout.trim());
                const decision = (0,lock/* decideOnHeldLock */.ys)((0,lock/* parseLockOwner */.Gl)(ownerText.stdout), this.now(), Number.isFinite(age) ? age : 0, this.plan.lockTtlSeconds);
                holder = decision.holder;
                if (decision.action === 'take-over') {
                    this.reporter.warning(`[${this.remote.host}] taking over a stale deploy lock held by ${decision.holder}: ${decision.reason}`);
                    const aside = await this.remote.run(lockCommands.moveAside(this.layout, this.token), {
                        timeoutSeconds: 30
                    });
                    if (aside.exitCode === 0)
                        await this.remote.run(lockCommands.removeAside(this.layout, this.token), {
                            timeoutSeconds: 60
                        });
                    continue;
                }
                if (Date.now() >= deadline) {
                    throw new Error(`the deploy lock is held by ${holder}; gave up after ${this.plan.lockTimeoutSeconds}s (lock-timeout)`);
                }
                await (0,time/* sleep */.y)(Math.min(3000, Math.max(0, deadline - Date.now())));
            }
        });
    }
    /** Removes our own lock only: the token in owner.json must be ours. */
    async unlock() {
        if (!this.locked)
            return;
        const ownerText = await this.remote.run(lockCommands.readOwner(this.layout), {
            timeoutSeconds: 30
        });
        if ((0,lock/* parseLockOwner */.Gl)(ownerText.stdout)?.token === this.token) {
            await this.remote.run(lockCommands.release(this.layout), { timeoutSeconds: 30 });
        }
        else {
            this.reporter.warning(`[${this.remote.host}] the deploy lock is no longer ours (taken over?); leaving it`);
        }
        this.locked = false;
    }
    async currentRelease() {
        const link = await this.remote.run(releaseCommands.readCurrent(this.layout), {
            timeoutSeconds: 30
        });
        const id = link.exitCode === 0 ? external_node_path_.posix.basename(link.stdout.trim()) : '';
        return (0,release.isReleaseId)(id) ? id : undefined;
    }
    /**
     * The release on the host: our own files (.env 0600, the overrides), the secret files
     * (0400), then the project tree: the live release's unchanged files hard-linked, the rest
     * sent as one tarball on the same connection; then the store objects and the persistent
     * folders; the manifest last, so a release with a manifest is whole.
     */
    async upload(manifest, previous) {
        await this.step('upload', async () => {
            // The live release's manifest says which files can be hard-linked; read it meanwhile.
            const [, before] = await Promise.all([
                this.remote.runChecked(projectTreeCommands.makeDirs(this.layout), 'create the release directory', { timeoutSeconds: 30 }),
                previous && this.plan.files ? this.readManifest(previous) : undefined
            ]);
            const write = (name, content, mode, step) => this.remote.writeFile(external_node_path_.posix.join(this.layout.release, name), content, mode, {
                step,
                timeoutSeconds: 60
            });
            // Independent files, written at once over the one connection (its session limit applies).
            await Promise.all([
                write(IMAGES_OVERRIDE, this.plan.imagesOverride, 0o644),
                write(FILES_OVERRIDE, this.plan.filesOverride, 0o644),
                write('.env', this.plan.envFile, 0o600, 'write the env file'),
                ...this.plan.secretFiles.map(secret => this.remote.writeFile(external_node_path_.posix.join(this.layout.secrets, secret.name), secret.content, 0o400, { step: `write the secret file ${secret.name}`, timeoutSeconds: 60 })),
                this.uploadTree(previous, before?.files)
            ]);
            await this.writeManifest(manifest);
        });
    }
    async uploadTree(previous, before) {
        const files = this.plan.files;
        if (!files)
            return;
        if (files.extraComposeFiles.length > 0) {
            await this.remote.runChecked(['mkdir', '-p', external_node_path_.posix.join(this.layout.tree, project_files/* EXTRA_COMPOSE_DIR */.WV)], 'create the release directory', { timeoutSeconds: 30 });
            await Promise.all(files.extraComposeFiles.map(file => this.remote.writeFile(external_node_path_.posix.join(this.layout.tree, file.relative), external_node_fs_.readFileSync(file.absolute, 'utf8'), 0o644, { timeoutSeconds: 60 })));
        }
        const { link, send } = splitUnchanged(files.entries, before);
        let notLinked = [];
        if (link.length > 0 && previous) {
            const linked = await this.remote.runChecked(projectTreeCommands.linkUnchanged((0,release.releaseLayout)(this.plan.deployPath, this.plan.project, previous).tree, this.layout), 'link unchanged files', { input: linkListText(link), timeoutSeconds: 300 });
            notLinked = linked.stdout.split('\n').filter(Boolean);
        }
        const toSend = [...send, ...link.filter(entry => notLinked.includes(entry.path))];
        let bytesSent = 0;
        if (toSend.length > 0) {
            const tarball = await (0,executor/* runForBytes */.cn)(createTarballArgv(files.root), tarMemberList(toSend), files.root);
            if (tarball.exitCode !== 0)
                throw new Error(`tar of the project files failed here: ${(0,executor/* lastLines */.w$)(tarball.stderr, 3)}`);
            bytesSent = tarball.stdout.length;
            await this.remote.runChecked(projectTreeCommands.extract(this.layout), 'unpack the files', {
                input: tarball.stdout,
                timeoutSeconds: 600
            });
        }
        this.report.files = {
            sent: toSend.filter(entry => entry.type !== 'dir').length,
            linked: link.length - notLinked.length,
            bytesSent
        };
        await Promise.all([
            files.objects.length > 0
                ? this.remote.runChecked(projectTreeCommands.makeObjects(this.layout), 'store objects', {
                    input: objectListText(files),
                    timeoutSeconds: 300
                })
                : undefined,
            files.persistent.length > 0
                ? this.remote.runChecked(projectTreeCommands.makeShared(this.layout, files.persistent.map(p => p.relative)), 'create the persistent folders', { timeoutSeconds: 60 })
                : undefined
        ]);
    }
    async writeManifest(manifest) {
        await this.remote.writeFile(external_node_path_.posix.join(this.layout.release, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, 0o644, { timeoutSeconds: 60 });
    }
    async pull() {
        await this.step('pull', async () => {
            const registry = this.plan.registry;
            if (registry) {
                await this.remote.runChecked((0,docker/* loginArgs */.b)(registry.host, registry.username), 'registry login', { input: registry.password, timeoutSeconds: 60 });
            }
            try {
                await this.remote.runChecked(composeCommands.pull(this.base), 'pull images', {
                    timeoutSeconds: 900
                });
            }
            finally {
                if (registry)
                    await this.remote.run((0,docker/* logoutArgs */.m)(registry.host), { timeoutSeconds: 30 });
            }
        });
    }
    /**
     * Dumps the database of the live release (if any), before anything changes. A database that
     * is not running, a failed dump or an empty one stops the deploy before it migrates: only a
     * first deploy (nothing live) and `backup: false` (no backup service) go without.
     */
    async backup(manifest, previous) {
        const service = this.plan.backupService;
        if (!service || !previous)
            return;
        await this.step('backup', async () => {
            const base = await this.baseOf(previous);
            // A stopped stack has no live database to dump (its volume is untouched by the deploy).
            const running = await this.remote.run([...base, 'ps', '--status', 'running', '--quiet', service], {
                timeoutSeconds: 60
            });
            // No migration without a backup: a stopped database is a reason to stop, not to skip.
            if (running.exitCode !== 0 || running.stdout.trim() === '') {
                throw new Error(`${service} of the live release ${previous} is not running, so no backup can be taken before the migration; start it, or deploy with backup: false`);
            }
            const file = external_node_path_.posix.join(this.layout.backups, backupFileName(this.plan.releaseId, service));
            await this.remote.runScript(BACKUP_SCRIPT, [file, ...pgDumpArgs(base, service)], 'pg_dump', {
                timeoutSeconds: 1800
            });
            await this.remote.runChecked(backupCommands.verify(file), 'check the backup', {
                timeoutSeconds: 300
            });
            const size = Number((await this.remote.runChecked(backupCommands.size(file), 'backup size', {
                timeoutSeconds: 30
            })).stdout.trim());
            // gzip of an empty dump is about 20 bytes; a real pg_dump has a header of several hundred.
            if (!(size > 100))
                throw new Error(`the backup ${file} is empty (${size} bytes)`);
            manifest.backup = { service, file, bytes: size };
            this.report.backup = manifest.backup;
            await this.writeManifest(manifest);
            const listing = await this.remote.run(backupCommands.list(this.layout), {
                timeoutSeconds: 30
            });
            const old = backupsToPrune(listing.stdout.split('\n').filter(Boolean), service, this.plan.backupKeep);
            if (old.length > 0)
                await this.remote.run(backupCommands.remove(this.layout, old), { timeoutSeconds: 60 });
        });
    }
    async migrate() {
        const service = this.plan.migrateService;
        if (!service)
            return;
        await this.step('migrate', async () => {
            const result = await this.remote.run(composeCommands.migrate(this.base, service), {
                timeoutSeconds: this.plan.migrateTimeoutSeconds,
                step: 'migrate'
            });
            this.report.migrationOutput = `${result.stdout}${result.stderr}`
                .trim()
                .split('\n')
                .slice(-40)
                .join('\n');
            if (result.exitCode !== 0) {
                throw new Error(`the migration (service ${service}) exited with code ${result.exitCode}; the previous release keeps serving. Last lines: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
            }
        });
    }
    async switchTo(id) {
        const target = external_node_path_.posix.join(this.layout.releases, id);
        await this.remote.runChecked(releaseCommands.linkNew(this.layout, target), 'link the release', {
            timeoutSeconds: 30
        });
        await this.remote.runChecked(releaseCommands.switchCurrent(this.layout), 'switch current', {
            timeoutSeconds: 30
        });
    }
    async rollout() {
        await this.step('roll out', async () => {
            await this.switchTo(this.plan.releaseId);
            this.switched = true;
            await this.bringUp(this.base, 'compose up --wait');
        });
    }
    /**
     * Brings the release that `base` addresses up: first the zero-downtime services, one at a
     * time, each new container healthy before its old one stops; then compose brings the rest
     * up (it leaves the replaced ones alone: their containers already have the new
     * configuration). Used by the rollout and by every rollback.
     */
    async bringUp(base, step) {
        // The jobs' new containers first, without starting them: otherwise `up` recreates the
        // migration job (new image), and compose recreates everything that depends on it.
        if (this.plan.rollingServices.length > 0 && this.plan.jobs.length > 0)
            await this.remote.runChecked(composeCommands.create(base, this.plan.jobs), 'compose create (jobs)', {
                timeoutSeconds: 300
            });
        for (const service of this.plan.rollingServices)
            await this.rollService(base, service);
        await this.remote.runChecked(composeCommands.up(base, this.plan.waitTimeoutSeconds), step, {
            timeoutSeconds: this.plan.waitTimeoutSeconds + 120
        });
    }
    /** Replaces `service` new-container-first, when compose would recreate it. */
    async rollService(base, service) {
        const [hash, listing] = await Promise.all([
            this.remote.runChecked(composeCommands.configHash(base, service), 'compose config --hash', {
                timeoutSeconds: 60
            }),
            this.remote.runChecked(containerCommands.list(this.plan.project, service), 'docker ps', {
                timeoutSeconds: 30
            })
        ]);
        // `config --hash api` prints "api <hash>".
        const newHash = hash.stdout.trim().split(/\s+/).pop() ?? '';
        const decision = decideRoll(parseContainers(listing.stdout), newHash);
        if (decision.action === 'skip')
            return;
        const old = decision.old.map(c => c.id);
        this.reporter.info(`[${this.remote.host}] ${service}: starting the new container next to the old one (zero-downtime)`);
        await this.remote.runChecked(composeCommands.scaleUp(base, service, decision.scaleTo), `start the new ${service}`, { timeoutSeconds: this.plan.waitTimeoutSeconds + 120 });
        // Started (and in Docker's DNS) from here on, not from before `up`, which may first
        // have run a job the service depends on.
        const started = Date.now();
        const after = await this.remote.runChecked(containerCommands.list(this.plan.project, service), 'docker ps', { timeoutSeconds: 30 });
        const fresh = parseContainers(after.stdout)
            .map(c => c.id)
            .filter(id => !old.includes(id));
        try {
            await this.waitHealthy(service, fresh);
        }
        catch (error) {
            // The old containers never stopped: take the new ones away, and the release fails.
            await this.remote.run(containerCommands.remove(fresh), { timeoutSeconds: 120 });
            throw error;
        }
        // Proxies that cache the service's DNS answer (the reference stack's nginx: 2 s) must have
        // seen the new address before the old one goes away (zero-downtime-settle).
        await (0,time/* sleep */.y)(Math.max(0, started + this.plan.settleSeconds * 1000 - Date.now()));
        await this.remote.runChecked(containerCommands.stop(old), `stop the old ${service}`, {
            timeoutSeconds: 300
        });
        await this.remote.run(containerCommands.remove(old), { timeoutSeconds: 60 });
    }
    /** Until every one of `ids` is healthy; fails at once on one that exits or turns unhealthy. */
    async waitHealthy(service, ids) {
        if (ids.length === 0)
            throw new Error(`compose started no new ${service} container`);
        const deadline = Date.now() + this.plan.waitTimeoutSeconds * 1000;
        for (;;) {
            const inspect = await this.remote.run(containerCommands.health(ids), { timeoutSeconds: 30 });
            const states = parseHealth(inspect.stdout);
            const bad = states.find(s => s.status !== 'running' || s.health === 'unhealthy');
            if (bad)
                throw new Error(`the new ${service} container is ${bad.status === 'running' ? 'unhealthy' : bad.status}; the old one kept serving`);
            if (states.length === ids.length && states.every(s => s.health === 'healthy'))
                return;
            if (Date.now() >= deadline)
                throw new Error(`the new ${service} container was not healthy within ${this.plan.waitTimeoutSeconds}s (wait-timeout); the old one kept serving`);
            await (0,time/* sleep */.y)(1000);
        }
    }
    async verify() {
        if (this.plan.healthUrls.length === 0)
            return;
        await this.step('verify', async () => {
            for (const template of this.plan.healthUrls) {
                const url = healthUrlFor(template, this.remote.address);
                let last = '';
                let ok = false;
                for (let attempt = 0; attempt <= this.plan.healthRetries && !ok; attempt++) {
                    if (attempt > 0)
                        await (0,time/* sleep */.y)(1000);
                    if (/^wss?:\/\//.test(url)) {
                        // A WebSocket endpoint: the upgrade must answer 101.
                        const check = await (0,websocket/* checkWebSocket */.e)(url, { timeoutMs: 5000 });
                        ok = check.ok;
                        last = check.detail;
                        continue;
                    }
                    try {
                        const response = await fetch(url, {
                            signal: AbortSignal.timeout(5000),
                            redirect: 'manual'
                        });
                        ok = response.status >= 200 && response.status < 300;
                        last = `HTTP ${response.status}`;
                    }
                    catch (error) {
                        last = error.message;
                    }
                }
                if (!ok)
                    throw new Error(`health check ${url} failed after ${this.plan.healthRetries + 1} attempts: ${last}`);
            }
        });
    }
    /** Back to `previous` after this host's own rollout failed: switch current, bring it up, record it. */
    async rollback(previous, why) {
        if (!this.switched)
            return false;
        if (!previous) {
            this.reporter.warning(`[${this.remote.host}] no previous release to roll back to (first deploy); the new release stays as it is`);
            return false;
        }
        return this.restore(previous, why);
    }
    async restore(id, why) {
        try {
            await this.step(`roll back to ${id}`, async () => {
                await this.switchTo(id);
                await this.bringUp(await this.baseOf(id), 'compose up --wait (rollback)');
            });
            await this.verify();
            await this.audit('rollback', id, why);
            this.report.result = 'rolled back';
            return true;
        }
        catch (error) {
            this.reporter.error(`[${this.remote.host}] rollback to ${id} failed: ${error.message}`);
            return false;
        }
    }
    /** A later host failed: put this one, already deployed and unlocked, back on its previous release. */
    async rollbackAfterOtherHostFailed(why) {
        const previous = this.report.previous;
        if (!previous) {
            this.reporter.warning(`[${this.remote.host}] had no release before this deploy; it keeps the new one`);
            return false;
        }
        // A multi-host deploy still holds this host's lock; otherwise it is taken again.
        const relock = !this.locked;
        if (relock)
            await this.lock(`rollback after: ${why.split('\n')[0]}`);
        try {
            const restored = await this.restore(previous, `another host failed: ${why.split('\n')[0]}`);
            if (restored)
                await this.discardRelease();
            return restored;
        }
        finally {
            if (relock)
                await this.unlock();
        }
    }
    /** `command: rollback`: to `target`, or to the release before the live one. Returns the release. */
    async rollbackTo(target, owner) {
        await this.lock(owner);
        try {
            const current = await this.currentRelease();
            this.report.previous = current;
            const listing = await this.remote.run(releaseCommands.listReleases(this.layout), {
                timeoutSeconds: 30
            });
            const ids = listing.stdout.split('\n').filter(release.isReleaseId);
            const chosen = target ?? (current ? (0,release.previousRelease)(ids, current) : undefined);
            if (!chosen) {
                throw new errors/* DeployError */.sH({
                    task: 'rollback',
                    host: this.remote.host,
                    step: 'rollback',
                    reason: `no release before ${current ?? 'the live one'} is kept on the host`,
                    outcome: 'nothing switched'
                });
            }
            if (!ids.includes(chosen)) {
                throw new errors/* DeployError */.sH({
                    task: 'rollback',
                    host: this.remote.host,
                    step: 'rollback',
                    reason: `release ${chosen} is not on the host (it has: ${ids.join(', ') || 'none'})`,
                    outcome: 'nothing switched'
                });
            }
            if (chosen === current) {
                this.reporter.info(`[${this.remote.host}] ${chosen} is already live`);
                this.report.result = 'deployed';
                return chosen;
            }
            this.switched = true;
            if (!(await this.restore(chosen, `rollback from ${current ?? 'nothing'}`))) {
                throw new errors/* DeployError */.sH({
                    task: 'rollback',
                    host: this.remote.host,
                    step: 'rollback',
                    reason: `to ${chosen} failed; see the steps in the job summary`,
                    outcome: 'not rolled back'
                });
            }
            return chosen;
        }
        finally {
            await this.unlock();
        }
    }
    async audit(action, release, detail) {
        const line = `${JSON.stringify({ time: this.now().toISOString(), action, release, actor: this.plan.actor, sha: this.plan.sha, run: this.plan.runUrl, detail })}\n`;
        await this.remote.run(releaseCommands.appendAudit(this.layout), {
            input: line,
            timeoutSeconds: 30
        });
    }
    async prune() {
        await this.step('prune', async () => {
            const listing = await this.remote.run(releaseCommands.listReleases(this.layout), {
                timeoutSeconds: 30
            });
            const ids = listing.stdout.split('\n').filter(release.isReleaseId);
            const old = (0,release.releasesToPrune)(ids, this.plan.keepReleases, [
                this.plan.releaseId,
                this.report.previous ?? ''
            ]);
            if (old.length === 0)
                return;
            // Read before the folders go: which images only the pruned releases ran.
            const manifests = new Map(await Promise.all(ids.map(async (id) => [id, await this.readManifest(id)])));
            const images = (0,release.imagesToPrune)(old.map(id => manifests.get(id)), ids.filter(id => !old.includes(id)).map(id => manifests.get(id)));
            await this.remote.runChecked(releaseCommands.removeReleases(this.layout, old), 'remove old releases', { timeoutSeconds: 120 });
            await this.pruneObjects(ids.filter(id => !old.includes(id)).map(id => manifests.get(id)));
            if (images.length === 0) {
                this.reporter.info(`[${this.remote.host}] removed ${old.length} old release(s); their images are still in use`);
                return;
            }
            const removed = await this.remote.run(releaseCommands.removeImages(images), {
                timeoutSeconds: 300
            });
            // An image still in use (or already gone) stays as it is: pruning never fails a deploy.
            const refused = removed.stderr
                .split('\n')
                .filter(line => line.trim() && !/No such image/i.test(line));
            if (refused.length > 0)
                this.reporter.warning(`[${this.remote.host}] some old images were kept: ${refused.slice(0, 3).join(' | ')}`);
            this.reporter.info(`[${this.remote.host}] removed ${old.length} old release(s) and ${images.length - refused.length} of their ${images.length} image ref(s)`);
        });
    }
    /**
     * Store objects that no kept release mounts. Only when every kept manifest could be read:
     * an object a release still needs is never taken away on a guess.
     */
    async pruneObjects(kept) {
        if (kept.some(manifest => manifest === undefined))
            return;
        const listing = await this.remote.run(projectTreeCommands.listObjects(this.layout), {
            timeoutSeconds: 30
        });
        if (listing.exitCode !== 0)
            return;
        const unused = objectsToPrune(listing.stdout.split('\n').filter(Boolean), kept.map(manifest => manifest?.objects));
        if (unused.length > 0)
            await this.remote.runChecked(projectTreeCommands.removeObjects(this.layout, unused), 'remove unused store objects', { timeoutSeconds: 120 });
    }
    /** A release's manifest on the host; undefined when it is missing or unreadable. */
    async readManifest(id) {
        const layout = (0,release.releaseLayout)(this.plan.deployPath, this.plan.project, id);
        const text = await this.remote.run(['cat', external_node_path_.posix.join(layout.release, 'manifest.json')], {
            timeoutSeconds: 30
        });
        try {
            return text.exitCode === 0 ? JSON.parse(text.stdout) : undefined;
        }
        catch {
            return undefined;
        }
    }
    /**
     * The whole pipeline on this host; throws a DeployError after rolling back when it can.
     * `prepared`: preflight and lock were done already (a multi-host deploy checks and locks
     * every host first), and the caller releases the lock.
     */
    async deploy(owner, options = {}) {
        if (!options.prepared) {
            await this.preflight();
            await this.lock(owner);
        }
        try {
            const previous = await this.currentRelease();
            this.report.previous = previous;
            const manifest = (0,release.buildManifest)({
                release: this.plan.releaseId,
                project: this.plan.project,
                images: this.plan.images,
                sha: this.plan.sha,
                actor: this.plan.actor,
                createdAt: this.now().toISOString(),
                runUrl: this.plan.runUrl,
                composeFiles: this.plan.compose.composeFiles,
                compose: this.plan.compose,
                ...(this.plan.files
                    ? {
                        files: manifestFileMap(this.plan.files.entries),
                        objects: this.plan.files.objects.map(o => o.name),
                        persistent: this.plan.files.persistent.map(p => p.relative),
                        secrets: this.plan.secretFiles.map(s => s.name)
                    }
                    : {})
            });
            await this.upload(manifest, previous);
            // The pull touches nothing that runs and the backup reads the live database: they can
            // overlap. Both are awaited before anything fails, so no work is left running.
            const [pulled, backedUp] = await Promise.allSettled([
                this.pull(),
                this.backup(manifest, previous)
            ]);
            for (const outcome of [pulled, backedUp])
                if (outcome.status === 'rejected')
                    throw outcome.reason;
            await this.migrate();
            try {
                await this.rollout();
                await this.verify();
            }
            catch (error) {
                const rolledBack = await this.rollback(previous, error.message);
                this.report.result = rolledBack ? 'rolled back' : 'failed';
                const failed = error instanceof errors/* DeployError */.sH ? error : undefined;
                throw new errors/* DeployError */.sH({
                    task: 'deploy',
                    host: this.remote.host,
                    step: failed?.step ?? 'roll out',
                    reason: failed?.reason ?? error.message,
                    outcome: rolledBack ? 'rolled back' : 'not rolled back',
                    rolledBackTo: rolledBack ? previous : undefined
                });
            }
            await this.audit('deploy', this.plan.releaseId, previous ? `from ${previous}` : 'first deploy');
            this.report.result = 'deployed';
            await this.prune();
        }
        catch (error) {
            if (this.report.result === 'not started')
                this.report.result = 'failed';
            // A release that is not live (it never switched, or was rolled back) goes: nothing
            // half-done stays behind, and a later rollback can never pick it.
            if (!this.switched || this.report.result === 'rolled back')
                await this.discardRelease();
            throw error;
        }
        finally {
            if (!options.prepared)
                await this.unlock();
        }
    }
    /** Removes this deploy's release folder, unless `current` points at it. Never fails. */
    async discardRelease() {
        if ((await this.currentRelease().catch(() => this.plan.releaseId)) === this.plan.releaseId)
            return;
        await this.remote
            .run(releaseCommands.removeReleases(this.layout, [this.plan.releaseId]), {
            timeoutSeconds: 120
        })
            .catch(() => undefined);
    }
}
/** The job summary: per host, each step with its duration, the backup, the migration output, the result. */
function deploySummary(releaseId, reports, files) {
    const blocks = reports.map(report => {
        const rows = report.steps.map(s => `| ${s.ok ? '✅' : '❌'} ${s.step} | ${s.seconds.toFixed(1)}s | ${s.detail.replace(/\|/g, '\\|')} |`);
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
    return [
        `### Deploy ${releaseId}`,
        '',
        ...(files ? [filesSummary(files), ''] : []),
        ...blocks
    ].join('\n');
}

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

// EXTERNAL MODULE: ./src/compose/load.ts + 1 modules
var load = __webpack_require__(6008);
;// CONCATENATED MODULE: ./src/deploy/stage.ts










/** Everything a host needs, read and checked before any connection is made. */
function prepareDeployPlan(context, now) {
    const releaseIdNow = (0,release.releaseId)(now, context.sha);
    const unpinned = (0,release.unpinnedImages)(context.images);
    if (Object.keys(context.images).length === 0) {
        throw new errors/* InputError */.dz('images', 'deploy needs the images output of a build step that pushed (push: true)');
    }
    if (unpinned.length > 0) {
        throw new errors/* InputError */.dz('images', `deploys run by digest, but ${unpinned.join(', ')} ${unpinned.length > 1 ? 'have' : 'has'} no image@sha256 ref: build with push: true`);
    }
    let envFile;
    try {
        envFile = (0,release.buildEnvFile)([context.inputs.envFile, context.inputs.secrets]).text;
    }
    catch (error) {
        if (error instanceof release.EnvFileError)
            throw new errors/* InputError */.dz('env-file', error.message);
        throw error;
    }
    const secretFiles = (0,load/* loadSecretFiles */.q0)(context.files, context.secretFiles);
    const layout = (0,release.releaseLayout)(context.inputs.deployPath, context.plan.project, releaseIdNow);
    const services = new Set(context.plan.services.map(s => s.name));
    for (const [input, service] of [
        ['backup-service', context.inputs.backupService],
        ['migrate-service', context.inputs.migrateService]
    ]) {
        if (service && !services.has(service)) {
            throw new errors/* InputError */.dz(input, `unknown service "${service}"; the project has: ${[...services].join(', ')}`);
        }
    }
    return {
        ...hostSettings(context, releaseComposeOf(context.files, context.ref.profiles)),
        releaseId: releaseIdNow,
        files: context.files,
        filesOverride: (0,project_files/* filesOverrideYaml */.h5)(context.files, hostLocations(layout), (0,project_files/* secretHashes */.Z4)(secretFiles)),
        secretFiles,
        images: context.images,
        envFile,
        imagesOverride: deployOverrideYaml(context.plan, context.images),
        registry: context.registry,
        backupService: context.inputs.backupService,
        migrateService: context.inputs.migrateService,
        minFreeMiB: context.inputs.minFreeMiB
    };
}
/** What a deploy and a rollback both need on each host, from the inputs and the compose plan. */
function hostSettings(context, compose) {
    return {
        project: context.plan.project,
        deployPath: context.inputs.deployPath,
        compose,
        backupKeep: context.inputs.backupKeep,
        migrateTimeoutSeconds: context.inputs.migrateTimeoutSeconds,
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
        runUrl: context.runUrl
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
/** Deploys to every host in order; on a failure, rolls back the hosts already switched. */
async function deployStage(context, reporter, now = new Date()) {
    const plan = prepareDeployPlan(context, now);
    for (const secret of plan.secretFiles)
        reporter.setSecret(secret.content);
    for (const folder of context.files.persistent.filter(p => p.filesHere > 0))
        reporter.warning(`${folder.relative} (mounted writable by ${folder.services.join(', ')}) has ${folder.filesHere} file(s) in the working tree; persistent folders live in shared/ on the host and start empty, so these are not copied. If they are content to ship, mark the path "release" in the paths input`);
    const owner = ownerOf(context);
    const reports = [];
    const done = [];
    const remotes = [];
    const hosts = [];
    const locks = [];
    try {
        // Every host is reached (its key pinned, its address answering), checked and locked
        // before the first one changes: a problem with the last host must not cost the first a
        // needless switch and rollback in production.
        for (const endpoint of context.inputs.hosts) {
            const remote = await connect(endpoint, context.inputs, reporter).catch((error) => {
                reports.push({
                    host: (0,ssh/* endpointLabel */.md)(endpoint),
                    result: 'not started',
                    steps: [
                        { step: 'connect', seconds: 0, ok: false, detail: error.message.split('\n')[0] ?? '' }
                    ],
                    backup: undefined,
                    migrationOutput: '',
                    previous: undefined
                });
                throw error;
            });
            remotes.push(remote);
            reporter.saveState('ssh', JSON.stringify(remotes.map(r => r.state())));
            hosts.push(new HostDeployment(remote, plan, reporter, undefined, lock => {
                locks.push(lock);
                reporter.saveState('deploy-locks', JSON.stringify(locks));
            }));
        }
        for (const host of hosts) {
            try {
                await host.preflight();
                await host.lock(owner);
            }
            catch (error) {
                reports.push(host.report);
                throw error;
            }
        }
        for (const [index, host] of hosts.entries()) {
            try {
                await host.deploy(owner, { prepared: true });
                reports.push(host.report);
                done.push({ remote: remotes[index], host });
            }
            catch (error) {
                reports.push(host.report);
                throw error;
            }
        }
    }
    catch (error) {
        // Put the hosts that were already switched back on the release they had.
        const outcomes = [];
        for (const { host } of done.reverse()) {
            const rolled = await host.rollbackAfterOtherHostFailed(error.message);
            host.report.result = rolled ? 'rolled back' : host.report.result;
            outcomes.push(otherHostOutcome(host.report, rolled));
        }
        await reporter.addSummary(deploySummary(plan.releaseId, reports, plan.files));
        // The failing host's own outcome stays its own: what became of the others is a field of
        // its own, never mixed into the failing host's (a status once read it as "rolled back").
        if (outcomes.length === 0)
            throw error;
        if (error instanceof errors/* DeployError */.sH)
            throw error.withOtherHosts(outcomes.reverse());
        // A host that failed before its pipeline ran (it could not be reached): the same fields.
        const failed = reports[reports.length - 1];
        throw new errors/* DeployError */.sH({
            task: 'deploy',
            host: failed?.host ?? 'a host',
            step: failed?.steps[failed.steps.length - 1]?.step ?? 'connect',
            reason: error.message,
            outcome: 'nothing switched',
            otherHosts: outcomes.reverse()
        });
    }
    finally {
        // Every lock this deploy took, released only now (each only if it is still ours).
        for (const host of hosts)
            await host.unlock().catch(() => undefined);
        for (const remote of remotes)
            await remote.dispose();
        reporter.saveState('ssh', '');
        reporter.saveState('deploy-locks', '');
    }
    await reporter.addSummary(deploySummary(plan.releaseId, reports, plan.files));
    return { releaseId: plan.releaseId, reports, url: environmentUrl(context.inputs) };
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
    const reports = [];
    let target = context.inputs.releaseId;
    const remotes = [];
    // Like a deploy's: the post step of a cancelled rollback releases them.
    const locks = [];
    try {
        for (const endpoint of context.inputs.hosts) {
            const remote = await connect(endpoint, context.inputs, reporter);
            remotes.push(remote);
            reporter.saveState('ssh', JSON.stringify(remotes.map(r => r.state())));
            const plan = {
                ...prepareRollbackPlan(context),
                releaseId: target ?? 'pending'
            };
            const host = new HostDeployment(remote, plan, reporter, undefined, lock => {
                locks.push(lock);
                reporter.saveState('deploy-locks', JSON.stringify(locks));
            });
            const chosen = await host.rollbackTo(target, ownerOf(context));
            target ??= chosen;
            reports.push(host.report);
        }
    }
    finally {
        for (const remote of remotes)
            await remote.dispose();
        reporter.saveState('ssh', '');
        reporter.saveState('deploy-locks', '');
        await reporter.addSummary(deploySummary(`rollback to ${target ?? '?'}`, reports));
    }
    return { releaseId: target, reports, url: environmentUrl(context.inputs) };
}
function prepareRollbackPlan(context) {
    return {
        // Each release's manifest says how compose runs it; this is only for one that does not.
        ...hostSettings(context, (0,release.legacyCompose)(context.ref.files)),
        files: undefined,
        filesOverride: '',
        secretFiles: [],
        images: {},
        envFile: '',
        imagesOverride: '',
        registry: undefined,
        backupService: undefined,
        migrateService: undefined,
        minFreeMiB: 0
    };
}


/***/ })

};
