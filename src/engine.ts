import * as path from 'node:path'
import { InputError, type Command, type Inputs } from './inputs.js'
import { loadComposeConfig } from './compose/load.js'
import { planFromConfig, selectServices, UnknownServiceError, type Plan } from './compose/plan.js'
import type { ComposeProjectRef } from './compose/types.js'
import { buildStage } from './build/build.js'
import type { ImageMap } from './build/images.js'
import { smokeStage, type SmokeResult } from './smoke/smoke.js'
import type { Executor } from './exec/executor.js'
import type { Reporter } from './report/reporter.js'
import { renderPlanMarkdown, renderPlanText } from './report/plan-table.js'

export interface EngineResult {
  plan: Plan
  images?: ImageMap
  smoke?: SmokeResult
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
        result.images = await buildStage(ref, plan, selected, executor, reporter)
        reporter.setOutput('images', JSON.stringify(result.images))
        await reporter.addSummary(imagesSummary(result.images))
        break
      }
      case 'smoke': {
        result.smoke = await smokeStage(
          ref,
          plan,
          result.images ?? inputs.images ?? {},
          {
            waitTimeoutSeconds: inputs.waitTimeoutSeconds,
            keep: inputs.keep,
            services: inputs.services
          },
          executor,
          reporter
        )
        await reporter.addSummary(
          `### Smoke test\n\nEvery service of \`${plan.project}\` was healthy or done after ${result.smoke.secondsToReady.toFixed(1)}s.\n`
        )
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

function imagesSummary(images: ImageMap): string {
  const rows = Object.entries(images).map(
    ([service, image]) =>
      `| ${service} | \`${image.ref}\` | ${image.id ? `\`${image.id.slice(0, 19)}\`` : '-'} |`
  )
  return ['### Built images', '', '| Service | Image | ID |', '|---|---|---|', ...rows, ''].join(
    '\n'
  )
}
