import { SecretValues } from './redact.js'

/**
 * Where the engine sends what it has to say. The action sends it to the runner (log commands,
 * GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_STATE); the CLI to the terminal. Stages only ever
 * talk to this interface, so both entry points behave the same.
 */
export interface AnnotationWhere {
  title?: string
  file?: string
  startLine?: number
}

export interface Reporter {
  info(message: string): void
  warning(message: string, where?: AnnotationWhere): void
  error(message: string, where?: AnnotationWhere): void
  setOutput(name: string, value: string): void
  /** Appends Markdown to the job summary. */
  addSummary(markdown: string): Promise<void>
  /** Remembers a value for the post step (cleanup after cancellation). */
  saveState(name: string, value: string): void
  /**
   * A value that must never be shown: the runner masks it in every later log line, and
   * `redact` removes it from everything else. Multi-line values count line by line.
   */
  setSecret(value: string): void
  /**
   * The text with every secret value registered so far replaced by `***`. For what the
   * runner does not mask: the summary (addSummary does it itself), the GitHub API calls, the
   * log bundle, the hosts' audit log.
   */
  redact(text: string): string
  group<T>(title: string, body: () => Promise<T>): Promise<T>
}

/**
 * A reporter that keeps everything in memory: for tests, and for callers that render later.
 * Like the runner with the action's reporter, it shows no secret: what it keeps is redacted.
 */
export class MemoryReporter implements Reporter {
  readonly lines: string[] = []
  readonly warnings: string[] = []
  readonly errors: string[] = []
  readonly outputs: Record<string, string> = {}
  readonly state: Record<string, string> = {}
  summary = ''
  /** The values given to setSecret, as given. */
  readonly secrets: string[] = []
  private readonly secretValues = new SecretValues()

  info(message: string): void {
    this.lines.push(this.redact(message))
  }
  warning(message: string): void {
    this.warnings.push(this.redact(message))
  }
  error(message: string): void {
    this.errors.push(this.redact(message))
  }
  setOutput(name: string, value: string): void {
    this.outputs[name] = value
  }
  async addSummary(markdown: string): Promise<void> {
    this.summary += this.redact(markdown)
  }
  saveState(name: string, value: string): void {
    this.state[name] = value
  }
  setSecret(value: string): void {
    this.secrets.push(value)
    this.secretValues.add(value)
  }
  redact(text: string): string {
    return this.secretValues.redact(text)
  }
  async group<T>(title: string, body: () => Promise<T>): Promise<T> {
    this.lines.push(`== ${this.redact(title)}`)
    return body()
  }
}
