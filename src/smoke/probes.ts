/**
 * Smoke probes: what the `probes` input asks for (HTTP requests, WebSocket connections and
 * commands inside containers), checked up front, and the pure pieces the runner
 * (probe-runner.ts) and the stage need: argv builders, `compose port` parsing, the stack's URLs
 * for the test command, and the job summary table.
 */
import { isSeq, LineCounter, parseDocument, type Node } from 'yaml'
import { codeCell, tableCell } from '../report/markdown.js'

/** How often and how long to try a probe. Durations are in milliseconds. */
export interface ProbeTiming {
  /** Attempts after the first failure (so at most retries + 1 attempts). */
  retries: number
  /** Wait between two attempts. */
  intervalMs: number
  /** Bound on one attempt: one HTTP request (body included), one WebSocket check or one exec. */
  timeoutMs: number
}

interface ProbeCommon extends ProbeTiming {
  /** Position in the probes list, from 0: the `probes[index]` of error messages. */
  index: number
  /** Line of the item in the probes input (from 1), when it was parsed from text. */
  line: number | undefined
  /** The user's name, or one derived from the target ("GET web:8080/health"). */
  name: string
  service: string
}

/** A JSON field (dotted path, `a.b.0.c`) that must equal a value, or exist (or not). */
export type JsonCheck =
  { path: string; op: 'equals'; value: unknown } | { path: string; op: 'exists'; exists: boolean }

export interface HttpProbe extends ProbeCommon {
  kind: 'http'
  /** The container port, as in `ports: - target`; the runner asks compose for the host port. */
  port: number
  /** Path and query, starting with "/". */
  path: string
  method: string
  headers: Record<string, string>
  body: string | undefined
  /** Accepted status codes. */
  status: number[]
  /** The response body must contain this. */
  contains: string | undefined
  json: JsonCheck | undefined
}

export interface WsProbe extends ProbeCommon {
  kind: 'ws'
  /** The container port, resolved to the host port like an HTTP probe's. */
  port: number
  /** Path and query of the upgrade request, starting with "/". */
  path: string
  /** Extra headers of the upgrade request. */
  headers: Record<string, string>
  /** A text message sent once the connection is open. */
  send: string | undefined
  /** The first message received must contain this. */
  expect: string | undefined
}

export interface ExecProbe extends ProbeCommon {
  kind: 'exec'
  /** argv run inside the service's container with `compose exec -T`; never through a shell. */
  command: string[]
  exitCode: number
  /** stdout must contain this. */
  contains: string | undefined
}

export type Probe = HttpProbe | WsProbe | ExecProbe

/** What one probe came to. `detail` says what was expected and what came back. */
export interface ProbeResult {
  name: string
  kind: Probe['kind']
  /** `service:port/path` for HTTP and WebSocket, `service` for exec. */
  target: string
  ok: boolean
  attempts: number
  seconds: number
  /** On success a short note ("status 200"); on failure expected vs got, from the last attempt. */
  detail: string
  /** HTTP and WebSocket: the URL of the last attempt, once the host port was known. */
  url?: string
}

/** A container port of a service and the ephemeral host port compose bound it to. */
export interface PublishedPort {
  service: string
  port: number
  hostPort: number
}

/** The parts of a planned service the probes need (PlannedService fits). */
export interface ProbeService {
  name: string
  ports: { target: number; protocol?: string }[]
}

/** A probes input that cannot run. The message is one line naming the probe and the problem. */
export class ProbeSpecError extends Error {
  constructor(
    message: string,
    /** The probe's position in the list, when the problem is one probe's. */
    readonly index?: number
  ) {
    super(message)
    this.name = 'ProbeSpecError'
  }
}

export const PROBE_DEFAULTS: ProbeTiming = { retries: 5, intervalMs: 1000, timeoutMs: 5000 }

const TIMING_KEYS = ['retries', 'interval', 'timeout'] as const
export const HTTP_PROBE_KEYS = [
  'name',
  'http',
  'method',
  'headers',
  'body',
  'status',
  'contains',
  'json',
  ...TIMING_KEYS
] as const
export const WS_PROBE_KEYS = ['name', 'ws', 'send', 'expect', 'headers', ...TIMING_KEYS] as const
export const EXEC_PROBE_KEYS = [
  'name',
  'exec',
  'command',
  'exit-code',
  'contains',
  ...TIMING_KEYS
] as const

const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
const PORT_TARGET = /^([^:/\s]+):([^/]*)(\/\S*)?$/
const METHOD = /^[A-Za-z]+$/
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * Milliseconds of a duration: `500ms`, `2s`, `1.5s`, `1m`, `1m30s`; a bare number is seconds.
 * Returns undefined when the value is not a duration.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined
  }
  if (typeof value !== 'string') return undefined
  const text = value.trim()
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000)
  if (!DURATION.test(text)) return undefined
  let ms = 0
  for (const match of text.matchAll(DURATION_PART)) {
    ms += Number(match[1]) * (UNIT_MS[match[2] as string] as number)
  }
  return Math.round(ms)
}

/** `web:8080/health` for HTTP and WebSocket probes, `postgres` for exec probes. */
export function probeTarget(probe: Probe): string {
  return probe.kind === 'exec' ? probe.service : `${probe.service}:${probe.port}${probe.path}`
}

/** `probes[2] "web health" (line 14)`: how messages name a probe. */
export function describeProbe(probe: Pick<Probe, 'index' | 'name' | 'line'>): string {
  return label(probe.index, probe.name, probe.line)
}

function label(index: number, name: string | undefined, line: number | undefined): string {
  return `probes[${index}]${name ? ` "${name}"` : ''}${line ? ` (line ${line})` : ''}`
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  return JSON.stringify(value)
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return undefined
}

/** The name a probe goes by before it is fully read, for error messages. */
function provisionalName(item: Record<string, unknown>): string | undefined {
  const name = scalarText(item.name)
  if (name) return name
  if (typeof item.http === 'string') {
    const method = typeof item.method === 'string' ? item.method.toUpperCase() : 'GET'
    return `${method} ${item.http}${item.http.includes('/') ? '' : '/'}`
  }
  if (typeof item.ws === 'string') return `ws ${item.ws}${item.ws.includes('/') ? '' : '/'}`
  if (typeof item.exec === 'string') {
    const command = Array.isArray(item.command) ? item.command.map(String).join(' ') : ''
    return command ? `exec ${item.exec}: ${command}` : `exec ${item.exec}`
  }
  return undefined
}

function parseTiming(item: Record<string, unknown>, fail: (message: string) => never): ProbeTiming {
  const timing = { ...PROBE_DEFAULTS }
  if (item.retries !== undefined) {
    const retries = item.retries
    if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0) {
      fail(
        `retries must be a whole number of attempts after the first (0 or more), got ${describeValue(retries)}`
      )
    }
    timing.retries = retries
  }
  for (const key of ['interval', 'timeout'] as const) {
    if (item[key] === undefined) continue
    const ms = parseDuration(item[key])
    if (ms === undefined) {
      fail(`${key} ${describeValue(item[key])} is not a duration; use e.g. 500ms, 2s or 1m`)
    }
    if (key === 'timeout' && ms <= 0) fail('timeout must be more than 0')
    timing[key === 'interval' ? 'intervalMs' : 'timeoutMs'] = ms
  }
  return timing
}

/** An optional non-empty text (`contains`, `send`, `expect`); numbers are taken as text. */
function parseText(
  item: Record<string, unknown>,
  key: 'contains' | 'send' | 'expect',
  fail: (message: string) => never
): string | undefined {
  if (item[key] === undefined) return undefined
  const text = scalarText(item[key])
  if (text === undefined) fail(`${key} must be a string, got ${describeValue(item[key])}`)
  // An empty value is far more often an unset variable in a template than a wish.
  if (text === '') fail(`${key} must not be empty`)
  return text
}

function parseStatus(value: unknown, fail: (message: string) => never): number[] {
  if (value === undefined) return [200]
  const list = Array.isArray(value) ? value : [value]
  if (list.length === 0) fail('status must list at least one status code')
  for (const code of list) {
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 100 || code > 599) {
      fail(
        `status must be a status code like 200 or a list like [200, 204], got ${describeValue(code)}`
      )
    }
  }
  return list as number[]
}

function parseJsonCheck(value: unknown, fail: (message: string) => never): JsonCheck | undefined {
  if (value === undefined) return undefined
  const usage = 'json must be { path: a.b.0.c, equals: value } or { path: a.b, exists: true }'
  if (!isMapping(value)) fail(`${usage}, got ${describeValue(value)}`)
  for (const key of Object.keys(value)) {
    if (!['path', 'equals', 'exists'].includes(key)) {
      fail(`unknown key "${key}" under json; known keys: path, equals, exists`)
    }
  }
  const path = scalarText(value.path)
  if (path === undefined || path === '') fail(`${usage}: path is missing`)
  if (path.split('.').some(segment => segment === '')) {
    fail(`json path "${path}" has an empty segment; write it like a.b.0.c`)
  }
  const hasEquals = 'equals' in value
  const hasExists = 'exists' in value
  if (hasEquals === hasExists) fail(`${usage}: give exactly one of equals and exists`)
  if (hasExists) {
    if (typeof value.exists !== 'boolean') {
      fail(`json exists must be true or false, got ${describeValue(value.exists)}`)
    }
    return { path, op: 'exists', exists: value.exists }
  }
  return { path, op: 'equals', value: value.equals }
}

type CommonFields = Omit<ProbeCommon, 'service' | 'name'> & { name: string | undefined }

/** `web:8080/health` of an http or ws probe: service, container port and path. */
function parseTarget(
  item: Record<string, unknown>,
  kind: 'http' | 'ws',
  fail: (message: string) => never
): { service: string; port: number; path: string } {
  const target = item[kind]
  const form = `use service:port/path, like web:8080/${kind === 'http' ? 'health' : 'socket'}`
  if (typeof target !== 'string') fail(`${kind} must be a string; ${form}`)
  if (/^[a-z]+:\/\//i.test(target)) {
    fail(`${kind} "${target}" is a URL; ${form} (the runner finds the published host port)`)
  }
  const match = PORT_TARGET.exec(target.trim())
  if (!match) fail(`${kind} "${target}" is not in service:port/path form; ${form}`)
  const [, service, portText, path] = match as unknown as [string, string, string, string?]
  if (!SERVICE_NAME.test(service)) fail(`${kind} "${target}": "${service}" is not a service name`)
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    fail(`${kind} "${target}": port "${portText}" is not a number from 1 to 65535; ${form}`)
  }
  return { service, port, path: path ?? '/' }
}

function parseHeaders(
  item: Record<string, unknown>,
  fail: (message: string) => never
): Record<string, string> {
  const headers: Record<string, string> = {}
  if (item.headers === undefined) return headers
  if (!isMapping(item.headers)) {
    fail(`headers must be a mapping of name: value, got ${describeValue(item.headers)}`)
  }
  for (const [key, value] of Object.entries(item.headers)) {
    const text = scalarText(value)
    if (text === undefined) fail(`header "${key}" must be a string, got ${describeValue(value)}`)
    headers[key] = text
  }
  return headers
}

function parseHttp(
  item: Record<string, unknown>,
  common: CommonFields,
  fail: (message: string) => never
): HttpProbe {
  const { service, port, path } = parseTarget(item, 'http', fail)
  let method = 'GET'
  if (item.method !== undefined) {
    if (typeof item.method !== 'string' || !METHOD.test(item.method)) {
      fail(`method must be an HTTP method like GET or POST, got ${describeValue(item.method)}`)
    }
    method = item.method.toUpperCase()
  }
  const headers = parseHeaders(item, fail)
  let body: string | undefined
  if (item.body !== undefined) {
    if (typeof item.body !== 'string') {
      fail(`body must be a string (quote JSON: body: '{"a": 1}'), got ${describeValue(item.body)}`)
    }
    if (method === 'GET' || method === 'HEAD') {
      fail(`body needs a method that carries one, such as POST; ${method} requests have none`)
    }
    body = item.body
  }
  const probe: HttpProbe = {
    ...common,
    kind: 'http',
    name: '',
    service,
    port,
    path,
    method,
    headers,
    body,
    status: parseStatus(item.status, fail),
    contains: parseText(item, 'contains', fail),
    json: parseJsonCheck(item.json, fail)
  }
  probe.name = common.name ?? `${method} ${probeTarget(probe)}`
  return probe
}

function parseWs(
  item: Record<string, unknown>,
  common: CommonFields,
  fail: (message: string) => never
): WsProbe {
  const probe: WsProbe = {
    ...common,
    kind: 'ws',
    name: '',
    ...parseTarget(item, 'ws', fail),
    headers: parseHeaders(item, fail),
    send: parseText(item, 'send', fail),
    expect: parseText(item, 'expect', fail)
  }
  probe.name = common.name ?? `ws ${probeTarget(probe)}`
  return probe
}

function parseExec(
  item: Record<string, unknown>,
  common: CommonFields,
  fail: (message: string) => never
): ExecProbe {
  const service = item.exec
  if (typeof service !== 'string' || !SERVICE_NAME.test(service)) {
    fail(`exec must be the name of a service, got ${describeValue(service)}`)
  }
  const usage = 'command must be a list, like command: [pg_isready, -U, app]'
  if (item.command === undefined) fail(`exec probes need a command; ${usage}`)
  if (typeof item.command === 'string') {
    fail(
      `${usage}; a string is not split and no shell runs it (for a shell, write [sh, -c, "..."])`
    )
  }
  if (!Array.isArray(item.command) || item.command.length === 0) {
    fail(`${usage}, got ${describeValue(item.command)}`)
  }
  const command = item.command.map(arg => {
    const text = scalarText(arg)
    if (text === undefined) fail(`command arguments must be strings, got ${describeValue(arg)}`)
    return text
  })
  let exitCode = 0
  if (item['exit-code'] !== undefined) {
    const code = item['exit-code']
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code > 255) {
      fail(`exit-code must be a number from 0 to 255, got ${describeValue(code)}`)
    }
    exitCode = code
  }
  return {
    ...common,
    kind: 'exec',
    name: common.name ?? `exec ${service}: ${command.join(' ')}`,
    service,
    command,
    exitCode,
    contains: parseText(item, 'contains', fail)
  }
}

const KIND_KEYS: Record<Probe['kind'], readonly string[]> = {
  http: HTTP_PROBE_KEYS,
  ws: WS_PROBE_KEYS,
  exec: EXEC_PROBE_KEYS
}
const KINDS = Object.keys(KIND_KEYS) as Probe['kind'][]
const KIND_FORMS = 'http: service:port/path, ws: service:port/path or exec: service'

/** Why a key does not fit a probe of this kind, when it fits another kind. */
function otherKindHint(kind: Probe['kind'], key: string): string {
  if (kind === 'ws' && key === 'contains') return ' (ws probes check the first reply with expect)'
  const owners = KINDS.filter(other => other !== kind && KIND_KEYS[other].includes(key))
  return owners.length > 0 ? ` (it belongs to ${owners.join(' and ')} probes)` : ''
}

function parseItem(raw: unknown, index: number, line: number | undefined): Probe {
  const where = isMapping(raw)
    ? label(index, provisionalName(raw), line)
    : label(index, undefined, line)
  const fail: (message: string) => never = message => {
    throw new ProbeSpecError(`${where}: ${message}`, index)
  }
  if (!isMapping(raw)) {
    fail(`each probe is a mapping with ${KIND_FORMS}, got ${describeValue(raw)}`)
  }
  const item = raw as Record<string, unknown>
  const kinds = KINDS.filter(kind => kind in item)
  if (kinds.length === 2) {
    fail(`has both ${kinds.join(' and ')}; a probe is one or the other, split it in two`)
  }
  if (kinds.length > 2) fail(`has ${kinds.join(', ')}; a probe is one of them, split it up`)
  const kind = kinds[0]
  if (kind === undefined) fail(`needs one of ${KIND_FORMS}`)
  const known = KIND_KEYS[kind]
  for (const key of Object.keys(item)) {
    if (!known.includes(key)) {
      fail(
        `unknown key "${key}"${otherKindHint(kind, key)}; known keys for ${kind === 'ws' ? 'a' : 'an'} ${kind} probe: ${known.join(', ')}`
      )
    }
    if (item[key] === null) fail(`${key} has no value`)
  }
  let name: string | undefined
  if (item.name !== undefined) {
    name = scalarText(item.name)
    if (!name || name.trim() === '')
      fail(`name must be a non-empty string, got ${describeValue(item.name)}`)
  }
  const common: CommonFields = { index, line, name, ...parseTiming(item, fail) }
  if (kind === 'http') return parseHttp(item, common, fail)
  if (kind === 'ws') return parseWs(item, common, fail)
  return parseExec(item, common, fail)
}

/**
 * Reads the `probes` input (a YAML list) and checks every probe up front. Empty input (or only
 * comments) is no probes. Throws ProbeSpecError with a one-line message naming the probe.
 */
export function parseProbes(text: string): Probe[] {
  if (text.trim() === '') return []
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, merge: true })
  const error = doc.errors[0]
  if (error) {
    const reason = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')
    const pos = error.linePos?.[0]
    throw new ProbeSpecError(
      `probes: invalid YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${reason}`
    )
  }
  const value: unknown = doc.toJS({ maxAliasCount: 1000 })
  if (value === null || value === undefined) return []
  if (!Array.isArray(value) || !isSeq(doc.contents)) {
    throw new ProbeSpecError(
      `probes: expected a list of probes (each item starting with "- http:", "- ws:" or "- exec:"), got ${describeValue(value)}`
    )
  }
  const nodes = doc.contents.items as (Node | null)[]
  return value.map((item: unknown, index) => {
    const offset = nodes[index]?.range?.[0]
    const line = offset === undefined ? undefined : lineCounter.linePos(offset).line
    return parseItem(item, index, line)
  })
}

/** The TCP container ports a service publishes, in order, once each. */
export function publishedTcpPorts(service: ProbeService): number[] {
  const ports: number[] = []
  for (const port of service.ports) {
    if ((port.protocol ?? 'tcp') !== 'tcp') continue
    if (!ports.includes(port.target)) ports.push(port.target)
  }
  return ports
}

/**
 * Checks the probes against the services that are brought up: every probe names one of them,
 * and every HTTP or WebSocket probe a port that its service publishes (the runner reaches services from
 * outside, through published ports). Throws ProbeSpecError on the first problem.
 */
export function validateProbeTargets(
  probes: readonly Probe[],
  services: readonly ProbeService[]
): void {
  for (const probe of probes) {
    const fail: (message: string) => never = message => {
      throw new ProbeSpecError(`${describeProbe(probe)}: ${message}`, probe.index)
    }
    const service = services.find(s => s.name === probe.service)
    if (!service) {
      const names = services.map(s => s.name).sort()
      fail(
        `unknown service "${probe.service}"; ${names.length > 0 ? `the stack has: ${names.join(', ')}` : 'the stack has no services'}`
      )
    }
    if (probe.kind === 'exec') continue
    const ports = publishedTcpPorts(service as ProbeService)
    if (!ports.includes(probe.port)) {
      const has = ports.length > 0 ? `it publishes ${ports.join(', ')}` : 'it publishes no ports'
      fail(
        `service "${probe.service}" does not publish port ${probe.port} (${has}); ${probe.kind === 'http' ? 'HTTP' : 'WebSocket'} probes run from the runner and reach only published ports: add it under ports:, or use an exec probe for an internal port`
      )
    }
  }
}

/** `docker compose ... port SERVICE PORT`: the host address a container port is bound to. */
export function composePortArgs(base: string[], service: string, port: number): string[] {
  return [...base, 'port', service, String(port)]
}

/**
 * The host port from `compose port` output (`0.0.0.0:49153`, `127.0.0.1:49153`, `[::]:49153`,
 * one line per binding): the first IPv4 binding's, else the first one's. Undefined when there
 * is none (older compose prints `:0` for a port that is not published).
 */
export function parsePortOutput(stdout: string): number | undefined {
  const bindings = stdout
    .split(/\r?\n/)
    .map(line => line.trim())
    .map(line => {
      const match = /^(.*):(\d+)$/.exec(line)
      if (!match) return undefined
      const port = Number(match[2])
      if (port < 1 || port > 65535) return undefined
      return { ipv4: /^\d{1,3}(?:\.\d{1,3}){3}$/.test(match[1] as string), port }
    })
    .filter(binding => binding !== undefined)
  return (bindings.find(b => b.ipv4) ?? bindings[0])?.port
}

/** Where the runner reaches a published port: the stage binds ephemeral ports on loopback. */
export function probeUrl(hostPort: number, path = '', scheme: 'http' | 'ws' = 'http'): string {
  return `${scheme}://127.0.0.1:${hostPort}${path}`
}

/** `docker compose ... exec -T SERVICE ARGV...`: no TTY, the argv as given, no shell. */
export function execArgs(base: string[], service: string, command: string[]): string[] {
  return [...base, 'exec', '-T', service, ...command]
}

/** `web-app` → `WEB_APP`: a service name as part of an environment variable name. */
export function envName(service: string): string {
  return service.toUpperCase().replace(/[^A-Z0-9]/g, '_')
}

/**
 * The stack's URLs for the test command: `<SERVICE>_<PORT>_URL` for every published port that
 * was resolved, and `<SERVICE>_URL` for each service's first published port (e.g. WEB_URL,
 * WEB_8080_URL). When two services map to one name (web-app, web_app), the first one keeps it.
 */
export function stackUrls(
  services: readonly ProbeService[],
  resolved: readonly PublishedPort[]
): Record<string, string> {
  const env: Record<string, string> = {}
  const set = (key: string, value: string): void => {
    if (!(key in env)) env[key] = value
  }
  for (const service of services) {
    const name = envName(service.name)
    publishedTcpPorts(service).forEach((port, position) => {
      const hostPort = resolved.find(r => r.service === service.name && r.port === port)?.hostPort
      if (hostPort === undefined) return
      const url = probeUrl(hostPort)
      if (position === 0) set(`${name}_URL`, url)
      set(`${name}_${port}_URL`, url)
    })
  }
  return env
}

/**
 * The argv of the user's test command. The command is the user's own script, run as written
 * by bash with -e and -o pipefail; stack-deploy assembles nothing into it (the stack's URLs
 * reach it through the environment, see stackUrls).
 */
export function testCommandArgs(command: string): string[] {
  return ['bash', '-eo', 'pipefail', '-c', command]
}

/** The job summary table of the probes; '' when there were none. */
export function renderProbeTable(results: readonly ProbeResult[]): string {
  if (results.length === 0) return ''
  const lines = ['| Probe | Target | Result | Attempts | Time |', '|---|---|---|--:|--:|']
  for (const result of results) {
    const verdict = result.ok ? '✅' : `❌ ${tableCell(result.detail)}`
    lines.push(
      `| ${tableCell(result.name)} | ${codeCell(result.target)} | ${verdict} | ${result.attempts} | ${result.seconds.toFixed(1)}s |`
    )
  }
  return `${lines.join('\n')}\n`
}
