import type { GitContext } from './git-context.js'
import { parseSemverTag } from './tags.js'

/**
 * OCI annotations for every built image. `created` is the commit's time, not the build's:
 * the same commit then yields the same image config and digest, so a rebuild with no change
 * does not make deploys recreate containers.
 */
export function ociLabels(
  ctx: GitContext,
  service: string,
  commitTime: string | undefined
): Record<string, string> {
  const labels: Record<string, string> = { 'org.opencontainers.image.title': service }
  if (ctx.repositoryUrl) labels['org.opencontainers.image.source'] = ctx.repositoryUrl
  if (ctx.sha) labels['org.opencontainers.image.revision'] = ctx.sha
  if (commitTime) labels['org.opencontainers.image.created'] = commitTime
  const version = imageVersion(ctx)
  if (version) labels['org.opencontainers.image.version'] = version
  return labels
}

/** The version label: the release version on a semver tag, else the branch or tag, else the short sha. */
export function imageVersion(ctx: GitContext): string | undefined {
  if (ctx.ref.startsWith('refs/tags/')) {
    const name = ctx.ref.slice('refs/tags/'.length)
    return parseSemverTag(name)?.version ?? name
  }
  if (ctx.pullRequest !== undefined) return `pr-${ctx.pullRequest}`
  if (ctx.ref.startsWith('refs/heads/')) return ctx.ref.slice('refs/heads/'.length)
  return ctx.sha ? ctx.sha.slice(0, 7) : undefined
}
