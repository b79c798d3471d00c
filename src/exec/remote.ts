/**
 * Running commands on a deploy host: a RemoteExecutor is an Executor (the same argv builders
 * run locally or remotely) backed by one multiplexed ssh connection per host.
 *
 * Every remote command
 * - is built into shell text in exactly one place, buildRemoteCommand, from an argv, with
 *   quote.ts; input never becomes shell text any other way;
 * - runs under `bash -c 'set -euo pipefail; ...'`, with stdin closed unless we send data
 *   (then our data, then EOF), and its exit status comes back as ours;
 * - has a timeout, enforced on the host (coreutils `timeout`, so nothing keeps running there
 *   when we give up) and here (`timeout` around ssh, in case ssh itself hangs).
 *
 * Secrets never go in a remote argv: the host's `ps` shows every argument (the whole remote
 * command string is an argument of the login shell). They go on stdin (writeFile, or
 * `input` for e.g. `docker login --password-stdin`).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import {
  CommandFailedError,
  LocalExecutor,
  lastLines,
  type CommandResult,
  type Executor,
  type RunOptions
} from './executor.js'
import {
  parseKnownHosts,
  pinHostKey,
  unusedFingerprintHosts,
  keyscanArgv,
  type PinSource,
  type SshLog
} from './known-hosts.js'
import { quoteArg, quoteArgv } from './quote.js'
import {
  DEFAULT_TUNING,
  KILL_AFTER_SECONDS,
  PRIVATE_DIR_PREFIX,
  SshConnectionError,
  checkEndpoint,
  checkPrivateKey,
  classifySshFailure,
  createPrivateDir,
  describeSshFailure,
  endpointLabel,
  localTimeoutArgv,
  normalizePrivateKey,
  sshCommandArgv,
  sshConfigText,
  sshControlArgv,
  sshMasterArgv,
  sshOneShotArgv,
  sshPaths,
  writePrivateFile,
  type SshEndpoint,
  type SshPaths,
  type SshRoute,
  type SshTuning
} from './ssh.js'

// ---------------------------------------------------------------------------------------------
// The remote command string

/** Linux limits one argument to 128 KiB, and the command string is one argument of the login shell. */
export const MAX_REMOTE_COMMAND_LENGTH = 100_000

/** How much longer than the remote timeout the local one waits, for ssh's own round trips. */
export const LOCAL_TIMEOUT_GRACE_SECONDS = 10

export interface RemoteCommandOptions {
  /** The command is stopped on the host after this (TERM, then KILL 5 s later). */
  timeoutSeconds: number
  /** Directory to run in, on the host. */
  cwd?: string
  /** Environment variables, on the host. Visible in the host's `ps`: nothing secret here. */
  env?: Record<string, string>
  /** True when we send data on stdin; otherwise the command's stdin is /dev/null. */
  stdin?: boolean
}

/**
 * THE function that turns an argv into the string ssh sends. ssh joins its arguments with
 * spaces into one string and the remote login shell parses it (`$SHELL -c STRING`), so the
 * string is one quoted `bash -c SCRIPT` in which the argv is quoted once more:
 *
 *   bash -c 'set -euo pipefail; cd -- DIR; export K=V; exec timeout --kill-after=5 N ARGV </dev/null'
 *
 * The login shell must be a POSIX shell (sh, bash, dash, zsh, ksh); bash and coreutils must be
 * installed on the host (RemoteExecutor.open checks both).
 */
export function buildRemoteCommand(argv: readonly string[], options: RemoteCommandOptions): string {
  if (argv.length === 0) throw new Error('internal error: empty remote argv')
  const seconds = options.timeoutSeconds
  if (!Number.isInteger(seconds) || seconds < 1) {
    throw new Error(
      `internal error: remote timeout must be a whole number of seconds, not ${seconds}`
    )
  }
  const script = ['set -euo pipefail']
  if (options.cwd !== undefined) script.push(`cd -- ${quoteArg(options.cwd)}`)
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new Error(`internal error: "${name}" is not an environment variable name`)
    }
    script.push(`export ${name}=${quoteArg(value)}`)
  }
  const timed = ['timeout', `--kill-after=${KILL_AFTER_SECONDS}`, String(seconds), ...argv]
  script.push(`exec ${quoteArgv(timed)}${options.stdin ? '' : ' </dev/null'}`)
  const command = quoteArgv(['bash', '-c', script.join('; ')])
  if (command.length > MAX_REMOTE_COMMAND_LENGTH) {
    throw new Error(
      `internal error: remote command of ${command.length} bytes (${argv.slice(0, 3).join(' ')} ...); ` +
        'send large data on stdin'
    )
  }
  return command
}

/**
 * The argv of a bash script that runs with `set -euo pipefail`. The script is ours (a
 * constant): values go in as positional parameters ("$1", "$2", ...), never into its text.
 */
export function remoteScriptArgv(script: string, args: readonly string[] = []): string[] {
  return ['bash', '-c', `set -euo pipefail\n${script}`, 'stack-deploy', ...args]
}

/**
 * Writes stdin to a file atomically: a temp file in the same directory (so the rename is
 * atomic), created 0600 by mktemp under umask 077, filled, chmod-ed, renamed over the target.
 * A failure anywhere removes the temp file. $1 = path, $2 = octal mode.
 */
export const WRITE_FILE_SCRIPT = [
  'umask 077',
  'target=$1 mode=$2',
  'if [ -d "$target" ]; then echo "$target is a directory" >&2; exit 1; fi',
  'tmp=$(mktemp "$(dirname -- "$target")/.stack-deploy-write.XXXXXXXX")',
  `trap 'rm -f -- "$tmp"' EXIT`,
  'cat > "$tmp"',
  'chmod "$mode" "$tmp"',
  'mv -f -- "$tmp" "$target"',
  'trap - EXIT'
].join('\n')

/** The argv that writes stdin to `file` with `mode` (see WRITE_FILE_SCRIPT). */
export function writeFileArgv(file: string, mode: number | string): string[] {
  const octal = typeof mode === 'number' ? mode.toString(8) : mode
  if (!/^[0-7]{3,4}$/.test(octal) || (typeof mode === 'number' && (mode < 0 || mode > 0o7777))) {
    throw new Error(`internal error: file mode ${String(mode)} is not an octal mode such as 0600`)
  }
  if (file === '' || file.startsWith('-') || file.endsWith('/')) {
    throw new Error(`internal error: "${file}" is not a file path`)
  }
  return remoteScriptArgv(WRITE_FILE_SCRIPT, [file, octal.padStart(4, '0')])
}

// ---------------------------------------------------------------------------------------------
// Errors

/** A remote command that ran and failed: names the host, the step, the exit code and stderr's tail. */
export class RemoteCommandError extends CommandFailedError {
  constructor(
    readonly host: string,
    readonly step: string,
    result: CommandResult
  ) {
    const tail = lastLines(result.stderr || result.stdout, 15)
    super(`${step} failed on ${host} (exit ${result.exitCode})${tail ? `:\n${tail}` : ''}`, result)
    this.name = 'RemoteCommandError'
  }
}

/** A remote command that ran out of time (on the host), or an ssh that hung (here). */
export class RemoteTimeoutError extends Error {
  constructor(
    readonly host: string,
    readonly step: string,
    readonly timeoutSeconds: number,
    /** remote: the host's `timeout` stopped the command; local: ssh did not return. */
    readonly side: 'remote' | 'local',
    readonly result: CommandResult
  ) {
    super(
      side === 'remote'
        ? `${step} timed out on ${host} after ${timeoutSeconds}s and was stopped`
        : `${step} on ${host}: ssh did not return within ${
            timeoutSeconds + LOCAL_TIMEOUT_GRACE_SECONDS
          }s (${timeoutSeconds}s for the command, plus ${LOCAL_TIMEOUT_GRACE_SECONDS}s); the connection seems to hang, so it was stopped`
    )
    this.name = 'RemoteTimeoutError'
  }
}

// ---------------------------------------------------------------------------------------------
// The executor

/** Options of one remote command: the Executor's, plus its own timeout and a name for messages. */
export interface RemoteRunOptions extends RunOptions {
  /** Seconds before the command is stopped (default: the executor's defaultTimeoutSeconds). */
  timeoutSeconds?: number
  /** What this command is for, in messages ("pulling images"); default: its first words. */
  step?: string
}

export interface SshOptions {
  target: SshEndpoint
  /** ProxyJump host; its host key must be pinned too (same known-hosts value). */
  jump?: SshEndpoint
  /** The private key's text (OpenSSH or PEM), without passphrase. */
  privateKey: string
  /** known_hosts lines and/or SHA256 fingerprints (see known-hosts.ts). */
  knownHosts?: string
  /** Accept whatever keys the host offers when nothing is pinned for it, and log them. */
  trustOnFirstUse?: boolean
  tuning?: Partial<SshTuning>
  /** Sessions at once on the connection (sshd's MaxSessions defaults to 10). Default 4. */
  maxSessions?: number
  /** Timeout of a command that does not give its own. Default 600 s. */
  defaultTimeoutSeconds?: number
  log?: SshLog
  /** Where to create the private directory (default: RUNNER_TEMP, the temp dir, /tmp). */
  tempDir?: string
  /** Runs ssh, ssh-keygen and ssh-keyscan here (default: a LocalExecutor). */
  local?: Executor
  /** Input names for messages (defaults: known-hosts, ssh-key, host, jump-host). */
  inputs?: { knownHosts?: string; privateKey?: string; host?: string; jumpHost?: string }
}

/** What the post step needs to close the connection and remove the key (JSON-serialisable). */
export interface SshState {
  dir: string
  target: SshEndpoint
  jump?: SshEndpoint
}

/** A small counting semaphore: at most `max` holders at once, the others wait in order. */
export class Semaphore {
  private active = 0
  private readonly waiting: Array<() => void> = []

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`semaphore size ${max}`)
  }

  async use<T>(body: () => Promise<T>): Promise<T> {
    if (this.active < this.max) this.active++
    else await new Promise<void>(resolve => this.waiting.push(resolve))
    try {
      return await body()
    } finally {
      const next = this.waiting.shift()
      if (next) next()
      else this.active--
    }
  }
}

const DEFAULT_LOG: SshLog = {
  info: () => undefined,
  warning: message => process.stderr.write(`${message}\n`)
}

export class RemoteExecutor implements Executor {
  /** `user@host` (`:port` when not 22), for messages. */
  readonly host: string
  /** How each host key was pinned, by `user@host[:port]` (the jump host too). */
  readonly pinnedBy: Record<string, PinSource> = {}
  private readonly sessions: Semaphore
  private readonly defaultTimeoutSeconds: number
  private disposed = false
  /** Whether a master may exist (to close on dispose). */
  private masterStarted = false

  private constructor(
    readonly route: SshRoute,
    readonly paths: SshPaths,
    private readonly tuning: SshTuning,
    private readonly local: Executor,
    private readonly log: SshLog,
    options: { maxSessions: number; defaultTimeoutSeconds: number }
  ) {
    this.host = endpointLabel(route.target)
    this.sessions = new Semaphore(options.maxSessions)
    this.defaultTimeoutSeconds = options.defaultTimeoutSeconds
  }

  /**
   * Writes the key, pins the host keys, opens the master connection, and checks the host has
   * bash and timeout. Nothing runs on the host until its key is pinned; on any failure the
   * private directory is removed again.
   */
  static async open(options: SshOptions): Promise<RemoteExecutor> {
    const local = options.local ?? new LocalExecutor(process.stderr)
    const log = options.log ?? DEFAULT_LOG
    const tuning: SshTuning = { ...DEFAULT_TUNING, ...options.tuning }
    for (const [name, value] of Object.entries(tuning)) {
      if (!Number.isInteger(value) || value < 1) {
        throw new Error(`internal error: ssh ${name} must be a whole number >= 1, not ${value}`)
      }
    }
    const route: SshRoute = {
      target: checkEndpoint(options.target, options.inputs?.host ?? 'host'),
      jump: options.jump
        ? checkEndpoint(options.jump, options.inputs?.jumpHost ?? 'jump-host')
        : undefined
    }
    const knownHostsInput = options.inputs?.knownHosts ?? 'known-hosts'
    const keyInput = options.inputs?.privateKey ?? 'ssh-key'
    const key = normalizePrivateKey(options.privateKey, keyInput)
    const pins = parseKnownHosts(options.knownHosts ?? '', knownHostsInput)
    const endpoints = route.jump ? [route.jump, route.target] : [route.target]
    for (const host of unusedFingerprintHosts(pins, endpoints)) {
      log.warning(
        `${knownHostsInput}: a fingerprint is pinned for ${host}, which this deploy does not connect to`
      )
    }

    const paths = sshPaths(createPrivateDir(options.tempDir))
    const remote = new RemoteExecutor(route, paths, tuning, local, log, {
      maxSessions: options.maxSessions ?? 4,
      defaultTimeoutSeconds: options.defaultTimeoutSeconds ?? 600
    })
    try {
      writePrivateFile(paths.key, key)
      writePrivateFile(paths.config, sshConfigText(paths, tuning))
      writePrivateFile(paths.knownHosts, pins.lines.map(line => `${line}\n`).join(''))
      // The key check and the host key lookups (ssh-keygen -F) are local and independent: they
      // run at once. Fetching a host's keys waits for the key check, so that nothing reaches a
      // host (nor logs a key it offered) with a key that cannot be used, and the key's error is
      // the one reported when both fail, as when the key was checked first.
      const keyChecked = checkPrivateKey(local, paths.key, keyInput)
      const hostKeysPinned = (async () => {
        // The jump host first: the target's keys may have to be fetched through it.
        for (const endpoint of endpoints) {
          remote.pinnedBy[endpointLabel(endpoint)] = await pinHostKey(endpoint, {
            executor: local,
            knownHostsFile: paths.knownHosts,
            pins,
            trustOnFirstUse: options.trustOnFirstUse === true,
            scan: async target => {
              await keyChecked
              return remote.keyscan(target)
            },
            log,
            input: knownHostsInput
          })
        }
      })()
      // Both settle before anything else happens (dispose removes the files they read).
      const [keyCheck, pinning] = await Promise.allSettled([keyChecked, hostKeysPinned])
      if (keyCheck.status === 'rejected') throw keyCheck.reason
      if (pinning.status === 'rejected') throw pinning.reason
      await remote.connect()
    } catch (error) {
      await remote.dispose()
      throw error
    }
    return remote
  }

  /** The host's keys, from ssh-keyscan here, or on the jump host when there is one. */
  private async keyscan(endpoint: SshEndpoint): Promise<CommandResult> {
    const seconds = this.tuning.connectTimeoutSeconds
    const scan = keyscanArgv(endpoint, seconds)
    const jump = this.route.jump
    if (!jump || endpoint === jump) {
      return this.local.run(localTimeoutArgv(seconds + LOCAL_TIMEOUT_GRACE_SECONDS, scan))
    }
    // The target may be reachable only from the jump host. What the jump host prints is
    // checked here like any scan (fingerprints), and only plain key lines are kept.
    const step = `fetching the host keys of ${endpoint.host} through ${endpointLabel(jump)}`
    const command = buildRemoteCommand(scan, { timeoutSeconds: seconds + KILL_AFTER_SECONDS })
    const argv = sshOneShotArgv({ target: jump }, this.paths, this.tuning, command)
    const result = await this.local.run(
      localTimeoutArgv(seconds * 3 + LOCAL_TIMEOUT_GRACE_SECONDS, argv)
    )
    if (result.exitCode === 255) throw this.connectionError(result, step, { target: jump })
    return result
  }

  /** Opens the master connection (`ssh -fN -o ControlMaster=yes`), then checks it and the host. */
  private async connect(): Promise<void> {
    const step = 'connecting'
    const seconds = this.tuning.connectTimeoutSeconds * (this.route.jump ? 2 : 1)
    this.masterStarted = true
    const started = await this.local.run(
      localTimeoutArgv(
        seconds + LOCAL_TIMEOUT_GRACE_SECONDS,
        sshMasterArgv(this.route, this.paths, this.tuning)
      )
    )
    if (started.exitCode !== 0) throw this.connectionError(started, step, this.route)
    if (!(await this.isConnected())) {
      throw new SshConnectionError(
        this.host,
        'other',
        `the shared ssh connection to ${this.host} did not come up (ssh -O check failed)`,
        started.stderr
      )
    }
    const check = await this.run(['true'], { timeoutSeconds: 30, step: 'checking the host' })
    if (check.exitCode !== 0) {
      throw new RemoteCommandError(
        this.host,
        'checking the host (it needs bash and coreutils timeout)',
        check
      )
    }
    const via = this.route.jump ? ` through ${endpointLabel(this.route.jump)}` : ''
    this.log.info(`Connected to ${this.host}${via} (one shared ssh connection)`)
  }

  private connectionError(result: CommandResult, step: string, route: SshRoute): Error {
    const label = endpointLabel(route.target)
    if (result.exitCode === 124 || result.exitCode === 137) {
      return new SshConnectionError(
        label,
        'timeout',
        `ssh to ${label} did not finish ${step} in time (is the host reachable?)`,
        result.stderr
      )
    }
    const failure = classifySshFailure(result.stderr)
    if (failure) {
      return new SshConnectionError(
        label,
        failure.kind,
        describeSshFailure(failure, route, step),
        result.stderr
      )
    }
    const tail = lastLines(result.stderr, 5)
    return new SshConnectionError(
      label,
      'other',
      `ssh to ${label} failed while ${step} (exit ${result.exitCode})${tail ? `: ${tail}` : ''}`,
      result.stderr
    )
  }

  /**
   * Runs argv on the host and returns its result, like LocalExecutor: a non-zero exit is a
   * result, not an error. Throws SshConnectionError when ssh could not connect (exit 255 with
   * ssh's own message) and RemoteTimeoutError when the command ran out of time: in both cases
   * there is no meaningful exit status of the command.
   */
  async run(argv: string[], options: RemoteRunOptions = {}): Promise<CommandResult> {
    if (this.disposed)
      throw new Error(`internal error: the ssh connection to ${this.host} is closed`)
    const timeoutSeconds = options.timeoutSeconds ?? this.defaultTimeoutSeconds
    const step = options.step ?? argv.slice(0, 3).join(' ')
    const stdin = options.input !== undefined
    const command = buildRemoteCommand(argv, {
      timeoutSeconds,
      cwd: options.cwd,
      env: options.env,
      stdin
    })
    const sshArgv = sshCommandArgv(this.route, this.paths, this.tuning, command, { stdin })
    const localArgv = localTimeoutArgv(timeoutSeconds + LOCAL_TIMEOUT_GRACE_SECONDS, sshArgv)
    const result = await this.sessions.use(() =>
      this.local.run(localArgv, {
        input: options.input,
        stream: options.stream,
        onLine: options.onLine
      })
    )
    const remoteResult: CommandResult = { ...result, argv: [...argv] }
    const timedOut =
      (result.exitCode === 124 || result.exitCode === 137) &&
      result.durationMs >= timeoutSeconds * 1000 - 250
    if (timedOut) {
      const local = result.durationMs >= (timeoutSeconds + LOCAL_TIMEOUT_GRACE_SECONDS) * 1000 - 250
      throw new RemoteTimeoutError(
        this.host,
        step,
        timeoutSeconds,
        local ? 'local' : 'remote',
        remoteResult
      )
    }
    if (result.exitCode === 255 && classifySshFailure(result.stderr)) {
      throw this.connectionError(result, step, this.route)
    }
    return remoteResult
  }

  /** Runs argv and throws RemoteCommandError (host, step, exit code, stderr's tail) unless it exits 0. */
  async runChecked(
    argv: string[],
    step: string,
    options: RemoteRunOptions = {}
  ): Promise<CommandResult> {
    const result = await this.run(argv, { ...options, step })
    if (result.exitCode !== 0) throw new RemoteCommandError(this.host, step, result)
    return result
  }

  /** Runs one of our bash scripts (set -euo pipefail) with positional args; see remoteScriptArgv. */
  async runScript(
    script: string,
    args: readonly string[],
    step: string,
    options: RemoteRunOptions = {}
  ): Promise<CommandResult> {
    return this.runChecked(remoteScriptArgv(script, args), step, options)
  }

  /**
   * Writes `content` to `file` on the host with `mode` (e.g. 0o600), atomically (temp file in
   * the same directory, then rename). The content travels on stdin: it never appears in any
   * argv, here or on the host.
   */
  async writeFile(
    file: string,
    content: string,
    mode: number | string,
    options: Omit<RemoteRunOptions, 'input'> = {}
  ): Promise<void> {
    await this.runChecked(writeFileArgv(file, mode), options.step ?? `writing ${file}`, {
      ...options,
      input: content
    })
  }

  /** The host's address (for `{host}` in health URLs). */
  get address(): string {
    return this.route.target.host
  }

  /** `ssh -O check`: whether the master connection is up. */
  async isConnected(): Promise<boolean> {
    const result = await this.local.run(
      localTimeoutArgv(15, sshControlArgv(this.route, this.paths, this.tuning, 'check'))
    )
    return result.exitCode === 0
  }

  /** For the post step: serialise with JSON.stringify, then disposeSsh(state). */
  state(): SshState {
    return { dir: this.paths.dir, target: this.route.target, jump: this.route.jump }
  }

  /** Closes the master connection (`ssh -O exit`) and removes the key, known_hosts and socket. Idempotent. */
  async dispose(): Promise<void> {
    if (this.disposed) return
    this.disposed = true
    if (this.masterStarted) await disposeSsh(this.state(), this.local)
    else fs.rmSync(this.paths.dir, { recursive: true, force: true })
  }
}

/** Writes a file on the host; see RemoteExecutor.writeFile. */
export async function writeRemoteFile(
  remote: RemoteExecutor,
  file: string,
  content: string,
  mode: number | string,
  options: Omit<RemoteRunOptions, 'input'> = {}
): Promise<void> {
  await remote.writeFile(file, content, mode, options)
}

/**
 * Closes a connection from its state, e.g. in the post step after the main step was killed:
 * `ssh -O exit`, then removes the private directory. Refuses a directory that is not one of
 * ours (the state comes from outside this process).
 */
export async function disposeSsh(
  state: SshState | string,
  local: Executor = new LocalExecutor(process.stderr)
): Promise<void> {
  const parsed: SshState = typeof state === 'string' ? (JSON.parse(state) as SshState) : state
  const dir = parsed.dir
  if (
    typeof dir !== 'string' ||
    !path.isAbsolute(dir) ||
    path.normalize(dir) !== dir ||
    !path.basename(dir).startsWith(PRIVATE_DIR_PREFIX)
  ) {
    throw new Error(`internal error: ${JSON.stringify(dir)} is not an ssh directory of ours`)
  }
  if (!fs.existsSync(dir)) return
  const paths = sshPaths(dir)
  try {
    if (fs.existsSync(paths.config)) {
      const route: SshRoute = { target: parsed.target, jump: parsed.jump }
      // Exit status 255 when no master is running: nothing to close.
      await local.run(localTimeoutArgv(15, sshControlArgv(route, paths, DEFAULT_TUNING, 'exit')))
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
