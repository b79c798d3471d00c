/**
 * Old releases beyond keep-releases go, with the images only they ran and the store objects no
 * kept release mounts. Pruning never fails a deploy for an image still in use.
 */
import { projectTreeCommands, releaseCommands } from '../commands.js'
import { listReleases, readManifests, runStep, type HostContext } from '../host.js'
import { objectsToPrune } from '../release-files.js'
import { imagesToPrune, releasesToPrune, type Manifest } from '../release.js'

export async function prune(ctx: HostContext, keepIds: string[]): Promise<void> {
  const { session, layout, settings } = ctx
  const t = settings.timeouts
  const host = session.host
  await runStep(ctx, 'prune', async () => {
    const ids = await listReleases(ctx)
    const old = releasesToPrune(ids, settings.keepReleases, keepIds)
    if (old.length === 0) return
    // Read before the folders go: which images only the pruned releases ran.
    const manifests = await readManifests(ctx, ids)
    const kept = ids.filter(id => !old.includes(id)).map(id => manifests.get(id))
    const images = imagesToPrune(
      old.map(id => manifests.get(id)),
      kept
    )
    await session.runChecked(releaseCommands.removeReleases(layout, old), 'remove old releases', {
      timeoutSeconds: t.prune
    })
    await pruneObjects(ctx, kept)
    if (images.length === 0) {
      ctx.reporter.info(
        `[${host}] removed ${old.length} old release(s); their images are still in use`
      )
      return
    }
    const removed = await session.run(releaseCommands.removeImages(images), {
      timeoutSeconds: t.prune
    })
    // An image still in use (or already gone) stays as it is.
    const refused = removed.stderr
      .split('\n')
      .filter(line => line.trim() && !/No such image/i.test(line))
    if (refused.length > 0)
      ctx.reporter.warning(
        `[${host}] some old images were kept: ${refused.slice(0, 3).join(' | ')}`
      )
    ctx.reporter.info(
      `[${host}] removed ${old.length} old release(s) and ${images.length - refused.length} of their ${images.length} image ref(s)`
    )
  })
}

/**
 * Store objects that no kept release mounts. Only when every kept manifest could be read: an
 * object a release still needs is never taken away on a guess.
 */
async function pruneObjects(
  ctx: HostContext,
  kept: (Partial<Manifest> | undefined)[]
): Promise<void> {
  if (kept.some(manifest => manifest === undefined)) return
  const { session, layout, settings } = ctx
  const listing = await session.run(projectTreeCommands.listObjects(layout), {
    timeoutSeconds: settings.timeouts.quick
  })
  if (listing.exitCode !== 0) return
  const unused = objectsToPrune(
    listing.stdout.split('\n').filter(Boolean),
    kept.map(manifest => manifest?.objects)
  )
  if (unused.length > 0)
    await session.runChecked(
      projectTreeCommands.removeObjects(layout, unused),
      'remove unused store objects',
      { timeoutSeconds: settings.timeouts.prune }
    )
}
