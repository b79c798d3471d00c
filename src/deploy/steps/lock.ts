/**
 * The lock step: take the project's lock on the host (waiting up to lock-timeout for another
 * run, taking over a stale one), keep it renewed while the run lasts, and release it, only if
 * it is still ours. The host does every change under flock (../host-lock.ts), and judges age
 * by its own clock; the decisions are pure (../lock.ts).
 */
import { randomBytes } from 'node:crypto'
import { sleep } from '../../exec/time.js'
import { runStep, type HostContext } from '../host.js'
import {
  acquireLockCommand,
  parseAcquireResult,
  parseReleaseResult,
  parseRenewResult,
  parseTakeOverResult,
  releaseLockArgv,
  renewIntervalSeconds,
  renewLockArgv,
  takeOverLockCommand
} from '../host-lock.js'
import { decideOnHeldLock, describeBusy, type LockOwner } from '../lock.js'

export async function acquireLock(
  ctx: HostContext,
  owner: string,
  task: 'deploy' | 'rollback' = 'deploy'
): Promise<void> {
  const { session, layout, settings } = ctx
  const quick = { timeoutSeconds: settings.timeouts.quick }
  const record: LockOwner = {
    token: randomBytes(8).toString('hex'),
    owner,
    runUrl: settings.runUrl,
    acquiredAt: ctx.now().toISOString(),
    ttlSeconds: settings.lockTtlSeconds
  }
  await runStep(
    ctx,
    'lock',
    async () => {
      const deadline = Date.now() + settings.lockTimeoutSeconds * 1000
      let lostLate = 0
      // Told before the host answers: a run cancelled right after it took the lock still
      // has it released by the post step (which checks the token first).
      ctx.onLocked({ ssh: session.state(), lockDir: layout.lockDir, token: record.token })
      for (;;) {
        const acquire = acquireLockCommand(layout.lockDir, record)
        const answer = parseAcquireResult(
          await session.run(acquire.argv, { ...quick, input: acquire.input })
        )
        if (answer.kind === 'acquired') {
          holdLock(ctx, record.token)
          return
        }
        const decision = decideOnHeldLock(answer.state, settings.lockTtlSeconds)
        if (decision.action === 'take-over') {
          const takeOver = takeOverLockCommand(layout.lockDir, record, answer.state)
          const won = parseTakeOverResult(
            await session.run(takeOver.argv, { ...quick, input: takeOver.input })
          )
          if (won === 'took-over') {
            ctx.reporter.warning(
              `[${session.host}] took over a stale deploy lock held by ${decision.holder}: ${decision.reason}`
            )
            holdLock(ctx, record.token)
            return
          }
          // Another run won it, or its holder renewed it: look again at once (one more look
          // even out of time: the lock has just changed hands).
          if (Date.now() < deadline || lostLate++ === 0) continue
        }
        if (Date.now() >= deadline) {
          throw new Error(
            `the deploy lock is held by ${decision.holder} (${decision.reason}); gave up after ${settings.lockTimeoutSeconds}s (lock-timeout)`
          )
        }
        await sleep(Math.min(settings.timeouts.lockPollMs, Math.max(0, deadline - Date.now())))
      }
    },
    task
  )
}

/**
 * Ours from now on: renewed every third of its TTL, so that a slow deploy is never taken for a
 * stale one. A renewal that finds the lock gone or someone else's marks it lost, and the next
 * step stops the run (runStep).
 */
function holdLock(ctx: HostContext, token: string): void {
  const { session, layout, settings } = ctx
  let renewing: Promise<void> | undefined
  const timer = setInterval(
    () => {
      if (renewing) return
      renewing = session
        .run(renewLockArgv(layout.lockDir, token), { timeoutSeconds: settings.timeouts.quick })
        .then(result => {
          if (!parseRenewResult(result) && ctx.lock) {
            ctx.lock.lost = true
            ctx.reporter.warning(`[${session.host}] the deploy lock is no longer ours`)
          }
        })
        .catch(error =>
          ctx.reporter.warning(
            `[${session.host}] could not renew the deploy lock: ${(error as Error).message}`
          )
        )
        .finally(() => (renewing = undefined))
    },
    renewIntervalSeconds(settings.lockTtlSeconds) * 1000
  )
  // A pending renewal never keeps the process alive on its own.
  timer.unref()
  ctx.lock = { token, lost: false, stopRenewal: () => clearInterval(timer) }
}

/**
 * Releases our lock. While a command of ours still runs on the host (a migration that lost its
 * connection), the host keeps the lock and removes it when that command ends. Never throws.
 */
export async function releaseLock(ctx: HostContext): Promise<void> {
  const lock = ctx.lock
  if (!lock) return
  ctx.lock = undefined
  lock.stopRenewal()
  const { session, layout } = ctx
  try {
    const answer = parseReleaseResult(
      await session.run(releaseLockArgv(layout.lockDir, lock.token), {
        timeoutSeconds: ctx.settings.timeouts.quick
      })
    )
    if (answer.kind === 'not-ours')
      ctx.reporter.warning(
        `[${session.host}] the deploy lock is no longer ours (taken over?); leaving it`
      )
    if (answer.kind === 'kept')
      ctx.reporter.warning(
        `[${session.host}] kept the deploy lock: ${describeBusy(answer.busy)} still running on the host; the lock goes when it ends`
      )
  } catch (error) {
    ctx.reporter.warning(
      `[${session.host}] could not release the deploy lock: ${(error as Error).message}`
    )
  }
}
