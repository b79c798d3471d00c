/**
 * The scan stage: every image scanned with Trivy (a bounded number at a time), a full JSON
 * report and a SARIF file per service, and a gate that our code computes from the JSON.
 *
 *   install Trivy → DB (cache, download with retries, save) → scan each image → convert to
 *   SARIF and stamp its category → gate → job summary, annotations, outputs → throw if failing
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { ImageMap } from '../build/images.js'
import { lastLines, type Executor } from '../exec/executor.js'
import { sleep } from '../exec/time.js'
import type { Reporter } from '../report/reporter.js'
import { defaultCacheStore, type CacheStore } from './cache-store.js'
import {
  DEFAULT_DB_REPOSITORIES,
  prepareVulnerabilityDb,
  type DbResult,
  type RetryPolicy
} from './db.js'
import { evaluateGate, exitCodeFor, type Finding } from './gate.js'
import { loadIgnoreConfig, splitExpired, type IgnoreConfig } from './ignore.js'
import {
  ReleaseInstaller,
  normalizeTrivyVersion,
  type InstalledTrivy,
  type TrivyInstaller
} from './install.js'
import { parseSeverities, parseTrivyReport, type Severity } from './report.js'
import { parseSarif, serviceFileName, stampSarifCategory } from './sarif.js'
import {
  describeCounts,
  failureAnnotation,
  gateFailureMessage,
  orderRows,
  renderScanSummary,
  worstFindings,
  type ServiceRow
} from './summary.js'
import { imageScanArgs, sarifConvertArgs } from './trivy-args.js'

export { DEFAULT_DB_REPOSITORIES, DEFAULT_RETRY, dbCacheKey, backoffDelay } from './db.js'
export { DEFAULT_TRIVY_VERSION } from './install.js'
export type { CacheStore } from './cache-store.js'
export type { TrivyInstaller, InstalledTrivy } from './install.js'

export interface ScanOptions {
  /** Gate threshold, e.g. ['CRITICAL', 'HIGH']. */
  severities: string[]
  ignoreUnfixed: boolean
  /** Path to .trivyignore or .trivyignore.yaml (undefined: auto-detect in workingDirectory). */
  ignoreFile: string | undefined
  exitCodes: { default: 0 | 1; perService: Record<string, 0 | 1> }
  parallel: number
  /** A version like '0.74.0', or 'path' to use trivy from PATH. */
  trivyVersion: string
  dbRepositories: string[]
  /** Absolute. SARIF files land here as <service>.sarif. */
  sarifDir: string
  /** Absolute. */
  workingDirectory: string
  /** Where the JSON reports go as <service>.trivy.json (default: sarifDir; upload-sarif reads only *.sarif). */
  reportDir?: string
  /** Trivy's cache dir (default: RUNNER_TEMP/stack-deploy-trivy-cache on a runner, else a temp dir). */
  cacheDir?: string
  /** Per-image scan timeout, in Trivy's duration syntax (default 15m). */
  timeout?: string
  /** Retries of a rate-limited DB download (default: 3 attempts per repository, 5s, 10s). */
  dbRetry?: RetryPolicy
}

export interface ScanTarget {
  service: string
  ref: string
}

export interface ScanDeps {
  executor: Executor
  reporter: Reporter
  cache: CacheStore
  installer: TrivyInstaller
  sleep: (ms: number) => Promise<void>
  /** The clock, for the cache key and ignore-file expiry dates. */
  now?: () => Date
}

export interface ServiceScanResult extends ServiceRow {
  /** The worst blocking findings (top 5), most severe first. */
  worst: Finding[]
  reportPath: string
  sarifPath: string
}

export interface ScanResult {
  passed: boolean
  /** Services whose gate failed. */
  failing: string[]
  threshold: Severity[]
  /** In the order of the targets. */
  services: ServiceScanResult[]
  trivy: InstalledTrivy
  db: DbResult
  ignoreFile: string | undefined
  sarifDir: string
  reportDir: string
}

/** A bad scan setting; the message names the setting (as the action input is named). */
export class ScanOptionError extends Error {
  constructor(
    readonly option: string,
    message: string
  ) {
    super(`Scan option '${option}': ${message}`)
    this.name = 'ScanOptionError'
  }
}

/** Trivy could not scan one or more images (not findings: errors). */
export class ScanError extends Error {
  constructor(
    readonly failures: { service: string; ref: string; message: string }[],
    message: string
  ) {
    super(message)
    this.name = 'ScanError'
  }
}

/** The gate failed; everything (SARIF, summary, annotations, outputs) is written already. */
export class ScanGateError extends Error {
  constructor(
    readonly result: ScanResult,
    message: string
  ) {
    super(message)
    this.name = 'ScanGateError'
  }
}

/** One service's scan failed; the message names the service, the image and what to do. */
export class ServiceScanError extends Error {
  constructor(
    readonly service: string,
    readonly ref: string,
    message: string
  ) {
    super(message)
    this.name = 'ServiceScanError'
  }
}

// --- targets ----------------------------------------------------------------------------------

/** Scan targets from the build stage's `images` map, optionally only some services. */
export function targetsFromImages(
  images: ImageMap,
  services: readonly string[] = []
): ScanTarget[] {
  const names = services.length > 0 ? [...services] : Object.keys(images)
  return names.map(service => {
    const image = images[service]
    if (!image) {
      throw new ScanOptionError(
        'images',
        `no image for service "${service}"; the images map has: ${Object.keys(images).join(', ') || '(none)'}`
      )
    }
    return { service, ref: image.ref }
  })
}

/** Scan targets from bare image refs; each is named after its repository's last segment. */
export function targetsFromRefs(refs: readonly string[]): ScanTarget[] {
  const used = new Map<string, number>()
  return refs.map(ref => {
    const withoutDigest = ref.split('@')[0] as string
    const lastSegment = withoutDigest.split('/').pop() ?? withoutDigest
    const base = lastSegment.replace(/:[^:]*$/, '') || 'image'
    const n = (used.get(base) ?? 0) + 1
    used.set(base, n)
    return { service: n === 1 ? base : `${base}-${n}`, ref }
  })
}

export function validateTargets(targets: readonly ScanTarget[]): void {
  if (targets.length === 0) {
    throw new ScanOptionError(
      'images',
      'nothing to scan; pass the `images` output of the build step, or image refs'
    )
  }
  const seen = new Set<string>()
  for (const target of targets) {
    if (!target.service) throw new ScanOptionError('images', 'a scan target has no service name')
    if (!target.ref || target.ref.trim() === '') {
      throw new ScanOptionError(
        'images',
        `service "${target.service}" has no image ref to scan; pass the \`images\` output of the build step (service → { ref })`
      )
    }
    if (seen.has(target.service)) {
      throw new ScanOptionError('images', `service "${target.service}" is listed twice`)
    }
    seen.add(target.service)
  }
}

// --- a bounded pool ---------------------------------------------------------------------------

/** Runs `fn` over `items` with at most `limit` at a time; never rejects, keeps the order. */
export async function settleWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++
      try {
        results[index] = { status: 'fulfilled', value: await fn(items[index] as T, index) }
      } catch (reason) {
        results[index] = { status: 'rejected', reason }
      }
    }
  }
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker)
  await Promise.all(workers)
  return results
}

// --- one image --------------------------------------------------------------------------------

/** What to do next, for the errors Trivy is known to print. */
export function scanErrorHint(stderr: string): string {
  if (/unable to find the specified image|No such image|image not found/i.test(stderr)) {
    return 'the image is neither in the local Docker engine nor in a registry Trivy can read; build it first (command: build) or pass the `images` output of the build step'
  }
  if (/skip-java-db-update/.test(stderr)) {
    return 'the image contains Java archives, which need the Trivy Java DB; stack-deploy scans with --skip-java-db-update, so Java packages cannot be scanned yet'
  }
  if (/skip-db-update cannot be specified on the first run/.test(stderr)) {
    return 'the vulnerability DB is missing from the cache dir; this is a bug in stack-deploy, please report it'
  }
  if (/context deadline exceeded|timeout/i.test(stderr)) {
    return 'the scan timed out; raise the scan timeout or scan fewer images in parallel'
  }
  return 'see the Trivy output above; re-run the job, and report it if it persists'
}

interface ScanContext {
  trivy: InstalledTrivy
  cacheDir: string
  workDir: string
  emptyIgnoreFile: string
  ignore: IgnoreConfig
  activeRules: IgnoreConfig['rules']
  reportDir: string
  sarifDir: string
  severities: Severity[]
  options: ScanOptions
  executor: Executor
  reporter: Reporter
}

async function scanOne(target: ScanTarget, ctx: ScanContext): Promise<ServiceScanResult> {
  const { service, ref } = target
  const file = serviceFileName(service)
  const reportPath = path.join(ctx.reportDir, `${file}.trivy.json`)
  const sarifPath = path.join(ctx.sarifDir, `${file}.sarif`)
  const rawSarif = path.join(ctx.workDir, `${file}.trivy.sarif`)
  // Never read a stale report from an earlier run if Trivy writes nothing this time.
  for (const stale of [reportPath, sarifPath, rawSarif]) fs.rmSync(stale, { force: true })

  ctx.reporter.info(`Scanning ${service} (${ref})...`)
  const scan = await ctx.executor.run(
    imageScanArgs(ctx.trivy.path, {
      ref,
      cacheDir: ctx.cacheDir,
      output: reportPath,
      emptyIgnoreFile: ctx.emptyIgnoreFile,
      version: ctx.trivy.version,
      timeout: ctx.options.timeout
    }),
    { cwd: ctx.workDir }
  )
  if (scan.exitCode !== 0) {
    const tail = lastLines(scan.stderr || scan.stdout, 8)
    throw new ServiceScanError(
      service,
      ref,
      `Trivy could not scan service "${service}" (image ${ref}): exit ${scan.exitCode}; ${scanErrorHint(tail)}${tail ? `\n${tail}` : ''}`
    )
  }
  if (!fs.existsSync(reportPath)) {
    throw new ServiceScanError(
      service,
      ref,
      `Trivy exited 0 for service "${service}" (image ${ref}) but wrote no report at ${reportPath}; check the runner's disk`
    )
  }
  const report = parseTrivyReport(fs.readFileSync(reportPath, 'utf8'), service, reportPath)

  const convert = await ctx.executor.run(
    sarifConvertArgs(ctx.trivy.path, {
      input: reportPath,
      output: rawSarif,
      ignoreFile: ctx.ignore.file ?? ctx.emptyIgnoreFile
    }),
    { cwd: ctx.workDir }
  )
  if (convert.exitCode !== 0 || !fs.existsSync(rawSarif)) {
    const tail = lastLines(convert.stderr || convert.stdout, 8)
    throw new ServiceScanError(
      service,
      ref,
      `trivy convert could not turn the report of service "${service}" (${reportPath}) into SARIF: exit ${convert.exitCode}${tail ? `\n${tail}` : ''}`
    )
  }
  let sarif
  try {
    sarif = parseSarif(fs.readFileSync(rawSarif, 'utf8'), `The SARIF of service "${service}"`)
  } catch (error) {
    throw new ServiceScanError(service, ref, `${(error as Error).message} (${rawSarif})`)
  }
  fs.writeFileSync(sarifPath, `${JSON.stringify(stampSarifCategory(sarif, service), null, 2)}\n`)

  const exitCode = exitCodeFor(service, ctx.options.exitCodes)
  const gate = evaluateGate(report, {
    severities: ctx.severities,
    ignoreUnfixed: ctx.options.ignoreUnfixed,
    rules: ctx.activeRules,
    exitCode
  })
  const row: ServiceScanResult = {
    service,
    ref,
    ...gate,
    exitCode,
    worst: [],
    reportPath,
    sarifPath
  }
  row.worst = worstFindings(row)
  const ignored = gate.ignored.ignoreFile + gate.ignored.unfixed
  ctx.reporter.info(
    `${service}: ${describeCounts(gate.counts) || 'no findings'}${ignored ? ` (${ignored} ignored)` : ''}; gate: ${gate.verdict}`
  )
  return row
}

// --- the stage --------------------------------------------------------------------------------

function dbNote(db: DbResult, cacheDescription: string): string {
  const updated = db.metadata?.UpdatedAt
    ? ` (updated ${db.metadata.UpdatedAt.replace('T', ' ').replace(/\..*$/, '').replace(/Z$/, '')} UTC)`
    : ''
  switch (db.source) {
    case 'cache':
      return `restored from ${cacheDescription} (key ${db.key})${updated}`
    case 'stale-cache':
      return `restored from ${cacheDescription} (key ${db.restoredKey}); the refresh failed${updated}`
    default:
      return `downloaded from ${db.repository}${updated}, ${db.saved ? `cached as ${db.key}` : 'not cached'}`
  }
}

/**
 * Trivy's cache dir. On a runner it must be the same path in every run: @actions/cache keys an
 * entry by its paths too (cacheUtils.getCacheVersion), so a random folder would never restore.
 */
export function defaultTrivyCacheDir(
  workDir: string,
  env: NodeJS.ProcessEnv = process.env
): string {
  return env.RUNNER_TEMP
    ? path.join(env.RUNNER_TEMP, 'stack-deploy-trivy-cache')
    : path.join(workDir, 'trivy-cache')
}

function validateOptions(options: ScanOptions): Severity[] {
  let severities: Severity[]
  try {
    severities = parseSeverities(options.severities)
  } catch (error) {
    throw new ScanOptionError('severity', (error as Error).message)
  }
  if (!Number.isInteger(options.parallel) || options.parallel < 1) {
    throw new ScanOptionError(
      'parallel',
      `expected a whole number of images to scan at once, 1 or more, got ${options.parallel}`
    )
  }
  for (const [service, code] of Object.entries(options.exitCodes.perService)) {
    if (code !== 0 && code !== 1) {
      throw new ScanOptionError('exit-code', `service "${service}" has ${code}; use 0 or 1`)
    }
  }
  if (options.exitCodes.default !== 0 && options.exitCodes.default !== 1) {
    throw new ScanOptionError(
      'exit-code',
      `the default is ${options.exitCodes.default}; use 0 or 1`
    )
  }
  try {
    normalizeTrivyVersion(options.trivyVersion)
  } catch (error) {
    throw new ScanOptionError('trivy-version', (error as Error).message)
  }
  return severities
}

function outputValue(result: ScanResult): string {
  const services: Record<string, unknown> = {}
  for (const s of result.services) {
    services[s.service] = {
      ref: s.ref,
      verdict: s.verdict,
      counts: s.counts,
      ignored: s.ignored,
      worst: s.worst.map(f => ({
        id: f.id,
        pkg: f.pkg,
        installed: f.installed,
        fixed: f.fixed,
        severity: f.severity
      })),
      report: s.reportPath,
      sarif: s.sarifPath
    }
  }
  return JSON.stringify({ passed: result.passed, threshold: result.threshold, services })
}

export async function scanStage(
  targets: ScanTarget[],
  options: ScanOptions,
  deps: ScanDeps
): Promise<ScanResult> {
  const { reporter, executor } = deps
  const now = deps.now?.() ?? new Date()
  validateTargets(targets)
  const severities = validateOptions(options)
  const known = new Set(targets.map(t => t.service))
  const strays = Object.keys(options.exitCodes.perService).filter(s => !known.has(s))
  if (strays.length > 0) {
    reporter.warning(
      `Scan exit codes are set for ${strays.join(', ')}, which ${strays.length === 1 ? 'is' : 'are'} not scanned; check the service names`
    )
  }

  const workingDirectory = path.resolve(options.workingDirectory)
  let ignore: IgnoreConfig
  try {
    ignore = loadIgnoreConfig(options.ignoreFile, workingDirectory)
  } catch (error) {
    throw new ScanOptionError('ignore-file', (error as Error).message)
  }
  for (const warning of ignore.warnings) reporter.warning(warning)
  const { active, expired } = splitExpired(ignore.rules, now)
  if (expired.length > 0) {
    reporter.warning(
      `${expired.map(r => `${r.id} (expired ${r.expiredAt?.toISOString().slice(0, 10)})`).join(', ')} in ${ignore.file} no longer ${expired.length === 1 ? 'applies' : 'apply'}; fix the finding or renew the expiry date`
    )
  }

  const sarifDir = path.resolve(workingDirectory, options.sarifDir)
  const reportDir = path.resolve(workingDirectory, options.reportDir ?? sarifDir)
  fs.mkdirSync(sarifDir, { recursive: true })
  fs.mkdirSync(reportDir, { recursive: true })
  const tempRoot = process.env.RUNNER_TEMP || os.tmpdir()
  fs.mkdirSync(tempRoot, { recursive: true })
  const workDir = fs.mkdtempSync(path.join(tempRoot, 'stack-deploy-scan-'))

  try {
    // An empty ignore file for the scans: the JSON report must list every finding.
    const emptyIgnoreFile = path.join(workDir, 'no-ignores.trivyignore')
    fs.writeFileSync(emptyIgnoreFile, '')
    const cacheDir = options.cacheDir ?? defaultTrivyCacheDir(workDir)

    const trivy = await reporter.group('Install Trivy', async () => {
      const installed = await deps.installer.install(options.trivyVersion)
      reporter.info(`Trivy ${installed.version} (${installed.source}): ${installed.path}`)
      return installed
    })
    const db = await reporter.group('Trivy vulnerability DB', () =>
      prepareVulnerabilityDb({
        trivy,
        cacheDir,
        repositories:
          options.dbRepositories.length > 0 ? options.dbRepositories : DEFAULT_DB_REPOSITORIES,
        executor,
        cache: deps.cache,
        reporter,
        sleep: deps.sleep,
        now,
        retry: options.dbRetry
      })
    )

    const ctx: ScanContext = {
      trivy,
      cacheDir,
      workDir,
      emptyIgnoreFile,
      ignore,
      activeRules: active,
      reportDir,
      sarifDir,
      severities,
      options,
      executor,
      reporter
    }
    const settled = await reporter.group(
      `Scan ${targets.length} image${targets.length === 1 ? '' : 's'} (${Math.min(options.parallel, targets.length)} at a time)`,
      () => settleWithLimit(targets, options.parallel, target => scanOne(target, ctx))
    )

    const services: ServiceScanResult[] = []
    const failures: { service: string; ref: string; message: string }[] = []
    settled.forEach((outcome, index) => {
      const target = targets[index] as ScanTarget
      if (outcome.status === 'fulfilled') services.push(outcome.value)
      else failures.push({ ...target, message: (outcome.reason as Error).message })
    })

    const result: ScanResult = {
      passed: failures.length === 0 && services.every(s => s.verdict !== 'fail'),
      failing: orderRows(services.filter(s => s.verdict === 'fail')).map(s => s.service),
      threshold: severities,
      services,
      trivy,
      db,
      ignoreFile: ignore.file,
      sarifDir,
      reportDir
    }

    const ignoreNote = ignore.file
      ? `${active.length} rule${active.length === 1 ? '' : 's'}${expired.length ? `, ${expired.length} expired` : ''}`
      : undefined
    let summary = renderScanSummary(services, {
      threshold: severities,
      ignoreUnfixed: options.ignoreUnfixed,
      ignoreFile: ignore.file
        ? path.relative(workingDirectory, ignore.file) || ignore.file
        : undefined,
      ignoreNote,
      trivyVersion: trivy.version,
      dbNote: dbNote(db, deps.cache.description),
      sarifDir: path.relative(workingDirectory, sarifDir) || '.'
    })
    if (failures.length > 0) {
      summary += `\n**Not scanned:** ${failures.map(f => `${f.service} (\`${f.ref}\`)`).join(', ')}; see the errors in the log.\n`
    }
    await reporter.addSummary(summary)
    for (const row of orderRows(services)) {
      if (row.verdict === 'pass') continue
      const { title, message } = failureAnnotation(row, severities)
      if (row.verdict === 'fail') reporter.error(message, { title })
      else reporter.warning(message, { title })
    }
    reporter.setOutput('scan', outputValue(result))
    reporter.setOutput('sarif-dir', sarifDir)

    if (failures.length > 0) {
      const message =
        failures.length === 1
          ? (failures[0] as { message: string }).message
          : `Trivy could not scan ${failures.length} services:\n${failures.map(f => `- ${f.message}`).join('\n')}`
      throw new ScanError(failures, message)
    }
    if (!result.passed) throw new ScanGateError(result, gateFailureMessage(services, severities))
    return result
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true })
  }
}

/** The real dependencies: the release installer, @actions/cache or a local cache, real time. */
export function defaultScanDeps(
  executor: Executor,
  reporter: Reporter,
  overrides: Partial<ScanDeps> = {}
): ScanDeps {
  return {
    executor,
    reporter,
    cache: defaultCacheStore(),
    installer: new ReleaseInstaller({ executor }),
    sleep,
    ...overrides
  }
}

// Pure functions, re-exported for table tests and for the lead's wiring.
export { parseSeverities, parseTrivyReport, SEVERITIES, ScanReportError } from './report.js'
export type { Severity, TrivyReport } from './report.js'
export { evaluateGate, exitCodeFor, isUnfixed, compareFindings } from './gate.js'
export type { Finding, GateEvaluation, GatePolicy, Verdict } from './gate.js'
export {
  loadIgnoreConfig,
  parseIgnoreFile,
  parseTrivyIgnore,
  parseTrivyIgnoreYaml,
  matchIgnoreRule,
  splitExpired
} from './ignore.js'
export type { IgnoreConfig, IgnoreRule } from './ignore.js'
export { stampSarifCategory, sarifCategory, automationId, parseSarif } from './sarif.js'
export {
  renderScanSummary,
  failureAnnotation,
  gateFailureMessage,
  describeCounts,
  worstFindings,
  orderRows
} from './summary.js'
export {
  imageScanArgs,
  dbDownloadArgs,
  sarifConvertArgs,
  trivyVersionArgs,
  isRateLimited,
  parseTrivyVersion
} from './trivy-args.js'
export {
  ReleaseInstaller,
  GivenTrivy,
  trivyAssetName,
  checksumsFileName,
  verifyChecksum,
  parseChecksums
} from './install.js'
export { ActionsCacheStore, LocalDirectoryCacheStore, defaultCacheStore } from './cache-store.js'
