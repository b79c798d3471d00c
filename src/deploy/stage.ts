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
import { InputError, type OtherHostOutcome } from '../errors.js'
import { type DeployInputs } from '../inputs.js'
import type { Reporter } from '../report/reporter.js'
import { deploySummary, notStartedReport, type HostReport } from '../report/deploy-summary.js'
import { composeRuntime } from './compose-runtime.js'
import { hostContext, type HostContext } from './host.js'
import {
  PendingConnections,
  forEachHost,
  type ForEachHostOptions,
  type HostConnection
} from './hosts.js'
import { deployOverrideYaml } from './override.js'
import { deployHost, prepareHost, rollbackHost, undoDeploy } from './pipeline.js'
import { PostStateRecorder } from './post.js'
import { rollingServices } from './rolling.js'
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
import { DEFAULT_TIMEOUTS, type DeployRelease, type HostSettings } from './settings.js'
import { releaseLock } from './steps/lock.js'
import { healthUrlFor } from './steps/verify.js'

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
  /**
   * Connections to the hosts started before this stage (startConnections, by the engine); a
   * host without one is connected to here.
   */
  connections?: PendingConnections
}

/** A rollback uploads nothing: no images, registry, files or secrets. */
export type RollbackContext = Omit<DeployContext, 'images' | 'registry' | 'files' | 'secretFiles'>

export interface DeployOutcome {
  releaseId: string
  reports: HostReport[]
  url: string | undefined
}

/** The new release, read and checked before any connection is made. */
export function prepareRelease(context: DeployContext, now: Date): DeployRelease {
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
  const { backupService, migrateService } = context.inputs
  return {
    releaseId: releaseIdNow,
    compose: releaseComposeOf(context.files, context.ref.profiles),
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
    backup: backupService ? { service: backupService, keep: context.inputs.backupKeep } : undefined,
    migrate: migrateService
      ? { service: migrateService, timeoutSeconds: context.inputs.migrateTimeoutSeconds }
      : undefined,
    minFreeMiB: context.inputs.minFreeMiB
  }
}

/** What a deploy and a rollback both need on each host, from the inputs and the compose plan. */
export function hostSettings(
  context: RollbackContext,
  fallbackCompose: ReleaseCompose
): HostSettings {
  return {
    project: context.plan.project,
    deployPath: context.inputs.deployPath,
    fallbackCompose,
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
    runUrl: context.runUrl,
    timeouts: DEFAULT_TIMEOUTS
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

/**
 * Starts connecting to every host of a deploy or rollback, all at once, for the engine to do
 * while it reads the project; the stage then takes them (DeployContext.connections). `open`
 * makes one connection (tests give their own).
 */
export function startConnections(
  inputs: DeployInputs,
  reporter: Reporter,
  open: (endpoint: SshEndpoint) => Promise<HostConnection> = endpoint =>
    connect(endpoint, inputs, reporter)
): PendingConnections {
  return PendingConnections.start(inputs.hosts, endpointLabel, open)
}

/**
 * The hosts of a task: connect (or take the connection already started), record for the post
 * step, and one context each, kept in `opened` (whose reports the summary shows, whether the
 * task succeeded or not).
 */
export function hostsOf(
  context: RollbackContext,
  settings: HostSettings,
  reporter: Reporter,
  releaseId: string | undefined,
  opened: HostContext[]
): Pick<
  ForEachHostOptions<SshEndpoint, HostContext>,
  'endpoints' | 'label' | 'connect' | 'post' | 'open' | 'hostOf'
> {
  return {
    endpoints: context.inputs.hosts,
    label: endpointLabel,
    connect: endpoint =>
      context.connections?.take(endpointLabel(endpoint)) ??
      connect(endpoint, context.inputs, reporter),
    post: new PostStateRecorder((name, value) => reporter.saveState(name, value)),
    open: (session, onLocked) => {
      const host = hostContext({
        session,
        settings,
        reporter,
        runtime: composeRuntime,
        releaseId,
        onLocked
      })
      opened.push(host)
      return host
    },
    hostOf: host => host.session.host
  }
}

/** Deploys to every host in order; on a failure, rolls back the hosts already switched. */
export async function deployStage(
  context: DeployContext,
  reporter: Reporter,
  now: Date = new Date()
): Promise<DeployOutcome> {
  const release = prepareRelease(context, now)
  const settings = hostSettings(context, release.compose)
  for (const secret of release.secretFiles) reporter.setSecret(secret.content)
  for (const folder of context.files.persistent.filter(p => p.filesHere > 0))
    reporter.warning(
      `${folder.relative} (mounted writable by ${folder.services.join(', ')}) has ${folder.filesHere} file(s) in the working tree; persistent folders live in shared/ on the host and start empty, so these are not copied. If they are content to ship, mark the path "release" in the paths input`
    )
  const owner = ownerOf(context)
  // Hosts that could not be reached, then every host that was.
  const unreached: HostReport[] = []
  const hosts: HostContext[] = []
  const reports = () => [...unreached, ...hosts.map(h => h.report)]
  try {
    await forEachHost({
      ...hostsOf(context, settings, reporter, release.releaseId, hosts),
      unreachable: (label, error) => unreached.push(notStartedReport(label, 'connect', error)),
      // Every host is reached, checked and locked before the first one changes: a problem
      // with the last host must not cost the first a needless switch and rollback.
      prepare: host => prepareHost(host, release, owner),
      run: host => deployHost(host, release, owner, { prepared: true }),
      undo: async (host, error) => {
        const rolled = await undoDeploy(host, release.releaseId, error.message, owner)
        if (rolled) host.report.result = 'rolled back'
        return otherHostOutcome(host.report, rolled)
      },
      // Every lock this deploy took, released only now (each only if it is still ours).
      finish: host => releaseLock(host)
    })
  } finally {
    await reporter.addSummary(
      deploySummary(`Deploy ${release.releaseId}`, reports(), release.files)
    )
  }
  return { releaseId: release.releaseId, reports: reports(), url: environmentUrl(context.inputs) }
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
  // Each release's manifest says how compose runs it; this is only for one that does not.
  const settings = hostSettings(context, legacyCompose(context.ref.files))
  let target = context.inputs.releaseId
  const opened: HostContext[] = []
  try {
    await forEachHost({
      ...hostsOf(context, settings, reporter, undefined, opened),
      // The first host picks the release (the one before its live one); the others follow.
      run: async host => {
        target = await rollbackHost(host, target, ownerOf(context))
      }
    })
  } finally {
    await reporter.addSummary(
      deploySummary(
        `Rollback to ${target ?? '?'}`,
        opened.map(h => h.report)
      )
    )
  }
  return {
    releaseId: target as string,
    reports: opened.map(h => h.report),
    url: environmentUrl(context.inputs)
  }
}
