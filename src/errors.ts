/**
 * The errors that cross layers, in a leaf module that imports nothing: what went wrong is in
 * their fields, and their messages are rendered from those fields. Nothing downstream reads an
 * error's wording to decide anything.
 */

/** A bad input value. The message always names the input, so the user knows what to fix. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string
  ) {
    super(`Input '${input}': ${message}`)
    this.name = 'InputError'
  }
}

/**
 * What became of the host that failed: the new release never went live; it went live and the
 * previous one was brought back; or it went live (or half-way) and stays so.
 */
export type HostOutcome = 'nothing switched' | 'rolled back' | 'not rolled back'

/** What became of a host that had already deployed when a later one failed. */
export interface OtherHostOutcome {
  host: string
  outcome: 'rolled back' | 'kept the new release' | 'not rolled back'
  /** The release it was rolled back to, or should be rolled back to. */
  release: string | undefined
}

export interface DeployErrorFields {
  task: 'deploy' | 'rollback'
  host: string
  step: string
  /** The cause, as the failing command or check said it. */
  reason: string
  outcome: HostOutcome
  rolledBackTo?: string
  otherHosts?: OtherHostOutcome[]
  /**
   * The backup taken on this host before the failing step (a failed migration may have
   * committed part of its work): the file to restore from.
   */
  backup?: string
}

/** One sentence per other host, for messages. */
export function describeOtherHost(other: OtherHostOutcome): string {
  switch (other.outcome) {
    case 'rolled back':
      return `${other.host} was rolled back to ${other.release}`
    case 'kept the new release':
      return `${other.host} had no release before and keeps the new one`
    case 'not rolled back':
      return `${other.host} could not be rolled back to ${other.release} and runs the new release: roll it back with command: rollback`
  }
}

/**
 * A deploy or rollback that failed on a host. The GitHub status, the summary and the CLI
 * message all come from these fields.
 */
export class DeployError extends Error {
  readonly task: DeployErrorFields['task']
  readonly host: string
  readonly step: string
  readonly reason: string
  readonly outcome: HostOutcome
  readonly rolledBackTo: string | undefined
  readonly otherHosts: OtherHostOutcome[]
  readonly backup: string | undefined

  constructor(fields: DeployErrorFields) {
    super(renderDeployError(fields))
    this.name = 'DeployError'
    this.task = fields.task
    this.host = fields.host
    this.step = fields.step
    this.reason = fields.reason
    this.outcome = fields.outcome
    this.rolledBackTo = fields.rolledBackTo
    this.otherHosts = fields.otherHosts ?? []
    this.backup = fields.backup
  }

  /** The same failure, with what became of the hosts that had already deployed. */
  withOtherHosts(otherHosts: OtherHostOutcome[]): DeployError {
    return new DeployError({ ...this.fields(), otherHosts })
  }

  fields(): DeployErrorFields {
    return {
      task: this.task,
      host: this.host,
      step: this.step,
      reason: this.reason,
      outcome: this.outcome,
      rolledBackTo: this.rolledBackTo,
      otherHosts: this.otherHosts,
      backup: this.backup
    }
  }
}

function renderDeployError(fields: DeployErrorFields): string {
  const head =
    fields.task === 'deploy'
      ? `Deploy to ${fields.host} failed at "${fields.step}": ${fields.reason}`
      : `Rollback on ${fields.host}${/^to /.test(fields.reason) ? ' ' : ': '}${fields.reason}`
  const back =
    fields.task === 'deploy' && fields.outcome === 'rolled back'
      ? `; rolled back to ${fields.rolledBackTo}, which is serving`
      : ''
  // A migration that failed may have committed part of its work: say where the data is.
  const backup =
    fields.backup && fields.step === 'migrate'
      ? `. The database was backed up before the migration: restore from ${fields.backup} if it committed part of its work`
      : ''
  const others = (fields.otherHosts ?? []).map(describeOtherHost)
  return `${head}${back}${backup}${others.length > 0 ? `. ${others.join('; ')}` : ''}`
}
