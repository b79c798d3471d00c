/**
 * The deploy and rollback job summary: per host, each step with its duration, the backup, the
 * files shipped, the migration output (redacted like everything else the reporter writes) and
 * the result. The pipeline records these facts; this module alone renders them.
 */
import type { ProjectFiles } from '../compose/project-files.js'
import { tableCell } from './markdown.js'

export interface StepRecord {
  step: string
  seconds: number
  ok: boolean
  detail: string
}

/** What happened on one host. */
export interface HostReport {
  host: string
  result: 'deployed' | 'failed' | 'rolled back' | 'not started'
  steps: StepRecord[]
  backup: { service: string; file: string; bytes: number } | undefined
  migrationOutput: string
  /** The release that was live before this run. */
  previous: string | undefined
  /** The upload: files sent and files hard-linked from the live release. */
  files?: { sent: number; linked: number; bytesSent: number }
}

/** A host whose run never started: it could not be reached, or failed before its pipeline. */
export function notStartedReport(host: string, step: string, error: Error): HostReport {
  return {
    host,
    result: 'not started',
    steps: [{ step, seconds: 0, ok: false, detail: error.message.split('\n')[0] ?? '' }],
    backup: undefined,
    migrationOutput: '',
    previous: undefined
  }
}

/** The job summary of a deploy (or a rollback: `title` says which). */
export function deploySummary(title: string, reports: HostReport[], files?: ProjectFiles): string {
  const blocks = reports.map(report => {
    const rows = report.steps.map(
      s => `| ${s.ok ? '✅' : '❌'} ${s.step} | ${s.seconds.toFixed(1)}s | ${tableCell(s.detail)} |`
    )
    return [
      `#### ${report.host}: ${report.result}`,
      '',
      '| Step | Time | Detail |',
      '|---|---|---|',
      ...rows,
      '',
      report.backup
        ? `Backup: \`${report.backup.file}\` (${report.backup.bytes} bytes)`
        : 'Backup: none',
      ...(report.files
        ? [
            '',
            `Files: ${report.files.sent} sent (${report.files.bytesSent} bytes), ${report.files.linked} unchanged and hard-linked`
          ]
        : []),
      '',
      ...(report.migrationOutput
        ? [
            '<details><summary>Migration output</summary>',
            '',
            '```text',
            report.migrationOutput.replace(/```/g, "'''"),
            '```',
            '</details>',
            ''
          ]
        : [])
    ].join('\n')
  })
  return [`### ${title}`, '', ...(files ? [filesSummary(files), ''] : []), ...blocks].join('\n')
}

/** The summary's account of the release's files: what was shipped, kept, checked. */
export function filesSummary(
  files: ProjectFiles,
  counts?: { sent: number; linked: number; bytesSent: number }
): string {
  const lines: string[] = []
  const shipped = files.shipped.filter(s => !s.usedBy.every(u => u === 'compose file'))
  lines.push(
    `Shipped with the release: ${files.composeFiles.length} compose file(s)${
      shipped.length > 0 ? `, ${shipped.map(s => `\`${s.relative}\``).join(', ')}` : ''
    }${
      counts
        ? ` (${counts.sent} file(s) sent, ${counts.bytesSent} bytes; ${counts.linked} unchanged, hard-linked)`
        : ''
    }`
  )
  if (files.persistent.length > 0)
    lines.push(
      `Persistent, in \`shared/\` (kept across releases): ${files.persistent
        .map(p => `\`${p.relative}\` (${p.services.join(', ')})`)
        .join(', ')}`
    )
  if (files.hostPaths.length > 0)
    lines.push(
      `Host paths, left as they are: ${files.hostPaths.map(h => `\`${h.path}\` (${h.usedBy})`).join(', ')}`
    )
  if (files.secrets.length > 0)
    lines.push(`Secret files (0400): ${files.secrets.map(s => `\`${s.name}\``).join(', ')}`)
  return lines.join('  \n')
}
