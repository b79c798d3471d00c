import type { GitContext } from './git-context.js'

export type CacheChoice = 'auto' | 'gha' | 'registry' | 'none'
export type CacheBackend = 'gha' | 'registry' | 'none'
export type CacheMode = 'min' | 'max'
export type CacheWritePolicy = 'always' | 'default-branch' | 'never'

/** GitHub's cache service is reachable from a job when the runner hands out its token. */
export function githubCacheAvailable(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.ACTIONS_RUNTIME_TOKEN && (env.ACTIONS_CACHE_URL || env.ACTIONS_RESULTS_URL))
}

/** `auto` is GitHub's cache on GitHub, else a registry cache when there is a registry, else none. */
export function resolveCacheBackend(
  choice: CacheChoice,
  env: NodeJS.ProcessEnv,
  hasRegistry: boolean
): CacheBackend {
  if (choice !== 'auto') return choice
  if (githubCacheAvailable(env)) return 'gha'
  return hasRegistry ? 'registry' : 'none'
}

/** Whether this build may write the cache; reads are always allowed. */
export function cacheWriteAllowed(policy: CacheWritePolicy, ctx: GitContext): boolean {
  if (policy === 'never') return false
  if (policy === 'always') return true
  return (
    ctx.pullRequest === undefined &&
    ctx.defaultBranch !== undefined &&
    ctx.ref === `refs/heads/${ctx.defaultBranch}`
  )
}

export interface CacheSettings {
  cacheFrom: string[]
  cacheTo: string[]
}

/**
 * Cache import and export for one service. Each service has a cache of its own (a gha scope
 * `<project>-<service>`, or a registry tag `buildcache-<service>` in the service's own
 * repository), so one service's cache never evicts or overwrites another's. Exports carry
 * ignore-error=true: a cache that cannot be reached costs speed, never the build.
 */
export function cacheSettings(
  backend: CacheBackend,
  target: { project: string; service: string; repository: string },
  mode: CacheMode,
  write: boolean
): CacheSettings {
  if (backend === 'none') return { cacheFrom: [], cacheTo: [] }
  const from =
    backend === 'gha'
      ? `type=gha,scope=${target.project}-${target.service}`
      : `type=registry,ref=${target.repository}:buildcache-${target.service}`
  return {
    cacheFrom: [from],
    cacheTo: write ? [`${from},mode=${mode},ignore-error=true`] : []
  }
}

/**
 * What the current builder can do with a cache. Docker's built-in `docker` driver imports
 * registry caches but exports none, and knows nothing of gha; a docker-container builder
 * (docker/setup-buildx-action) does both.
 */
export function adaptCacheToDriver(
  settings: CacheSettings,
  backend: CacheBackend,
  driver: string
): { settings: CacheSettings; dropped: string | undefined } {
  if (driver !== 'docker' || backend === 'none') return { settings, dropped: undefined }
  if (backend === 'gha') {
    return {
      settings: { cacheFrom: [], cacheTo: [] },
      dropped: 'the "docker" buildx driver cannot use the GitHub Actions cache'
    }
  }
  return {
    settings: { cacheFrom: settings.cacheFrom, cacheTo: [] },
    dropped:
      settings.cacheTo.length > 0
        ? 'the "docker" buildx driver can read but not write a registry cache'
        : undefined
  }
}
