import { SecretValues } from './redact.js'
import type { AnnotationWhere, Reporter } from './reporter.js'

/**
 * The CLI's reporter: progress and diagnostics go to stderr, so that stdout carries only the
 * result (the plan table or JSON) and can be piped.
 *
 * A terminal, or another CI system's log, masks nothing: every line this reporter writes is
 * redacted by the reporter itself (a migration's output may print a secret).
 */
export class ConsoleReporter implements Reporter {
  readonly outputs: Record<string, string> = {}
  private readonly secrets = new SecretValues()
  constructor(
    private readonly write: (text: string) => void = text => process.stderr.write(text)
  ) {}

  private line(text: string): void {
    this.write(`${this.redact(text)}\n`)
  }
  info(message: string): void {
    this.line(message)
  }
  warning(message: string, where?: AnnotationWhere): void {
    this.line(`warning: ${where?.title ? `${where.title}: ` : ''}${message}`)
  }
  error(message: string, where?: AnnotationWhere): void {
    this.line(`error: ${where?.title ? `${where.title}: ` : ''}${message}`)
  }
  setOutput(name: string, value: string): void {
    this.outputs[name] = value
  }
  async addSummary(): Promise<void> {
    // The job summary is a runner feature; the terminal already saw the same information.
    // (Nothing is written, so there is nothing to redact.)
  }
  setSecret(value: string): void {
    this.secrets.add(value)
  }
  redact(text: string): string {
    return this.secrets.redact(text)
  }
  saveState(): void {
    // The CLI has no post step: it cleans up in-process (see smokeStage's finally).
  }
  async group<T>(title: string, body: () => Promise<T>): Promise<T> {
    this.line(`==> ${title}`)
    return body()
  }
}
