/**
 * Argv builders for the commands a deploy runs on a host (through the SSH layer, which adds
 * `set -euo pipefail`, closes stdin and quotes every argument). Pure, and table-tested: what runs
 * on production is data that a test can read.
 */
import * as path from 'node:path'
import { composeUpWaitArgs } from '../compose/args.js'
import { remoteScriptArgv } from '../exec/remote.js'
import { RELEASE_ID_PATTERN, type ReleaseCompose, type ReleaseLayout } from './release.js'

/**
 * `docker compose` for one release: its own project directory, files, overrides, env files
 * and profiles (as its manifest records them), the project's name, and the release's .env last.
 */
export function remoteComposeArgs(
  layout: ReleaseLayout,
  project: string,
  compose: ReleaseCompose
): string[] {
  const inRelease = (relative: string): string => path.posix.join(layout.release, relative)
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
  ]
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
].join('\n')

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
].join('\n')

/** Prints each of its arguments that does not exist on the host. */
const MISSING_PATHS_SCRIPT = 'for p in "$@"; do [ -e "$p" ] || printf "%s\\n" "$p"; done'

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
].join('\n')

/**
 * Removes folders the deploy user made, even when a shipped folder was read-only (0555: its
 * files cannot be unlinked until it is writable again). Only our own paths are ever given.
 */
function removeTreesArgv(paths: string[]): string[] {
  return remoteScriptArgv('chmod -R u+w -- "$@" 2>/dev/null || true; rm -rf -- "$@"', paths)
}

export const projectTreeCommands = {
  makeDirs: (layout: ReleaseLayout): string[] =>
    remoteScriptArgv('umask 022; mkdir -p -- "$1"; mkdir -p -m 0700 -- "$2"', [
      layout.tree,
      layout.secrets
    ]),
  linkUnchanged: (fromTree: string, layout: ReleaseLayout): string[] =>
    remoteScriptArgv(LINK_SCRIPT, [fromTree, layout.tree]),
  /** The tarball on stdin into the tree: modes as sent, owned by the deploy user. */
  extract: (layout: ReleaseLayout): string[] =>
    remoteScriptArgv('umask 022; exec tar -x -f - -C "$1" --no-same-owner --preserve-permissions', [
      layout.tree
    ]),
  makeObjects: (layout: ReleaseLayout): string[] =>
    remoteScriptArgv(OBJECTS_SCRIPT, [layout.tree, layout.store]),
  makeShared: (layout: ReleaseLayout, relatives: string[]): string[] =>
    remoteScriptArgv(SHARED_SCRIPT, [layout.shared, ...relatives]),
  missingPaths: (paths: string[]): string[] => remoteScriptArgv(MISSING_PATHS_SCRIPT, paths),
  listObjects: (layout: ReleaseLayout): string[] => ['ls', '-1', '-A', layout.store],
  removeObjects: (layout: ReleaseLayout, names: string[]): string[] =>
    removeTreesArgv(names.map(name => path.posix.join(layout.store, path.posix.basename(name))))
}

/** The local side of the upload: a tarball of the listed members (NUL-separated on stdin). */
export function createTarballArgv(root: string): string[] {
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
  ]
}

export const preflightCommands = {
  dockerVersion: (): string[] => ['docker', 'version', '--format', '{{.Server.Version}}'],
  composeVersion: (): string[] => ['docker', 'compose', 'version', '--short'],
  diskFree: (dir: string): string[] => ['df', '-Pk', dir],
  makeDirs: (layout: ReleaseLayout): string[] => ['mkdir', '-p', layout.releases, layout.backups],
  writable: (layout: ReleaseLayout): string[] => ['test', '-w', layout.root]
}

/** Free space in KiB from `df -Pk` (POSIX format: the 4th column of the second line). */
export function parseDiskFree(output: string): number | undefined {
  const line = output.trim().split('\n')[1]
  const available = line?.trim().split(/\s+/)[3]
  return available && /^\d+$/.test(available) ? Number(available) : undefined
}

export const releaseCommands = {
  makeRelease: (layout: ReleaseLayout): string[] => ['mkdir', '-p', layout.release],
  listReleases: (layout: ReleaseLayout): string[] => ['ls', '-1', layout.releases],
  /** The live release's id, or nothing on a first deploy. */
  readCurrent: (layout: ReleaseLayout): string[] => ['readlink', layout.current],
  /** Points `current` at a release atomically: a new link, renamed over the old one. */
  linkNew: (layout: ReleaseLayout, target: string): string[] => [
    'ln',
    '-sfn',
    target,
    `${layout.current}.new`
  ],
  switchCurrent: (layout: ReleaseLayout): string[] => [
    'mv',
    '-T',
    `${layout.current}.new`,
    layout.current
  ],
  removeReleases: (layout: ReleaseLayout, ids: string[]): string[] =>
    removeTreesArgv(ids.map(id => path.posix.join(layout.releases, id))),
  /** By image@digest ref: a ref still used by a container, or by another tag, is refused, not forced. */
  removeImages: (refs: string[]): string[] => ['docker', 'image', 'rm', ...refs],
  /** Appends stdin to the audit log (no shell redirection needed). */
  appendAudit: (layout: ReleaseLayout): string[] => [
    'dd',
    `of=${layout.auditLog}`,
    'oflag=append',
    'conv=notrunc',
    'status=none'
  ]
}

function scaledToZero(jobs: readonly string[]): string[] {
  return jobs.flatMap(job => ['--scale', `${job}=0`])
}

export const composeCommands = {
  pull: (base: string[]): string[] => [...base, 'pull', '--quiet'],
  /** One run of the migration service from the new release's image; its dependencies start as needed. */
  migrate: (base: string[], service: string): string[] => [...base, 'run', '--rm', '-T', service],
  /**
   * `jobsDone`: one-shot jobs that already ran for this release (the migration, run on its own
   * before the switch). Compose starts a one-shot job again on every `up` (docker/compose
   * #11808, #11590), so they are scaled to 0: their old containers go, and compose does not wait
   * for a dependency with no containers.
   */
  up: (base: string[], waitTimeoutSeconds: number, jobsDone: readonly string[] = []): string[] => [
    ...composeUpWaitArgs(base, waitTimeoutSeconds),
    '--remove-orphans',
    ...scaledToZero(jobsDone)
  ],
  /**
   * Containers brought to the new configuration without starting them: for the one-shot jobs
   * before a zero-downtime replacement, so that the final `up` does not recreate a job and,
   * because of it, every service that depends on the job (the api just replaced, then web).
   */
  create: (base: string[], services: string[]): string[] => [...base, 'create', ...services],
  /**
   * The hash compose labels a service's containers with; a different one means compose would
   * recreate them. (It matches for containers that `up` made without --no-deps: see scaleUp.)
   */
  configHash: (base: string[], service: string): string[] => [...base, 'config', '--hash', service],
  /**
   * New containers next to the running ones (--no-recreate leaves those as they are). Never
   * --no-deps: compose hashes a service's configuration without its depends_on then, and the
   * next plain `up` would recreate the container it made.
   */
  scaleUp: (
    base: string[],
    service: string,
    count: number,
    jobsDone: readonly string[] = []
  ): string[] => [
    ...base,
    'up',
    '--detach',
    '--no-recreate',
    '--scale',
    `${service}=${count}`,
    ...scaledToZero(jobsDone),
    service
  ]
}

/**
 * The database dump, in the running container: the official postgres image's own variables
 * name the user and database, so no credentials cross the wire or appear in argv. `docker exec`
 * on the container compose made (containerCommands.running), not `compose exec`: the live
 * release's compose files need not be read, and a compose start is a second on a busy host.
 */
export function pgDumpArgs(container: string): string[] {
  return [
    'docker',
    'exec',
    container,
    'sh',
    '-c',
    'exec pg_dump --no-owner --username="${POSTGRES_USER:-postgres}" --dbname="${POSTGRES_DB:-${POSTGRES_USER:-postgres}}"'
  ]
}

export function backupFileName(releaseId: string, service: string): string {
  return `${releaseId}-${service}.sql.gz`
}

/** backupFileName's parts back (a release id has no "-" after its commit); else undefined. */
export function parseBackupFileName(
  name: string
): { releaseId: string; service: string } | undefined {
  const match = new RegExp(`^(${RELEASE_ID_PATTERN})-(.+)\\.sql\\.gz$`).exec(name.trim())
  return match ? { releaseId: match[1] as string, service: match[2] as string } : undefined
}

export const backupCommands = {
  list: (layout: ReleaseLayout): string[] => ['ls', '-1', layout.backups],
  remove: (layout: ReleaseLayout, files: string[]): string[] => [
    'rm',
    '-f',
    ...files.map(file => path.posix.join(layout.backups, path.posix.basename(file)))
  ]
}

export const containerCommands = {
  /** A service's containers in one project: id, config hash, state. */
  list: (project: string, service: string): string[] => [
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
  running: (project: string, service: string): string[] => [
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
  health: (ids: string[]): string[] => [
    'docker',
    'inspect',
    '--format',
    '{{.Id}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}',
    ...ids
  ],
  /** Stops with each container's own grace period (compose sets it from stop_grace_period). */
  stop: (ids: string[]): string[] => ['docker', 'stop', ...ids],
  remove: (ids: string[]): string[] => ['docker', 'rm', '--force', ...ids]
}
