/**
 * The release on a deploy host, as data. Everything lives under `<deploy-path>/<project>/`:
 *
 *   releases/<release-id>/   manifest.json, .env (mode 0600), images.override.yaml, files.override.yaml
 *     project/               the files the compose project references, laid out as in the repository
 *     secrets/               secret files (0400)
 *   current -> releases/<release-id>    the live release (a symlink, switched atomically)
 *   shared/                  persistent folders (writable bind mounts), kept across releases
 *   store/                   bind-mounted material by content (<hash>-<name>); see compose/project-files.ts
 *   backups/                 <release-id>-<service>.sql.gz database dumps
 *   audit.log                one JSON line per deploy and rollback
 *   .lock/                   the deploy lock: owner.json, token, heartbeat, busy/ (see host-lock.ts)
 *   .lock.flock              what the lock scripts flock while they change .lock/
 */
import * as path from 'node:path'
import type { ImageMap } from '../build/images.js'

export interface ReleaseLayout {
  root: string
  releases: string
  release: string
  current: string
  backups: string
  auditLog: string
  lockDir: string
  /** The release's copy of the project tree. */
  tree: string
  secrets: string
  shared: string
  store: string
}

/** Releases made before ids had milliseconds (`20261121T220130Z-1a2b3c4`) stay valid. */
/** A release id's shape (see releaseId), for the patterns that contain one. */
export const RELEASE_ID_PATTERN = String.raw`\d{8}T\d{6}(?:\.\d{3})?Z-[0-9a-z]{1,12}`
const RELEASE_ID = new RegExp(`^${RELEASE_ID_PATTERN}$`)

/**
 * `20261121T220130.123Z-1a2b3c4`: sortable by time, says which commit it is, and to the
 * millisecond, so that two deploys of one commit in the same second never share a release
 * folder (deploys to one host are serialized by its lock, and each takes far longer than 1 ms).
 */
export function releaseId(now: Date, sha: string): string {
  const stamp = now.toISOString().replace(/[-:]/g, '')
  const short = (sha.slice(0, 7) || 'nogit').toLowerCase()
  return `${stamp}-${short}`
}

export function isReleaseId(value: string): boolean {
  return RELEASE_ID.test(value)
}

export function releaseLayout(deployPath: string, project: string, id: string): ReleaseLayout {
  const root = path.posix.join(deployPath, project)
  return {
    root,
    releases: path.posix.join(root, 'releases'),
    release: path.posix.join(root, 'releases', id),
    current: path.posix.join(root, 'current'),
    backups: path.posix.join(root, 'backups'),
    auditLog: path.posix.join(root, 'audit.log'),
    lockDir: path.posix.join(root, '.lock'),
    tree: path.posix.join(root, 'releases', id, 'project'),
    secrets: path.posix.join(root, 'releases', id, 'secrets'),
    shared: path.posix.join(root, 'shared'),
    store: path.posix.join(root, 'store')
  }
}

export interface Manifest {
  release: string
  project: string
  /** service -> image@digest: what this release runs. */
  images: Record<string, string>
  sha: string
  actor: string
  createdAt: string
  runUrl: string | undefined
  /** Base names at the release's root (releases made before the project tree). */
  composeFiles: string[]
  /** How compose runs this release; absent in releases made before the project tree. */
  compose?: ReleaseCompose
  /** The project tree: path -> `<sha256>:<mode>` (`link:<sha256>` for a symlink). No secrets. */
  files?: Record<string, string>
  /** Store objects the release mounts (kept while a release needs them). */
  objects?: string[]
  /** Persistent folders (relative to shared/). */
  persistent?: string[]
  /** Names of the secret files the release carries; never their content. */
  secrets?: string[]
  backup?: { service: string; file: string; bytes: number }
}

/** How `docker compose` addresses one release on a host. Paths are relative to the release. */
export interface ReleaseCompose {
  /** compose's project directory. */
  projectDirectory: string
  composeFiles: string[]
  /** `--env-file`s before the release's own .env (the project's .env, for interpolation). */
  envFiles: string[]
  /** Our overrides after the user's files: image pins, then file locations. */
  overrides: string[]
  profiles: string[]
}

/** Compose for a release made before the project tree: flat files at the release's root. */
export function legacyCompose(composeFiles: string[]): ReleaseCompose {
  return {
    projectDirectory: '.',
    composeFiles: composeFiles.map(file => path.posix.basename(file)),
    envFiles: [],
    overrides: ['images.override.yaml'],
    profiles: []
  }
}

/** The manifest never holds secrets: image refs, git and run facts only. */
export function buildManifest(fields: Omit<Manifest, 'images'> & { images: ImageMap }): Manifest {
  const images: Record<string, string> = {}
  for (const [service, built] of Object.entries(fields.images)) images[service] = built.ref
  return { ...fields, images }
}

/**
 * Deploys run by digest: a release refuses images that were not pushed (a ref without
 * @sha256), because a tag can move between staging and production.
 */
export function unpinnedImages(images: ImageMap): string[] {
  return Object.entries(images)
    .filter(([, built]) => !/@sha256:[0-9a-f]{64}$/.test(built.ref))
    .map(([service]) => service)
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/

export class EnvFileError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'EnvFileError'
  }
}

/**
 * The release's .env from the `env-file` input (KEY=value lines) and secrets (KEY=value lines,
 * each value masked by the caller). Later entries win. Values are written in compose's env-file
 * syntax with single quotes, so `$`, `#`, spaces and backslashes reach the container as written
 * (checked against compose 2.26: inside single quotes only \' is an escape).
 */
export function buildEnvFile(sources: string[]): { text: string; values: Record<string, string> } {
  const values: Record<string, string> = {}
  for (const source of sources) {
    for (const [index, rawLine] of source.split(/\r?\n/).entries()) {
      const line = rawLine.trim()
      if (line === '' || line.startsWith('#')) continue
      const eq = line.indexOf('=')
      const key = (eq > 0 ? line.slice(0, eq) : line).replace(/^export\s+/, '').trim()
      if (eq <= 0 || !ENV_KEY.test(key)) {
        throw new EnvFileError(
          `line ${index + 1} is not KEY=value (${key ? `key "${key}"` : 'no key'})`
        )
      }
      let value = line.slice(eq + 1)
      const quoted = /^(['"])(.*)\1$/.exec(value)
      if (quoted) value = quoted[2] as string
      // Compose reads single-quoted values literally except for \' (a quote): a backslash
      // right before a quote, or at the end, cannot be written unambiguously.
      if (/\\$|\\'/.test(value)) {
        throw new EnvFileError(
          `the value of ${key} has a backslash before a quote or at its end, which compose's env-file syntax cannot carry`
        )
      }
      values[key] = value
    }
  }
  const text = Object.entries(values)
    .map(([key, value]) => `${key}='${value.replace(/'/g, "\\'")}'`)
    .join('\n')
  return { text: text ? `${text}\n` : '', values }
}

/** Releases to delete: all but the newest `keep`, never the live one nor the one being deployed. */
export function releasesToPrune(ids: string[], keep: number, protect: string[]): string[] {
  const sorted = ids.filter(isReleaseId).sort()
  const kept = new Set([...sorted.slice(Math.max(0, sorted.length - keep)), ...protect])
  return sorted.filter(id => !kept.has(id))
}

/**
 * Images to delete with the releases being pruned: the refs their manifests list that no kept
 * release (nor the one being deployed) still runs. Only refs from our own manifests, so only
 * this project's built images are ever touched: never a base image, never another project's.
 */
export function imagesToPrune(
  removed: (Partial<Pick<Manifest, 'images'>> | undefined)[],
  kept: (Partial<Pick<Manifest, 'images'>> | undefined)[]
): string[] {
  const keep = new Set(kept.flatMap(manifest => Object.values(manifest?.images ?? {})))
  const refs = new Set(
    removed
      .flatMap(manifest => Object.values(manifest?.images ?? {}))
      .filter(ref => /@sha256:[0-9a-f]{64}$/.test(ref) && !keep.has(ref))
  )
  return [...refs].sort()
}

/** The release before `current` in time order, for a rollback. */
export function previousRelease(ids: string[], current: string): string | undefined {
  const sorted = ids.filter(isReleaseId).sort()
  const index = sorted.indexOf(current)
  return index > 0 ? sorted[index - 1] : undefined
}
