import { formatDuration } from '../report/duration.js'
/**
 * Runs smoke probes against a stack that is up: HTTP requests and WebSocket connections from
 * the runner to published ports, and commands inside containers with `compose exec`. Every
 * command goes through the injected Executor, every request through the injected fetch, so
 * tests drive both; WebSocket checks go to the real checkWebSocket.
 */
import { lastLines, type CommandResult, type Executor } from '../exec/executor.js'
import {
  composePortArgs,
  execArgs,
  parsePortOutput,
  probeTarget,
  probeUrl,
  publishedTcpPorts,
  type ExecProbe,
  type HttpProbe,
  type JsonCheck,
  type Probe,
  type ProbeResult,
  type ProbeService,
  type PublishedPort,
  type WsProbe
} from './probes.js'
import { checkWebSocket } from '../exec/websocket.js'
import { sleep } from '../exec/time.js'

export interface ProbeContext {
  /** The compose prefix of the running stack (composeBaseArgs of the smoke project). */
  base: string[]
  /** Where compose runs (the project's working directory). */
  cwd: string
  /** Host ports already resolved (resolvePublishedPorts); others are asked of `compose port`. */
  ports?: readonly PublishedPort[]
}

export interface ProbeDeps {
  executor: Executor
  /** Default: the global fetch. */
  fetch?: typeof globalThis.fetch
  /** Waits between attempts. Default: a timer. */
  sleep?: (ms: number) => Promise<void>
  /** Clock for the seconds of a result. Default: Date.now. */
  now?: () => number
  /** Called with one line per failed attempt that will be retried, for the log. */
  log?: (line: string) => void
}

/** One attempt's outcome. */
export interface AttemptOutcome {
  ok: boolean
  detail: string
  url?: string
}

const EXCERPT_CHARS = 200

/** The first characters of a body or of output, on one line, quoted. */
export function excerpt(text: string, label = 'body'): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  if (flat === '') return `(empty ${label})`
  const cut = flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat
  return `(${label}: "${cut}")`
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 100 ? `${text.slice(0, 100)}…` : text
}

/** The value at a dotted path (`a.b.0.c`: object keys and array indexes), if it is there. */
export function lookupJsonPath(
  value: unknown,
  path: string
): { found: true; value: unknown } | { found: false } {
  let current = value
  for (const segment of path.split('.')) {
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(segment) || Number(segment) >= current.length) return { found: false }
      current = current[Number(segment)]
    } else if (typeof current === 'object' && current !== null) {
      if (!Object.prototype.hasOwnProperty.call(current, segment)) return { found: false }
      current = (current as Record<string, unknown>)[segment]
    } else {
      return { found: false }
    }
  }
  return { found: true, value: current }
}

/** Deep equality of JSON values; strict about types ("200" is not 200). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => jsonEqual(item, b[i]))
    )
  }
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) {
    const keysA = Object.keys(a)
    const keysB = Object.keys(b)
    return (
      keysA.length === keysB.length &&
      keysA.every(
        key =>
          Object.prototype.hasOwnProperty.call(b, key) &&
          jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])
      )
    )
  }
  return false
}

function expectedStatus(status: number[]): string {
  if (status.length === 1) return String(status[0])
  return `one of ${status.join(', ')}`
}

function checkJson(check: JsonCheck, body: string): string | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return `body is not JSON ${excerpt(body)}`
  }
  const field = lookupJsonPath(parsed, check.path)
  if (check.op === 'exists') {
    if (check.exists && !field.found) return `JSON field ${check.path} is missing`
    if (!check.exists && field.found) {
      return `JSON field ${check.path} is ${show(field.value)}, expected it to be absent`
    }
    return undefined
  }
  if (!field.found) return `JSON field ${check.path} is missing, expected ${show(check.value)}`
  if (!jsonEqual(field.value, check.value)) {
    return `JSON field ${check.path} was ${show(field.value)} expected ${show(check.value)}`
  }
  return undefined
}

/** Judges one HTTP response against a probe: status, then body substring, then JSON field. */
export function checkHttpResponse(probe: HttpProbe, status: number, body: string): AttemptOutcome {
  if (!probe.status.includes(status)) {
    return {
      ok: false,
      detail: `status ${status} expected ${expectedStatus(probe.status)} ${excerpt(body)}`
    }
  }
  if (probe.contains !== undefined && !body.includes(probe.contains)) {
    return { ok: false, detail: `body did not contain ${show(probe.contains)} ${excerpt(body)}` }
  }
  if (probe.json) {
    const problem = checkJson(probe.json, body)
    if (problem) return { ok: false, detail: problem }
  }
  return { ok: true, detail: `status ${status}` }
}

/** Judges one `compose exec` result against a probe: exit code, then stdout substring. */
export function checkExecResult(
  probe: ExecProbe,
  result: Pick<CommandResult, 'exitCode' | 'stdout' | 'stderr'>
): AttemptOutcome {
  if (result.exitCode !== probe.exitCode) {
    const last = lastLines(result.stderr, 1) || lastLines(result.stdout, 1)
    return {
      ok: false,
      detail: `exit code ${result.exitCode} expected ${probe.exitCode}${last ? `: ${last.trim()}` : ''}`
    }
  }
  if (probe.contains !== undefined && !result.stdout.includes(probe.contains)) {
    return {
      ok: false,
      detail: `stdout did not contain ${show(probe.contains)} ${excerpt(result.stdout, 'stdout')}`
    }
  }
  return { ok: true, detail: `exit code ${result.exitCode}` }
}

function errorCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

const CONNECTION_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  EPIPE: 'connection closed by the server',
  UND_ERR_SOCKET: 'connection closed by the server',
  EHOSTUNREACH: 'host unreachable'
}

/** A fetch failure in words: "connection refused", "timeout after 5s", ... */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: unknown } | null)?.name
  if (name === 'TimeoutError' || name === 'AbortError') {
    return `timeout after ${formatDuration(timeoutMs)}`
  }
  const code = errorCode(error)
  if (code && CONNECTION_ERRORS[code]) return CONNECTION_ERRORS[code] as string
  const cause = (error as { cause?: { message?: unknown } } | null)?.cause?.message
  const message = typeof cause === 'string' ? cause : (error as Error)?.message
  return `request failed: ${message ?? String(error)}`
}

const portKey = (service: string, port: number): string => `${service}:${port}`

type PortLookup = { hostPort: number } | { error: string }

/** Asks compose for the host port of one container port. */
async function lookupPort(
  service: string,
  port: number,
  context: ProbeContext,
  executor: Executor
): Promise<PortLookup> {
  let result: CommandResult
  try {
    result = await executor.run(composePortArgs(context.base, service, port), { cwd: context.cwd })
  } catch (error) {
    return { error: `could not run docker compose port: ${(error as Error).message}` }
  }
  if (result.exitCode !== 0) {
    const why = lastLines(result.stderr || result.stdout, 1)
    return { error: `no published port for ${service}:${port}${why ? `: ${why.trim()}` : ''}` }
  }
  const hostPort = parsePortOutput(result.stdout)
  if (hostPort === undefined) {
    return {
      error: `${service}:${port} is not published (compose port printed "${result.stdout.trim()}")`
    }
  }
  return { hostPort }
}

/**
 * The host ports of every TCP port the services publish, for stackUrls. A port compose cannot
 * resolve is left out (and logged).
 */
export async function resolvePublishedPorts(
  services: readonly ProbeService[],
  context: Omit<ProbeContext, 'ports'>,
  deps: Pick<ProbeDeps, 'executor' | 'log'>
): Promise<PublishedPort[]> {
  const resolved: PublishedPort[] = []
  for (const service of services) {
    for (const port of publishedTcpPorts(service)) {
      const lookup = await lookupPort(service.name, port, context, deps.executor)
      if ('hostPort' in lookup)
        resolved.push({ service: service.name, port, hostPort: lookup.hostPort })
      else deps.log?.(lookup.error)
    }
  }
  return resolved
}

class Runner {
  private readonly ports = new Map<string, number>()
  private readonly fetch: typeof globalThis.fetch
  private readonly sleep: (ms: number) => Promise<void>
  private readonly now: () => number

  constructor(
    private readonly context: ProbeContext,
    private readonly deps: ProbeDeps
  ) {
    for (const p of context.ports ?? []) this.ports.set(portKey(p.service, p.port), p.hostPort)
    this.fetch = deps.fetch ?? globalThis.fetch
    this.sleep = deps.sleep ?? sleep
    this.now = deps.now ?? Date.now
  }

  private async hostPort(service: string, port: number): Promise<PortLookup> {
    const known = this.ports.get(portKey(service, port))
    if (known !== undefined) return { hostPort: known }
    const lookup = await lookupPort(service, port, this.context, this.deps.executor)
    if ('hostPort' in lookup) this.ports.set(portKey(service, port), lookup.hostPort)
    return lookup
  }

  private async attemptHttp(probe: HttpProbe): Promise<AttemptOutcome> {
    const lookup = await this.hostPort(probe.service, probe.port)
    if ('error' in lookup) return { ok: false, detail: lookup.error }
    const url = probeUrl(lookup.hostPort, probe.path)
    try {
      // Redirects are not followed: a status check means the status the service sent, and a
      // Location would name the container's port, not the ephemeral one.
      const response = await this.fetch(url, {
        method: probe.method,
        headers: probe.headers,
        body: probe.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(probe.timeoutMs)
      })
      const body = await response.text()
      return { ...checkHttpResponse(probe, response.status, body), url }
    } catch (error) {
      return { ok: false, detail: describeFetchError(error, probe.timeoutMs), url }
    }
  }

  private async attemptWs(probe: WsProbe): Promise<AttemptOutcome> {
    const lookup = await this.hostPort(probe.service, probe.port)
    if ('error' in lookup) return { ok: false, detail: lookup.error }
    const url = probeUrl(lookup.hostPort, probe.path, 'ws')
    const outcome = await checkWebSocket(url, {
      send: probe.send,
      expect: probe.expect,
      headers: probe.headers,
      timeoutMs: probe.timeoutMs
    })
    return { ...outcome, url }
  }

  private attempt(probe: Probe): Promise<AttemptOutcome> {
    if (probe.kind === 'http') return this.attemptHttp(probe)
    if (probe.kind === 'ws') return this.attemptWs(probe)
    return this.attemptExec(probe)
  }

  private async attemptExec(probe: ExecProbe): Promise<AttemptOutcome> {
    const argv = execArgs(this.context.base, probe.service, probe.command)
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>(resolve => {
      timer = setTimeout(() => resolve('timeout'), probe.timeoutMs)
    })
    try {
      // The Executor cannot kill a command, so a hung exec is left behind (the stack's
      // teardown ends it) and the probe moves on.
      const result = await Promise.race([
        this.deps.executor.run(argv, { cwd: this.context.cwd }),
        timeout
      ])
      if (result === 'timeout') {
        return { ok: false, detail: `timeout after ${formatDuration(probe.timeoutMs)}` }
      }
      return checkExecResult(probe, result)
    } catch (error) {
      return { ok: false, detail: `could not run docker compose exec: ${(error as Error).message}` }
    } finally {
      clearTimeout(timer)
    }
  }

  async run(probe: Probe): Promise<ProbeResult> {
    const started = this.now()
    const maxAttempts = probe.retries + 1
    let outcome: AttemptOutcome = { ok: false, detail: 'not run' }
    let attempts = 0
    while (attempts < maxAttempts) {
      attempts++
      outcome = await this.attempt(probe)
      if (outcome.ok || attempts >= maxAttempts) break
      this.deps.log?.(
        `${probe.name}: attempt ${attempts} of ${maxAttempts} failed: ${outcome.detail}; retrying in ${formatDuration(probe.intervalMs)}`
      )
      await this.sleep(probe.intervalMs)
    }
    const result: ProbeResult = {
      name: probe.name,
      kind: probe.kind,
      target: probeTarget(probe),
      ok: outcome.ok,
      attempts,
      seconds: (this.now() - started) / 1000,
      detail: outcome.detail
    }
    if (outcome.url) result.url = outcome.url
    return result
  }
}

/**
 * Runs every probe, one after the other, each with its own retries, interval and timeout, and
 * returns one result per probe in order. A failing probe is a result, never an exception: the
 * stage decides what failure means.
 */
export async function runProbes(
  probes: readonly Probe[],
  context: ProbeContext,
  deps: ProbeDeps
): Promise<ProbeResult[]> {
  const runner = new Runner(context, deps)
  const results: ProbeResult[] = []
  for (const probe of probes) results.push(await runner.run(probe))
  return results
}
