import * as core from '@actions/core'
import * as fs from 'node:fs'
import { AnnotationBudget, fitSummary, type AnnotationLevel } from './limits.js'
import { SecretValues } from './redact.js'
import type { AnnotationWhere, Reporter } from './reporter.js'

/**
 * Sends everything to the GitHub Actions runner through @actions/core, within GitHub's limits
 * (./limits.ts): at most 10 annotations of each level per step, and a summary under 1 MiB.
 *
 * Secrets: the runner masks its log lines, but not the summary file, so addSummary redacts what
 * it writes; log lines and annotations are redacted too, so that they never depend on the
 * runner alone (a self-hosted or look-alike runner may mask less).
 */
export class ActionReporter implements Reporter {
  private readonly budget = new AnnotationBudget()
  private summaryBytes: number | undefined
  private readonly secrets = new SecretValues()

  info(message: string): void {
    core.info(this.redact(message))
  }
  warning(message: string, where?: AnnotationWhere): void {
    this.annotate('warning', message, where)
  }
  error(message: string, where?: AnnotationWhere): void {
    this.annotate('error', message, where)
  }

  private annotate(level: AnnotationLevel, text: string, at?: AnnotationWhere): void {
    const message = this.redact(text)
    const where = at?.title ? { ...at, title: this.redact(at.title) } : at
    if (this.budget.take(level)) {
      if (level === 'error') core.error(message, where)
      else core.warning(message, where)
      return
    }
    // Past GitHub's per-step limit the runner would drop it: keep it in the log instead.
    if (this.budget.overflow(level) === 1)
      core.info(
        `GitHub shows at most 10 ${level} annotations per step; the rest of them are in this log.`
      )
    core.info(`${level.toUpperCase()}: ${where?.title ? `${where.title}: ` : ''}${message}`)
  }

  setOutput(name: string, value: string): void {
    core.setOutput(name, value)
  }
  async addSummary(markdown: string): Promise<void> {
    // A summary that cannot be written (no GITHUB_STEP_SUMMARY, e.g. on an old or self-made
    // runner) must never hide the error that is being reported.
    try {
      this.summaryBytes ??= summaryFileSize()
      // Redacted before it is cut to fit: a cut must never leave part of a secret behind.
      const fitted = fitSummary(this.redact(markdown), this.summaryBytes)
      if (fitted.omittedBytes > 0)
        core.info(
          `The job summary is near GitHub's 1 MiB limit: ${fitted.omittedBytes} bytes of it are only in this log.`
        )
      if (!fitted.text) return
      await core.summary.addRaw(fitted.text, true).write()
      this.summaryBytes += Buffer.byteLength(fitted.text, 'utf8') + 1
    } catch (error) {
      core.warning(`Could not write the job summary: ${(error as Error).message}`)
    }
  }
  setSecret(value: string): void {
    // The runner masks line by line: a multi-line secret (a TLS key) is masked per line.
    for (const line of this.secrets.add(value)) core.setSecret(line)
  }
  redact(text: string): string {
    return this.secrets.redact(text)
  }
  saveState(name: string, value: string): void {
    core.saveState(name, value)
  }
  async group<T>(title: string, body: () => Promise<T>): Promise<T> {
    return core.group(this.redact(title), body)
  }
}

/** What this step's summary file already holds (a step may write it from several places). */
function summaryFileSize(): number {
  const file = process.env.GITHUB_STEP_SUMMARY
  try {
    return file ? fs.statSync(file).size : 0
  } catch {
    return 0
  }
}
