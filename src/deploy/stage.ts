/**
 * `command: deploy` and `command: rollback` across hosts: one SSH connection per host, hosts one
 * at a time; the first host that fails stops the deploy, and the hosts already switched are
 * rolled back to the release they had.
 */
import type { ImageMap } from '../build/images.js'
import type { Plan } from '../compose/plan.js'
import type { ComposeProjectRef } from '../compose/types.js'
import { RemoteExecutor } from '../exec/remote.js'
import { endpointLabel, type SshEndpoint } from '../exec/ssh.js'
import { DeployError, InputError, type OtherHostOutcome } from '../errors.js'
import { type DeployInputs } from '../inputs.js'
import type { Reporter } from '../report/reporter.js'
import {
  HostDeployment,
  deploySummary,
  healthUrlFor,
  type DeployPlan,
  type HostReport
} from './deploy.js'
import { deployOverrideYaml } from './override.js'
import { rollingServices } from './rolling.js'
import type { HeldLock } from './post.js'
import {
  EnvFileError,
  buildEnvFile,
  releaseId as makeReleaseId,
  legacyCompose,
  releaseLayout,
  unpinnedImages,
  type ReleaseCompose
} from './release.js'
import { filesOverrideYaml, secretHashes, type ProjectFiles } from '../compose/project-files.js'
import { loadSecretFiles } from '../compose/load.js'
import { hostLocations, releaseComposeOf } from './release-files.js'

export interface DeployContext {
  ref: ComposeProjectRef
  plan: Plan
  /** What the release carries (compose/project-files.ts). */
  files: ProjectFiles
  /** The secret-files input: secret name -> content. */
  secretFiles: Record<string, string>
  images: ImageMap
  inputs: DeployInputs
  registry: { host: string; username: string; password: string } | undefined
  waitTimeoutSeconds: number
  sha: string
  actor: string
  runUrl: string | undefined
}

/** A rollback uploads nothing: no images, registry, files or secrets. */
export type RollbackContext = Omit<DeployContext, 'images' | 'registry' | 'files' | 'secretFiles'>

export interface DeployOutcome {
  releaseId: string
  reports: HostReport[]
  url: string | undefined
}

/** Everything a host needs, read and checked before any connection is made. */
export function prepareDeployPlan(context: DeployContext, now: Date): DeployPlan {
  const releaseIdNow = makeReleaseId(now, context.sha)
  const unpinned = unpinnedImages(context.images)
  if (Object.keys(context.images).length === 0) {
    throw new InputError(
      'images',
      'deploy needs the images output of a build step that pushed (push: true)'
    )
  }
  if (unpinned.length > 0) {
    throw new InputError(
      'images',
      `deploys run by digest, but ${unpinned.join(', ')} ${unpinned.length > 1 ? 'have' : 'has'} no image@sha256 ref: build with push: true`
    )
  }
  let envFile: string
  try {
    envFile = buildEnvFile([context.inputs.envFile, context.inputs.secrets]).text
  } catch (error) {
    if (error instanceof EnvFileError) throw new InputError('env-file', error.message)
    throw error
  }
  const secretFiles = loadSecretFiles(context.files, context.secretFiles)
  const layout = releaseLayout(context.inputs.deployPath, context.plan.project, releaseIdNow)
  const services = new Set(context.plan.services.map(s => s.name))
  for (const [input, service] of [
    ['backup-service', context.inputs.backupService],
    ['migrate-service', context.inputs.migrateService]
  ] as const) {
    if (service && !services.has(service)) {
      throw new InputError(
        input,
        `unknown service "${service}"; the project has: ${[...services].join(', ')}`
      )
    }
  }
  return {
    ...hostSettings(context, releaseComposeOf(context.files, context.ref.profiles)),
    releaseId: releaseIdNow,
    files: context.files,
    filesOverride: filesOverrideYaml(
      context.files,
      hostLocations(layout),
      secretHashes(secretFiles)
    ),
    secretFiles,
    images: context.images,
    envFile,
    imagesOverride: deployOverrideYaml(context.plan, context.images),
    registry: context.registry,
    backupService: context.inputs.backupService,
    migrateService: context.inputs.migrateService,
    minFreeMiB: context.inputs.minFreeMiB
  }
}

/** What a deploy and a rollback both need on each host, from the inputs and the compose plan. */
function hostSettings(
  context: RollbackContext,
  compose: ReleaseCompose
): Omit<
  DeployPlan,
  | 'releaseId'
  | 'files'
  | 'filesOverride'
  | 'secretFiles'
  | 'images'
  | 'envFile'
  | 'imagesOverride'
  | 'registry'
  | 'backupService'
  | 'migrateService'
  | 'minFreeMiB'
> {
  return {
    project: context.plan.project,
    deployPath: context.inputs.deployPath,
    compose,
    backupKeep: context.inputs.backupKeep,
    migrateTimeoutSeconds: context.inputs.migrateTimeoutSeconds,
    waitTimeoutSeconds: context.waitTimeoutSeconds,
    lockTimeoutSeconds: context.inputs.lockTimeoutSeconds,
    lockTtlSeconds: context.inputs.lockTtlSeconds,
    keepReleases: context.inputs.keepReleases,
    jobs: context.plan.services
      .filter(service => service.kind === 'job')
      .map(service => service.name),
    // A rollback brings the previous release's services back the same way.
    rollingServices: context.inputs.zeroDowntime ? rollingServices(context.plan) : [],
    settleSeconds: context.inputs.zeroDowntimeSettleSeconds,
    healthUrls: context.inputs.healthUrls,
    healthRetries: context.inputs.healthRetries,
    sha: context.sha,
    actor: context.actor,
    runUrl: context.runUrl
  }
}

/** Who holds the lock, as the lock and the audit log record it. */
function ownerOf(context: RollbackContext): string {
  return `${context.actor}${context.runUrl ? ` (${context.runUrl})` : ''}`
}

/** The environment's URL: the first health URL, on the first host. */
function environmentUrl(inputs: DeployInputs): string | undefined {
  const first = inputs.hosts[0]
  return first && inputs.healthUrls[0] ? healthUrlFor(inputs.healthUrls[0], first.host) : undefined
}

async function connect(
  endpoint: SshEndpoint,
  inputs: DeployInputs,
  reporter: Reporter
): Promise<RemoteExecutor> {
  return RemoteExecutor.open({
    target: endpoint,
    jump: inputs.jumpHost,
    privateKey: inputs.sshKey,
    knownHosts: inputs.knownHosts,
    trustOnFirstUse: inputs.trustOnFirstUse,
    tuning: { connectTimeoutSeconds: inputs.connectTimeoutSeconds },
    log: { info: message => reporter.info(message), warning: message => reporter.warning(message) },
    inputs: {
      knownHosts: 'known-hosts',
      privateKey: 'ssh-key',
      host: 'hosts',
      jumpHost: 'jump-host'
    }
  })
}

/** Deploys to every host in order; on a failure, rolls back the hosts already switched. */
export async function deployStage(
  context: DeployContext,
  reporter: Reporter,
  now: Date = new Date()
): Promise<DeployOutcome> {
  const plan = prepareDeployPlan(context, now)
  for (const secret of plan.secretFiles) reporter.setSecret(secret.content)
  for (const folder of context.files.persistent.filter(p => p.filesHere > 0))
    reporter.warning(
      `${folder.relative} (mounted writable by ${folder.services.join(', ')}) has ${folder.filesHere} file(s) in the working tree; persistent folders live in shared/ on the host and start empty, so these are not copied. If they are content to ship, mark the path "release" in the paths input`
    )
  const owner = ownerOf(context)
  const reports: HostReport[] = []
  const done: { remote: RemoteExecutor; host: HostDeployment }[] = []
  const remotes: RemoteExecutor[] = []
  const hosts: HostDeployment[] = []
  const locks: HeldLock[] = []
  try {
    // Every host is reached (its key pinned, its address answering), checked and locked
    // before the first one changes: a problem with the last host must not cost the first a
    // needless switch and rollback in production.
    for (const endpoint of context.inputs.hosts) {
      const remote = await connect(endpoint, context.inputs, reporter).catch((error: Error) => {
        reports.push({
          host: endpointLabel(endpoint),
          result: 'not started',
          steps: [
            { step: 'connect', seconds: 0, ok: false, detail: error.message.split('\n')[0] ?? '' }
          ],
          backup: undefined,
          migrationOutput: '',
          previous: undefined
        })
        throw error
      })
      remotes.push(remote)
      reporter.saveState('ssh', JSON.stringify(remotes.map(r => r.state())))
      hosts.push(
        new HostDeployment(remote, plan, reporter, undefined, lock => {
          locks.push(lock)
          reporter.saveState('deploy-locks', JSON.stringify(locks))
        })
      )
    }
    for (const host of hosts) {
      try {
        await host.preflight()
        await host.lock(owner)
      } catch (error) {
        reports.push(host.report)
        throw error
      }
    }
    for (const [index, host] of hosts.entries()) {
      try {
        await host.deploy(owner, { prepared: true })
        reports.push(host.report)
        done.push({ remote: remotes[index] as RemoteExecutor, host })
      } catch (error) {
        reports.push(host.report)
        throw error
      }
    }
  } catch (error) {
    // Put the hosts that were already switched back on the release they had.
    const outcomes: OtherHostOutcome[] = []
    for (const { host } of done.reverse()) {
      const rolled = await host.rollbackAfterOtherHostFailed((error as Error).message)
      host.report.result = rolled ? 'rolled back' : host.report.result
      outcomes.push(otherHostOutcome(host.report, rolled))
    }
    await reporter.addSummary(deploySummary(plan.releaseId, reports, plan.files))
    // The failing host's own outcome stays its own: what became of the others is a field of
    // its own, never mixed into the failing host's (a status once read it as "rolled back").
    if (outcomes.length === 0) throw error
    if (error instanceof DeployError) throw error.withOtherHosts(outcomes.reverse())
    // A host that failed before its pipeline ran (it could not be reached): the same fields.
    const failed = reports[reports.length - 1]
    throw new DeployError({
      task: 'deploy',
      host: failed?.host ?? 'a host',
      step: failed?.steps[failed.steps.length - 1]?.step ?? 'connect',
      reason: (error as Error).message,
      outcome: 'nothing switched',
      otherHosts: outcomes.reverse()
    })
  } finally {
    // Every lock this deploy took, released only now (each only if it is still ours).
    for (const host of hosts) await host.unlock().catch(() => undefined)
    for (const remote of remotes) await remote.dispose()
    reporter.saveState('ssh', '')
    reporter.saveState('deploy-locks', '')
  }
  await reporter.addSummary(deploySummary(plan.releaseId, reports, plan.files))
  return { releaseId: plan.releaseId, reports, url: environmentUrl(context.inputs) }
}

/** What became of a host that had already deployed when a later host failed. */
export function otherHostOutcome(report: HostReport, rolledBack: boolean): OtherHostOutcome {
  if (rolledBack) return { host: report.host, outcome: 'rolled back', release: report.previous }
  if (!report.previous)
    return { host: report.host, outcome: 'kept the new release', release: undefined }
  return { host: report.host, outcome: 'not rolled back', release: report.previous }
}

/** `command: rollback`: every host back to the release before the live one, or to release-id. */
export async function rollbackStage(
  context: RollbackContext,
  reporter: Reporter
): Promise<DeployOutcome> {
  const reports: HostReport[] = []
  let target = context.inputs.releaseId
  const remotes: RemoteExecutor[] = []
  // Like a deploy's: the post step of a cancelled rollback releases them.
  const locks: HeldLock[] = []
  try {
    for (const endpoint of context.inputs.hosts) {
      const remote = await connect(endpoint, context.inputs, reporter)
      remotes.push(remote)
      reporter.saveState('ssh', JSON.stringify(remotes.map(r => r.state())))
      const plan: DeployPlan = {
        ...prepareRollbackPlan(context),
        releaseId: target ?? 'pending'
      }
      const host = new HostDeployment(remote, plan, reporter, undefined, lock => {
        locks.push(lock)
        reporter.saveState('deploy-locks', JSON.stringify(locks))
      })
      const chosen = await host.rollbackTo(target, ownerOf(context))
      target ??= chosen
      reports.push(host.report)
    }
  } finally {
    for (const remote of remotes) await remote.dispose()
    reporter.saveState('ssh', '')
    reporter.saveState('deploy-locks', '')
    await reporter.addSummary(deploySummary(`rollback to ${target ?? '?'}`, reports))
  }
  return { releaseId: target as string, reports, url: environmentUrl(context.inputs) }
}

function prepareRollbackPlan(context: RollbackContext): Omit<DeployPlan, 'releaseId'> {
  return {
    // Each release's manifest says how compose runs it; this is only for one that does not.
    ...hostSettings(context, legacyCompose(context.ref.files)),
    files: undefined,
    filesOverride: '',
    secretFiles: [],
    images: {},
    envFile: '',
    imagesOverride: '',
    registry: undefined,
    backupService: undefined,
    migrateService: undefined,
    minFreeMiB: 0
  }
}
