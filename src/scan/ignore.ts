/**
 * Trivy's ignore files, read the way Trivy reads them (pkg/result/ignore.go), so that the gate
 * we compute ignores exactly what `trivy --ignorefile` would:
 *
 * - `.trivyignore`: one ID per line; blank lines and lines starting with `#` are skipped; the
 *   first whitespace-separated field is the ID; a field `exp:YYYY-MM-DD` sets an expiry. A line
 *   whose expiry does not parse is skipped with a warning (Trivy does the same).
 * - `.trivyignore.yaml` / `.yml` (chosen by the extension, as Trivy does): `vulnerabilities:` is
 *   a list of `{ id, paths?, purls?, expired_at?, statement? }`. `paths` are doublestar globs
 *   matched against the result target and the package path; `purls` match the package's PURL.
 *
 * An entry with an expiry stops applying once that instant has passed: `exp:2026-03-01` means
 * 2026-03-01T00:00:00Z, so it covers findings up to the end of 2026-02-28 (UTC).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parse as parseYaml } from 'yaml'
import type { TrivyVulnerability } from './report.js'

export interface IgnoreRule {
  id: string
  paths?: string[]
  purls?: string[]
  expiredAt?: Date
  statement?: string
  /** 1-based line in a .trivyignore, for messages. */
  line?: number
}

export interface IgnoreConfig {
  /** The file the rules came from; undefined when there is none. */
  file: string | undefined
  format: 'none' | 'trivyignore' | 'yaml'
  rules: IgnoreRule[]
  /** Lines Trivy would skip (bad expiry dates), already phrased for the log. */
  warnings: string[]
}

export const NO_IGNORES: IgnoreConfig = { file: undefined, format: 'none', rules: [], warnings: [] }

/** The names we look for in the working directory when no ignore file is given, in order. */
export const IGNORE_FILE_CANDIDATES = ['.trivyignore.yaml', '.trivyignore.yml', '.trivyignore']

export class IgnoreFileError extends Error {
  constructor(
    readonly file: string,
    message: string
  ) {
    super(message)
    this.name = 'IgnoreFileError'
  }
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** Go's time.Parse("2006-01-02"): a real calendar date, at 00:00 UTC. */
export function parseIgnoreDate(value: string): Date | undefined {
  const match = DATE.exec(value)
  if (!match) return undefined
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const date = new Date(Date.UTC(year, month - 1, day))
  if (
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day
  ) {
    return undefined
  }
  return date
}

export function parseTrivyIgnore(text: string, file: string): IgnoreConfig {
  const rules: IgnoreRule[] = []
  const warnings: string[] = []
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const fields = line.split(/\s+/)
    const id = fields[0] as string
    let expiredAt: Date | undefined
    const exp = fields.slice(1).find(field => field.startsWith('exp:'))
    if (exp !== undefined) {
      expiredAt = parseIgnoreDate(exp.slice(4))
      if (!expiredAt) {
        warnings.push(
          `${file}:${index + 1}: "${exp}" is not a date like exp:2026-12-31; the line is skipped, as Trivy skips it`
        )
        return
      }
    }
    rules.push({ id, line: index + 1, ...(expiredAt ? { expiredAt } : {}) })
  })
  return { file, format: 'trivyignore', rules, warnings }
}

function stringList(value: unknown, what: string, file: string): string[] | undefined {
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value) || value.some(item => typeof item !== 'string')) {
    throw new IgnoreFileError(file, `${file}: ${what} must be a list of strings`)
  }
  return value as string[]
}

export function parseTrivyIgnoreYaml(text: string, file: string): IgnoreConfig {
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0]
    throw new IgnoreFileError(file, `${file} is not valid YAML: ${reason}`)
  }
  if (doc === null || doc === undefined) return { file, format: 'yaml', rules: [], warnings: [] }
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new IgnoreFileError(
      file,
      `${file} must be a mapping with a "vulnerabilities:" list (Trivy's .trivyignore.yaml format)`
    )
  }
  const entries = (doc as Record<string, unknown>).vulnerabilities
  if (entries === undefined || entries === null) {
    return { file, format: 'yaml', rules: [], warnings: [] }
  }
  if (!Array.isArray(entries)) {
    throw new IgnoreFileError(file, `${file}: "vulnerabilities" must be a list of { id, ... }`)
  }
  const rules = entries.map((entry: unknown, index): IgnoreRule => {
    const item = entry as Record<string, unknown> | null
    const where = `vulnerabilities[${index}]`
    if (typeof item !== 'object' || item === null || typeof item.id !== 'string' || !item.id) {
      throw new IgnoreFileError(file, `${file}: ${where} has no "id"`)
    }
    const rule: IgnoreRule = { id: item.id }
    const paths = stringList(item.paths, `${where}.paths`, file)
    if (paths && paths.length > 0) rule.paths = paths
    const purls = stringList(item.purls, `${where}.purls`, file)
    if (purls && purls.length > 0) {
      for (const purl of purls) {
        if (!parsePurl(purl)) {
          throw new IgnoreFileError(file, `${file}: ${where}.purls has "${purl}", not a PURL`)
        }
      }
      rule.purls = purls
    }
    if (typeof item.statement === 'string') rule.statement = item.statement
    if (item.expired_at !== undefined && item.expired_at !== null) {
      const raw = item.expired_at instanceof Date ? item.expired_at : String(item.expired_at)
      const date =
        raw instanceof Date
          ? raw
          : (parseIgnoreDate(raw) ?? (/^\d{4}-\d{2}-\d{2}T/.test(raw) ? new Date(raw) : undefined))
      if (!date || Number.isNaN(date.getTime())) {
        throw new IgnoreFileError(
          file,
          `${file}: ${where}.expired_at "${String(raw)}" is not a date like 2026-12-31`
        )
      }
      rule.expiredAt = date
    }
    return rule
  })
  return { file, format: 'yaml', rules, warnings: [] }
}

/** Picks the format from the extension, as Trivy does. */
export function parseIgnoreFile(text: string, file: string): IgnoreConfig {
  const ext = path.extname(file)
  return ext === '.yaml' || ext === '.yml'
    ? parseTrivyIgnoreYaml(text, file)
    : parseTrivyIgnore(text, file)
}

/** Rules still in force at `now`, and the ones whose expiry has passed (for a notice). */
export function splitExpired(
  rules: readonly IgnoreRule[],
  now: Date
): { active: IgnoreRule[]; expired: IgnoreRule[] } {
  const active: IgnoreRule[] = []
  const expired: IgnoreRule[] = []
  for (const rule of rules) {
    if (rule.expiredAt && rule.expiredAt.getTime() < now.getTime()) expired.push(rule)
    else active.push(rule)
  }
  return { active, expired }
}

// --- doublestar globs (github.com/bmatcuk/doublestar, the matcher Trivy uses) ---------------

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

/** Translates a doublestar pattern (`**`, `*`, `?`, `[...]`, `{a,b}`) to an anchored RegExp. */
export function globToRegExp(pattern: string): RegExp {
  let out = ''
  let i = 0
  let braces = 0
  while (i < pattern.length) {
    const c = pattern[i] as string
    if (c === '*' && pattern[i + 1] === '*') {
      const atStart = i === 0 || pattern[i - 1] === '/'
      const slashAfter = pattern[i + 2] === '/'
      if (atStart && slashAfter) {
        out += '(?:.*/)?'
        i += 3
      } else if (atStart && i + 2 === pattern.length) {
        out += '.*'
        i += 2
      } else {
        out += '[^/]*'
        i += 2
      }
    } else if (c === '*') {
      out += '[^/]*'
      i++
    } else if (c === '?') {
      out += '[^/]'
      i++
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 2)
      if (end === -1) {
        out += '\\['
        i++
      } else {
        let body = pattern.slice(i + 1, end)
        if (body.startsWith('!') || body.startsWith('^')) body = `^${body.slice(1)}`
        out += `[${body.replace(/\\/g, '\\\\')}]`
        i = end + 1
      }
    } else if (c === '{') {
      braces++
      out += '(?:'
      i++
    } else if (c === '}' && braces > 0) {
      braces--
      out += ')'
      i++
    } else if (c === ',' && braces > 0) {
      out += '|'
      i++
    } else if (c === '\\' && i + 1 < pattern.length) {
      out += escapeRegex(pattern[i + 1] as string)
      i += 2
    } else {
      out += escapeRegex(c)
      i++
    }
  }
  return new RegExp(`^${out}$`)
}

// --- package URLs -----------------------------------------------------------------------------

export interface Purl {
  type: string
  namespace: string
  name: string
  version: string
  qualifiers: Record<string, string>
  subpath: string
}

/** Parses `pkg:type/namespace/name@version?qualifiers#subpath` (enough of the PURL spec). */
export function parsePurl(text: string): Purl | undefined {
  if (!text.startsWith('pkg:')) return undefined
  let rest = text.slice(4).replace(/^\/+/, '')
  let subpath = ''
  const hash = rest.indexOf('#')
  if (hash !== -1) {
    subpath = decodeURIComponent(rest.slice(hash + 1)).replace(/^\/+|\/+$/g, '')
    rest = rest.slice(0, hash)
  }
  const qualifiers: Record<string, string> = {}
  const question = rest.indexOf('?')
  if (question !== -1) {
    for (const pair of rest.slice(question + 1).split('&')) {
      if (pair === '') continue
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      qualifiers[pair.slice(0, eq).toLowerCase()] = decodeURIComponent(pair.slice(eq + 1))
    }
    rest = rest.slice(0, question)
  }
  let version = ''
  const at = rest.lastIndexOf('@')
  if (at !== -1) {
    version = decodeURIComponent(rest.slice(at + 1))
    rest = rest.slice(0, at)
  }
  const parts = rest.split('/').filter(part => part !== '')
  if (parts.length < 2) return undefined
  const type = (parts[0] as string).toLowerCase()
  const name = decodeURIComponent(parts[parts.length - 1] as string)
  const namespace = parts.slice(1, -1).map(decodeURIComponent).join('/')
  return { type, namespace, name, version, qualifiers, subpath }
}

/** Trivy's purl.Match: the rule's fields must equal the package's; qualifiers are a subset. */
export function purlMatches(rule: Purl, target: Purl): boolean {
  if (rule.type !== target.type || rule.namespace !== target.namespace) return false
  if (rule.name !== target.name) return false
  if (rule.version !== '' && rule.version !== target.version) return false
  if (rule.subpath !== '' && rule.subpath !== target.subpath) return false
  return Object.entries(rule.qualifiers).every(([key, value]) => target.qualifiers[key] === value)
}

// --- matching ---------------------------------------------------------------------------------

function pathMatches(candidate: string, patterns: readonly string[] | undefined): boolean {
  if (!patterns || patterns.length === 0) return true
  return patterns.some(pattern => globToRegExp(pattern).test(candidate))
}

function purlListMatches(target: string | undefined, purls: readonly string[] | undefined) {
  if (!purls || purls.length === 0) return true
  const parsed = target ? parsePurl(target) : undefined
  // Trivy: a package without a PURL is not filtered by `purls`.
  if (!parsed) return true
  return purls.some(rule => {
    const p = parsePurl(rule)
    return p !== undefined && purlMatches(p, parsed)
  })
}

/**
 * The first rule that ignores this finding, checking the result target and then the package
 * path (Trivy's MatchVulnerability), or undefined.
 */
export function matchIgnoreRule(
  rules: readonly IgnoreRule[],
  vulnerability: TrivyVulnerability,
  target: string
): IgnoreRule | undefined {
  for (const candidate of [target, vulnerability.PkgPath ?? '']) {
    for (const rule of rules) {
      if (rule.id !== vulnerability.VulnerabilityID) continue
      if (!pathMatches(candidate, rule.paths)) continue
      if (!purlListMatches(vulnerability.PkgIdentifier?.PURL, rule.purls)) continue
      return rule
    }
  }
  return undefined
}

// --- files ------------------------------------------------------------------------------------

/**
 * Reads the ignore file: `ignoreFile` (relative to the working directory) when given, which must
 * exist; otherwise the first of IGNORE_FILE_CANDIDATES found in the working directory.
 */
export function loadIgnoreConfig(
  ignoreFile: string | undefined,
  workingDirectory: string
): IgnoreConfig {
  let file: string
  const warnings: string[] = []
  if (ignoreFile !== undefined && ignoreFile.trim() !== '') {
    file = path.resolve(workingDirectory, ignoreFile)
    if (!fs.existsSync(file)) {
      throw new IgnoreFileError(
        file,
        `The ignore file ${file} does not exist; create it (.trivyignore or .trivyignore.yaml) or leave the ignore file unset to use the one in ${workingDirectory}, if any`
      )
    }
  } else {
    const found = IGNORE_FILE_CANDIDATES.map(name => path.join(workingDirectory, name)).filter(
      candidate => fs.existsSync(candidate)
    )
    if (found.length === 0) return NO_IGNORES
    file = found[0] as string
    if (found.length > 1) {
      warnings.push(
        `Found ${found.map(f => path.basename(f)).join(' and ')} in ${workingDirectory}; using ${path.basename(file)} only. Merge them into one file, or name one explicitly.`
      )
    }
  }
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (error) {
    throw new IgnoreFileError(
      file,
      `Cannot read the ignore file ${file}: ${(error as Error).message}`
    )
  }
  const config = parseIgnoreFile(text, file)
  return { ...config, warnings: [...warnings, ...config.warnings] }
}
