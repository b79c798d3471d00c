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
  /** A value that must never be shown (the runner masks it in every later log line). */
  setSecret(value: string): void
  group<T>(title: string, body: () => Promise<T>): Promise<T>
}

/** A reporter that keeps everything in memory: for tests, and for callers that render later. */
export class MemoryReporter implements Reporter {
  readonly lines: string[] = []
  readonly warnings: string[] = []
  readonly errors: string[] = []
  readonly outputs: Record<string, string> = {}
  readonly state: Record<string, string> = {}
  summary = ''

  info(message: string): void {
    this.lines.push(message)
  }
  warning(message: string): void {
    this.warnings.push(message)
  }
  error(message: string): void {
    this.errors.push(message)
  }
  setOutput(name: string, value: string): void {
    this.outputs[name] = value
  }
  async addSummary(markdown: string): Promise<void> {
    this.summary += markdown
  }
  saveState(name: string, value: string): void {
    this.state[name] = value
  }
  readonly secrets: string[] = []
  setSecret(value: string): void {
    this.secrets.push(value)
  }
  async group<T>(title: string, body: () => Promise<T>): Promise<T> {
    this.lines.push(`== ${title}`)
    return body()
  }
}
