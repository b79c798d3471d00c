/**
 * One host's share of a task: its session, the shared settings, the reporter, the runtime that
 * brings releases up, and what has happened so far (the report, whether `current` moved, the
 * lock). Every step takes this; `runStep` times a step and turns its failure into a DeployError
 * naming the host and the step.
 */
import * as path from 'node:path'
import { DeployError } from '../errors.js'
import type { Reporter } from '../report/reporter.js'
import type { HostReport } from '../report/deploy-summary.js'
import type { HeldLock } from './post.js'
import { releaseCommands } from './commands.js'
import {
  isReleaseId,
  legacyCompose,
  releaseLayout,
  type Manifest,
  type ReleaseCompose,
  type ReleaseLayout
} from './release.js'
import type { HostSession } from './session.js'
import type { HostSettings } from './settings.js'
import type { LongCommand, Runtime } from './runtime.js'
import { heldCommand, heldCommandRemoteTimeoutSeconds } from './host-lock.js'

export interface HostContext {
  readonly session: HostSession
  readonly settings: HostSettings
  readonly reporter: Reporter
  runtime: Runtime
  readonly now: () => Date
  /** The project's folders on the host (`release` is the task's own release, if any). */
  readonly layout: ReleaseLayout
  readonly report: HostReport
  /** Told when a lock is taken, so that the post step can release it after a cancellation. */
  readonly onLocked: (lock: HeldLock) => void
  /** Whether `current` was moved by this run (until then the previous release never stopped). */
  switched: boolean
  /** This run's lock on the host, while it holds it; `lost` once a renewal found it gone. */
  lock: { token: string; lost: boolean; stopRenewal: () => void } | undefined
}

/** Makes the host's runtime; `long` wraps its long commands (see LongCommand). */
export type RuntimeFactory = (
  session: HostSession,
  settings: HostSettings,
  reporter: Reporter,
  long: LongCommand
) => Runtime

export function hostContext(options: {
  session: HostSession
  settings: HostSettings
  reporter: Reporter
  runtime: RuntimeFactory
  /** The task's release id, when it has one (a deploy's new release). */
  releaseId?: string
  onLocked?: (lock: HeldLock) => void
  now?: () => Date
}): HostContext {
  const { session, settings, reporter } = options
  const ctx: HostContext = {
    session,
    settings,
    reporter,
    runtime: undefined as unknown as Runtime,
    now: options.now ?? (() => new Date()),
    layout: releaseLayout(settings.deployPath, settings.project, options.releaseId ?? 'none'),
    report: {
      host: session.host,
      result: 'not started',
      steps: [],
      backup: undefined,
      migrationOutput: '',
      previous: undefined
    },
    onLocked: options.onLocked ?? (() => undefined),
    switched: false,
    lock: undefined
  }
  // The long commands run under the lock this context holds at the time they run: they
  // survive a dropped connection, and the lock stays until they end (host-lock.ts).
  const long: LongCommand = (id, argv, timeoutSeconds) =>
    ctx.lock
      ? {
          argv: heldCommand(ctx.layout.lockDir, ctx.lock.token, id, timeoutSeconds, argv),
          timeoutSeconds: heldCommandRemoteTimeoutSeconds(timeoutSeconds)
        }
      : { argv, timeoutSeconds }
  ctx.runtime = options.runtime(session, settings, reporter, long)
  return ctx
}

/** Runs one named step, times it, and turns any failure into a DeployError naming host and step. */
export async function runStep<T>(
  ctx: HostContext,
  name: string,
  body: () => Promise<T>,
  task: 'deploy' | 'rollback' = 'deploy'
): Promise<T> {
  const started = Date.now()
  ctx.reporter.info(`[${ctx.session.host}] ${name}`)
  const record = (ok: boolean, detail: string): void => {
    ctx.report.steps.push({ step: name, seconds: (Date.now() - started) / 1000, ok, detail })
  }
  try {
    // Someone took the lock over: nothing more may change on this host.
    if (ctx.lock?.lost)
      throw new Error(
        'the deploy lock is no longer ours (it was taken over); stopped before this step'
      )
    const value = await body()
    record(true, '')
    return value
  } catch (error) {
    const message = (error as Error).message
    record(false, message.split('\n')[0] ?? '')
    if (error instanceof DeployError) throw error
    throw new DeployError({
      task,
      host: ctx.session.host,
      step: name,
      reason: message,
      // Until the switch, the previous release never stopped serving.
      outcome: ctx.switched ? 'not rolled back' : 'nothing switched'
    })
  }
}

/** The layout of another release of the same project. */
export function layoutOf(ctx: HostContext, id: string): ReleaseLayout {
  return releaseLayout(ctx.settings.deployPath, ctx.settings.project, id)
}

/** The live release's id, or undefined on a first deploy. */
export async function currentRelease(ctx: HostContext): Promise<string | undefined> {
  const link = await ctx.session.run(releaseCommands.readCurrent(ctx.layout), {
    timeoutSeconds: ctx.settings.timeouts.quick
  })
  const id = link.exitCode === 0 ? path.posix.basename(link.stdout.trim()) : ''
  return isReleaseId(id) ? id : undefined
}

/** The release ids on the host, oldest first. */
export async function listReleases(ctx: HostContext): Promise<string[]> {
  const listing = await ctx.session.run(releaseCommands.listReleases(ctx.layout), {
    timeoutSeconds: ctx.settings.timeouts.quick
  })
  return listing.stdout.split('\n').filter(isReleaseId).sort()
}

/** A release's manifest on the host; undefined when it is missing or unreadable. */
export async function readManifest(
  ctx: HostContext,
  id: string
): Promise<Partial<Manifest> | undefined> {
  const text = await ctx.session.run(
    ['cat', path.posix.join(layoutOf(ctx, id).release, 'manifest.json')],
    { timeoutSeconds: ctx.settings.timeouts.quick }
  )
  try {
    return text.exitCode === 0 ? (JSON.parse(text.stdout) as Manifest) : undefined
  } catch {
    return undefined
  }
}

/** Several releases' manifests, read at once, by id (undefined for one missing or unreadable). */
export async function readManifests(
  ctx: HostContext,
  ids: readonly string[]
): Promise<Map<string, Partial<Manifest> | undefined>> {
  return new Map(await Promise.all(ids.map(async id => [id, await readManifest(ctx, id)] as const)))
}

/**
 * How compose runs another release (the live one, for a backup or a rollback): its own
 * files, overrides and profiles, as its manifest records them, since releases can differ.
 */
export async function composeOfRelease(ctx: HostContext, id: string): Promise<ReleaseCompose> {
  const manifest = await readManifest(ctx, id)
  if (manifest?.compose) return manifest.compose
  if (Array.isArray(manifest?.composeFiles) && manifest.composeFiles.length > 0)
    return legacyCompose(manifest.composeFiles)
  // No readable manifest: assume the layout the settings give.
  return ctx.settings.fallbackCompose
}

/** Writes a release's manifest (last in an upload: a release with a manifest is whole). */
export async function writeManifest(ctx: HostContext, manifest: Manifest): Promise<void> {
  await ctx.session.writeFile(
    path.posix.join(layoutOf(ctx, manifest.release).release, 'manifest.json'),
    `${JSON.stringify(manifest, null, 2)}\n`,
    0o644,
    { timeoutSeconds: ctx.settings.timeouts.write }
  )
}
