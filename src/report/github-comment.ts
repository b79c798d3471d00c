/**
 * The pull request comment, as pure data and text: one comment per pull request and compose
 * project, with one row per stage (build, scan, smoke). Build, scan and smoke are often separate
 * steps of one job, and each step only knows its own result; so the rows are kept as JSON in a
 * hidden HTML comment inside the comment body, and each step reads them back, merges its own
 * row and renders the whole table again. Nothing here talks to GitHub (see ./github.ts).
 */
import type { ServiceBuildReport } from '../build/build.js'
import type { ScanResult } from '../scan/scan.js'
import type { SmokeResult } from '../smoke/smoke.js'
import { describeCounts } from '../scan/summary.js'
import { tableCell } from './markdown.js'
import type { Redact } from './redact.js'

export const COMMENT_STAGES = ['build', 'scan', 'smoke'] as const
export type CommentStage = (typeof COMMENT_STAGES)[number]

/** GitHub refuses issue comments longer than this (HTTP 422, "body is too long"). */
export const COMMENT_LIMIT = 65536
/** A row's detail is cut to this many characters: three rows then stay far below the limit. */
export const DETAIL_LIMIT = 600

export interface CommentRow {
  stage: CommentStage
  ok: boolean
  /** One line: what was built, found or measured, or what failed. */
  detail: string
  /** The commit the step ran on (for a pull request: its head commit). */
  sha: string
  runUrl: string | undefined
  /** ISO 8601 time the row was written. */
  at: string
}

export interface CommentData {
  project: string
  rows: CommentRow[]
}

/** The line that identifies our comment among the pull request's comments. */
export function commentMarker(project: string): string {
  return `<!-- stack-deploy:pr-comment project=${project} -->`
}

const DATA_START = '<!-- stack-deploy:data '
const DATA_END = ' -->'

/** Our comment for `project` among a pull request's comments: the first one with its marker. */
export function findMarkedComment<T extends { body?: string | null }>(
  comments: readonly T[],
  project: string
): T | undefined {
  const marker = commentMarker(project)
  // The marker ends with " -->", so project "web" never matches the comment of "web2".
  return comments.find(comment => (comment.body ?? '').split('\n').includes(marker))
}

/**
 * JSON that can sit inside an HTML comment: a comment ends at the first "--" + ">", and "--"
 * can only occur inside JSON strings, where "\u002d" reads back as the same "-".
 */
function hideJson(value: unknown): string {
  return JSON.stringify(value).replace(/--/g, '-\\u002d')
}

function isRow(value: unknown): value is CommentRow {
  const row = value as Partial<CommentRow> | null
  return (
    typeof row === 'object' &&
    row !== null &&
    (COMMENT_STAGES as readonly string[]).includes(row.stage as string) &&
    typeof row.ok === 'boolean' &&
    typeof row.detail === 'string' &&
    typeof row.sha === 'string' &&
    typeof row.at === 'string'
  )
}

/**
 * The rows kept in a comment's body. A body someone edited by hand, or written by another
 * version, gives the rows that still read as rows (possibly none): a step never fails on it.
 */
export function parseCommentData(body: string, project: string): CommentData {
  const start = body.lastIndexOf(DATA_START)
  if (start < 0) return { project, rows: [] }
  const end = body.indexOf(DATA_END, start + DATA_START.length)
  if (end < 0) return { project, rows: [] }
  try {
    const data = JSON.parse(body.slice(start + DATA_START.length, end)) as { rows?: unknown }
    const rows = Array.isArray(data.rows) ? data.rows.filter(isRow) : []
    return { project, rows }
  } catch {
    return { project, rows: [] }
  }
}

/**
 * The rows with `row` in its stage's place (replacing that stage's older row), in stage order.
 * `redact` blanks the secret values in every row's detail (a failure's detail may quote a
 * command's output), before the detail is cut: a cut must not leave half a secret behind.
 */
export function mergeRow(
  data: CommentData,
  row: CommentRow,
  redact: Redact = text => text
): CommentData {
  // Cut here, not only when rendering: the rows are stored in the body too.
  const rows = [
    ...data.rows.filter(r => r.stage !== row.stage).map(r => ({ ...r, detail: redact(r.detail) })),
    { ...row, detail: truncate(redact(row.detail).replace(/\s+/g, ' ').trim(), DETAIL_LIMIT) }
  ]
  rows.sort((a, b) => COMMENT_STAGES.indexOf(a.stage) - COMMENT_STAGES.indexOf(b.stage))
  return { project: data.project, rows }
}

/** Cuts text to `limit` characters, ending with "…" when it was cut. */
export function truncate(text: string, limit: number): string {
  const chars = [...text]
  return chars.length <= limit ? text : `${chars.slice(0, limit - 1).join('')}…`
}

/** A table cell: one line, pipes escaped, and no HTML comment that could end ours early. */
const cell = (text: string): string => tableCell(text, { htmlComments: true })

function runLink(row: CommentRow): string {
  if (!row.runUrl) return '-'
  const id = /\/runs\/(\d+)/.exec(row.runUrl)?.[1]
  return `[${id ? `run ${id}` : 'run'}](${row.runUrl})`
}

/** The whole comment body: marker, table, footer, and the rows as hidden JSON. */
export function renderComment(data: CommentData): string {
  const newest = [...data.rows].sort((a, b) => b.at.localeCompare(a.at))[0]
  const lines = data.rows.map(row => {
    const short = row.sha ? `\`${row.sha.slice(0, 7)}\`` : '-'
    const older = newest && row.sha && newest.sha && row.sha !== newest.sha ? ' (older)' : ''
    return `| ${row.stage} | ${row.ok ? '✅' : '❌'} | ${cell(truncate(row.detail, DETAIL_LIMIT))} | ${short}${older} | ${runLink(row)} |`
  })
  const body = [
    commentMarker(data.project),
    `### stack-deploy: \`${cell(data.project)}\``,
    '',
    '| Stage | Result | Detail | Commit | Run |',
    '|---|---|---|---|---|',
    ...lines,
    '',
    `<sub>Each build, scan and smoke step with \`pr-comment: true\` updates its own row.${newest ? ` Last update: ${newest.at.replace(/\.\d+Z$/, 'Z')}.` : ''}</sub>`,
    `${DATA_START}${hideJson({ rows: data.rows })}${DATA_END}`
  ].join('\n')
  return fitComment(body, data)
}

/**
 * The rows' details are capped, so a rendered comment is a few kilobytes; if one were ever over
 * GitHub's limit anyway (a huge project name?), the details are dropped rather than the update.
 */
function fitComment(body: string, data: CommentData): string {
  if (body.length <= COMMENT_LIMIT) return body
  const shorter = data.rows.map(row => ({ ...row, detail: truncate(row.detail, 80) }))
  if (shorter.some((row, i) => row.detail !== data.rows[i]?.detail))
    return renderComment({ ...data, rows: shorter })
  return truncate(body, COMMENT_LIMIT)
}

// --- rows from stage results ------------------------------------------------------------------

const seconds = (value: number): string => `${value.toFixed(1)}s`

export function buildRowDetail(reports: readonly ServiceBuildReport[]): string {
  if (reports.length === 0) return 'nothing to build (no selected service has a build section)'
  const pushed = reports.some(r => r.digest) ? '; pushed' : ''
  return `${reports
    .map(r => {
      const cached = r.steps > 0 ? `, ${Math.round((100 * r.cached) / r.steps)}% cached` : ''
      return `${r.service} ${seconds(r.seconds)}${cached}`
    })
    .join(' · ')}${pushed}`
}

export function scanRowDetail(
  result: Pick<ScanResult, 'passed' | 'failing' | 'threshold' | 'services'>
): string {
  const services = result.services
    .map(s => `${s.service}: ${describeCounts(s.counts) || 'no findings'}`)
    .join(' · ')
  const gate = `gate ${result.threshold.join(',')}`
  const verdict = result.passed
    ? result.services.some(s => s.verdict === 'report-only')
      ? `${gate}: passed (report only for ${result.services
          .filter(s => s.verdict === 'report-only')
          .map(s => s.service)
          .join(', ')})`
      : `${gate}: passed`
    : `${gate}: failed for ${result.failing.join(', ') || 'some services'}`
  return `${services || 'no images'}; ${verdict}`
}

export function smokeRowDetail(result: SmokeResult): string {
  const slowest = Object.entries(result.serviceSeconds).sort((a, b) => b[1] - a[1])[0]
  const passed = result.probes.filter(p => p.ok).length
  return [
    `ready in ${seconds(result.secondsToReady)}${slowest ? ` (slowest: ${slowest[0]} ${seconds(slowest[1])})` : ''}`,
    ...(result.probes.length > 0 ? [`probes ${passed}/${result.probes.length} passed`] : []),
    `total ${seconds(result.totalSeconds)}`
  ].join('; ')
}

const firstLine = (text: string): string => text.split('\n')[0]?.trim() ?? ''

/**
 * The row of a stage that threw. The stage errors are recognised by name, not by class, so that
 * this module needs none of the stages' code (the scan stage is loaded only when it runs).
 */
export function failureRowDetail(stage: CommentStage, error: unknown): string {
  const e = error as Partial<Error> & {
    failures?: { service?: string; reason?: string; message?: string }[]
    result?: Pick<ScanResult, 'passed' | 'failing' | 'threshold' | 'services'>
  }
  const message = firstLine(typeof e?.message === 'string' ? e.message : String(error))
  if (stage === 'scan' && e?.name === 'ScanGateError' && e.result) return scanRowDetail(e.result)
  if (stage === 'smoke' && e?.name === 'SmokeFailedError' && e.failures?.length) {
    return e.failures.map(f => `${f.service}: ${firstLine(f.reason ?? '')}`).join(' · ')
  }
  return message
}
