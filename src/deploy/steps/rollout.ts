/**
 * Switch `current` to a release (a new link renamed over the old one: atomic) and bring that
 * release up through the runtime. Used by the rollout and by every rollback.
 */
import * as path from 'node:path'
import { releaseCommands } from '../commands.js'
import { runStep, type HostContext } from '../host.js'
import type { RuntimeRelease } from '../runtime.js'

export async function switchCurrent(ctx: HostContext, id: string): Promise<void> {
  const { session, layout, settings } = ctx
  const quick = { timeoutSeconds: settings.timeouts.quick }
  const target = path.posix.join(layout.releases, id)
  await session.runChecked(releaseCommands.linkNew(layout, target), 'link the release', quick)
  await session.runChecked(releaseCommands.switchCurrent(layout), 'switch current', quick)
}

/**
 * The new release goes live: from here on a failure means rolling back. `jobsDone`: the
 * migration, which already ran for this release and is not run again.
 */
export async function rollout(
  ctx: HostContext,
  release: RuntimeRelease,
  jobsDone: readonly string[] = []
): Promise<void> {
  await runStep(ctx, 'roll out', async () => {
    await switchCurrent(ctx, release.id)
    ctx.switched = true
    await ctx.runtime.bringUp(release, 'compose up --wait', jobsDone)
  })
}
