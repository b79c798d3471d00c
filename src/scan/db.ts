/**
 * The Trivy vulnerability DB, fetched once per run and kept in a cache keyed by the UTC day.
 *
 * Order of events, so that neither failure of aquasecurity/trivy-action #430 (rate limits on
 * the DB download) nor #500 (the DB is not cached when the scan fails) can happen here:
 * 1. restore `<cacheDir>/db` from the cache (exact key `trivy-db-YYYY-MM-DD`, else the newest
 *    `trivy-db-*`); an exact hit needs no download at all;
 * 2. otherwise `trivy image --download-db-only` from each repository in turn (mirror.gcr.io
 *    first), retrying a rate-limited one (429 / TOOMANYREQUESTS) with exponential backoff;
 * 3. save the cache right away, before any image is scanned, so a failing gate cannot lose it.
 * Scans then run with `--skip-db-update`. A cache that cannot be reached is a warning.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { lastLines, type Executor } from '../exec/executor.js'
import { inputDefault } from '../input-specs.js'
import type { Reporter } from '../report/reporter.js'
import type { CacheStore } from './cache-store.js'
import { dbDownloadArgs, isRateLimited } from './trivy-args.js'

/**
 * The trivy-db-repositories input's default: Trivy's own defaults since v0.57 (pkg/db/db.go),
 * Google's mirror first, then GHCR.
 */
export const DEFAULT_DB_REPOSITORIES = inputDefault('trivy-db-repositories').split('\n')

export const DB_CACHE_KEY_PREFIX = 'trivy-db-'

/** `trivy-db-YYYY-MM-DD` of the UTC day: one download per day, shared by every run that day. */
export function dbCacheKey(now: Date): string {
  return `${DB_CACHE_KEY_PREFIX}${now.toISOString().slice(0, 10)}`
}

export interface RetryPolicy {
  /** Attempts per repository when it answers with a rate limit (1 = no retry). */
  attemptsPerRepository: number
  initialDelayMs: number
  factor: number
  maxDelayMs: number
}

export const DEFAULT_RETRY: RetryPolicy = {
  attemptsPerRepository: 3,
  initialDelayMs: 5_000,
  factor: 2,
  maxDelayMs: 60_000
}

/** The wait before retry number `retry` (1-based): initial × factor^(retry-1), capped. */
export function backoffDelay(policy: RetryPolicy, retry: number): number {
  return Math.min(policy.initialDelayMs * policy.factor ** (retry - 1), policy.maxDelayMs)
}

export interface DbAttempt {
  repository: string
  attempt: number
  exitCode: number
  rateLimited: boolean
  /** The wait before the next attempt at the same repository, when there is one. */
  retryAfterMs?: number
}

export interface DbMetadata {
  Version?: number
  UpdatedAt?: string
  NextUpdate?: string
  DownloadedAt?: string
}

export interface DbResult {
  cacheDir: string
  key: string
  /** The cache key that was restored, if any. */
  restoredKey: string | undefined
  /** Where the DB used for the scans came from. */
  source: 'cache' | 'download' | 'stale-cache'
  /** The repository the DB was downloaded from. */
  repository: string | undefined
  attempts: DbAttempt[]
  saved: boolean
  metadata: DbMetadata | undefined
}

export class DbDownloadError extends Error {
  constructor(
    readonly attempts: DbAttempt[],
    message: string
  ) {
    super(message)
    this.name = 'DbDownloadError'
  }
}

export function dbDir(cacheDir: string): string {
  return path.join(cacheDir, 'db')
}

/** `<cacheDir>/db/metadata.json`, which Trivy writes next to trivy.db. */
export function readDbMetadata(cacheDir: string): DbMetadata | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dbDir(cacheDir), 'metadata.json'), 'utf8'))
  } catch {
    return undefined
  }
}

export interface PrepareDbOptions {
  trivy: { path: string; version: string }
  cacheDir: string
  repositories: readonly string[]
  executor: Executor
  cache: CacheStore
  reporter: Reporter
  sleep: (ms: number) => Promise<void>
  now: Date
  retry?: RetryPolicy
}

function oneLine(text: string): string {
  return lastLines(text, 3).replace(/\s*\n\s*/g, ' | ')
}

export async function prepareVulnerabilityDb(options: PrepareDbOptions): Promise<DbResult> {
  const { cache, reporter, executor } = options
  const retry = options.retry ?? DEFAULT_RETRY
  const key = dbCacheKey(options.now)
  const paths = [dbDir(options.cacheDir)]
  fs.mkdirSync(options.cacheDir, { recursive: true })

  let restoredKey: string | undefined
  try {
    restoredKey = await cache.restore(paths, key, [DB_CACHE_KEY_PREFIX])
  } catch (error) {
    reporter.warning(
      `Could not restore the Trivy DB from ${cache.description} (${(error as Error).message}); downloading it instead.`
    )
  }
  const restored = restoredKey !== undefined && readDbMetadata(options.cacheDir) !== undefined
  if (restored && restoredKey === key) {
    reporter.info(`Trivy DB restored from ${cache.description} (key ${key}); no download needed.`)
    return {
      cacheDir: options.cacheDir,
      key,
      restoredKey,
      source: 'cache',
      repository: undefined,
      attempts: [],
      saved: false,
      metadata: readDbMetadata(options.cacheDir)
    }
  }
  if (restored) reporter.info(`Trivy DB restored from ${cache.description} (key ${restoredKey}).`)

  const attempts: DbAttempt[] = []
  let repository: string | undefined
  let lastError = ''
  repositories: for (const repo of options.repositories) {
    for (let attempt = 1; attempt <= retry.attemptsPerRepository; attempt++) {
      const argv = dbDownloadArgs(options.trivy.path, {
        cacheDir: options.cacheDir,
        repository: repo,
        version: options.trivy.version
      })
      const result = await executor.run(argv)
      const record: DbAttempt = {
        repository: repo,
        attempt,
        exitCode: result.exitCode,
        rateLimited: result.exitCode !== 0 && isRateLimited(result.stderr + result.stdout)
      }
      attempts.push(record)
      if (result.exitCode === 0) {
        repository = repo
        break repositories
      }
      lastError = `${repo}: ${oneLine(result.stderr || result.stdout) || `exit ${result.exitCode}`}`
      if (record.rateLimited && attempt < retry.attemptsPerRepository) {
        record.retryAfterMs = backoffDelay(retry, attempt)
        reporter.info(
          `Trivy DB download from ${repo} was rate-limited (attempt ${attempt} of ${retry.attemptsPerRepository}); retrying in ${Math.round(record.retryAfterMs / 1000)}s.`
        )
        await options.sleep(record.retryAfterMs)
        continue
      }
      reporter.info(
        `Trivy DB download from ${repo} failed${record.rateLimited ? ' (rate-limited)' : ''}: ${oneLine(result.stderr || result.stdout)}`
      )
      continue repositories
    }
  }

  if (repository === undefined) {
    if (restored) {
      reporter.warning(
        `Could not refresh the Trivy DB from ${options.repositories.join(' or ')}; scanning with the DB restored from ${cache.description} (key ${restoredKey}). Last error: ${lastError}`
      )
      return {
        cacheDir: options.cacheDir,
        key,
        restoredKey,
        source: 'stale-cache',
        repository: undefined,
        attempts,
        saved: false,
        metadata: readDbMetadata(options.cacheDir)
      }
    }
    throw new DbDownloadError(
      attempts,
      `Could not download the Trivy vulnerability DB from ${options.repositories.join(', ')} (${attempts.length} attempts). Last error: ${lastError}. Re-run the job later, or list a registry mirror you can reach in the DB repositories.`
    )
  }
  if (repository !== options.repositories[0]) {
    reporter.warning(
      `Trivy DB downloaded from ${repository} after ${options.repositories[0]} failed.`
    )
  }

  // Save now, before any scan: a failing gate must not cost the next run its cached DB.
  let saved = false
  try {
    await cache.save(paths, key)
    saved = true
    reporter.info(`Trivy DB saved to ${cache.description} (key ${key}).`)
  } catch (error) {
    reporter.warning(
      `Could not save the Trivy DB to ${cache.description} (${(error as Error).message}); the next run downloads it again.`
    )
  }
  return {
    cacheDir: options.cacheDir,
    key,
    restoredKey,
    source: 'download',
    repository,
    attempts,
    saved,
    metadata: readDbMetadata(options.cacheDir)
  }
}
