/**
 * The parts of Trivy's JSON report (`--format json`, SchemaVersion 2) that the gate reads.
 * Field names are Trivy's own (pkg/types/report.go, pkg/types/vulnerability.go); every other
 * field of the report is kept in the file on disk and ignored here.
 */

/** Trivy's severities, most severe first (the order Trivy sorts and we render in). */
export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const
export type Severity = (typeof SEVERITIES)[number]

export interface TrivyVulnerability {
  VulnerabilityID: string
  PkgID?: string
  PkgName: string
  /** Set for language packages found in a file (a jar, a package-lock.json...). */
  PkgPath?: string
  PkgIdentifier?: { PURL?: string; UID?: string }
  InstalledVersion?: string
  FixedVersion?: string
  /** fixed, affected, will_not_fix, fix_deferred, end_of_life, under_investigation... */
  Status?: string
  Severity?: string
  Title?: string
  PrimaryURL?: string
}

export interface TrivyResult {
  Target: string
  Class?: string
  Type?: string
  /** Trivy omits the key when a target has no findings. */
  Vulnerabilities?: TrivyVulnerability[] | null
}

export interface TrivyReport {
  SchemaVersion: number
  ArtifactName?: string
  ArtifactType?: string
  Results?: TrivyResult[] | null
}

/** A report that cannot be used: one line naming the service and the file. */
export class ScanReportError extends Error {
  constructor(
    readonly service: string,
    readonly reportPath: string,
    message: string
  ) {
    super(message)
    this.name = 'ScanReportError'
  }
}

/** Parses and shape-checks a Trivy JSON report; errors name the service and the file. */
export function parseTrivyReport(text: string, service: string, reportPath: string): TrivyReport {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0]
    throw new ScanReportError(
      service,
      reportPath,
      `The Trivy report for service "${service}" is not valid JSON: ${reportPath} (${reason}); re-run the scan, and check the runner's free disk space`
    )
  }
  const report = value as Partial<TrivyReport> | null
  if (typeof report !== 'object' || report === null || Array.isArray(report)) {
    throw new ScanReportError(
      service,
      reportPath,
      `The Trivy report for service "${service}" is not a JSON object: ${reportPath}`
    )
  }
  if (report.SchemaVersion !== 2) {
    throw new ScanReportError(
      service,
      reportPath,
      `The Trivy report for service "${service}" has SchemaVersion ${JSON.stringify(report.SchemaVersion)}, expected 2: ${reportPath}; use a Trivy release that writes schema 2 (0.20 or later)`
    )
  }
  if (report.Results != null && !Array.isArray(report.Results)) {
    throw new ScanReportError(
      service,
      reportPath,
      `The Trivy report for service "${service}" has a "Results" that is not a list: ${reportPath}`
    )
  }
  return report as TrivyReport
}

/** Trivy's rule: an empty severity is UNKNOWN; anything unrecognised is UNKNOWN too. */
export function severityOf(vulnerability: TrivyVulnerability): Severity {
  const value = (vulnerability.Severity ?? '').toUpperCase()
  return (SEVERITIES as readonly string[]).includes(value) ? (value as Severity) : 'UNKNOWN'
}

/** 0 for CRITICAL ... 4 for UNKNOWN: sort ascending for most severe first. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity)
}

/** Validates a severity list (the gate threshold), upper-casing it; names the bad value. */
export function parseSeverities(values: readonly string[]): Severity[] {
  const out: Severity[] = []
  for (const raw of values) {
    const value = raw.trim().toUpperCase()
    if (value === '') continue
    if (!(SEVERITIES as readonly string[]).includes(value)) {
      throw new Error(`unknown severity "${raw}"; use any of ${SEVERITIES.join(', ')}`)
    }
    if (!out.includes(value as Severity)) out.push(value as Severity)
  }
  if (out.length === 0) throw new Error(`give at least one of ${SEVERITIES.join(', ')}`)
  return out.sort((a, b) => severityRank(a) - severityRank(b))
}

export function emptyCounts(): Record<Severity, number> {
  return { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 }
}
