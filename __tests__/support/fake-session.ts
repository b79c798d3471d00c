/**
 * An in-memory HostSession for unit tests of the deploy pipeline: it records every command and
 * file write in order, keeps written files so that a later `cat` reads them back, and answers
 * each command from the test's responder (exit 0 and no output when it says nothing).
 */
import type { CommandResult } from '../../src/exec/executor.js'
import {
  RemoteCommandError,
  remoteScriptArgv,
  type RemoteRunOptions,
  type SshState
} from '../../src/exec/remote.js'
import type { HostSession } from '../../src/deploy/session.js'
import {
  acquireLockCommand,
  heldCommand,
  releaseLockArgv,
  renewLockArgv,
  takeOverLockCommand
} from '../../src/deploy/host-lock.js'

/** The lock scripts' texts (host-lock.ts), to tell which one a call runs. */
const OWNER = {
  token: 'a'.repeat(16),
  owner: 'x',
  runUrl: undefined,
  acquiredAt: '',
  ttlSeconds: 1
}
const LOCK_SCRIPTS: Record<string, string> = {
  [acquireLockCommand('/l', OWNER).argv[2] as string]: 'lock:acquire',
  [takeOverLockCommand('/l', OWNER, { token: '', mtime: 0 }).argv[2] as string]: 'lock:take-over',
  [renewLockArgv('/l', OWNER.token)[2] as string]: 'lock:renew',
  [releaseLockArgv('/l', OWNER.token)[2] as string]: 'lock:release'
}
const HELD_SCRIPT = heldCommand('/l', OWNER.token, 'x', 1, ['true'])[2] as string

/** The command a heldCommand wrapper runs, or undefined for any other argv. */
export function heldInner(argv: string[]): string[] | undefined {
  // remoteScriptArgv(script, [inner script, lockDir, token, id, seconds, ...argv])
  return argv[0] === 'bash' && argv[2] === HELD_SCRIPT ? argv.slice(9) : undefined
}

/** What the fake host answers a lock script when the test says nothing: the lock is free. */
const LOCK_ANSWERS: Record<string, string> = {
  'lock:acquire': 'acquired\n',
  'lock:renew': 'renewed\n',
  'lock:release': 'released\n'
}

export interface FakeCall {
  argv: string[]
  /** A short name for sequence assertions: see label(). */
  label: string
  input: string | undefined
  /** The environment the command was given (DOCKER_CONFIG for a registry login). */
  env?: Record<string, string>
}

/** A command's result: exit 0 and no output unless `fields` says otherwise. */
export function commandResult(argv: string[], fields: Partial<CommandResult> = {}): CommandResult {
  return { argv, exitCode: 0, stdout: '', stderr: '', durationMs: 0, ...fields }
}

export type Responder = (argv: string[], call: FakeCall) => Partial<CommandResult> | undefined

const COMPOSE_COMMANDS = new Set(['pull', 'run', 'up', 'create', 'config', 'ps', 'exec', 'down'])

/**
 * `compose up …` for `docker compose <base flags> up …`, `lock:acquire` (…) for a lock script,
 * the command's own label for one run under the lock (heldCommand), `script:<first line>` for
 * one of our other bash scripts, the argv itself otherwise.
 */
export function label(argv: string[]): string {
  const held = heldInner(argv)
  if (held) return label(held)
  const lock = argv[0] === 'bash' ? LOCK_SCRIPTS[argv[2] ?? ''] : undefined
  if (lock) return lock
  if (argv[0] === 'docker' && argv[1] === 'compose') {
    const at = argv.findIndex(
      (arg, index) => index > 1 && COMPOSE_COMMANDS.has(arg) && argv[index - 1] !== '-p'
    )
    return at > 0 ? `compose ${argv.slice(at).join(' ')}` : argv.join(' ')
  }
  if (argv[0] === 'bash' && argv[1] === '-c') {
    const body = (argv[2] ?? '').replace(/^set -euo pipefail\n/, '')
    return `script:${body.split('\n')[0]?.slice(0, 40)}`
  }
  return argv.join(' ')
}

export class FakeSession implements HostSession {
  readonly address = '127.0.0.1'
  readonly calls: FakeCall[] = []
  /** Files written with writeFile, by path: what a later `cat` prints. */
  readonly files = new Map<string, { content: string; mode: string }>()

  constructor(
    private readonly respond: Responder = () => undefined,
    readonly host: string = 'deploy@h1'
  ) {}

  /** The labels of every call so far, in order. */
  labels(): string[] {
    return this.calls.map(call => call.label)
  }

  async run(argv: string[], options: RemoteRunOptions = {}): Promise<CommandResult> {
    const input = typeof options.input === 'string' ? options.input : undefined
    const call: FakeCall = { argv, label: label(argv), input, env: options.env }
    this.calls.push(call)
    const answer = this.respond(heldInner(argv) ?? argv, call)
    if (!answer && LOCK_ANSWERS[call.label])
      return this.result(argv, { stdout: LOCK_ANSWERS[call.label] })
    if (!answer && argv[0] === 'cat' && argv.length === 2 && this.files.has(argv[1] as string))
      return this.result(argv, { stdout: this.files.get(argv[1] as string)?.content })
    return this.result(argv, answer ?? {})
  }

  async runChecked(
    argv: string[],
    step: string,
    options: RemoteRunOptions = {}
  ): Promise<CommandResult> {
    const result = await this.run(argv, { ...options, step })
    if (result.exitCode !== 0) throw new RemoteCommandError(this.host, step, result)
    return result
  }

  async runScript(
    script: string,
    args: readonly string[],
    step: string,
    options: RemoteRunOptions = {}
  ): Promise<CommandResult> {
    return this.runChecked(remoteScriptArgv(script, args), step, options)
  }

  async writeFile(file: string, content: string, mode: number | string): Promise<void> {
    const octal = typeof mode === 'number' ? mode.toString(8).padStart(4, '0') : mode
    const call: FakeCall = {
      argv: ['write', file, octal],
      label: `write ${file} ${octal}`,
      input: content
    }
    this.calls.push(call)
    const answer = this.respond(call.argv, call)
    if (answer && (answer.exitCode ?? 0) !== 0)
      throw new RemoteCommandError(this.host, `writing ${file}`, this.result(call.argv, answer))
    this.files.set(file, { content, mode: octal })
  }

  state(): SshState {
    return {
      dir: '/tmp/stack-deploy-ssh-fake',
      target: { user: 'deploy', host: '127.0.0.1', port: 22 }
    }
  }

  private result(argv: string[], answer: Partial<CommandResult>): CommandResult {
    return commandResult(argv, answer)
  }
}
