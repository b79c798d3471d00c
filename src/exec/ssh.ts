/**
 * The ssh side of the deploy stage: argv for the runner's OpenSSH client, the private
 * directory that holds the key, known_hosts and control socket, and what ssh's error output
 * means. Everything here builds argv arrays or files; nothing builds shell text from input
 * (remote command strings are built in remote.ts, with quote.ts).
 *
 * Why not `DOCKER_HOST=ssh://user@host`: the docker CLI then runs `ssh ... docker system
 * dial-stdio` once per API connection, and compose opens many of them in parallel (one per
 * service and more; docker/compose#10117), so a deploy makes dozens of ssh connections that
 * hit sshd's MaxStartups (default 10:30:100, random drops past 10 unauthenticated ones) and
 * each pays a full key exchange and authentication. Instead we open ONE ssh connection per
 * host (a ControlMaster), run `docker` / `docker compose` on the host through it, a few
 * sessions at a time, well under sshd's MaxSessions (default 10 per connection).
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { InputError } from '../errors.js'
import type { Executor } from './executor.js'

/** Where to connect: user@host:port. The host is a DNS name, an IPv4 or an IPv6 address. */
export interface SshEndpoint {
  user: string
  host: string
  port: number
}

/** A connection: the deploy host, reached directly or through a jump host (ProxyJump). */
export interface SshRoute {
  target: SshEndpoint
  jump?: SshEndpoint
}

/** Connection tunables. All in seconds. */
export interface SshTuning {
  /** TCP connect + ssh banner exchange. */
  connectTimeoutSeconds: number
  /** ServerAliveInterval: a keepalive probe after this much silence from the server. */
  keepAliveIntervalSeconds: number
  /** ServerAliveCountMax: the connection is dropped after this many unanswered probes. */
  keepAliveCountMax: number
  /** ControlPersist: the master connection outlives its last session by this long. */
  controlPersistSeconds: number
}

export const DEFAULT_TUNING: SshTuning = {
  connectTimeoutSeconds: 15,
  keepAliveIntervalSeconds: 15,
  keepAliveCountMax: 4,
  controlPersistSeconds: 60
}

/** The files of one connection, all inside one private directory (mode 0700). */
export interface SshPaths {
  dir: string
  /** The private key, mode 0600. */
  key: string
  /** Our known_hosts: the only place host keys are checked against. */
  knownHosts: string
  /** Our ssh_config (see sshConfigText). */
  config: string
  /** ControlPath with %C (a hash of local host, host, port and user): short and unique. */
  controlPath: string
}

export function sshPaths(dir: string): SshPaths {
  return {
    dir,
    key: path.join(dir, 'id'),
    knownHosts: path.join(dir, 'known_hosts'),
    config: path.join(dir, 'config'),
    controlPath: path.join(dir, '%C')
  }
}

// ---------------------------------------------------------------------------------------------
// Endpoints

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/
const IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/
const USER = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/

/**
 * Parses `user@host:port`, `user@host`, `host:port`, `host`, `user@[2001:db8::1]:2222`.
 * These strings end up in ssh's ProxyJump, which ssh turns into a command line for a shell
 * without quoting; so hosts and users are held to plain characters.
 */
export function parseSshEndpoint(
  spec: string,
  input: string,
  defaults: { user?: string; port?: number } = {}
): SshEndpoint {
  const text = spec.trim()
  const match = /^(?:([^@]+)@)?(\[[^\]]*\]|[^:@[\]]+)(?::(\d+))?$/.exec(text)
  if (!match) {
    throw new InputError(input, `"${spec}" is not an ssh destination; expected user@host[:port]`)
  }
  const [, userPart, hostPart = '', portPart] = match
  const user = userPart ?? defaults.user
  const host = hostPart.startsWith('[') ? hostPart.slice(1, -1) : hostPart
  const port = portPart === undefined ? (defaults.port ?? 22) : Number(portPart)
  if (!user) throw new InputError(input, `"${spec}" names no user; expected user@host[:port]`)
  return checkEndpoint({ user, host, port }, input)
}

/** Validates an endpoint given as an object (see parseSshEndpoint for the rules). */
export function checkEndpoint(endpoint: SshEndpoint, input: string): SshEndpoint {
  const { user, host, port } = endpoint
  if (!USER.test(user)) {
    throw new InputError(
      input,
      `"${user}" is not a valid ssh user name (letters, digits, '.', '_', '-')`
    )
  }
  if (!HOSTNAME.test(host) && !IPV6.test(host)) {
    throw new InputError(input, `"${host}" is not a valid host name or IP address`)
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InputError(input, `port ${port} is not between 1 and 65535`)
  }
  return { user, host, port }
}

/** `user@host` or `user@host:port` (port only when not 22), for messages. */
export function endpointLabel(endpoint: SshEndpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host
  return `${endpoint.user}@${host}${endpoint.port === 22 ? '' : `:${endpoint.port}`}`
}

/** The ProxyJump value: `user@host:port` (IPv6 in brackets). */
export function jumpSpec(jump: SshEndpoint): string {
  const host = jump.host.includes(':') ? `[${jump.host}]` : jump.host
  return `${jump.user}@${host}:${jump.port}`
}

// ---------------------------------------------------------------------------------------------
// Options and argv

/**
 * The options every ssh we run gets. Command line and config file carry the same list:
 * the command line because it is what we run (and what tests and logs show), the config file
 * because ssh starts a second ssh for ProxyJump and hands it only `-F <config>`, never our
 * `-o` options; without it, the jump host's key would be checked against ~/.ssh/known_hosts.
 */
export function sshSecurityOptions(paths: SshPaths, tuning: SshTuning): Array<[string, string]> {
  return [
    ['BatchMode', 'yes'],
    ['StrictHostKeyChecking', 'yes'],
    ['UserKnownHostsFile', paths.knownHosts],
    ['GlobalKnownHostsFile', '/dev/null'],
    ['UpdateHostKeys', 'no'],
    ['CheckHostIP', 'no'],
    ['IdentitiesOnly', 'yes'],
    ['IdentityFile', paths.key],
    ['IdentityAgent', 'none'],
    ['PasswordAuthentication', 'no'],
    ['KbdInteractiveAuthentication', 'no'],
    ['ForwardAgent', 'no'],
    ['ForwardX11', 'no'],
    ['ClearAllForwardings', 'yes'],
    ['LogLevel', 'ERROR'],
    ['ConnectTimeout', String(tuning.connectTimeoutSeconds)],
    ['ServerAliveInterval', String(tuning.keepAliveIntervalSeconds)],
    ['ServerAliveCountMax', String(tuning.keepAliveCountMax)]
  ]
}

/**
 * Our ssh_config, passed with -F so that neither the runner user's ~/.ssh/config nor
 * /etc/ssh/ssh_config applies (that is what `-F /dev/null` would do; ours adds the same
 * options for the ProxyJump child ssh). No multiplexing here: the jump connection is one
 * ssh -W inside the master, and must not try to become a master itself.
 */
export function sshConfigText(paths: SshPaths, tuning: SshTuning): string {
  const lines = sshSecurityOptions(paths, tuning).map(([key, value]) => `  ${key} ${value}`)
  return `# Written by stack-deploy for one deploy; removed afterwards.\nHost *\n${lines.join('\n')}\n`
}

/**
 * Everything before the mode-specific options: `ssh -F config -o ... -i key -l user -p port -T`.
 * `multiplex: false` leaves out the ControlPath (for one-off connections, such as ssh-keyscan
 * run on the jump host before the master exists).
 */
export function sshBaseArgv(
  route: SshRoute,
  paths: SshPaths,
  tuning: SshTuning,
  options: { multiplex?: boolean } = {}
): string[] {
  const argv = ['ssh', '-F', paths.config]
  for (const [key, value] of sshSecurityOptions(paths, tuning)) argv.push('-o', `${key}=${value}`)
  argv.push('-i', paths.key)
  if (route.jump) argv.push('-o', `ProxyJump=${jumpSpec(route.jump)}`)
  if (options.multiplex === false) argv.push('-o', 'ControlMaster=no', '-o', 'ControlPath=none')
  else argv.push('-o', `ControlPath=${paths.controlPath}`)
  argv.push('-l', route.target.user, '-p', String(route.target.port), '-T')
  return argv
}

/** One connection for one command, outside the master (stdin: /dev/null). */
export function sshOneShotArgv(
  route: SshRoute,
  paths: SshPaths,
  tuning: SshTuning,
  remoteCommand: string
): string[] {
  return [
    ...sshBaseArgv(route, paths, tuning, { multiplex: false }),
    '-n',
    '--',
    route.target.host,
    remoteCommand
  ]
}

/** Opens the master connection and returns once it is authenticated (ssh forks to background). */
export function sshMasterArgv(route: SshRoute, paths: SshPaths, tuning: SshTuning): string[] {
  return [
    ...sshBaseArgv(route, paths, tuning),
    '-o',
    'ControlMaster=yes',
    '-o',
    `ControlPersist=${tuning.controlPersistSeconds}`,
    '-N',
    '-f',
    '--',
    route.target.host
  ]
}

/**
 * Runs one remote command string (built by buildRemoteCommand) as a session of the master.
 * ControlMaster=auto: should the master be gone (idle past ControlPersist, network drop), this
 * ssh connects again and becomes the new master, instead of failing the deploy.
 * Without stdin data, -n: ssh reads /dev/null, and the remote command sees EOF at once.
 */
export function sshCommandArgv(
  route: SshRoute,
  paths: SshPaths,
  tuning: SshTuning,
  remoteCommand: string,
  options: { stdin: boolean }
): string[] {
  return [
    ...sshBaseArgv(route, paths, tuning),
    '-o',
    'ControlMaster=auto',
    '-o',
    `ControlPersist=${tuning.controlPersistSeconds}`,
    ...(options.stdin ? [] : ['-n']),
    '--',
    route.target.host,
    remoteCommand
  ]
}

/** `ssh -O check|exit`: asks the master through its socket. */
export function sshControlArgv(
  route: SshRoute,
  paths: SshPaths,
  tuning: SshTuning,
  operation: 'check' | 'exit'
): string[] {
  return [...sshBaseArgv(route, paths, tuning), '-O', operation, '--', route.target.host]
}

/** Seconds coreutils timeout waits after TERM before KILL, locally and on the host. */
export const KILL_AFTER_SECONDS = 5

/** Wraps a local argv in coreutils timeout, in case ssh itself hangs. */
export function localTimeoutArgv(seconds: number, argv: string[]): string[] {
  return ['timeout', `--kill-after=${KILL_AFTER_SECONDS}`, String(seconds), ...argv]
}

// ---------------------------------------------------------------------------------------------
// The private directory and the key

/** Prefix of our private directories; dispose refuses to remove anything else. */
export const PRIVATE_DIR_PREFIX = 'sdssh-'

/**
 * Unix socket paths are limited to 104 (macOS) / 108 (Linux) bytes, and ssh first binds a
 * temporary name (the ControlPath plus '.' and 16 random characters). With %C (40 hex
 * characters) the directory must stay within 45 characters.
 */
export const MAX_PRIVATE_DIR_LENGTH = 103 - 1 - 40 - 17

/**
 * Creates the private directory, mode 0700 from the start (mkdtemp). Prefers RUNNER_TEMP
 * (the runner empties it after every job, so even a key left behind by a killed step goes),
 * then the system temp dir, then /tmp: the first whose path is short enough for the socket.
 */
export function createPrivateDir(base?: string): string {
  const candidates = base ? [base] : [process.env.RUNNER_TEMP, os.tmpdir(), '/tmp']
  for (const candidate of candidates) {
    if (!candidate || !path.isAbsolute(candidate)) continue
    const prefix = path.join(candidate, PRIVATE_DIR_PREFIX)
    if (prefix.length + 6 > MAX_PRIVATE_DIR_LENGTH) continue
    if (!fs.existsSync(candidate)) continue
    const dir = fs.mkdtempSync(prefix)
    fs.chmodSync(dir, 0o700)
    return dir
  }
  throw new Error(
    `no temporary directory with a path short enough for ssh's control socket (at most ${
      MAX_PRIVATE_DIR_LENGTH - PRIVATE_DIR_PREFIX.length - 7
    } characters; tried ${candidates.filter(Boolean).join(', ')})`
  )
}

/**
 * A private key as OpenSSH wants it: LF line ends and a final newline (ssh-keygen rejects a
 * key without one: "invalid format"). Keys pasted into a one-line variable with literal \n are
 * unfolded. Refuses what is plainly not a private key, naming the input.
 */
export function normalizePrivateKey(key: string, input = 'ssh-key'): string {
  let text = key.replace(/\r\n?/g, '\n').trim()
  if (!text.includes('\n') && text.includes('\\n')) text = text.replace(/\\n/g, '\n').trim()
  if (text === '') throw new InputError(input, 'is empty; set it to the deploy private key')
  if (/^(ssh-|ecdsa-|sk-)\S+ [A-Za-z0-9+/=]+/.test(text)) {
    throw new InputError(
      input,
      'is a public key; set it to the private key (the file without .pub), and put the public ' +
        "key in the deploy user's ~/.ssh/authorized_keys"
    )
  }
  if (
    !/^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----\n[\s\S]+\n-----END [A-Z0-9 ]*PRIVATE KEY-----$/.test(
      text
    )
  ) {
    throw new InputError(
      input,
      'is not a private key (expected a "-----BEGIN OPENSSH PRIVATE KEY-----" block, e.g. from ssh-keygen -t ed25519)'
    )
  }
  return `${text}\n`
}

/** Writes a file that exists only with `mode`: created with it (O_EXCL), never wider, not even briefly. */
export function writePrivateFile(file: string, content: string, mode = 0o600): void {
  fs.writeFileSync(file, content, { mode, flag: 'wx' })
  // The umask can only remove bits; make the mode exact.
  fs.chmodSync(file, mode)
}

/**
 * Fails clearly when ssh could not use the key: `ssh-keygen -y` derives the public key, which
 * needs the key decrypted. -P '' so that a passphrase-protected key fails instead of prompting.
 */
export async function checkPrivateKey(
  executor: Executor,
  keyFile: string,
  input = 'ssh-key'
): Promise<void> {
  const result = await executor.run(['ssh-keygen', '-y', '-P', '', '-f', keyFile])
  if (result.exitCode === 0) return
  const stderr = result.stderr.trim()
  if (/passphrase/i.test(stderr)) {
    throw new InputError(
      input,
      'the private key is protected by a passphrase, which a deploy cannot type; use a key without ' +
        "one (ssh-keygen -p -N '' -f KEY removes it from a copy)"
    )
  }
  throw new InputError(
    input,
    `ssh-keygen cannot read the private key (${stderr.replace(/Load key "[^"]*": /, '') || `exit ${result.exitCode}`}); paste the whole key file, BEGIN and END lines included`
  )
}

// ---------------------------------------------------------------------------------------------
// What ssh's errors mean

export type SshFailureKind =
  /** The host offered a key that is not the pinned one. */
  | 'host-key-mismatch'
  /** Nothing pinned for this host in our known_hosts. */
  | 'host-key-unknown'
  /** The server refused our key (or the user). */
  | 'auth'
  /** Connection refused, no route, name not resolved. */
  | 'unreachable'
  /** Connect or banner exchange timed out, or the server stopped answering keepalives. */
  | 'timeout'
  /** The connection closed under us (sshd restarted, MaxStartups drop, network). */
  | 'connection-lost'
  /** The jump host would not forward to the target. */
  | 'jump-refused'
  /** The master connection refused a new session (MaxSessions). */
  | 'session-refused'

export interface SshFailure {
  kind: SshFailureKind
  /** The host ssh's message names, when it names one (for a jump host, the jump host). */
  host?: string
  /** ssh's own line that decided the kind. */
  detail: string
}

const FAILURES: Array<{ kind: SshFailureKind; pattern: RegExp; host?: RegExp }> = [
  {
    kind: 'host-key-mismatch',
    pattern:
      /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for \S+ has changed|REVOKED HOST KEY|Certificate invalid/,
    host: /Host key for (\S+) has changed/
  },
  {
    kind: 'host-key-unknown',
    pattern: /No \S+ host key is known for|Host key verification failed/,
    host: /host key is known for (\S+)/
  },
  {
    kind: 'auth',
    pattern: /Permission denied \(|Too many authentication failures/,
    host: /^(\S+?): Permission denied/m
  },
  {
    kind: 'jump-refused',
    pattern: /channel \d+: open failed|stdio forwarding failed/
  },
  {
    kind: 'session-refused',
    pattern: /Session open refused by peer|session request failed/
  },
  {
    kind: 'timeout',
    pattern:
      /Connection timed out|Operation timed out|timed out during banner exchange|Timeout, server \S+ not responding/,
    host: /connect to host (\S+) port|Timeout, server (\S+) not/
  },
  {
    kind: 'unreachable',
    pattern:
      /Connection refused|No route to host|Network is unreachable|Could not resolve hostname|Name or service not known|nodename nor servname/,
    host: /connect to host (\S+) port|resolve hostname ([^\s:]+)/
  },
  {
    kind: 'connection-lost',
    pattern:
      /Connection closed by|Connection reset by|kex_exchange_identification|Broken pipe|client_loop: send disconnect/,
    host: /Connection (?:closed|reset) by (?!remote host|UNKNOWN)(\S+) port/
  }
]

/** `user@[::1]:2222` -> `::1`: the bare host of what ssh printed. */
function bareHost(text: string): string {
  const withoutUser = text.replace(/^[^@]*@/, '')
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(withoutUser)
  return (bracketed ? (bracketed[1] as string) : withoutUser).replace(/\.$/, '')
}

/** Classifies ssh's stderr (exit status 255). Undefined when it does not look like ssh's own error. */
export function classifySshFailure(stderr: string): SshFailure | undefined {
  const lines = stderr.split(/\r?\n/).map(line => line.trim())
  for (const { kind, pattern, host: hostPattern } of FAILURES) {
    const line = lines.find(l => pattern.test(l))
    if (line === undefined) continue
    const hostMatch = hostPattern?.exec(stderr)
    const host = hostMatch?.slice(1).find(value => value !== undefined)
    // For a key mismatch ssh's banner says little; its last line names the host.
    const detail =
      kind === 'host-key-mismatch'
        ? (lines.find(l => /Host key for \S+ has changed/.test(l)) ?? line)
        : line
    return { kind, host: host === undefined ? undefined : bareHost(host), detail }
  }
  return undefined
}

/** A failure to connect, or to keep the connection; the remote command did not run (or was cut). */
export class SshConnectionError extends Error {
  constructor(
    readonly host: string,
    readonly kind: SshFailureKind | 'other',
    message: string,
    readonly stderr: string
  ) {
    super(message)
    this.name = 'SshConnectionError'
  }
}

/** The message for a classified failure: the host it is about (jump or target), and what to do. */
export function describeSshFailure(failure: SshFailure, route: SshRoute, step: string): string {
  const endpoint =
    route.jump && failure.host === route.jump.host && failure.host !== route.target.host
      ? route.jump
      : route.target
  const label = endpointLabel(endpoint)
  const scan = `ssh-keyscan -p ${endpoint.port} ${endpoint.host} | ssh-keygen -lf -`
  switch (failure.kind) {
    case 'host-key-mismatch':
      return (
        `host key for ${endpoint.host} does not match the pinned known-hosts: refusing to connect ` +
        `(possible man-in-the-middle, or the host was rebuilt: update known-hosts). ` +
        `ssh said: ${failure.detail}`
      )
    case 'host-key-unknown':
      return (
        `no host key for ${endpoint.host} is pinned in known-hosts: refusing to connect. Add the ` +
        `host's known_hosts line (verify its fingerprint first: ${scan}). ssh said: ${failure.detail}`
      )
    case 'auth':
      return (
        `${label} did not accept the ssh key (${failure.detail}); add the public key ` +
        `(ssh-keygen -y -f KEY) to ~${endpoint.user}/.ssh/authorized_keys on ${endpoint.host}`
      )
    case 'unreachable':
      return `cannot reach ${label} while ${step}: ${failure.detail}`
    case 'timeout':
      return `connection to ${label} timed out while ${step}: ${failure.detail}`
    case 'connection-lost':
      return `the connection to ${label} was closed while ${step}: ${failure.detail}`
    case 'jump-refused':
      return (
        `the jump host ${route.jump ? endpointLabel(route.jump) : ''} would not open a connection ` +
        `to ${endpointLabel(route.target)} (${failure.detail}); check AllowTcpForwarding on the jump ` +
        `host and that it can reach port ${route.target.port}`
      )
    case 'session-refused':
      return (
        `${label} refused a new session on the shared connection while ${step} ` +
        `(${failure.detail}); sshd's MaxSessions is lower than our concurrency`
      )
  }
}
