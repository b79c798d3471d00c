import type { AnnotationWhere, Reporter } from './reporter.js'

/**
 * The CLI's reporter: progress and diagnostics go to stderr, so that stdout carries only the
 * result (the plan table or JSON) and can be piped.
 */
export class ConsoleReporter implements Reporter {
  readonly outputs: Record<string, string> = {}
  constructor(
    private readonly write: (text: string) => void = text => process.stderr.write(text)
  ) {}

  info(message: string): void {
    this.write(`${message}\n`)
  }
  warning(message: string, where?: AnnotationWhere): void {
    this.write(`warning: ${where?.title ? `${where.title}: ` : ''}${message}\n`)
  }
  error(message: string, where?: AnnotationWhere): void {
    this.write(`error: ${where?.title ? `${where.title}: ` : ''}${message}\n`)
  }
  setOutput(name: string, value: string): void {
    this.outputs[name] = value
  }
  async addSummary(): Promise<void> {
    // The job summary is a runner feature; the terminal already saw the same information.
  }
  setSecret(): void {
    // A terminal has no masking; nothing of ours prints a secret's value anyway.
  }
  saveState(): void {
    // The CLI has no post step: it cleans up in-process (see smokeStage's finally).
  }
  async group<T>(title: string, body: () => Promise<T>): Promise<T> {
    this.write(`==> ${title}\n`)
    return body()
  }
}
