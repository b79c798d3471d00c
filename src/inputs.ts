import { InputError } from './errors.js'
import { parseImageMap, type ImageMap } from './build/images.js'
import type { CacheChoice, CacheMode, CacheWritePolicy } from './build/cache.js'
import { parseTagTemplates, TagTemplateError } from './build/tags.js'
import { parseSeverities } from './scan/report.js'
import { parseProbes, ProbeSpecError, type Probe } from './smoke/probes.js'
import type { PortMode } from './smoke/override.js'
import { parseSshEndpoint, type SshEndpoint } from './exec/ssh.js'
import { isReleaseId } from './deploy/release.js'
import { parsePathRules, ProjectFilesError, type PathMode } from './compose/project-files.js'
import { COMMENT_STAGES } from './report/github-comment.js'

/**
 * The one typed inputs module. Its keys are the inputs of action.yml (a unit test checks that
 * they match, name for name and default for default); the action reads them from INPUT_*
 * variables and the CLI from flags of the same names, and both get the same validation.
 */

import { INPUT_SPECS, inputDefault } from './input-specs.js'

export { INPUT_SPECS }
export const COMMANDS = [
  'plan',
  'build',
  'scan',
  'smoke',
  'deploy',
  'rollback',
  'releases'
] as const
export type Command = (typeof COMMANDS)[number]

/** The commands that reach the deploy hosts over SSH (hosts, ssh-key and known-hosts needed). */
export const HOST_COMMANDS: readonly Command[] = ['deploy', 'rollback', 'releases']

export function isHostCommand(command: string): boolean {
  return (HOST_COMMANDS as readonly string[]).includes(command)
}

export interface Inputs {
  command: Command
  composeFiles: string[]
  projectName: string | undefined
  workingDirectory: string
  profiles: string[]
  services: string[]
  images: ImageMap | undefined
  waitTimeoutSeconds: number
  keep: boolean
  probes: Probe[]
  testCommand: string | undefined
  ports: PortMode
  logDir: string
  /** The paths input: bind-mount sources marked persistent or release. */
  pathRules: Map<string, PathMode>
  /** The secret-files input: compose secret name -> file content. */
  secretFiles: Record<string, string>
  build: BuildInputs
  scan: ScanInputs
  deploy: DeployInputs
  github: GithubInputs
}

export interface GithubInputs {
  /** Undefined: no GitHub API call at all. */
  token: string | undefined
  environment: string | undefined
  environmentUrl: string | undefined
  prComment: boolean
}

export interface DeployInputs {
  hosts: SshEndpoint[]
  sshKey: string
  knownHosts: string
  trustOnFirstUse: boolean
  jumpHost: SshEndpoint | undefined
  connectTimeoutSeconds: number
  deployPath: string
  envFile: string
  secrets: string
  backupService: string | undefined
  backupKeep: number
  migrateService: string | undefined
  migrateTimeoutSeconds: number
  healthUrls: string[]
  healthRetries: number
  lockTimeoutSeconds: number
  lockTtlSeconds: number
  keepReleases: number
  zeroDowntime: boolean
  zeroDowntimeSettleSeconds: number
  minFreeMiB: number
  releaseId: string | undefined
}

export interface ScanInputs {
  imageRefs: string[]
  severities: string[]
  ignoreUnfixed: boolean
  ignoreFile: string | undefined
  exitCodes: { default: 0 | 1; perService: Record<string, 0 | 1> }
  parallel: number
  trivyVersion: string
  dbRepositories: string[]
  sarifDir: string
}

export interface BuildInputs {
  registry: string | undefined
  imageNamespace: string | undefined
  push: boolean
  registryUsername: string | undefined
  registryPassword: string | undefined
  tagTemplates: string[] | undefined
  cache: CacheChoice
  cacheMode: CacheMode
  cacheWrite: CacheWritePolicy
  builder: string | undefined
}

/** Reads one raw input; returns '' when it is not set (as @actions/core's getInput does). */
export type InputGetter = (name: string) => string

function raw(get: InputGetter, name: string): string {
  const value = get(name).trim()
  return value === '' ? inputDefault(name) : value
}

/** Splits a list input on newlines and commas, dropping blanks and `#` comments. */
export function parseList(value: string): string[] {
  return value
    .split(/[\n,]/)
    .map(item => item.replace(/#.*$/, '').trim())
    .filter(item => item !== '')
}

/** Like parseList, but one item per line only: file paths may contain commas. */
export function parseLines(value: string): string[] {
  return value
    .split(/\r?\n/)
    .map(item => item.trim())
    .filter(item => item !== '' && !item.startsWith('#'))
}

export function parseBoolean(name: string, value: string): boolean {
  const normalized = value.trim().toLowerCase()
  if (['true', 'yes', '1', 'on'].includes(normalized)) return true
  if (['false', 'no', '0', 'off', ''].includes(normalized)) return false
  throw new InputError(name, `expected true or false, got "${value}"`)
}

export function parsePositiveInteger(name: string, value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) <= 0) {
    throw new InputError(name, `expected a whole number of seconds above 0, got "${value}"`)
  }
  return Number(value)
}

function parseImagesInput(value: string): ImageMap | undefined {
  if (value === '') return undefined
  try {
    return parseImageMap(value)
  } catch (error) {
    throw new InputError('images', (error as Error).message)
  }
}

function parseChoice<T extends string>(name: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new InputError(name, `expected one of ${choices.join(', ')}, got "${value}"`)
  }
  return value as T
}

const REGISTRY_HOST = /^[A-Za-z0-9.-]+(:\d+)?$/
const NAMESPACE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/

function parseBuildInputs(get: InputGetter, command: string): BuildInputs {
  const registry = raw(get, 'registry') || undefined
  if (registry !== undefined && !REGISTRY_HOST.test(registry)) {
    throw new InputError(
      'registry',
      `"${registry}" is not a registry host (like ghcr.io or registry.example.com:5000); leave out the scheme and path`
    )
  }
  const imageNamespace = raw(get, 'image-namespace') || undefined
  if (imageNamespace !== undefined && !NAMESPACE.test(imageNamespace)) {
    throw new InputError(
      'image-namespace',
      `"${imageNamespace}" is not a valid image namespace: use lowercase letters, digits, '.', '_', '-' and '/'`
    )
  }
  const registryUsername = raw(get, 'registry-username') || undefined
  const registryPassword = get('registry-password') || undefined
  if (registryUsername !== undefined && registryPassword === undefined) {
    throw new InputError('registry-password', 'is required when registry-username is set')
  }
  if (registryPassword !== undefined && registryUsername === undefined) {
    throw new InputError('registry-username', 'is required when registry-password is set')
  }
  if (registryUsername !== undefined && registry === undefined) {
    throw new InputError(
      'registry',
      'is required when registry-username and registry-password are set: it says where to log in'
    )
  }
  let tagTemplates: string[] | undefined
  try {
    const text = raw(get, 'tags')
    tagTemplates = text === '' ? undefined : parseTagTemplates(text)
  } catch (error) {
    if (error instanceof TagTemplateError) throw new InputError('tags', error.message)
    throw error
  }
  const cache = parseChoice('cache', raw(get, 'cache'), [
    'auto',
    'gha',
    'registry',
    'none'
  ] as const)
  if (cache === 'registry' && registry === undefined) {
    throw new InputError(
      'cache',
      '"registry" needs the registry input: the cache is stored next to the images'
    )
  }
  const push = parseBoolean('push', raw(get, 'push'))
  if (push && command !== 'build') {
    throw new InputError('push', `only applies to the build command, not "${command}"`)
  }
  return {
    registry,
    imageNamespace,
    push,
    registryUsername,
    registryPassword,
    tagTemplates,
    cache,
    cacheMode: parseChoice('cache-mode', raw(get, 'cache-mode'), ['min', 'max'] as const),
    cacheWrite: parseChoice('cache-write', raw(get, 'cache-write'), [
      'always',
      'default-branch',
      'never'
    ] as const),
    builder: raw(get, 'builder') || undefined
  }
}

/** `1`, `0`, or `1, web=0`: a bare value sets the default, `service=value` one service. */
export function parseExitCodes(value: string): ScanInputs['exitCodes'] {
  const exitCodes: ScanInputs['exitCodes'] = { default: 1, perService: {} }
  for (const item of parseList(value)) {
    const match = /^(?:([A-Za-z0-9._-]+)\s*=\s*)?([01])$/.exec(item)
    if (!match) {
      throw new InputError('exit-code', `"${item}" is not 0, 1 or service=0|1`)
    }
    const code = Number(match[2]) as 0 | 1
    if (match[1]) exitCodes.perService[match[1]] = code
    else exitCodes.default = code
  }
  return exitCodes
}

function parseScanInputs(get: InputGetter): ScanInputs {
  let severities: string[]
  try {
    severities = parseSeverities(parseList(raw(get, 'severity')))
  } catch (error) {
    throw new InputError('severity', (error as Error).message)
  }
  const trivyVersion = raw(get, 'trivy-version')
  if (trivyVersion !== 'path' && !/^v?\d+\.\d+\.\d+$/.test(trivyVersion)) {
    throw new InputError(
      'trivy-version',
      `"${trivyVersion}" is not a release like 0.74.0, or "path"`
    )
  }
  const dbRepositories = parseLines(raw(get, 'trivy-db-repositories'))
  if (dbRepositories.length === 0)
    throw new InputError('trivy-db-repositories', 'give at least one repository')
  const parallel = Number(raw(get, 'parallel'))
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 16) {
    throw new InputError(
      'parallel',
      `expected a whole number from 1 to 16, got "${raw(get, 'parallel')}"`
    )
  }
  return {
    imageRefs: parseLines(raw(get, 'image-refs')),
    severities,
    ignoreUnfixed: parseBoolean('ignore-unfixed', raw(get, 'ignore-unfixed')),
    ignoreFile: raw(get, 'ignore-file') || undefined,
    exitCodes: parseExitCodes(raw(get, 'exit-code')),
    parallel,
    trivyVersion,
    dbRepositories,
    sarifDir: raw(get, 'sarif-dir')
  }
}

function parseProbesInput(text: string): Probe[] {
  try {
    return parseProbes(text)
  } catch (error) {
    if (error instanceof ProbeSpecError) throw new InputError('probes', error.message)
    throw error
  }
}

function parsePathsInput(text: string): Map<string, PathMode> {
  try {
    return parsePathRules(text)
  } catch (error) {
    if (error instanceof ProjectFilesError) throw new InputError('paths', error.message)
    throw error
  }
}

function parseCount(name: string, value: string, min: number): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min) {
    throw new InputError(name, `expected a whole number of at least ${min}, got "${value}"`)
  }
  return Number(value)
}

function parseDeployInputs(get: InputGetter, command: string): DeployInputs {
  const sshUser = raw(get, 'ssh-user')
  const sshPort = parseCount('ssh-port', raw(get, 'ssh-port'), 1)
  const hosts = parseLines(raw(get, 'hosts')).map(spec =>
    parseSshEndpoint(spec, 'hosts', { user: sshUser, port: sshPort })
  )
  const jumpText = raw(get, 'jump-host')
  const jumpHost = jumpText
    ? parseSshEndpoint(jumpText, 'jump-host', { user: sshUser, port: 22 })
    : undefined
  const sshKey = get('ssh-key')
  const knownHosts = get('known-hosts').trim()
  const trustOnFirstUse = parseBoolean('trust-on-first-use', raw(get, 'trust-on-first-use'))
  if (isHostCommand(command)) {
    if (hosts.length === 0)
      throw new InputError('hosts', `is required for ${command}: give at least one host`)
    if (!sshKey.trim())
      throw new InputError(
        'ssh-key',
        `is required for ${command}: pass the private key from a secret`
      )
    if (!knownHosts && !trustOnFirstUse) {
      throw new InputError(
        'known-hosts',
        `is required for ${command}: pin each host's key (known_hosts lines, or "host SHA256:..." fingerprints from \`ssh-keyscan HOST | ssh-keygen -lf -\` run somewhere you trust)`
      )
    }
  }
  const deployPath = raw(get, 'deploy-path')
  if (!deployPath.startsWith('/') || deployPath.split('/').includes('..')) {
    throw new InputError('deploy-path', `"${deployPath}" must be an absolute path without ".."`)
  }
  const releaseId = raw(get, 'release-id') || undefined
  if (releaseId !== undefined && !isReleaseId(releaseId)) {
    throw new InputError(
      'release-id',
      `"${releaseId}" is not a release id like 20261121T220130.123Z-1a2b3c4`
    )
  }
  const backup = parseBoolean('backup', raw(get, 'backup'))
  return {
    hosts,
    sshKey,
    knownHosts,
    trustOnFirstUse,
    jumpHost,
    connectTimeoutSeconds: parseCount('connect-timeout', raw(get, 'connect-timeout'), 1),
    deployPath,
    envFile: get('env-file'),
    secrets: get('secrets'),
    backupService: backup ? raw(get, 'backup-service') || undefined : undefined,
    backupKeep: parseCount('backup-keep', raw(get, 'backup-keep'), 1),
    migrateService: raw(get, 'migrate-service') || undefined,
    migrateTimeoutSeconds: parseCount('migrate-timeout', raw(get, 'migrate-timeout'), 1),
    healthUrls: parseLines(raw(get, 'health-urls')),
    healthRetries: parseCount('health-retries', raw(get, 'health-retries'), 0),
    lockTimeoutSeconds: parseCount('lock-timeout', raw(get, 'lock-timeout'), 0),
    lockTtlSeconds: parseCount('lock-ttl', raw(get, 'lock-ttl'), 60),
    keepReleases: parseCount('keep-releases', raw(get, 'keep-releases'), 2),
    zeroDowntime: parseBoolean('zero-downtime', raw(get, 'zero-downtime')),
    zeroDowntimeSettleSeconds: parseCount(
      'zero-downtime-settle',
      raw(get, 'zero-downtime-settle'),
      0
    ),
    minFreeMiB: parseCount('min-free-disk', raw(get, 'min-free-disk'), 0),
    releaseId
  }
}

function parseGithubInputs(get: InputGetter, command: string): GithubInputs {
  // Read as given (like registry-password): a token is never a default or a list.
  const token = get('github-token').trim() || undefined
  const environment = raw(get, 'environment') || undefined
  const environmentUrl = raw(get, 'environment-url') || undefined
  const prComment = parseBoolean('pr-comment', raw(get, 'pr-comment'))
  if (environment !== undefined && (environment.length > 255 || /[\r\n]/.test(environment))) {
    throw new InputError(
      'environment',
      'must be one line of at most 255 characters, like staging or production'
    )
  }
  if (environmentUrl !== undefined) {
    let url: URL | undefined
    try {
      url = new URL(environmentUrl)
    } catch {
      url = undefined
    }
    if (!url || !['http:', 'https:'].includes(url.protocol)) {
      throw new InputError(
        'environment-url',
        `"${environmentUrl}" is not an http(s) URL; give the address the environment is reached at, like https://staging.example.com`
      )
    }
  }
  if (token && (command === 'deploy' || command === 'rollback') && !environment) {
    throw new InputError(
      'environment',
      `is required for ${command} when github-token is set: name the GitHub environment to record the deployment in (e.g. staging or production), or leave github-token empty to record none`
    )
  }
  if (prComment && !token) {
    throw new InputError(
      'github-token',
      'is required when pr-comment is true: pass github.token (the job needs `pull-requests: write`), or set pr-comment to false'
    )
  }
  if (prComment && !(COMMENT_STAGES as readonly string[]).includes(command)) {
    throw new InputError(
      'pr-comment',
      `only applies to the build, scan and smoke commands, not "${command}"`
    )
  }
  return { token, environment, environmentUrl, prComment }
}

const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/**
 * The secret-files input, in the format of GITHUB_OUTPUT: `NAME=value` for one line, or
 * `NAME<<DELIMITER`, the lines, then `DELIMITER` alone, for several (the value is the lines
 * between, joined by newlines, as GitHub reads a multi-line output).
 */
export function parseSecretFiles(text: string): Record<string, string> {
  const files: Record<string, string> = {}
  const lines = text.split(/\r?\n/)
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string
    if (line.trim() === '' || line.trim().startsWith('#')) continue
    const heredoc = /^\s*([^=<\s]+)<<(\S+)\s*$/.exec(line)
    const single = /^\s*([^=<\s]+)=(.*)$/.exec(line)
    const name = (heredoc ?? single)?.[1]
    if (!name || !SECRET_NAME.test(name)) {
      // Never quote the line: it may hold a secret's value.
      throw new InputError(
        'secret-files',
        `line ${index + 1} is not NAME=value or NAME<<DELIMITER with a compose secret name`
      )
    }
    if (name in files) throw new InputError('secret-files', `${name} is given twice`)
    if (single && !heredoc) {
      files[name] = single[2] as string
      continue
    }
    const delimiter = (heredoc as RegExpExecArray)[2] as string
    const end = lines.findIndex((other, at) => at > index && other.trim() === delimiter)
    if (end < 0)
      throw new InputError(
        'secret-files',
        `${name}<<${delimiter} (line ${index + 1}) has no closing ${delimiter} line`
      )
    files[name] = lines.slice(index + 1, end).join('\n')
    index = end
  }
  return files
}

/**
 * The secret values in the inputs that input-specs.ts marks `secret`, as the action and the CLI
 * register them (registerInputSecrets) before anything else reads the inputs, so that not even
 * an error about another input can show one. Never throws: text that does not parse (the error
 * comes later, from parseInputs) is read line by line, erring on the side of too much.
 */
export function inputSecrets(get: InputGetter): string[] {
  const found: string[] = []
  for (const spec of INPUT_SPECS) {
    const text = spec.secret ? get(spec.name) : ''
    if (text.trim() === '') continue
    if (spec.secret === 'value') found.push(text)
    else if (spec.secret === 'env-lines') found.push(...envLineValues(text))
    else if (spec.secret === 'secret-files') found.push(...secretFileValues(text))
  }
  return found
}

/** Registers every input secret with the reporter: masked in the log, redacted from the rest. */
export function registerInputSecrets(
  get: InputGetter,
  reporter: { setSecret(value: string): void }
): void {
  for (const value of inputSecrets(get)) reporter.setSecret(value)
}

/** KEY=value lines (the secrets input): each value, unquoted; a line without `=` whole. */
function envLineValues(text: string): string[] {
  return text.split(/\r?\n/).flatMap(raw => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return []
    // A line that is not KEY=value may be a value pasted alone: buildEnvFile's error quotes it.
    if (!line.includes('=')) return [line]
    const value = line.slice(line.indexOf('=') + 1).trim()
    const unquoted = /^(['"])(.*)\1$/.exec(value)?.[2] ?? value
    return unquoted ? [unquoted] : []
  })
}

/** The secret-files input's values; when it does not parse, every line but `NAME<<DELIMITER`. */
function secretFileValues(text: string): string[] {
  try {
    return Object.values(parseSecretFiles(text))
  } catch {
    return text
      .split(/\r?\n/)
      .filter(line => !/^\s*[^=<\s]+<<\S+\s*$/.test(line))
      .map(line => /^\s*[^=<\s]+=(.*)$/.exec(line)?.[1] ?? line)
  }
}

const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/

export function parseInputs(get: InputGetter): Inputs {
  const command = raw(get, 'command')
  if (command === '') {
    throw new InputError('command', `is required; use one of ${COMMANDS.join(', ')}`)
  }
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new InputError(
      'command',
      `unknown command "${command}"; use one of ${COMMANDS.join(', ')}`
    )
  }

  const composeFiles = parseLines(raw(get, 'compose-files'))
  if (composeFiles.length === 0) {
    throw new InputError('compose-files', 'give at least one compose file')
  }

  const projectName = raw(get, 'project-name') || undefined
  if (projectName !== undefined && !PROJECT_NAME.test(projectName)) {
    throw new InputError(
      'project-name',
      `"${projectName}" is not a valid compose project name: use lowercase letters, digits, "-" and "_", starting with a letter or digit`
    )
  }

  return {
    command: command as Command,
    composeFiles,
    projectName,
    workingDirectory: raw(get, 'working-directory'),
    profiles: parseList(raw(get, 'profiles')),
    services: parseList(raw(get, 'services')),
    images: parseImagesInput(raw(get, 'images')),
    waitTimeoutSeconds: parsePositiveInteger('wait-timeout', raw(get, 'wait-timeout')),
    keep: parseBoolean('keep', raw(get, 'keep')),
    probes: parseProbesInput(get('probes')),
    testCommand: raw(get, 'test-command') || undefined,
    ports: parseChoice('ports', raw(get, 'ports'), ['ephemeral', 'fixed'] as const),
    logDir: raw(get, 'log-dir'),
    pathRules: parsePathsInput(get('paths')),
    secretFiles: parseSecretFiles(get('secret-files')),
    build: parseBuildInputs(get, command),
    scan: parseScanInputs(get),
    deploy: parseDeployInputs(get, command),
    github: parseGithubInputs(get, command)
  }
}
