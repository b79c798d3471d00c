import * as core from '@actions/core'
import { parseInputs, registerInputSecrets } from './inputs.js'
import { runEngine } from './engine.js'
import { LocalExecutor } from './exec/executor.js'
import { ActionReporter } from './report/action-reporter.js'
import { runTeardown } from './teardown.js'

/** The action's main step: read the inputs, run the engine, and fail the step on any error. */
export async function run(): Promise<void> {
  const reporter = new ActionReporter()
  try {
    core.saveState('isPost', 'true')
    // Registered before anything can print them, even an error about another input.
    registerInputSecrets(name => core.getInput(name), reporter)
    const inputs = parseInputs(name => core.getInput(name))
    await runEngine(inputs, [inputs.command], new LocalExecutor(), reporter)
  } catch (error) {
    core.setFailed(reporter.redact(error instanceof Error ? error.message : String(error)))
  }
}

/** The post step: runs even when the job was cancelled, and removes what main left behind. */
export async function post(): Promise<void> {
  try {
    await runTeardown(core.getState('smoke-teardown'), new LocalExecutor(), new ActionReporter())
    const { readPostState, releaseAfterCancel } = await import('./deploy/post.js')
    const state = readPostState(name => core.getState(name))
    if (state.connections.length > 0 || state.locks.length > 0) {
      // A cancelled deploy: release its locks, close its SSH connections, remove the key.
      await releaseAfterCancel(state.locks, state.connections, new ActionReporter())
    }
  } catch (error) {
    core.setFailed(`Cleanup failed: ${error instanceof Error ? error.message : String(error)}`)
  }
}
