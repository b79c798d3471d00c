/**
 * Back to a release that is on the host: switch current, bring it up the way it was brought
 * up (its own manifest's compose), verify, and record it. Never throws: it says whether the
 * release is back.
 */
import { releaseCommands } from '../commands.js'
import { composeOfRelease, currentRelease, layoutOf, runStep, type HostContext } from '../host.js'
import { audit } from './audit.js'
import { switchCurrent } from './rollout.js'
import { verify } from './verify.js'

export async function restoreRelease(ctx: HostContext, id: string, why: string): Promise<boolean> {
  try {
    await runStep(ctx, `roll back to ${id}`, async () => {
      await switchCurrent(ctx, id)
      await ctx.runtime.bringUp(
        { id, compose: await composeOfRelease(ctx, id) },
        'compose up --wait (rollback)'
      )
    })
    await verify(ctx)
    await audit(ctx, 'rollback', id, why)
    ctx.report.result = 'rolled back'
    return true
  } catch (error) {
    ctx.reporter.error(
      `[${ctx.session.host}] rollback to ${id} failed: ${(error as Error).message}`
    )
    return false
  }
}

/** Removes a release folder that is not live (never switched, or rolled back). Never fails. */
export async function discardRelease(ctx: HostContext, id: string): Promise<void> {
  if ((await currentRelease(ctx).catch(() => id)) === id) return
  await ctx.session
    .run(releaseCommands.removeReleases(layoutOf(ctx, id), [id]), {
      timeoutSeconds: ctx.settings.timeouts.prune
    })
    .catch(() => undefined)
}
