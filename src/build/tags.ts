import type { GitContext } from './git-context.js'

/**
 * Image tags from the git context. Without a `tags` input the rules are: `sha-<short sha>`;
 * the branch (sanitised) on branch builds; `pr-<n>` on pull requests; `X.Y.Z`, `X.Y` and `X`
 * on `vX.Y.Z` tags (only `X.Y.Z` for a pre-release, and no bare `0` major); `latest` only on
 * the default branch or a release tag.
 *
 * The `tags` input replaces the rules with templates, one per line: literal text and
 * `{{variable}}`s. A line whose variables are not all known in this build is skipped
 * (`pr-{{pr}}` outside pull requests), so one list serves every event.
 */

export const TEMPLATE_VARIABLES = [
  'sha',
  'short_sha',
  'branch',
  'pr',
  'tag',
  'version',
  'major',
  'minor',
  'patch',
  'run_number',
  'service',
  'event'
] as const
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number]

const VALID_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/

export function isValidTag(tag: string): boolean {
  return VALID_TAG.test(tag)
}

/** Makes a branch name a valid tag: invalid characters become '-', no leading '.' or '-'. */
export function sanitizeTag(text: string): string | undefined {
  const tag = text
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 128)
  return tag === '' ? undefined : tag
}

interface SemVer {
  major: string
  minor: string
  patch: string
  prerelease: string | undefined
  version: string
}

export function parseSemverTag(name: string): SemVer | undefined {
  const match =
    /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(
      name
    )
  if (!match) return undefined
  const [, major, minor, patch, prerelease] = match as unknown as [
    string,
    string,
    string,
    string,
    string | undefined
  ]
  return {
    major,
    minor,
    patch,
    prerelease,
    version: `${major}.${minor}.${patch}${prerelease ? `-${prerelease}` : ''}`
  }
}

/** The values the templates can use in this build; unknown ones are absent. */
export function templateValues(
  ctx: GitContext,
  service: string
): Partial<Record<TemplateVariable, string>> {
  const values: Partial<Record<TemplateVariable, string>> = { service, event: ctx.event }
  if (ctx.sha) {
    values.sha = ctx.sha
    values.short_sha = ctx.sha.slice(0, 7)
  }
  if (ctx.ref.startsWith('refs/heads/')) {
    const branch = sanitizeTag(ctx.ref.slice('refs/heads/'.length))
    if (branch) values.branch = branch
  }
  if (ctx.pullRequest !== undefined) values.pr = String(ctx.pullRequest)
  if (ctx.ref.startsWith('refs/tags/')) {
    const name = ctx.ref.slice('refs/tags/'.length)
    const tag = sanitizeTag(name)
    if (tag) values.tag = tag
    const semver = parseSemverTag(name)
    if (semver) {
      values.version = semver.version
      values.major = semver.major
      values.minor = semver.minor
      values.patch = semver.patch
    }
  }
  if (ctx.runNumber) values.run_number = ctx.runNumber
  return values
}

export class TagTemplateError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TagTemplateError'
  }
}

/** Checks every template line up front, so a typo fails before anything is built. */
export function parseTagTemplates(text: string): string[] {
  const lines = text
    .split(/\r?\n/)
    .map(line => line.trim())
    .filter(line => line !== '' && !line.startsWith('#'))
  for (const line of lines) {
    const withoutVariables = line.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_all, name: string) => {
      if (!(TEMPLATE_VARIABLES as readonly string[]).includes(name)) {
        throw new TagTemplateError(
          `unknown variable {{${name}}} in "${line}"; known: ${TEMPLATE_VARIABLES.map(v => `{{${v}}}`).join(' ')}`
        )
      }
      return 'x'
    })
    if (withoutVariables.includes('{') || withoutVariables.includes('}')) {
      throw new TagTemplateError(`unbalanced braces in "${line}"; write variables as {{name}}`)
    }
    if (!isValidTag(withoutVariables)) {
      throw new TagTemplateError(
        `"${line}" cannot make a valid tag: use letters, digits, '_', '.' and '-', at most 128 characters, not starting with '.' or '-'`
      )
    }
  }
  return lines
}

export function renderTagTemplates(
  templates: string[],
  ctx: GitContext,
  service: string
): string[] {
  const values = templateValues(ctx, service)
  const tags: string[] = []
  for (const template of templates) {
    let complete = true
    const tag = template.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_all, name: TemplateVariable) => {
      const value = values[name]
      if (value === undefined) complete = false
      return value ?? ''
    })
    if (!complete) continue
    if (!isValidTag(tag))
      throw new TagTemplateError(`template "${template}" gave "${tag}", which is not a valid tag`)
    if (!tags.includes(tag)) tags.push(tag)
  }
  return tags
}

export function defaultTags(ctx: GitContext): string[] {
  const values = templateValues(ctx, '')
  const tags: string[] = []
  if (values.short_sha) tags.push(`sha-${values.short_sha}`)
  if (ctx.pullRequest !== undefined) tags.push(`pr-${ctx.pullRequest}`)
  else if (values.branch) tags.push(values.branch)
  let release = false
  if (values.version) {
    const semver = parseSemverTag(ctx.ref.slice('refs/tags/'.length)) as SemVer
    tags.push(semver.version)
    if (!semver.prerelease) {
      release = true
      tags.push(`${semver.major}.${semver.minor}`)
      if (semver.major !== '0') tags.push(semver.major)
    }
  }
  const onDefaultBranch =
    ctx.defaultBranch !== undefined &&
    ctx.pullRequest === undefined &&
    ctx.ref === `refs/heads/${ctx.defaultBranch}`
  if (onDefaultBranch || release) tags.push('latest')
  if (tags.length === 0) tags.push('latest')
  return [...new Set(tags)]
}

/** Tags for one service: the templates when given, else the default rules. */
export function tagsFor(
  ctx: GitContext,
  service: string,
  templates: string[] | undefined
): string[] {
  if (templates && templates.length > 0) {
    const tags = renderTagTemplates(templates, ctx, service)
    if (tags.length === 0) {
      throw new TagTemplateError(
        `no template applies to this build (${ctx.event} ${ctx.ref || 'without a ref'})`
      )
    }
    return tags
  }
  return defaultTags(ctx)
}
