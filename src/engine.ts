import * as os from 'node:os'
import * as path from 'node:path'
import { InputError, type Command, type Inputs } from './inputs.js'
import { loadComposeConfig } from './compose/load.js'
import { planFromConfig, selectServices, UnknownServiceError, type Plan } from './compose/plan.js'
import type { ComposeProjectRef } from './compose/types.js'
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

export interface EngineResult {
  plan: Plan
  images?: ImageMap
  smoke?: SmokeResult
  scan?: ScanResult
  deploy?: { releaseId: string; url: string | undefined }
}

/** Who and what a release records: the sha, the actor and the run's URL. */
function runIdentity(sha: string): { sha: string; actor: string; runUrl: string | undefined } {
  const env = process.env
  const runUrl =
    env.GITHUB_RUN_ID && env.GITHUB_REPOSITORY
      ? `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined
  return { sha, actor: env.GITHUB_ACTOR ?? `${env.USER ?? 'someone'}@${os.hostname()}`, runUrl }
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

/** Reads the compose project and resolves the `services` input against it. */
export async function loadPlan(ref: ComposeProjectRef, executor: Executor): Promise<Plan> {
  const config = await loadComposeConfig(ref, executor)
  return planFromConfig(config)
}

/**
 * Runs the given stages in order on one compose project. Both entry points (the action and
 * the CLI) call this and nothing else.
 */
export async function runEngine(
  inputs: Inputs,
  stages: readonly Command[],
  executor: Executor,
  reporter: Reporter
): Promise<EngineResult> {
  const ref = projectRef(inputs)
  // The git context does not depend on the compose model: ask git while compose works.
  // Settled into a value so that it can never become an unhandled rejection.
  const pendingGit = stages.some(stage => ['build', 'deploy', 'rollback'].includes(stage))
    ? buildGitContext(executor, ref.workingDirectory).then(
        value => ({ value }),
        (error: unknown) => ({ error })
      )
    : undefined
  const plan = await loadPlan(ref, executor)
  let selected
  try {
    selected = selectServices(plan, inputs.services)
  } catch (error) {
    if (error instanceof UnknownServiceError) throw new InputError('services', error.message)
    throw error
  }
  const result: EngineResult = { plan }

  for (const stage of stages) {
    switch (stage) {
      case 'plan':
        reporter.info(renderPlanText(plan, ref.workingDirectory))
        reporter.setOutput('plan', JSON.stringify(plan))
        await reporter.addSummary(renderPlanMarkdown(plan, ref.workingDirectory))
        break
      case 'build': {
        const settled = await (pendingGit as NonNullable<typeof pendingGit>)
        if ('error' in settled) throw settled.error
        const { git, commitTime } = settled.value
        const built = await buildStage(
          {
            ref,
            plan,
            services: selected,
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
        break
      }
      case 'scan': {
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
            ignoreFile:
              inputs.scan.ignoreFile && path.resolve(workingDirectory, inputs.scan.ignoreFile),
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
        break
      }
      case 'smoke': {
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
              secrets: inputs.build.registryPassword ? [inputs.build.registryPassword] : []
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
        break
      }
      case 'deploy':
      case 'rollback': {
        const settled = await (pendingGit as NonNullable<typeof pendingGit>)
        if ('error' in settled) throw settled.error
        const who = runIdentity(settled.value.git.sha)
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
        const { deployStage, rollbackStage } = await import('./deploy/stage.js')
        const outcome =
          stage === 'deploy'
            ? await deployStage(
                {
                  ref,
                  plan,
                  images: result.images ?? inputs.images ?? {},
                  inputs: inputs.deploy,
                  registry,
                  waitTimeoutSeconds: inputs.waitTimeoutSeconds,
                  ...who
                },
                reporter
              )
            : await rollbackStage(
                {
                  ref,
                  plan,
                  inputs: inputs.deploy,
                  waitTimeoutSeconds: inputs.waitTimeoutSeconds,
                  ...who
                },
                reporter
              )
        reporter.setOutput('release-id', outcome.releaseId)
        if (outcome.url) reporter.setOutput('url', outcome.url)
        if (stage === 'deploy') {
          const digests: Record<string, string> = {}
          for (const [service, built] of Object.entries(result.images ?? inputs.images ?? {}))
            digests[service] = built.ref
          reporter.setOutput('digests', JSON.stringify(digests))
        }
        result.deploy = outcome
        break
      }
      default:
        throw new InputError(
          'command',
          `"${stage}" is not available in this version of stack-deploy yet`
        )
    }
  }
  return result
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
