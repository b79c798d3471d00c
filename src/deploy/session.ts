/**
 * What a deploy needs from a host: run a command, write a file, say who it is. The SSH executor
 * (src/exec/remote.ts) is one; an in-memory fake is another, so that the pipeline is
 * unit-tested command by command without a host.
 */
import type { CommandResult } from '../exec/executor.js'
import type { RemoteRunOptions, SshState } from '../exec/remote.js'

export interface HostSession {
  /** `user@host[:port]`, for messages. */
  readonly host: string
  /** The host's address, for `{host}` in health URLs. */
  readonly address: string
  /** Runs argv on the host; a non-zero exit is a result, not an error. */
  run(argv: string[], options?: RemoteRunOptions): Promise<CommandResult>
  /** Runs argv and throws, naming the host and `step`, unless it exits 0. */
  runChecked(argv: string[], step: string, options?: RemoteRunOptions): Promise<CommandResult>
  /** One of our bash scripts with its values as positional parameters. */
  runScript(
    script: string,
    args: readonly string[],
    step: string,
    options?: RemoteRunOptions
  ): Promise<CommandResult>
  /** Writes `content` to `file` with `mode`, atomically, the content on stdin. */
  writeFile(
    file: string,
    content: string,
    mode: number | string,
    options?: Omit<RemoteRunOptions, 'input'>
  ): Promise<void>
  /** What the post step needs to reach the host again after a cancellation. */
  state(): SshState
}
