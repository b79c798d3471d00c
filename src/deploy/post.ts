/**
 * The post step's part of a deploy that was cancelled: release the locks the run still holds
 * (only when the lock carries our token, and not while a command of ours still runs on the
 * host: see host-lock.ts) and close the SSH connections, removing the key.
 */
import * as fs from 'node:fs'
import { LocalExecutor, type Executor } from '../exec/executor.js'
import { buildRemoteCommand, disposeSsh, type SshState } from '../exec/remote.js'
import { DEFAULT_TUNING, localTimeoutArgv, sshOneShotArgv, sshPaths } from '../exec/ssh.js'
import type { Reporter } from '../report/reporter.js'
import { parseReleaseResult, releaseLockArgv } from './host-lock.js'
import { describeBusy } from './lock.js'

/** What the main step records when it takes a lock: enough to release it from the post step. */
export interface HeldLock {
  ssh: SshState
  lockDir: string
  token: string
}

/** What the main step leaves for the post step: its SSH connections and the locks it holds. */
export interface PostState {
  connections: SshState[]
  locks: HeldLock[]
}

const STATE = { connections: 'ssh', locks: 'deploy-locks' } as const

/**
 * Records the post step's state as it changes (a connection opened, a lock taken), so that a
 * run cancelled at any moment leaves exactly what must be cleaned up; `clear` once it is.
 */
export class PostStateRecorder {
  private readonly state: PostState = { connections: [], locks: [] }

  constructor(private readonly save: (name: string, value: string) => void) {}

  connected(connection: SshState): void {
    this.state.connections.push(connection)
    this.save(STATE.connections, JSON.stringify(this.state.connections))
  }

  locked(lock: HeldLock): void {
    this.state.locks.push(lock)
    this.save(STATE.locks, JSON.stringify(this.state.locks))
  }

  clear(): void {
    this.save(STATE.connections, '')
    this.save(STATE.locks, '')
  }
}

/** The state the main step left; empty lists when it left none (or an unreadable one). */
export function readPostState(get: (name: string) => string): PostState {
  const parse = <T>(name: string): T[] => {
    try {
      const value = JSON.parse(get(name) || '[]') as unknown
      return Array.isArray(value) ? (value as T[]) : []
    } catch {
      return []
    }
  }
  return { connections: parse<SshState>(STATE.connections), locks: parse<HeldLock>(STATE.locks) }
}

/**
 * Releases each lock that still has our token (or, while a command of ours still runs on the
 * host, leaves it to be released when that ends, with a warning), then closes every SSH
 * connection. Never throws.
 */
export async function releaseAfterCancel(
  locks: HeldLock[],
  connections: SshState[],
  reporter: Reporter,
  local: Executor = new LocalExecutor(process.stderr)
): Promise<void> {
  for (const lock of locks) {
    try {
      if (!fs.existsSync(lock.ssh.dir)) continue
      const paths = sshPaths(lock.ssh.dir)
      const route = { target: lock.ssh.target, jump: lock.ssh.jump }
      const run = (argv: string[]) =>
        local.run(
          localTimeoutArgv(
            40,
            sshOneShotArgv(
              route,
              paths,
              DEFAULT_TUNING,
              buildRemoteCommand(argv, { timeoutSeconds: 30 })
            )
          )
        )
      // Under the host's flock, and only if the token is ours. A command of ours that still
      // runs there (a migration the cancellation cut off from us) keeps the lock until it ends.
      const outcome = parseReleaseResult(await run(releaseLockArgv(lock.lockDir, lock.token)))
      const host = lock.ssh.target.host
      if (outcome.kind === 'released')
        reporter.info(
          `Released the deploy lock ${lock.lockDir} on ${host} left by the cancelled run`
        )
      else if (outcome.kind === 'kept')
        reporter.warning(
          `kept: ${describeBusy(outcome.busy)} still running on ${host}; the deploy lock ${lock.lockDir} is released when it ends`
        )
    } catch (error) {
      reporter.warning(
        `Could not release a deploy lock on ${lock.ssh.target.host}: ${(error as Error).message}`
      )
    }
  }
  for (const state of connections) {
    try {
      await disposeSsh(state, local)
    } catch (error) {
      reporter.warning(
        `Could not close the SSH connection to ${state.target.host}: ${(error as Error).message}`
      )
    }
  }
}
