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
    await core.summary.addRaw(markdown, true).write()
  }
  saveState(name: string, value: string): void {
    core.saveState(name, value)
  }
  async group<T>(title: string, body: () => Promise<T>): Promise<T> {
    return core.group(title, body)
  }
}
