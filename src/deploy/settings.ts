/**
 * What a host needs to run a deploy, a rollback or a day-2 command, split in two: the host
 * settings every task shares (from the inputs and the compose plan), and the release a deploy
 * ships. A rollback has no release of its own: it names one that is already on the host.
 */
import type { ImageMap } from '../build/images.js'
import type { ProjectFiles } from '../compose/project-files.js'
import type { ReleaseCompose } from './release.js'

/**
 * Seconds each kind of host command may take before the SSH layer stops it. One place, so a
 * slow host is tuned here (or from an input), never by hunting literals through the steps.
 */
export interface StepTimeouts {
  /** A quick look or change: cat, ls, readlink, mkdir, mv, ln, stat, df, docker ps. */
  quick: number
  /** Writing one file (content on stdin). */
  write: number
  /** Unpacking the release's tarball; hard-linking and storing its files. */
  files: number
  /** A registry login or logout. */
  login: number
  /** `compose pull` of every image. */
  pull: number
  /** The database dump. */
  dump: number
  /** gzip -t of the dump. */
  checkDump: number
  /** `compose create` of the jobs; `docker stop` of replaced containers. */
  containers: number
  /** Removing old releases, images and store objects. */
  prune: number
  /** Extra seconds for compose itself on top of wait-timeout (it starts, then waits). */
  composeOverhead: number
  /** One health-URL request from the runner, in milliseconds. */
  healthRequestMs: number
  /** Between two health-URL attempts. */
  pollMs: number
  /** Between two looks at a new container's health (a cheap docker inspect). */
  healthPollMs: number
  /** Between two tries of a held lock (capped by what is left of lock-timeout). */
  lockPollMs: number
}

export const DEFAULT_TIMEOUTS: StepTimeouts = {
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
}

/** What every task on a host shares: where the project lives and how it is brought up. */
export interface HostSettings {
  project: string
  deployPath: string
  /**
   * How compose addresses a release whose manifest does not say (releases made before the
   * manifest recorded it, or an unreadable manifest).
   */
  fallbackCompose: ReleaseCompose
  waitTimeoutSeconds: number
  lockTimeoutSeconds: number
  lockTtlSeconds: number
  keepReleases: number
  /** The one-shot jobs (services others wait on to complete). */
  jobs: string[]
  /** Services replaced with no downtime (new container first); see ./rolling.ts. */
  rollingServices: string[]
  /** At least this long between a new container's start and its old one's stop (DNS caches). */
  settleSeconds: number
  /** URLs checked from the runner after a rollout; `{host}` is replaced by the host's address. */
  healthUrls: string[]
  healthRetries: number
  /** Who and what, for the lock owner record and the audit log. */
  sha: string
  actor: string
  runUrl: string | undefined
  timeouts: StepTimeouts
}

/** A deploy's new release: what is uploaded, pulled, backed up before and migrated. */
export interface DeployRelease {
  releaseId: string
  /** How compose addresses the new release. */
  compose: ReleaseCompose
  /** The files the project references (compose/project-files.ts). */
  files: ProjectFiles
  /** files.override.yaml: bind mounts, secrets and configs at their places on the host. */
  filesOverride: string
  /** Secret files' contents (sent on stdin, written 0400; never logged). */
  secretFiles: { name: string; content: string }[]
  images: ImageMap
  /** The release's .env text (secrets included: written with mode 0600, never logged). */
  envFile: string
  /** The compose override that pins every service to its image@digest. */
  imagesOverride: string
  registry: { host: string; username: string; password: string } | undefined
  /** The database dumped before the migration; undefined with backup: false. */
  backup: { service: string; keep: number } | undefined
  migrate: { service: string; timeoutSeconds: number } | undefined
  minFreeMiB: number
}
