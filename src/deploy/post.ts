/**
 * The post step's part of a deploy that was cancelled: release the locks the run still holds
 * (only when the owner record carries our token) and close the SSH connections, removing the key.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { LocalExecutor, type Executor } from '../exec/executor.js'
import { buildRemoteCommand, disposeSsh, type SshState } from '../exec/remote.js'
import { DEFAULT_TUNING, localTimeoutArgv, sshOneShotArgv, sshPaths } from '../exec/ssh.js'
import type { Reporter } from '../report/reporter.js'
import { parseLockOwner } from './lock.js'

/** What the main step records when it takes a lock: enough to release it from the post step. */
export interface HeldLock {
  ssh: SshState
  lockDir: string
  token: string
}

/** Releases each lock that still has our token, then closes every SSH connection. Never throws. */
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
      const owner = await run(['cat', path.posix.join(lock.lockDir, 'owner.json')])
      if (parseLockOwner(owner.stdout)?.token !== lock.token) continue
      const removed = await run(['rm', '-rf', lock.lockDir])
      if (removed.exitCode === 0)
        reporter.info(
          `Released the deploy lock ${lock.lockDir} on ${lock.ssh.target.host} left by the cancelled run`
        )
      else
        reporter.warning(
          `Could not release the deploy lock ${lock.lockDir} on ${lock.ssh.target.host}: ${removed.stderr.trim()}`
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
