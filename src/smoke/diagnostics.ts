/**
 * What the smoke stage shows when the stack does not come up: for each failing service, the
 * state of its containers (`docker inspect`), the last outputs of its healthcheck and the last
 * log lines (`docker compose logs`). Rendered three ways: collapsed blocks for the job summary,
 * one short annotation per service, and a log bundle (a tar.gz) for actions/upload-artifact.
 *
 * Secrets: the bundle is uploaded as an artifact, which everyone who can read the repository
 * can download, so environment values never leave `docker inspect` (names are kept), and the
 * values of secret-looking variables (…PASSWORD, …TOKEN, …) and passwords in URLs are blanked
 * in every text collected here: logs, health outputs, commands, errors. So is every secret the
 * run knows (the `redact` of CollectDeps: the reporter's, fed by the secret inputs and files),
 * before any text is cut; and the bundle's files are redacted once more as they are written.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { runChecked, type CommandResult, type Executor } from '../exec/executor.js'
import { logsArgs } from './commands.js'
import type { Redact } from '../report/redact.js'

// --- argv ---------------------------------------------------------------------------------

/** The ids of every container of one service, running or not. */
export function containerIdsArgs(base: string[], service: string): string[] {
  return [...base, 'ps', '--all', '--quiet', service]
}

export function inspectArgs(ids: string[]): string[] {
  return ['docker', 'inspect', ...ids]
}

// --- model --------------------------------------------------------------------------------

export interface HealthLogEntry {
  start: string
  end: string
  exitCode: number
  /** What the check printed, control characters removed, cut to about 500 characters. */
  output: string
}

export interface ContainerDiagnostics {
  id: string
  /** Container name without docker's leading slash, e.g. `shop-smoke-1a2b3c-api-1`. */
  name: string
  /** The compose service (label com.docker.compose.service); '' when the label is missing. */
  service: string
  /** The image as the container was created from it (Config.Image). */
  image: string
  state: {
    status: string
    exitCode: number
    oomKilled: boolean
    /** Docker's own error, e.g. why the process could not be started; '' when none. */
    error: string
    /** RFC 3339; docker's zero time 0001-01-01T00:00:00Z means never. */
    startedAt: string
    finishedAt: string
    restartCount: number
  }
  health?: {
    status: string
    failingStreak: number
    /** The last checks, oldest first (docker keeps five). */
    log: HealthLogEntry[]
  }
}

export interface ServiceDiagnostics {
  service: string
  /** Why the smoke test counts the service as failed (several reasons joined with '; '). */
  reason: string
  containers: ContainerDiagnostics[]
  /** How many log lines were asked for (`--tail`). */
  logLines: number
  /** The last log lines of every container of the service, colour codes removed. */
  logs: string
  /** What could not be collected, e.g. "no container was created for this service". */
  notes: string[]
  /** `docker inspect` of the containers with environment values redacted: for the bundle. */
  inspect: unknown[]
}

export interface Failure {
  service: string
  reason: string
}

export const HEALTH_ENTRIES = 5
export const HEALTH_OUTPUT_CHARS = 500
export const DEFAULT_LOG_LINES = 50

// --- text helpers -------------------------------------------------------------------------

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g

/**
 * Removes what a terminal would interpret: colour and cursor codes (compose writes `ESC[2K`
 * before every log line, even with --no-color and without a terminal) and other control
 * characters; `\r\n` and lone `\r` become `\n`.
 */
export function cleanText(text: string): string {
  return text.replace(ANSI, '').replace(/\r\n?/g, '\n').replace(CONTROL, '')
}

/** At most `max` characters: the start and the end, with an ellipsis where the middle was. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text
  const head = Math.floor(max * 0.4)
  return `${text.slice(0, head)}…${text.slice(text.length - (max - head - 1))}`
}

/** At most `max` characters, cut at the end. */
function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' | ').trim()

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8')

// --- secrets ------------------------------------------------------------------------------

const SECRET_NAME = /PASS|PWD|SECRET|TOKEN|KEY|AUTH|CREDENTIAL|PRIVATE|COOKIE|SALT/i
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi
const MASK = '***'

/** Values of the secret-looking variables in the containers' environments. */
function secretsOf(raw: unknown[]): string[] {
  const found: string[] = []
  for (const container of raw) {
    const env = (container as { Config?: { Env?: unknown } }).Config?.Env
    if (!Array.isArray(env)) continue
    for (const entry of env) {
      if (typeof entry !== 'string' || !entry.includes('=')) continue
      const name = entry.slice(0, entry.indexOf('='))
      const value = entry.slice(entry.indexOf('=') + 1)
      if (SECRET_NAME.test(name) && value.length >= 6) found.push(value)
    }
  }
  return found
}

/** Blanks each secret and every password in a URL (`scheme://user:password@`). */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text.replace(URL_PASSWORD, `$1${MASK}@`)
  // Longest first, so that a secret containing another is blanked whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 4) out = out.split(secret).join(MASK)
  }
  return out
}

/** By default, no secret of the run is known here: only the ones above are blanked. */
const asIs: Redact = text => text

function scrubDeep(value: unknown, secrets: readonly string[], redact: Redact): unknown {
  if (typeof value === 'string') return redact(scrub(value, secrets))
  if (Array.isArray(value)) return value.map(item => scrubDeep(item, secrets, redact))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, scrubDeep(item, secrets, redact)])
    )
  }
  return value
}

/** `docker inspect` output fit for an artifact: every Config.Env value replaced by ***. */
export function redactInspect(
  raw: unknown[],
  secrets: readonly string[] = [],
  redact: Redact = asIs
): unknown[] {
  const all = [...new Set([...secrets, ...secretsOf(raw)])]
  return raw.map(container => {
    const copy = scrubDeep(container, all, redact) as { Config?: { Env?: unknown } }
    if (copy.Config && Array.isArray(copy.Config.Env)) {
      copy.Config.Env = copy.Config.Env.map(entry =>
        typeof entry === 'string' && entry.includes('=')
          ? `${entry.slice(0, entry.indexOf('='))}=${MASK}`
          : entry
      )
    }
    return copy
  })
}

// --- docker inspect -----------------------------------------------------------------------

const str = (value: unknown): string => (typeof value === 'string' ? value : '')
const num = (value: unknown): number => (typeof value === 'number' ? value : 0)
const obj = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {}

function parseContainer(value: unknown): ContainerDiagnostics {
  const container = obj(value)
  const state = obj(container.State)
  const config = obj(container.Config)
  const labels = obj(config.Labels)
  const diagnostics: ContainerDiagnostics = {
    id: str(container.Id),
    name: str(container.Name).replace(/^\//, ''),
    service: str(labels['com.docker.compose.service']),
    image: str(config.Image),
    state: {
      status: str(state.Status),
      exitCode: num(state.ExitCode),
      oomKilled: state.OOMKilled === true,
      error: cleanText(str(state.Error)),
      startedAt: str(state.StartedAt),
      finishedAt: str(state.FinishedAt),
      restartCount: num(container.RestartCount)
    }
  }
  if (state.Health !== undefined && state.Health !== null) {
    const health = obj(state.Health)
    const log = Array.isArray(health.Log) ? health.Log : []
    diagnostics.health = {
      status: str(health.Status),
      failingStreak: num(health.FailingStreak),
      log: log.slice(-HEALTH_ENTRIES).map(entry => {
        const check = obj(entry)
        return {
          start: str(check.Start),
          end: str(check.End),
          exitCode: num(check.ExitCode),
          output: clip(cleanText(str(check.Output)).trim(), HEALTH_OUTPUT_CHARS)
        }
      })
    }
  }
  return diagnostics
}

/** Reads the JSON array `docker inspect` prints, one entry per container. */
export function parseInspect(json: string): ContainerDiagnostics[] {
  const value: unknown = JSON.parse(json)
  if (!Array.isArray(value)) throw new Error('docker inspect did not print a JSON array')
  return value.map(parseContainer)
}

// --- collecting ---------------------------------------------------------------------------

/** One entry per service, in order of first appearance; distinct reasons joined with '; '. */
export function groupFailures(failures: readonly Failure[]): Failure[] {
  const reasons = new Map<string, string[]>()
  for (const { service, reason } of failures) {
    const list = reasons.get(service) ?? []
    if (!list.includes(reason)) list.push(reason)
    reasons.set(service, list)
  }
  return [...reasons].map(([service, list]) => ({ service, reason: list.join('; ') }))
}

export interface CollectDeps {
  executor: Executor
  /** Where compose runs (the project's working directory). */
  cwd: string
  /** How many log lines to keep per service (`--tail`). Default 50. */
  logLines?: number
  /** More values to blank in everything collected (e.g. registry passwords). */
  secrets?: string[]
  /** Blanks every secret the run knows (Reporter.redact), in everything collected. */
  redact?: Redact
}

/** Runs a command; a command that cannot even start counts as a failed one, never throws. */
async function attempt(executor: Executor, argv: string[], cwd: string): Promise<CommandResult> {
  try {
    return await executor.run(argv, { cwd })
  } catch (error) {
    return {
      argv,
      exitCode: -1,
      stdout: '',
      stderr: error instanceof Error ? error.message : String(error),
      durationMs: 0
    }
  }
}

function why(result: CommandResult, redact: Redact): string {
  const text = redact(cleanText(result.stderr || result.stdout)).trim()
  const last = text.split('\n').filter(line => line.trim() !== '')
  return cut(last[last.length - 1] ?? `exit code ${result.exitCode}`, 300)
}

async function collectOne(
  failure: Failure,
  base: string[],
  deps: CollectDeps
): Promise<ServiceDiagnostics> {
  const { executor, cwd } = deps
  const redact = deps.redact ?? asIs
  const logLines = deps.logLines ?? DEFAULT_LOG_LINES
  const result: ServiceDiagnostics = {
    service: failure.service,
    // A reason may quote output (a probe's answer, compose's error), and is cut when shown.
    reason: redact(failure.reason),
    containers: [],
    logLines,
    logs: '',
    notes: [],
    inspect: []
  }
  const ps = await attempt(executor, containerIdsArgs(base, failure.service), cwd)
  if (ps.exitCode !== 0) {
    result.notes.push(`could not list its containers: ${why(ps, redact)}`)
    return result
  }
  const ids = ps.stdout
    .split('\n')
    .map(line => line.trim())
    .filter(line => /^[0-9a-f]{12,64}$/.test(line))
  if (ids.length === 0) {
    result.notes.push('no container was created for this service')
    return result
  }

  let secrets = deps.secrets ?? []
  const inspect = await attempt(executor, inspectArgs(ids), cwd)
  // A container removed meanwhile makes inspect exit 1, but it still prints the others.
  try {
    const raw: unknown = JSON.parse(inspect.stdout.trim() || 'null')
    if (!Array.isArray(raw)) throw new Error(why(inspect, redact))
    secrets = [...secrets, ...secretsOf(raw)]
    result.inspect = redactInspect(raw, secrets, redact)
    result.containers = result.inspect.map(parseContainer)
    if (result.containers.length < ids.length) {
      result.notes.push(
        `docker inspect found ${result.containers.length} of ${ids.length} containers`
      )
    }
  } catch (error) {
    result.notes.push(
      `could not inspect its containers: ${error instanceof Error ? error.message : String(error)}`
    )
  }

  const logs = await attempt(executor, logsArgs(base, failure.service, logLines), cwd)
  if (logs.exitCode !== 0) {
    result.notes.push(`could not read its logs: ${why(logs, redact)}`)
  } else {
    // compose writes the containers' stdout and stderr, interleaved, to its own stdout.
    result.logs = redact(scrub(cleanText(logs.stdout), secrets)).replace(/\n+$/, '')
  }
  return result
}

/**
 * Collects, for each failing service: its containers' state and health log and its last log
 * lines. Never throws: what cannot be collected (no container, a failing command) is said in
 * `notes`. Failures of one service with several containers are merged into one entry.
 */
export async function collectDiagnostics(
  failures: Failure[],
  base: string[],
  deps: CollectDeps
): Promise<ServiceDiagnostics[]> {
  const all: ServiceDiagnostics[] = []
  for (const failure of groupFailures(failures)) {
    const diag = await collectOne(failure, base, deps)
    // The notes quote the output of commands that failed.
    if (deps.redact) diag.notes = diag.notes.map(deps.redact)
    all.push(diag)
  }
  return all
}

// --- words --------------------------------------------------------------------------------

const ZERO_TIME = /^0001-01-01/

function shortTime(time: string): string {
  if (time === '' || ZERO_TIME.test(time)) return ''
  return time.replace(/\.\d+/, '').replace('T', ' ')
}

function seconds(start: string, end: string): string {
  const ms = Date.parse(end) - Date.parse(start)
  return Number.isFinite(ms) && ms >= 0 ? `${(ms / 1000).toFixed(1)}s` : ''
}

/** `exited (code 3), OOM killed: no, restarts: 0, started …, finished …` */
export function stateLine(container: ContainerDiagnostics): string {
  const { state, health } = container
  const parts = [
    state.status === 'exited' || state.status === 'dead' || state.status === 'restarting'
      ? `${state.status} (exit code ${state.exitCode})`
      : `${state.status || 'unknown'}${state.exitCode !== 0 ? ` (last exit code ${state.exitCode})` : ''}`
  ]
  if (health) {
    parts.push(
      `health: ${health.status || 'unknown'}${health.failingStreak > 0 ? ` (${health.failingStreak} failed checks in a row)` : ''}`
    )
  }
  parts.push(`OOM killed: ${state.oomKilled ? 'yes' : 'no'}`, `restarts: ${state.restartCount}`)
  const started = shortTime(state.startedAt)
  const finished = shortTime(state.finishedAt)
  if (started) parts.push(`started ${started}`)
  if (finished && state.status !== 'running') parts.push(`finished ${finished}`)
  return parts.join(', ')
}

/** The container that best explains the failure: not running, or unhealthy; else the first. */
function worst(containers: ContainerDiagnostics[]): ContainerDiagnostics | undefined {
  return (
    containers.find(c => c.state.status !== 'running' || c.health?.status === 'unhealthy') ??
    containers[0]
  )
}

// --- Markdown -----------------------------------------------------------------------------

const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Plain text for a Markdown paragraph: no HTML, no emphasis, links or code spans, one line. */
function inline(text: string): string {
  return escapeHtml(oneLine(text)).replace(/([\\`*_[\]|~#!])/g, '\\$1')
}

/** A fenced code block that the text cannot close: the fence outruns any backtick run. */
export function fenced(text: string, info = 'text'): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map(run => run.length))
  const fence = '`'.repeat(Math.max(3, longest + 1))
  return `${fence}${info}\n${text}\n${fence}`
}

/**
 * The end of `text` that fits in `maxBytes` of UTF-8, in whole lines where possible, and how
 * many lines were dropped from the top.
 */
export function tailBytes(text: string, maxBytes: number): { text: string; dropped: number } {
  if (bytes(text) <= maxBytes) return { text, dropped: 0 }
  const lines = text.split('\n')
  const kept: string[] = []
  let size = 0
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] as string
    const cost = bytes(line) + (kept.length > 0 ? 1 : 0)
    if (size + cost <= maxBytes) {
      kept.unshift(line)
      size += cost
      continue
    }
    if (kept.length > 0) return { text: kept.join('\n'), dropped: i + 1 }
    // The last line alone is longer than the budget: keep its end.
    const buffer = Buffer.from(line, 'utf8')
    const end = buffer.subarray(buffer.length - Math.max(0, maxBytes - 3)).toString('utf8')
    return { text: `…${end.replace(/^\uFFFD+/, '')}`, dropped: i }
  }
  return { text: kept.join('\n'), dropped: 0 }
}

export interface MarkdownOptions {
  /** Upper bound for one service's block, in bytes. Default 60 KiB. */
  maxBlockBytes?: number
  /** Upper bound for all blocks together (job summaries hold 1 MiB per step). Default 512 KiB. */
  maxTotalBytes?: number
}

export const MAX_BLOCK_BYTES = 60 * 1024
export const MAX_TOTAL_BYTES = 512 * 1024
/** Room kept for the log tail when many containers or long health outputs compete for space. */
const LOG_RESERVE_BYTES = 4 * 1024

function healthBlock(container: ContainerDiagnostics): string {
  const entries = container.health?.log ?? []
  const text = entries
    .map(entry => {
      const when = shortTime(entry.end || entry.start)
      const took = seconds(entry.start, entry.end)
      const head = [when, `exit ${entry.exitCode}`, took && `took ${took}`].filter(Boolean)
      return `${head.join('  ')}\n${entry.output ? entry.output : '(no output)'}`
    })
    .join('\n')
  return `Health log (last ${entries.length} checks, oldest first):\n\n${fenced(text)}\n`
}

function containerSection(container: ContainerDiagnostics): string {
  const lines = [
    `**${inline(container.name || container.id.slice(0, 12))}**` +
      (container.image ? ` (${inline(container.image)})` : '') +
      `: ${inline(stateLine(container))}`,
    ''
  ]
  if (container.state.error)
    lines.push(`Docker error: ${inline(cut(container.state.error, 2000))}`, '')
  if (container.health && container.health.log.length > 0) lines.push(healthBlock(container))
  return lines.join('\n')
}

function serviceBlock(diag: ServiceDiagnostics, maxBytes: number): string {
  const summary = `<details><summary>❌ ${escapeHtml(diag.service)} — ${escapeHtml(
    cut(oneLine(diag.reason), 300)
  )}</summary>\n\n`
  const end = '\n</details>\n\n'
  let body = ''
  for (const note of diag.notes) body += `> ${inline(note)}\n\n`
  let shown = 0
  for (const container of diag.containers) {
    const section = containerSection(container)
    const used = bytes(summary + body + section + end)
    if (used > maxBytes - LOG_RESERVE_BYTES && shown > 0) break
    body += `${section}\n`
    shown++
  }
  if (shown < diag.containers.length) {
    body += `… and ${diag.containers.length - shown} more containers (see the log bundle)\n\n`
  }

  if (diag.logs === '') {
    if (diag.containers.length > 0) body += `No log output.\n`
    return summary + body + end
  }
  const total = diag.logs.split('\n').length
  const logsHead = `Last ${total} log line${total === 1 ? '' : 's'}:\n\n`
  // The fence and the note about cut lines cost bytes too: keep 200 for them.
  const room = maxBytes - bytes(summary + body + logsHead + end) - 200
  const tail = tailBytes(diag.logs, Math.max(room, 256))
  const note =
    tail.dropped > 0
      ? `(${tail.dropped} earlier lines left out to keep the job summary small: all ${total} are in the log bundle)\n\n`
      : ''
  return `${summary}${body}${logsHead}${note}${fenced(tail.text)}\n${end}`
}

/**
 * For the job summary (no heading: the caller adds its own): one collapsed `<details>` block per
 * failing service with the state
 * of its containers, its health log and its last log lines. Each block stays under
 * maxBlockBytes (logs are cut from the top, and it says so).
 */
export function renderDiagnosticsMarkdown(
  diagnostics: ServiceDiagnostics[],
  options: MarkdownOptions = {}
): string {
  if (diagnostics.length === 0) return ''
  const perBlock = Math.min(
    options.maxBlockBytes ?? MAX_BLOCK_BYTES,
    Math.floor((options.maxTotalBytes ?? MAX_TOTAL_BYTES) / diagnostics.length)
  )
  return diagnostics.map(diag => serviceBlock(diag, perBlock)).join('')
}

// --- annotations and the error ------------------------------------------------------------

export const ANNOTATION_MAX_CHARS = 1000

/** compose's `api-1  | ` prefix, dropped in annotations when every line is from one container. */
const LOG_PREFIX = /^(\S+)\s+\| ?/

function lastLogLines(logs: string, count: number): string[] {
  const lines = logs.split('\n').filter(line => line.trim() !== '')
  const prefixes = new Set(lines.map(line => LOG_PREFIX.exec(line)?.[1]))
  const strip = prefixes.size === 1 && !prefixes.has(undefined)
  return lines.slice(-count).map(line => (strip ? line.replace(LOG_PREFIX, '') : line).trim())
}

/**
 * One annotation per failing service: the reason, the state, the last health output and the
 * last 3 log lines, in one paragraph of at most 1000 characters.
 */
export function annotationFor(diag: ServiceDiagnostics): { title: string; message: string } {
  const parts = [`${oneLine(diag.reason)}.`]
  const container = worst(diag.containers)
  if (container) {
    const more = diag.containers.length > 1 ? ` (1 of ${diag.containers.length} containers)` : ''
    parts.push(`${container.name || container.id.slice(0, 12)}${more}: ${stateLine(container)}.`)
    if (container.state.error)
      parts.push(`Docker error: ${cut(oneLine(container.state.error), 300)}.`)
    const check = container.health?.log[container.health.log.length - 1]
    if (check) {
      const output = check.output.split('\n').filter(line => line.trim() !== '')
      parts.push(
        `Last health check: exit ${check.exitCode}${
          output.length > 0 ? `, "${cut(output[output.length - 1] as string, 200)}"` : ', no output'
        }.`
      )
    }
  }
  for (const note of diag.notes) parts.push(`${note[0]?.toUpperCase()}${note.slice(1)}.`)
  const lines = lastLogLines(diag.logs, 3)
  let message = parts.join(' ')
  if (lines.length > 0) {
    const room = Math.max(
      60,
      Math.floor((ANNOTATION_MAX_CHARS - message.length - 20) / lines.length)
    )
    message += ` Last log lines: ${lines.map(line => cut(line, room)).join(' ⏎ ')}`
  }
  return { title: `Smoke test: ${diag.service}`, message: cut(message, ANNOTATION_MAX_CHARS) }
}

/**
 * The one-line error of a failed smoke test, e.g. `Smoke test failed: service "api":
 * healthcheck reports unhealthy; service "migrate": one-shot job exited with code 1 (details in
 * the job summary and the log bundle)`.
 */
export function smokeFailureMessage(
  failures: readonly Failure[],
  headline = 'Smoke test failed'
): string {
  const services = groupFailures(failures).map(f => `service "${f.service}": ${oneLine(f.reason)}`)
  const what = services.length > 0 ? `: ${services.join('; ')}` : ''
  return `${headline}${what} (details in the job summary and the log bundle)`
}

// --- the log bundle -----------------------------------------------------------------------

/** A file or folder name that stays one path segment. */
function safeName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_')
  return safe === '' ? '_' : safe
}

export interface LogBundleOptions {
  /** The folder to write into (e.g. RUNNER_TEMP). */
  dir: string
  /** The compose project of the smoke run; names the bundle. */
  project: string
  /** More files for the bundle, name → content (e.g. `compose-ps.json`, `probes.json`). */
  extra?: Record<string, string>
  /**
   * Blanks every secret the run knows (Reporter.redact) in every file of the bundle: the
   * bundle is an artifact, which anyone who can read the repository can download.
   */
  redact?: Redact
}

/**
 * Writes `<dir>/stack-deploy-smoke-<project>/` (summary.json; per service `<service>.log` and
 * `<service>.inspect.json`; the extra files), packs it with the system tar into
 * `<dir>/stack-deploy-smoke-<project>.tar.gz` and returns that path. The folder is left in
 * place beside it.
 */
export async function writeLogBundle(
  diagnostics: ServiceDiagnostics[],
  options: LogBundleOptions,
  executor: Executor
): Promise<string> {
  const folderName = `stack-deploy-smoke-${safeName(options.project)}`
  const folder = path.join(options.dir, folderName)
  const out = path.join(options.dir, `${folderName}.tar.gz`)
  const files = new Map<string, string>()
  files.set(
    'summary.json',
    `${JSON.stringify(
      {
        project: options.project,
        services: diagnostics.map(({ inspect: _inspect, ...rest }) => rest)
      },
      null,
      2
    )}\n`
  )
  for (const diag of diagnostics) {
    const name = safeName(diag.service)
    files.set(`${name}.log`, diag.logs === '' ? '' : `${diag.logs}\n`)
    files.set(`${name}.inspect.json`, `${JSON.stringify(diag.inspect, null, 2)}\n`)
  }
  for (const [name, content] of Object.entries(options.extra ?? {})) {
    const safe = safeName(name)
    if (files.has(safe)) throw new Error(`log bundle: extra file ${name} would replace ${safe}`)
    files.set(safe, content)
  }

  fs.rmSync(folder, { recursive: true, force: true })
  fs.mkdirSync(folder, { recursive: true })
  const redact = options.redact ?? asIs
  for (const [name, content] of files) fs.writeFileSync(path.join(folder, name), redact(content))
  await runChecked(executor, ['tar', '-czf', out, '-C', options.dir, folderName], 'tar')
  return out
}
