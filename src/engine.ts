import * as os from 'node:os'
import * as path from 'node:path'
import { InputError } from './errors.js'
import { isHostCommand, type Command, type DeployInputs, type Inputs } from './inputs.js'
import { loadComposeModels, loadProjectFiles, loadSecretFiles } from './compose/load.js'
import { planFromConfig, selectServices, UnknownServiceError, type Plan } from './compose/plan.js'
import type { ComposeConfig, ComposeProjectRef } from './compose/types.js'
import type { ProjectFiles } from './compose/project-files.js'
import { buildStage, buildSummary } from './build/build.js'
import {
  gitContextFromGithub,
  gitContextFromLocal,
  isGithubActions,
  type GitContext
} from './build/git-context.js'
import type { ImageMap } from './build/images.js'
import { smokeStage, smokeSummary, type SmokeResult } from './smoke/smoke.js'
import { ProbeSpecError } from './smoke/probes.js'
import type { ScanResult } from './scan/scan.js'
import type { Executor } from './exec/executor.js'
import type { Reporter } from './report/reporter.js'
import { renderPlanMarkdown, renderPlanText } from './report/plan-table.js'
import {
  COMMENT_STAGES,
  buildRowDetail,
  failureRowDetail,
  scanRowDetail,
  smokeRowDetail,
  type CommentStage
} from './report/github-comment.js'
import { endpointLabel } from './exec/ssh.js'
import type { GithubIntegration } from './report/github.js'
import type { PendingConnections } from './deploy/hosts.js'
import type { HostReleases } from './ops/releases.js'

export interface EngineResult {
  plan: Plan
  images?: ImageMap
  smoke?: SmokeResult
  scan?: ScanResult
  deploy?: { releaseId: string; url: string | undefined }
  releases?: HostReleases[]
}

/** The URL of this workflow run's page, when running on GitHub Actions. */
function runUrlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  return env.GITHUB_RUN_ID && env.GITHUB_REPOSITORY
    ? `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
    : undefined
}

/** Who and what a release records: the sha, the actor and the run's URL. */
function runIdentity(sha: string): { sha: string; actor: string; runUrl: string | undefined } {
  const env = process.env
  return {
    sha,
    actor: env.GITHUB_ACTOR ?? `${env.USER ?? 'someone'}@${os.hostname()}`,
    runUrl: runUrlFromEnv(env)
  }
}

/** What `stack-deploy` with no command does: plan, build and smoke-test the stack. */
export const DEFAULT_PIPELINE: readonly Command[] = ['plan', 'build', 'smoke']

export function projectRef(inputs: Inputs, cwd: string = process.cwd()): ComposeProjectRef {
  return {
    workingDirectory: path.resolve(cwd, inputs.workingDirectory),
    files: inputs.composeFiles,
    projectName: inputs.projectName,
    profiles: inputs.profiles
  }
}

/** What every stage runs with: the project, the inputs, and what earlier stages produced. */
interface StageContext {
  inputs: Inputs
  ref: ComposeProjectRef
  /** compose's resolved model, which the plan was made from. */
  config: ComposeConfig
  /** What a release of the project carries; read once, for smoke and deploy alike. */
  projectFiles?: Promise<ProjectFiles>
  /** compose's as-written model, read with the resolved one when a stage needs projectFiles. */
  asWritten: Promise<ComposeConfig | undefined> | undefined
  plan: Plan
  selected: ReturnType<typeof selectServices>
  executor: Executor
  reporter: Reporter
  result: EngineResult
  /** git's answer, started before the compose model was read; settled, so never unhandled. */
  pendingGit: Promise<PendingGit> | undefined
  github: GithubIntegration | undefined
  /** The hosts' connections, started with the run when it is a deploy or a rollback. */
  connections: PendingConnections | undefined
}

type PendingGit =
  { value: { git: GitContext; commitTime: string | undefined } } | { error: unknown }

async function gitOf(
  context: StageContext
): Promise<{ git: GitContext; commitTime: string | undefined }> {
  const settled = await (context.pendingGit as Promise<PendingGit>)
  if ('error' in settled) throw settled.error
  return settled.value
}

/** What the engine reaches besides its executor and reporter; unit tests give their own. */
export interface EngineDeps {
  /** Starts connecting to the deploy hosts (deploy/stage.ts startConnections). */
  startConnections(inputs: DeployInputs, reporter: Reporter): Promise<PendingConnections>
}

const DEFAULT_DEPS: EngineDeps = {
  // Loaded on demand, as the deploy stage itself: other commands do not pay for it.
  startConnections: async (inputs, reporter) =>
    (await import('./deploy/stage.js')).startConnections(inputs, reporter)
}

/**
 * Runs the given stages in order on one compose project. Both entry points (the action and
 * the CLI) call this and nothing else.
 */
export async function runEngine(
  inputs: Inputs,
  stages: readonly Command[],
  executor: Executor,
  reporter: Reporter,
  deps: EngineDeps = DEFAULT_DEPS
): Promise<EngineResult> {
  // A deploy or rollback spends its first second or so reaching the hosts (the key, the host
  // keys, the ssh handshake), which needs nothing from the project: connect while git and
  // compose read it, so that the hosts are there when the project is. Only when the run
  // starts with it: after a build, the connections would sit idle through the build.
  const connections =
    stages[0] !== undefined && isHostCommand(stages[0])
      ? await deps.startConnections(inputs.deploy, reporter)
      : undefined
  try {
    return await runStages(inputs, stages, executor, reporter, connections)
  } finally {
    // The connections the stage did not take (it failed before connecting, or never ran: the
    // project could not be read) are closed; their own errors are dropped, so that the error
    // the run stops with is the one that stopped it. A connection the stage took is its own.
    await connections?.dispose()
  }
}

async function runStages(
  inputs: Inputs,
  stages: readonly Command[],
  executor: Executor,
  reporter: Reporter,
  connections: PendingConnections | undefined
): Promise<EngineResult> {
  const ref = projectRef(inputs)
  // The git context does not depend on the compose model: ask git while compose works.
  const pendingGit = stages.some(stage => ['build', 'deploy', 'rollback'].includes(stage))
    ? buildGitContext(executor, ref.workingDirectory).then(
        (value): PendingGit => ({ value }),
        (error: unknown): PendingGit => ({ error })
      )
    : undefined
  // The as-written model is for projectFiles (smoke, deploy): read along with the resolved one.
  const models = loadComposeModels(ref, executor, {
    asWritten: stages.some(stage => stage === 'smoke' || stage === 'deploy')
  })
  const config = await models.config
  const plan = planFromConfig(config)
  let selected
  try {
    selected = selectServices(plan, inputs.services)
  } catch (error) {
    if (error instanceof UnknownServiceError) throw new InputError('services', error.message)
    throw error
  }
  // Loaded only with a token: without one, nothing may call GitHub, and the API client (with
  // its HTTP stack) would only slow down the start of every step.
  const github = inputs.github.token
    ? (await import('./report/github.js')).GithubIntegration.open(
        inputs.github.token,
        runUrlFromEnv(process.env),
        reporter
      )
    : undefined
  const context: StageContext = {
    inputs,
    ref,
    config,
    plan,
    selected,
    executor,
    reporter,
    result: { plan },
    pendingGit,
    github,
    asWritten: models.asWritten,
    connections
  }
  const commentOn = (stage: Command): stage is CommentStage =>
    github !== undefined &&
    inputs.github.prComment &&
    (COMMENT_STAGES as readonly string[]).includes(stage)
  // The commit a row is about, when the event payload does not name the pull request's head.
  const commentSha = async (): Promise<string> => {
    const settled = await pendingGit
    return settled && 'value' in settled ? settled.value.git.sha : ''
  }

  for (const stage of stages) {
    // The stage's own row for the pull request comment, from the stages that have one.
    let commentDetail: string | undefined
    try {
      commentDetail = await STAGES[stage](context, stage)
    } catch (error) {
      // A failed stage updates its row too, before the step fails.
      if (commentOn(stage))
        await github?.commentRow(
          plan.project,
          { stage, ok: false, detail: failureRowDetail(stage, error) },
          await commentSha()
        )
      throw error
    }
    if (commentOn(stage) && commentDetail !== undefined)
      await github?.commentRow(
        plan.project,
        { stage, ok: true, detail: commentDetail },
        await commentSha()
      )
  }
  return context.result
}

/** Each stage: runs, sets its outputs and summary, and returns its PR comment row's detail. */
const STAGES: Record<
  Command,
  (context: StageContext, stage: Command) => Promise<string | undefined>
> = {
  plan: runPlan,
  build: runBuild,
  scan: runScan,
  smoke: runSmoke,
  deploy: runDeployOrRollback,
  rollback: runDeployOrRollback,
  releases: runReleases
}

/** `command: releases`: read-only, over the same pinned connections as a deploy. */
async function runReleases(context: StageContext): Promise<undefined> {
  const { inputs, ref, plan, reporter, result } = context
  const [{ releasesStage }, { releasesMarkdown }] = await Promise.all([
    import('./ops/stage.js'),
    import('./ops/releases.js')
  ])
  const hosts = await releasesStage(
    {
      ref,
      plan,
      inputs: inputs.deploy,
      waitTimeoutSeconds: inputs.waitTimeoutSeconds,
      connections: context.connections,
      ...runIdentity('')
    },
    reporter
  )
  for (const host of hosts)
    reporter.info(`[${host.host}] ${host.releases.length} release(s); live: ${host.live ?? 'none'}`)
  reporter.setOutput('releases', JSON.stringify(hosts))
  await reporter.addSummary(releasesMarkdown(hosts))
  result.releases = hosts
}

async function runPlan({ plan, ref, reporter }: StageContext): Promise<undefined> {
  reporter.info(renderPlanText(plan, ref.workingDirectory))
  reporter.setOutput('plan', JSON.stringify(plan))
  await reporter.addSummary(renderPlanMarkdown(plan, ref.workingDirectory))
}

async function runBuild(context: StageContext): Promise<string> {
  const { inputs, ref, plan, executor, reporter, result } = context
  const { git, commitTime } = await gitOf(context)
  const built = await buildStage(
    {
      ref,
      plan,
      services: context.selected,
      inputs: inputs.build,
      git,
      commitTime,
      env: process.env
    },
    executor,
    reporter
  )
  result.images = built.images
  reporter.setOutput('images', JSON.stringify(result.images))
  await reporter.addSummary(buildSummary(built.reports))
  return buildRowDetail(built.reports)
}

async function runScan(context: StageContext): Promise<string> {
  const { inputs, ref, executor, reporter, result } = context
  // Loaded on demand: the scan stage brings @actions/cache and its storage SDK, which
  // would add a few hundred milliseconds to the start of every other command.
  const { defaultScanDeps, scanStage, ScanOptionError, targetsFromImages, targetsFromRefs } =
    await import('./scan/scan.js')
  const images = result.images ?? inputs.images
  const targets =
    images !== undefined
      ? targetsFromImages(images, inputs.services)
      : targetsFromRefs(inputs.scan.imageRefs)
  const workingDirectory = ref.workingDirectory
  result.scan = await scanStage(
    targets,
    {
      severities: inputs.scan.severities,
      ignoreUnfixed: inputs.scan.ignoreUnfixed,
      ignoreFile: inputs.scan.ignoreFile && path.resolve(workingDirectory, inputs.scan.ignoreFile),
      exitCodes: inputs.scan.exitCodes,
      parallel: inputs.scan.parallel,
      trivyVersion: inputs.scan.trivyVersion,
      dbRepositories: inputs.scan.dbRepositories,
      sarifDir: path.resolve(workingDirectory, inputs.scan.sarifDir),
      workingDirectory
    },
    defaultScanDeps(executor, reporter)
  ).catch((error: unknown) => {
    // Scan settings are named after their inputs; say so the way every input error does.
    if (error instanceof ScanOptionError)
      throw new InputError(error.option, error.message.replace(/^Scan option '[^']+': /, ''))
    throw error
  })
  return scanRowDetail(result.scan)
}

function projectFilesOf(context: StageContext): Promise<ProjectFiles> {
  context.projectFiles ??= loadProjectFiles(
    context.ref,
    context.executor,
    context.config,
    context.inputs.pathRules,
    context.asWritten
  )
  return context.projectFiles
}

async function runSmoke(context: StageContext): Promise<string> {
  const { inputs, ref, plan, executor, reporter, result } = context
  // The same files, refusals and secrets as a deploy of this project.
  const files = await projectFilesOf(context)
  const secretFiles = loadSecretFiles(files, inputs.secretFiles)
  for (const secret of secretFiles) reporter.setSecret(secret.content)
  try {
    result.smoke = await smokeStage(
      ref,
      plan,
      result.images ?? inputs.images ?? {},
      {
        waitTimeoutSeconds: inputs.waitTimeoutSeconds,
        ports: inputs.ports,
        keep: inputs.keep,
        services: inputs.services,
        probes: inputs.probes,
        testCommand: inputs.testCommand,
        logDir: path.resolve(ref.workingDirectory, inputs.logDir),
        secrets: [
          ...(inputs.build.registryPassword ? [inputs.build.registryPassword] : []),
          ...secretFiles.map(secret => secret.content)
        ],
        files: { files, secrets: secretFiles }
      },
      executor,
      reporter
    )
  } catch (error) {
    if (error instanceof ProbeSpecError) throw new InputError('probes', error.message)
    throw error
  }
  reporter.setOutput('smoke', JSON.stringify(result.smoke))
  await reporter.addSummary(smokeSummary(result.smoke))
  return smokeRowDetail(result.smoke)
}

async function runDeployOrRollback(context: StageContext, stage: Command): Promise<undefined> {
  const { inputs, ref, plan, reporter, result } = context
  const who = runIdentity((await gitOf(context)).git.sha)
  const registry =
    inputs.build.registry &&
    inputs.build.registryUsername &&
    inputs.build.registryPassword !== undefined
      ? {
          host: inputs.build.registry,
          username: inputs.build.registryUsername,
          password: inputs.build.registryPassword
        }
      : undefined
  const [{ deployStage, rollbackStage }, { releaseId }] = await Promise.all([
    import('./deploy/stage.js'),
    import('./deploy/release.js')
  ])
  // What the release carries, and every refusal about it, before anything is recorded.
  const files = stage === 'deploy' ? await projectFilesOf(context) : undefined
  // The deploy's clock is fixed here, so that the deployment recorded on GitHub names
  // the same release id as the hosts get.
  const now = new Date()
  const hosts = inputs.deploy.hosts.map(endpointLabel)
  const recorder = context.github?.deployment({
    task: stage === 'deploy' ? 'deploy' : 'deploy:rollback',
    ref: who.sha,
    environment: inputs.github.environment as string,
    project: plan.project,
    release: stage === 'deploy' ? releaseId(now, who.sha) : (inputs.deploy.releaseId ?? 'previous'),
    hosts
  })
  await recorder?.start()
  let outcome
  try {
    outcome =
      stage === 'deploy'
        ? await deployStage(
            {
              ref,
              plan,
              files: files as ProjectFiles,
              secretFiles: inputs.secretFiles,
              images: result.images ?? inputs.images ?? {},
              inputs: inputs.deploy,
              registry,
              waitTimeoutSeconds: inputs.waitTimeoutSeconds,
              ...who,
              connections: context.connections
            },
            reporter,
            now
          )
        : await rollbackStage(
            {
              ref,
              plan,
              inputs: inputs.deploy,
              waitTimeoutSeconds: inputs.waitTimeoutSeconds,
              ...who,
              connections: context.connections
            },
            reporter
          )
  } catch (error) {
    // Sent before the step fails: GitHub must not show a deployment in progress forever.
    await recorder?.fail(error)
    throw error
  }
  if (recorder) {
    await recorder.succeed(
      inputs.github.environmentUrl ?? outcome.url,
      stage === 'deploy'
        ? `Deployed ${outcome.releaseId} to ${hosts.length === 1 ? hosts[0] : `${hosts.length} hosts`}`
        : `Rolled back to ${outcome.releaseId} on ${hosts.length === 1 ? hosts[0] : `${hosts.length} hosts`}`
    )
  }
  reporter.setOutput('release-id', outcome.releaseId)
  if (outcome.url) reporter.setOutput('url', outcome.url)
  if (stage === 'deploy') {
    const digests: Record<string, string> = {}
    for (const [service, built] of Object.entries(result.images ?? inputs.images ?? {}))
      digests[service] = built.ref
    reporter.setOutput('digests', JSON.stringify(digests))
  }
  result.deploy = outcome
}

/** The git context and the commit's time (ISO 8601, for the OCI `created` label). */
async function buildGitContext(
  executor: Executor,
  cwd: string
): Promise<{ git: GitContext; commitTime: string | undefined }> {
  const git = isGithubActions(process.env)
    ? gitContextFromGithub(process.env)
    : await gitContextFromLocal(executor, cwd)
  if (!git.sha) return { git, commitTime: undefined }
  try {
    const result = await executor.run(['git', 'show', '-s', '--format=%cI', git.sha], { cwd })
    return {
      git,
      commitTime: result.exitCode === 0 && result.stdout.trim() ? result.stdout.trim() : undefined
    }
  } catch {
    return { git, commitTime: undefined }
  }
}
