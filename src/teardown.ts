import * as fs from 'node:fs'
import type { Executor } from './exec/executor.js'
import type { Reporter } from './report/reporter.js'

interface TeardownState {
  cwd: string
  argv: string[]
  dir?: string
}

/** Runs the teardown a stage recorded (as argv data) but could not run itself, e.g. on cancel. */
export async function runTeardown(
  state: string,
  executor: Executor,
  reporter: Reporter
): Promise<boolean> {
  if (!state) return false
  const teardown = JSON.parse(state) as TeardownState
  reporter.info(`Cleaning up after an interrupted run: ${teardown.argv.join(' ')}`)
  const result = await executor.run(teardown.argv, { cwd: teardown.cwd })
  if (result.exitCode !== 0) {
    reporter.warning(`Cleanup command failed (exit ${result.exitCode}): ${result.stderr.trim()}`)
    return false
  }
  if (teardown.dir) fs.rmSync(teardown.dir, { recursive: true, force: true })
  return true
}
