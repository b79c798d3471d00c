/**
 * Argv builders for the commands a deploy runs on a host (through the SSH layer, which adds
 * `set -euo pipefail`, closes stdin and quotes every argument). Pure, and table-tested: what runs
 * on production is data that a test can read.
 */
import * as path from 'node:path'
import type { ReleaseLayout } from './release.js'

/** `docker compose` for one release: its own files, env file and image pins, the project's name. */
export function remoteComposeArgs(
  layout: ReleaseLayout,
  project: string,
  composeFiles: string[]
): string[] {
  return [
    'docker',
    'compose',
    '--project-directory',
    layout.release,
    '-p',
    project,
    ...composeFiles.flatMap(file => [
      '-f',
      path.posix.join(layout.release, path.posix.basename(file))
    ]),
    '-f',
    path.posix.join(layout.release, 'images.override.yaml'),
    '--env-file',
    path.posix.join(layout.release, '.env')
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

export const lockCommands = {
  /** Fails when the lock exists: mkdir is the atomic test-and-set. */
  acquire: (layout: ReleaseLayout): string[] => ['mkdir', layout.lockDir],
  readOwner: (layout: ReleaseLayout): string[] => [
    'cat',
    path.posix.join(layout.lockDir, 'owner.json')
  ],
  /** Seconds since the lock directory was made, from the host's own clock. */
  age: (layout: ReleaseLayout): string[] => ['stat', '-c', '%Y', layout.lockDir],
  now: (): string[] => ['date', '+%s'],
  /** A stale lock is moved aside atomically, so two deploys can't both take it over. */
  moveAside: (layout: ReleaseLayout, token: string): string[] => [
    'mv',
    '-T',
    layout.lockDir,
    `${layout.lockDir}.stale-${token}`
  ],
  removeAside: (layout: ReleaseLayout, token: string): string[] => [
    'rm',
    '-rf',
    `${layout.lockDir}.stale-${token}`
  ],
  release: (layout: ReleaseLayout): string[] => ['rm', '-rf', layout.lockDir]
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
  removeReleases: (layout: ReleaseLayout, ids: string[]): string[] => [
    'rm',
    '-rf',
    ...ids.map(id => path.posix.join(layout.releases, id))
  ],
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

export const composeCommands = {
  pull: (base: string[]): string[] => [...base, 'pull', '--quiet'],
  /** One run of the migration service from the new release's image; its dependencies start as needed. */
  migrate: (base: string[], service: string): string[] => [...base, 'run', '--rm', '-T', service],
  up: (base: string[], waitTimeoutSeconds: number): string[] => [
    ...base,
    'up',
    '--detach',
    '--wait',
    '--wait-timeout',
    String(waitTimeoutSeconds),
    '--remove-orphans'
  ],
  /**
   * Containers brought to the new configuration without starting them: for the one-shot jobs
   * before a zero-downtime replacement, so that the final `up` does not recreate a job and,
   * because of it, every service that depends on the job (the api just replaced, then web).
   */
  create: (base: string[], services: string[]): string[] => [...base, 'create', ...services],
  ps: (base: string[]): string[] => [...base, 'ps', '--all', '--format', 'json'],
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
  scaleUp: (base: string[], service: string, count: number): string[] => [
    ...base,
    'up',
    '--detach',
    '--no-recreate',
    '--scale',
    `${service}=${count}`,
    service
  ],
  imageIds: (base: string[]): string[] => [...base, 'images', '--quiet']
}

/**
 * The database dump, in the container: the official postgres image's own variables name the
 * user and database, so no credentials cross the wire or appear in argv.
 */
export function pgDumpArgs(base: string[], service: string): string[] {
  return [
    ...base,
    'exec',
    '-T',
    service,
    'sh',
    '-c',
    'exec pg_dump --no-owner --username="${POSTGRES_USER:-postgres}" --dbname="${POSTGRES_DB:-${POSTGRES_USER:-postgres}}"'
  ]
}

export function backupFileName(releaseId: string, service: string): string {
  return `${releaseId}-${service}.sql.gz`
}

export const backupCommands = {
  /** gzip -t proves the file is a whole gzip stream; the size proves it is not empty. */
  verify: (file: string): string[] => ['gzip', '-t', file],
  size: (file: string): string[] => ['stat', '-c', '%s', file],
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

export const registryCommands = {
  login: (registry: string, username: string): string[] => [
    'docker',
    'login',
    registry,
    '--username',
    username,
    '--password-stdin'
  ],
  logout: (registry: string): string[] => ['docker', 'logout', registry]
}
