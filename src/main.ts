import * as core from '@actions/core'
import { parseInputs } from './inputs.js'
import { runEngine } from './engine.js'
import { LocalExecutor } from './exec/executor.js'
import { ActionReporter } from './report/action-reporter.js'
import { runTeardown } from './teardown.js'

/** The action's main step: read the inputs, run the engine, and fail the step on any error. */
export async function run(): Promise<void> {
  try {
    core.saveState('isPost', 'true')
    // Masked before anything can print it, even an error about another input.
    const password = core.getInput('registry-password')
    if (password) core.setSecret(password)
    const inputs = parseInputs(name => core.getInput(name))
    await runEngine(inputs, [inputs.command], new LocalExecutor(), new ActionReporter())
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error))
  }
}

/** The post step: runs even when the job was cancelled, and removes what main left behind. */
export async function post(): Promise<void> {
  try {
    await runTeardown(core.getState('smoke-teardown'), new LocalExecutor(), new ActionReporter())
  } catch (error) {
    core.setFailed(`Cleanup failed: ${error instanceof Error ? error.message : String(error)}`)
  }
}
