import * as path from 'node:path'
import type { Plan, PlannedService } from '../compose/plan.js'

function describeSource(service: PlannedService, workingDirectory: string): string {
  if (!service.build) return service.image ?? ''
  const context = path.relative(workingDirectory, service.build.context) || '.'
  const parts = [`build ${context}`, `dockerfile=${service.build.dockerfile}`]
  if (service.build.target) parts.push(`target=${service.build.target}`)
  const args = Object.keys(service.build.args)
  if (args.length > 0) parts.push(`args=${args.join(',')}`)
  return parts.join(' ')
}

function describePorts(service: PlannedService): string {
  return service.ports
    .map(
      port =>
        `${port.hostIp ? `${port.hostIp}:` : ''}${port.published ?? '?'}->${port.target}/${port.protocol}`
    )
    .join(' ')
}

function describeDependencies(service: PlannedService): string {
  return service.dependsOn
    .map(dep => `${dep.service}(${dep.condition.replace(/^service_/, '')})`)
    .join(' ')
}

export interface TableRow {
  service: string
  kind: string
  source: string
  healthcheck: string
  ports: string
  dependsOn: string
}

export function planRows(plan: Plan, workingDirectory: string): TableRow[] {
  return plan.services.map(service => ({
    service: service.name,
    kind: service.kind,
    source: describeSource(service, workingDirectory),
    healthcheck: service.healthcheck ? service.healthcheck.test : '-',
    ports: describePorts(service) || '-',
    dependsOn: describeDependencies(service) || '-'
  }))
}

const HEADERS: TableRow = {
  service: 'SERVICE',
  kind: 'KIND',
  source: 'IMAGE / BUILD',
  healthcheck: 'HEALTHCHECK',
  ports: 'PORTS',
  dependsOn: 'DEPENDS ON'
}
const COLUMNS = Object.keys(HEADERS) as (keyof TableRow)[]

function truncate(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text
}

/** A fixed-width table for terminals and logs. */
export function renderPlanText(plan: Plan, workingDirectory: string): string {
  const rows = [HEADERS, ...planRows(plan, workingDirectory)].map(row =>
    COLUMNS.map(column => truncate(row[column], column === 'healthcheck' ? 40 : 70))
  )
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map(row => (row[i] ?? '').length)))
  const lines = rows.map(row =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  )
  lines.unshift(`Project ${plan.project}`)
  lines.push('')
  lines.push(`Volumes:  ${plan.volumes.join(', ') || '-'}`)
  lines.push(
    `Networks: ${
      plan.networks
        .map(n => `${n.name}${n.internal ? ' (internal)' : ''}${n.external ? ' (external)' : ''}`)
        .join(', ') || '-'
    }`
  )
  return lines.join('\n')
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

/** The same table as Markdown, for the job summary. */
export function renderPlanMarkdown(plan: Plan, workingDirectory: string): string {
  const rows = planRows(plan, workingDirectory)
  const header = `| ${COLUMNS.map(c => HEADERS[c]).join(' | ')} |`
  const rule = `|${COLUMNS.map(() => '---').join('|')}|`
  const body = rows.map(row => `| ${COLUMNS.map(c => escapeCell(row[c])).join(' | ')} |`)
  return [
    `### Compose plan: ${plan.project}`,
    '',
    header,
    rule,
    ...body,
    '',
    `Volumes: ${plan.volumes.join(', ') || '-'}. Networks: ${plan.networks.map(n => n.name).join(', ') || '-'}.`,
    ''
  ].join('\n')
}
