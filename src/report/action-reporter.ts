import * as core from '@actions/core'
import type { AnnotationWhere, Reporter } from './reporter.js'

/** Sends everything to the GitHub Actions runner through @actions/core. */
export class ActionReporter implements Reporter {
  info(message: string): void {
    core.info(message)
  }
  warning(message: string, where?: AnnotationWhere): void {
    core.warning(message, where)
  }
  error(message: string, where?: AnnotationWhere): void {
    core.error(message, where)
  }
  setOutput(name: string, value: string): void {
    core.setOutput(name, value)
  }
  async addSummary(markdown: string): Promise<void> {
    // A summary that cannot be written (no GITHUB_STEP_SUMMARY, e.g. on an old or self-made
    // runner) must never hide the error that is being reported.
    try {
      await core.summary.addRaw(markdown, true).write()
    } catch (error) {
      core.warning(`Could not write the job summary: ${(error as Error).message}`)
    }
  }
  saveState(name: string, value: string): void {
    core.saveState(name, value)
  }
  async group<T>(title: string, body: () => Promise<T>): Promise<T> {
    return core.group(title, body)
  }
}
