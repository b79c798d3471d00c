import * as actionsExec from '@actions/exec'
import { spawn } from 'node:child_process'
import * as os from 'node:os'
import type { Writable } from 'node:stream'

/** The outcome of one command. Output is captured whole; callers decide what to show. */
export interface CommandResult {
  argv: string[]
  exitCode: number
  stdout: string
  stderr: string
  durationMs: number
}

export interface RunOptions {
  /** Directory to run in (local commands only). */
  cwd?: string
  /** Extra environment variables, added to the current environment. */
  env?: Record<string, string>
  /** Written to the command's stdin (passwords, never argv; a tarball as bytes). */
  input?: string | Uint8Array
  /** Echo output live (for long builds), in addition to capturing it. */
  stream?: boolean
  /** Called with each line of output (stdout and stderr) as it arrives. */
  onLine?: (line: string) => void
}

/**
 * Runs an argv array. Everything the engine executes goes through an Executor, so that
 * commands stay data: stages build argv arrays in pure functions, and tests can record them.
 */
export interface Executor {
  run(argv: string[], options?: RunOptions): Promise<CommandResult>
}

/** Thrown when a command exits non-zero and the caller asked for success. */
export class CommandFailedError extends Error {
  constructor(
    message: string,
    readonly result: CommandResult
  ) {
    super(message)
    this.name = 'CommandFailedError'
  }
}

/** Runs commands on this machine through @actions/exec, never through a shell. */
export class LocalExecutor implements Executor {
  /**
   * @param echo where streamed output goes: stdout for the runner's log; the CLI passes stderr
   * so that its stdout carries only results.
   */
  constructor(private readonly echo: Writable = process.stdout) {}

  async run(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
    const [file, ...args] = argv
    if (!file) throw new Error('internal error: empty argv')
    const started = Date.now()
    const env = options.env
      ? { ...(process.env as Record<string, string>), ...options.env }
      : undefined
    if (options.input !== undefined) {
      const output = await runWithInput(file, args, options.input, {
        cwd: options.cwd,
        env,
        echo: options.stream ? this.echo : undefined,
        onLine: options.onLine
      })
      return { argv, ...output, durationMs: Date.now() - started }
    }
    const output = await actionsExec.getExecOutput(file, args, {
      cwd: options.cwd,
      env,
      ignoreReturnCode: true,
      silent: !options.stream,
      outStream: this.echo,
      errStream: this.echo,
      listeners: options.onLine ? { stdline: options.onLine, errline: options.onLine } : undefined
    })
    return {
      argv,
      exitCode: output.exitCode,
      stdout: output.stdout,
      stderr: output.stderr,
      durationMs: Date.now() - started
    }
  }
}

/**
 * Runs a command with `input` on its stdin. @actions/exec writes its `input` option without
 * an error handler: a command that exits before reading all of it (ssh to a host whose
 * command failed early, with more than a pipe buffer of input) makes Node die with EPIPE.
 * Here a closed stdin is only the command's business: its exit code says what happened.
 */
export async function runWithInput(
  file: string,
  args: string[],
  input: string | Uint8Array,
  options: {
    cwd?: string
    env?: Record<string, string>
    echo?: Writable
    onLine?: (line: string) => void
  } = {}
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    const partial = { out: '', err: '' }
    const collect =
      (chunks: Buffer[], key: 'out' | 'err') =>
      (chunk: Buffer): void => {
        chunks.push(chunk)
        options.echo?.write(chunk)
        if (!options.onLine) return
        const lines = (partial[key] + chunk.toString('utf8')).split(/\r?\n/)
        partial[key] = lines.pop() ?? ''
        for (const line of lines) options.onLine(line)
      }
    child.stdout.on('data', collect(out, 'out'))
    child.stderr.on('data', collect(err, 'err'))
    // EPIPE/ECONNRESET when the command stops reading: not our failure, its exit code tells.
    child.stdin.on('error', () => undefined)
    child.on('error', error => reject(new Error(`cannot run ${file}: ${error.message}`)))
    child.on('close', (code, signal) => {
      if (options.onLine) {
        if (partial.out) options.onLine(partial.out)
        if (partial.err) options.onLine(partial.err)
      }
      resolve({
        // Killed by a signal: the shell's convention, 128 + signal number.
        exitCode: code ?? 128 + signalNumber(signal),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8')
      })
    })
    child.stdin.end(input)
  })
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return (signal && os.constants.signals[signal]) || 1
}

/** The last `count` non-empty lines of a command's output, for error messages. */
export function lastLines(text: string, count: number): string {
  const lines = text.split(/\r?\n/).filter(line => line.trim() !== '')
  return lines.slice(-count).join('\n')
}

/** Runs a command and throws CommandFailedError (with the tail of its output) if it fails. */
export async function runChecked(
  executor: Executor,
  argv: string[],
  what: string,
  options?: RunOptions
): Promise<CommandResult> {
  const result = await executor.run(argv, options)
  if (result.exitCode !== 0) {
    const tail = lastLines(result.stderr || result.stdout, 15)
    throw new CommandFailedError(
      `${what} failed (exit ${result.exitCode}): ${argv.join(' ')}${tail ? `\n${tail}` : ''}`,
      result
    )
  }
  return result
}

/**
 * Runs a command whose stdout is binary (a tarball), with text on its stdin: the Executor's
 * results are text, which would mangle it.
 */
export async function runForBytes(
  argv: string[],
  input: string,
  cwd?: string
): Promise<{ exitCode: number; stdout: Buffer; stderr: string }> {
  const [file, ...args] = argv
  if (!file) throw new Error('internal error: empty argv')
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    child.stdin.on('error', () => undefined)
    child.on('error', error => reject(new Error(`cannot run ${file}: ${error.message}`)))
    child.on('close', (code, signal) =>
      resolve({
        exitCode: code ?? 128 + signalNumber(signal),
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString('utf8')
      })
    )
    child.stdin.end(input)
  })
}
