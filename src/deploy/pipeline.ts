/**
 * The deploy and the rollback on one host, top to bottom, as docs/on-the-host.md lists them:
 *
 *   preflight → lock → upload → (pull ‖ backup) → migrate → roll out → verify → audit → prune → unlock
 *   on a failure after the switch: roll back to the previous release
 *
 * Each step is its own module under ./steps, over a HostContext (./host.ts): the session, the
 * settings, the reporter and the runtime. Failures are DeployErrors carrying the host, the
 * step and the outcome (nothing switched, rolled back, not rolled back).
 */
import { DeployError } from '../errors.js'
import { allSettledOrThrow } from '../exec/time.js'
import { currentRelease, layoutOf, listReleases, type HostContext } from './host.js'
import { manifestFileMap } from './release-files.js'
import { buildManifest, previousRelease } from './release.js'
import type { DeployRelease } from './settings.js'
import { audit } from './steps/audit.js'
import { backup } from './steps/backup.js'
import { acquireLock, releaseLock } from './steps/lock.js'
import { migrate } from './steps/migrate.js'
import { preflight } from './steps/preflight.js'
import { prune } from './steps/prune.js'
import { pull } from './steps/pull.js'
import { discardRelease, restoreRelease } from './steps/rollback.js'
import { rollout } from './steps/rollout.js'
import { upload } from './steps/upload.js'
import { verify } from './steps/verify.js'

/** Preflight and lock: what a multi-host deploy does on every host before the first changes. */
export async function prepareHost(
  ctx: HostContext,
  release: DeployRelease,
  owner: string
): Promise<void> {
  await preflight(ctx, { minFreeMiB: release.minFreeMiB, files: release.files })
  await acquireLock(ctx, owner)
}

/**
 * The whole pipeline on this host; throws a DeployError after rolling back when it can.
 * `prepared`: preflight and lock were done already (a multi-host deploy checks and locks every
 * host first), and the caller releases the lock.
 */
export async function deployHost(
  ctx: HostContext,
  release: DeployRelease,
  owner: string,
  options: { prepared?: boolean } = {}
): Promise<void> {
  if (ctx.layout.release !== layoutOf(ctx, release.releaseId).release)
    throw new Error(
      `internal error: the host context is for ${ctx.layout.release}, not release ${release.releaseId}`
    )
  if (!options.prepared) await prepareHost(ctx, release, owner)
  try {
    const previous = await currentRelease(ctx)
    ctx.report.previous = previous
    const manifest = buildManifest({
      release: release.releaseId,
      project: ctx.settings.project,
      images: release.images,
      sha: ctx.settings.sha,
      actor: ctx.settings.actor,
      createdAt: ctx.now().toISOString(),
      runUrl: ctx.settings.runUrl,
      composeFiles: release.compose.composeFiles,
      compose: release.compose,
      files: manifestFileMap(release.files.entries),
      objects: release.files.objects.map(o => o.name),
      persistent: release.files.persistent.map(p => p.relative),
      secrets: release.secretFiles.map(s => s.name)
    })
    // The upload, the registry login and pull, and the backup of the live database overlap:
    // none touches what runs. All are awaited before anything fails: no work is left running.
    // The pull needs the release's files, not its manifest: it starts as soon as they are up.
    const uploaded = upload(ctx, release, manifest, previous)
    await allSettledOrThrow([
      uploaded.done,
      backup(ctx, release, manifest, previous, uploaded.done),
      pull(ctx, release, uploaded.files)
    ])
    // What the rollout decides from is read while the migration runs (it changes nothing).
    const runtimeRelease = { id: release.releaseId, compose: release.compose }
    ctx.runtime.lookAhead(runtimeRelease)
    await migrate(ctx, release)
    try {
      await rollout(ctx, runtimeRelease, release.migrate ? [release.migrate.service] : [])
      await verify(ctx)
    } catch (error) {
      throw await rollBackAfterFailure(ctx, error as Error, previous)
    }
    await audit(ctx, 'deploy', release.releaseId, previous ? `from ${previous}` : 'first deploy')
    ctx.report.result = 'deployed'
    await prune(ctx, [release.releaseId, previous ?? ''])
  } catch (error) {
    if (ctx.report.result === 'not started') ctx.report.result = 'failed'
    // The host's own record of the failure (redacted like every line of it); never fails.
    if (ctx.lock) {
      const reason = error instanceof DeployError ? `${error.step}: ${error.reason}` : String(error)
      await audit(ctx, 'deploy failed', release.releaseId, reason.split('\n')[0] ?? '').catch(
        () => undefined
      )
    }
    // A release that is not live (it never switched, or was rolled back) goes: nothing
    // half-done stays behind, and a later rollback can never pick it.
    if (!ctx.switched || ctx.report.result === 'rolled back')
      await discardRelease(ctx, release.releaseId)
    throw error
  } finally {
    if (!options.prepared) await releaseLock(ctx)
  }
}

/** The rollout or the verification failed after the switch: back to `previous`, if any. */
async function rollBackAfterFailure(
  ctx: HostContext,
  error: Error,
  previous: string | undefined
): Promise<DeployError> {
  // Failed before `current` moved: the previous release never stopped serving.
  if (!ctx.switched && error instanceof DeployError) return error
  let rolledBack = false
  if (!previous)
    ctx.reporter.warning(
      `[${ctx.session.host}] no previous release to roll back to (first deploy); the new release stays as it is`
    )
  else rolledBack = await restoreRelease(ctx, previous, error.message)
  ctx.report.result = rolledBack ? 'rolled back' : 'failed'
  const failed = error instanceof DeployError ? error : undefined
  return new DeployError({
    task: 'deploy',
    host: ctx.session.host,
    step: failed?.step ?? 'roll out',
    reason: failed?.reason ?? error.message,
    outcome: rolledBack ? 'rolled back' : 'not rolled back',
    rolledBackTo: rolledBack ? previous : undefined
  })
}

/**
 * A later host failed: put this one, already deployed, back on its previous release and drop
 * the new one. Takes the lock again when it no longer holds it.
 */
export async function undoDeploy(
  ctx: HostContext,
  releaseId: string,
  why: string,
  owner: string
): Promise<boolean> {
  const previous = ctx.report.previous
  if (!previous) {
    ctx.reporter.warning(
      `[${ctx.session.host}] had no release before this deploy; it keeps the new one`
    )
    return false
  }
  const reason = why.split('\n')[0] ?? ''
  const relock = !ctx.lock
  if (relock) await acquireLock(ctx, `${owner}: rollback after ${reason}`)
  try {
    const restored = await restoreRelease(ctx, previous, `another host failed: ${reason}`)
    if (restored) await discardRelease(ctx, releaseId)
    return restored
  } finally {
    if (relock) await releaseLock(ctx)
  }
}

/** `command: rollback` on this host: to `target`, or to the release before the live one. */
export async function rollbackHost(
  ctx: HostContext,
  target: string | undefined,
  owner: string
): Promise<string> {
  const fail = (reason: string, outcome: 'nothing switched' | 'not rolled back') =>
    new DeployError({ task: 'rollback', host: ctx.session.host, step: 'rollback', reason, outcome })
  await acquireLock(ctx, owner, 'rollback')
  try {
    const current = await currentRelease(ctx)
    ctx.report.previous = current
    const ids = await listReleases(ctx)
    const chosen = target ?? (current ? previousRelease(ids, current) : undefined)
    if (!chosen)
      throw fail(
        `no release before ${current ?? 'the live one'} is kept on the host`,
        'nothing switched'
      )
    if (!ids.includes(chosen))
      throw fail(
        `release ${chosen} is not on the host (it has: ${ids.join(', ') || 'none'})`,
        'nothing switched'
      )
    if (chosen === current) {
      ctx.reporter.info(`[${ctx.session.host}] ${chosen} is already live`)
      ctx.report.result = 'deployed'
      return chosen
    }
    ctx.switched = true
    if (!(await restoreRelease(ctx, chosen, `rollback from ${current ?? 'nothing'}`)))
      throw fail(`to ${chosen} failed; see the steps in the job summary`, 'not rolled back')
    return chosen
  } finally {
    await releaseLock(ctx)
  }
}
