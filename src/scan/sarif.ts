/**
 * One SARIF file per service, each with its own code scanning category.
 *
 * GitHub tells analyses apart by tool name plus `runs[].automationDetails.id`; the category is
 * that id up to its last `/`. github/codeql-action's upload-sarif sets the id to
 * `<category>/` only when a run has none (upload-lib.ts, populateRunAutomationDetails), so a
 * folder of Trivy SARIF files uploads as separate analyses only when we stamp each run first.
 */

export const CATEGORY_PREFIX = 'stack-deploy'

export interface SarifLog {
  version: string
  $schema?: string
  runs: SarifRun[]
}

export interface SarifRun {
  tool: { driver: { name: string; [key: string]: unknown } }
  automationDetails?: { id?: string; [key: string]: unknown }
  results?: unknown[]
  [key: string]: unknown
}

/** `stack-deploy/<service>`: the category code scanning shows for this service's alerts. */
export function sarifCategory(service: string): string {
  return `${CATEGORY_PREFIX}/${service}`
}

/** The automation id: the category and a final `/`, as upload-sarif would write it. */
export function automationId(service: string): string {
  return `${sarifCategory(service)}/`
}

export class SarifError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SarifError'
  }
}

/** Checks the shape code scanning needs (SARIF 2.1.0, runs with a tool driver). */
export function parseSarif(text: string, what: string): SarifLog {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new SarifError(`${what} is not valid JSON (${(error as Error).message.split('\n')[0]})`)
  }
  const log = value as Partial<SarifLog> | null
  if (typeof log !== 'object' || log === null || log.version !== '2.1.0') {
    throw new SarifError(`${what} is not SARIF 2.1.0`)
  }
  if (
    !Array.isArray(log.runs) ||
    log.runs.some(run => typeof run?.tool?.driver?.name !== 'string')
  ) {
    throw new SarifError(`${what} has no runs with a tool driver name`)
  }
  return log as SarifLog
}

/** Returns a copy of `log` whose every run carries the service's category. */
export function stampSarifCategory(log: SarifLog, service: string): SarifLog {
  return {
    ...log,
    runs: log.runs.map(run => ({
      ...run,
      automationDetails: { ...(run.automationDetails ?? {}), id: automationId(service) }
    }))
  }
}

/** A file name for the service: compose names are [a-zA-Z0-9._-], but stay safe anyway. */
export function serviceFileName(service: string): string {
  return service.replace(/[^A-Za-z0-9._-]/g, '_')
}
