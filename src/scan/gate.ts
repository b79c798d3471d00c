/**
 * The gate: pass or fail per service, computed by our own code from Trivy's full JSON report.
 * Trivy itself always runs with `--exit-code 0` and every severity, so that the report is
 * complete and Trivy never decides the gate.
 */
import { matchIgnoreRule, type IgnoreRule } from './ignore.js'
import {
  emptyCounts,
  severityOf,
  severityRank,
  type Severity,
  type TrivyReport,
  type TrivyVulnerability
} from './report.js'

export interface GatePolicy {
  /** The threshold: findings of these severities fail the gate. */
  severities: readonly Severity[]
  /** Skip findings that have no fix yet. */
  ignoreUnfixed: boolean
  /** Ignore rules in force (expired ones already removed). */
  rules: readonly IgnoreRule[]
  /** 1: blocking findings fail the gate; 0: report them, never fail. */
  exitCode: 0 | 1
}

export interface Finding {
  id: string
  pkg: string
  installed: string
  /** Empty when there is no fixed version. */
  fixed: string
  severity: Severity
  title: string
  url: string
  target: string
}

export type Verdict = 'pass' | 'fail' | 'report-only'

export interface GateEvaluation {
  /** Findings that count (after the ignore file and ignore-unfixed), per severity. */
  counts: Record<Severity, number>
  ignored: { ignoreFile: number; unfixed: number }
  /** Counted findings whose severity is in the threshold, most severe first. */
  blocking: Finding[]
  /** Blocking findings per severity (zero for severities outside the threshold). */
  blockingCounts: Record<Severity, number>
  verdict: Verdict
}

/**
 * Unfixed, as `--ignore-unfixed` means it: Trivy drops every status but "fixed"; a finding with
 * no status (older reports, some language packages) is unfixed when it has no FixedVersion.
 */
export function isUnfixed(vulnerability: TrivyVulnerability): boolean {
  if (!vulnerability.FixedVersion) return true
  const status = vulnerability.Status ?? ''
  return status !== '' && status !== 'fixed'
}

function toFinding(vulnerability: TrivyVulnerability, target: string): Finding {
  return {
    id: vulnerability.VulnerabilityID,
    pkg: vulnerability.PkgName,
    installed: vulnerability.InstalledVersion ?? '',
    fixed: vulnerability.FixedVersion ?? '',
    severity: severityOf(vulnerability),
    title: vulnerability.Title ?? '',
    url: vulnerability.PrimaryURL ?? '',
    target
  }
}

/** Most severe first; then findings with a fix first (actionable); then by ID and package. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    severityRank(a.severity) - severityRank(b.severity) ||
    Number(a.fixed === '') - Number(b.fixed === '') ||
    a.id.localeCompare(b.id) ||
    a.pkg.localeCompare(b.pkg) ||
    a.installed.localeCompare(b.installed)
  )
}

export function evaluateGate(report: TrivyReport, policy: GatePolicy): GateEvaluation {
  const counts = emptyCounts()
  const blockingCounts = emptyCounts()
  const ignored = { ignoreFile: 0, unfixed: 0 }
  const blocking: Finding[] = []
  const seen = new Set<string>()
  for (const result of report.Results ?? []) {
    for (const vulnerability of result.Vulnerabilities ?? []) {
      // One finding per ID, package, version and location, as Trivy de-duplicates them.
      const key = [
        result.Target,
        vulnerability.VulnerabilityID,
        vulnerability.PkgID ?? '',
        vulnerability.PkgName,
        vulnerability.InstalledVersion ?? '',
        vulnerability.PkgPath ?? ''
      ].join('\u0000')
      if (seen.has(key)) continue
      seen.add(key)
      if (policy.ignoreUnfixed && isUnfixed(vulnerability)) {
        ignored.unfixed++
        continue
      }
      if (matchIgnoreRule(policy.rules, vulnerability, result.Target)) {
        ignored.ignoreFile++
        continue
      }
      const finding = toFinding(vulnerability, result.Target)
      counts[finding.severity]++
      if (policy.severities.includes(finding.severity)) {
        blockingCounts[finding.severity]++
        blocking.push(finding)
      }
    }
  }
  blocking.sort(compareFindings)
  const verdict: Verdict =
    blocking.length === 0 ? 'pass' : policy.exitCode === 1 ? 'fail' : 'report-only'
  return { counts, ignored, blocking, blockingCounts, verdict }
}

/** The exit-code behaviour of one service: its own setting, or the default. */
export function exitCodeFor(
  service: string,
  exitCodes: { default: 0 | 1; perService: Record<string, 0 | 1> }
): 0 | 1 {
  return Object.prototype.hasOwnProperty.call(exitCodes.perService, service)
    ? (exitCodes.perService[service] as 0 | 1)
    : exitCodes.default
}
