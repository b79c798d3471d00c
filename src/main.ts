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
    const token = core.getInput('github-token').trim()
    if (token) core.setSecret(token)
    // A key is masked line by line: the runner matches masks within single lines.
    for (const line of core.getInput('ssh-key').split(/\r?\n/))
      if (line.trim().length > 8) core.setSecret(line.trim())
    for (const line of core.getInput('secrets').split(/\r?\n/)) {
      const value = line
        .slice(line.indexOf('=') + 1)
        .trim()
        .replace(/^(['"])(.*)\1$/, '$2')
      if (line.includes('=') && value) core.setSecret(value)
    }
    // secret-files: every line but the NAME<<DELIMITER and delimiter lines is a value's.
    for (const line of core.getInput('secret-files').split(/\r?\n/)) {
      const value = /^\s*[^=<\s]+=(.*)$/.exec(line)?.[1] ?? line
      if (value.trim().length >= 4 && !/^\s*[^=<\s]+<<\S+\s*$/.test(line))
        core.setSecret(value.trim())
    }
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
    const ssh = core.getState('ssh')
    const locks = core.getState('deploy-locks')
    if (ssh || locks) {
      // A cancelled deploy: release its locks, close its SSH connections, remove the key.
      const { releaseAfterCancel } = await import('./deploy/post.js')
      await releaseAfterCancel(
        locks ? JSON.parse(locks) : [],
        ssh ? JSON.parse(ssh) : [],
        new ActionReporter()
      )
    }
  } catch (error) {
    core.setFailed(`Cleanup failed: ${error instanceof Error ? error.message : String(error)}`)
  }
}
