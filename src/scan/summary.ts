/** What the scan stage says: the job summary table, annotations and the one-line gate error. */
import { compareFindings, type Finding, type Verdict } from './gate.js'
import { SEVERITIES, severityRank, type Severity } from './report.js'
import { codeCell, tableCell } from '../report/markdown.js'

export interface ServiceRow {
  service: string
  ref: string
  counts: Record<Severity, number>
  ignored: { ignoreFile: number; unfixed: number }
  blocking: Finding[]
  blockingCounts: Record<Severity, number>
  verdict: Verdict
  exitCode: 0 | 1
}

export interface SummaryContext {
  threshold: readonly Severity[]
  ignoreUnfixed: boolean
  ignoreFile: string | undefined
  /** e.g. "3 rules, 1 expired" */
  ignoreNote?: string
  trivyVersion: string
  /** e.g. "downloaded from mirror.gcr.io/aquasec/trivy-db:2, cached as trivy-db-2026-11-21" */
  dbNote: string
  sarifDir: string
}

export const WORST_COUNT = 5

const VERDICT_ORDER: Record<Verdict, number> = { fail: 0, 'report-only': 1, pass: 2 }

/** Failing services first, then report-only, then passing; within each, the most severe first. */
export function orderRows<T extends ServiceRow>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => {
    const byVerdict = VERDICT_ORDER[a.verdict] - VERDICT_ORDER[b.verdict]
    if (byVerdict !== 0) return byVerdict
    for (const severity of SEVERITIES) {
      const diff = b.counts[severity] - a.counts[severity]
      if (diff !== 0) return diff
    }
    return a.service.localeCompare(b.service)
  })
}

/** The top findings that block (or would block) a service, most severe first. */
export function worstFindings(row: ServiceRow, count = WORST_COUNT): Finding[] {
  return [...row.blocking].sort(compareFindings).slice(0, count)
}

/** "2 CRITICAL, 1 HIGH": the non-zero counts, most severe first. */
export function describeCounts(counts: Record<Severity, number>): string {
  return SEVERITIES.filter(severity => counts[severity] > 0)
    .map(severity => `${counts[severity]} ${severity}`)
    .join(', ')
}

function code(text: string): string {
  return text === '' ? '-' : codeCell(text)
}

function verdictCell(row: ServiceRow): string {
  switch (row.verdict) {
    case 'fail':
      return '❌ fail'
    case 'report-only':
      return '⚠️ report only (exit code 0)'
    default:
      return '✅ pass'
  }
}

/** "libssl3 3.0.11-1 → 3.0.13-1" or "perl-base 5.36.0-7 → no fix yet". */
export function describeFinding(finding: Finding): string {
  return `${finding.id} ${finding.pkg} ${finding.installed || '?'} → ${finding.fixed || 'no fix yet'} (${finding.severity})`
}

export function renderScanSummary(rows: readonly ServiceRow[], context: SummaryContext): string {
  const threshold = new Set(context.threshold)
  const ordered = orderRows(rows)
  const lines = [
    '### Image scan',
    '',
    `| Service | Image | ${SEVERITIES.join(' | ')} | Ignored | Gate |`,
    `|---|---|${SEVERITIES.map(() => '--:').join('|')}|--:|---|`
  ]
  for (const row of ordered) {
    const counts = SEVERITIES.map(severity => {
      const n = row.counts[severity]
      return threshold.has(severity) && n > 0 ? `**${n}**` : String(n)
    })
    const ignored = row.ignored.ignoreFile + row.ignored.unfixed
    lines.push(
      `| ${tableCell(row.service)} | ${code(row.ref)} | ${counts.join(' | ')} | ${ignored} | ${verdictCell(row)} |`
    )
  }
  lines.push('')
  const ignoreFile = context.ignoreFile
    ? `${code(context.ignoreFile)}${context.ignoreNote ? ` (${context.ignoreNote})` : ''}`
    : 'none'
  lines.push(
    `Gate: ${[...context.threshold].sort((a, b) => severityRank(a) - severityRank(b)).join(', ')} · ignore unfixed: ${context.ignoreUnfixed ? 'yes' : 'no'} · ignore file: ${ignoreFile} · Trivy ${context.trivyVersion} · DB ${context.dbNote} · SARIF in ${code(context.sarifDir)}`,
    ''
  )
  for (const row of ordered) {
    if (row.verdict === 'pass') continue
    const worst = worstFindings(row)
    lines.push(
      `#### ${tableCell(row.service)}: worst findings${row.blocking.length > worst.length ? ` (${worst.length} of ${row.blocking.length})` : ''}`,
      '',
      '| Severity | ID | Package | Installed | Fixed | Title |',
      '|---|---|---|---|---|---|'
    )
    for (const f of worst) {
      const id = f.url ? `[${tableCell(f.id)}](${f.url})` : tableCell(f.id)
      lines.push(
        `| ${f.severity} | ${id} | ${tableCell(f.pkg)} | ${code(f.installed)} | ${f.fixed ? code(f.fixed) : 'no fix yet'} | ${tableCell(f.title)} |`
      )
    }
    lines.push('')
  }
  return `${lines.join('\n')}\n`
}

/** The one annotation a failing service gets: its counts and its worst findings. */
export function failureAnnotation(
  row: ServiceRow,
  threshold: readonly Severity[]
): { title: string; message: string } {
  const worst = worstFindings(row)
  const more = row.blocking.length - worst.length
  const message = [
    `${row.service} (${row.ref}) has ${describeCounts(row.blockingCounts)} at or above the threshold ${threshold.join(',')}. Worst findings:`,
    ...worst.map(f => `- ${describeFinding(f)}`),
    ...(more > 0 ? [`- and ${more} more (see the job summary and the SARIF upload)`] : []),
    'Rebuild on a patched base image or upgrade these packages; to accept a risk, list its ID in .trivyignore with an exp: date.'
  ].join('\n')
  const title =
    row.verdict === 'fail'
      ? `Scan gate failed: ${row.service}`
      : `Scan findings (report only): ${row.service}`
  return { title, message }
}

/** `Scan gate failed: api has 2 CRITICAL, 1 HIGH; web has 1 HIGH (threshold CRITICAL,HIGH); ...` */
export function gateFailureMessage(
  rows: readonly ServiceRow[],
  threshold: readonly Severity[]
): string {
  const failing = orderRows(rows.filter(row => row.verdict === 'fail'))
  const parts = failing.map(row => `${row.service} has ${describeCounts(row.blockingCounts)}`)
  return `Scan gate failed: ${parts.join('; ')} (threshold ${threshold.join(',')}); see the job summary`
}
