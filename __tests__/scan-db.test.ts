import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { CommandResult, Executor, RunOptions } from '../src/exec/executor.js'
import { MemoryReporter } from '../src/report/reporter.js'
import {
  backoffDelay,
  dbCacheKey,
  DbDownloadError,
  DEFAULT_DB_REPOSITORIES,
  DEFAULT_RETRY,
  prepareVulnerabilityDb,
  type RetryPolicy
} from '../src/scan/db.js'
import { GitHubCacheServiceStandIn } from '../test/stand-ins/github-cache-service.js'

const RATE_LIMIT =
  '2026-11-21T10:00:00Z\tERROR\t[vulndb] Failed to download artifact\trepo="mirror.gcr.io/aquasec/trivy-db:2" err="OCI repository error: 1 error occurred:\\n\\t* GET https://mirror.gcr.io/v2/aquasec/trivy-db/manifests/2: TOOMANYREQUESTS: retry-after: 35.852µs, allowed: 44000/minute"\n2026-11-21T10:00:00Z\tFATAL\tFatal error\tinit error: DB error: failed to download vulnerability DB: OCI artifact error: failed to download artifact from any source'
const NO_HOST = 'FATAL\tFatal error\tOCI repository error: dial tcp: lookup ghcr.io: no such host'

type Outcome = 'ok' | '429' | 'down'

/** Answers `trivy image --download-db-only` from a script of outcomes, per repository. */
class FakeTrivy implements Executor {
  readonly calls: string[][] = []
  constructor(private readonly script: Record<string, Outcome[]>) {}

  async run(argv: string[], _options?: RunOptions): Promise<CommandResult> {
    this.calls.push(argv)
    const repo = argv[argv.indexOf('--db-repository') + 1] as string
    const cacheDir = argv[argv.indexOf('--cache-dir') + 1] as string
    const outcome = this.script[repo]?.shift() ?? 'down'
    if (outcome === 'ok') {
      fs.mkdirSync(path.join(cacheDir, 'db'), { recursive: true })
      fs.writeFileSync(
        path.join(cacheDir, 'db', 'metadata.json'),
        JSON.stringify({ Version: 2, UpdatedAt: '2026-11-21T06:00:00Z', From: repo })
      )
      fs.writeFileSync(path.join(cacheDir, 'db', 'trivy.db'), `db from ${repo}`)
    }
    return {
      argv,
      exitCode: outcome === 'ok' ? 0 : 1,
      stdout: '',
      stderr: outcome === '429' ? RATE_LIMIT : outcome === 'down' ? NO_HOST : '',
      durationMs: 1
    }
  }

  repositories(): string[] {
    return this.calls.map(argv => argv[argv.indexOf('--db-repository') + 1] as string)
  }
}

const [MIRROR, GHCR] = DEFAULT_DB_REPOSITORIES as [string, string]
const NOW = new Date('2026-11-21T10:30:00Z')

describe('the vulnerability DB', () => {
  let dir: string
  let cache: GitHubCacheServiceStandIn
  let reporter: MemoryReporter
  let sleeps: number[]

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scan-db-'))
    cache = new GitHubCacheServiceStandIn(path.join(dir, 'service'))
    reporter = new MemoryReporter()
    sleeps = []
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  const prepare = (
    executor: Executor,
    over: { retry?: RetryPolicy; now?: Date; cacheDir?: string } = {}
  ) =>
    prepareVulnerabilityDb({
      trivy: { path: '/t/trivy', version: '0.74.0' },
      cacheDir: over.cacheDir ?? path.join(dir, 'trivy-cache'),
      repositories: DEFAULT_DB_REPOSITORIES,
      executor,
      cache,
      reporter,
      sleep: async ms => {
        sleeps.push(ms)
      },
      now: over.now ?? NOW,
      retry: over.retry
    })

  it.each([
    [new Date('2026-11-21T00:00:00Z'), 'trivy-db-2026-11-21'],
    [new Date('2026-11-21T23:59:59.999Z'), 'trivy-db-2026-11-21'],
    [new Date('2026-12-31T23:59:59+01:00'), 'trivy-db-2026-12-31'],
    [new Date('2027-01-01T00:30:00+01:00'), 'trivy-db-2026-12-31']
  ])('keys the cache by the UTC day: %s → %s', (now, key) => {
    expect(dbCacheKey(now)).toBe(key)
  })

  it.each([
    [1, 5000],
    [2, 10000],
    [3, 20000],
    [5, 60000]
  ])('backs off exponentially: retry %i waits %i ms', (retry, ms) => {
    expect(backoffDelay(DEFAULT_RETRY, retry)).toBe(ms)
  })

  it('downloads from the first mirror and saves the cache right away', async () => {
    const trivy = new FakeTrivy({ [MIRROR]: ['ok'] })
    const db = await prepare(trivy)
    expect(trivy.repositories()).toEqual([MIRROR])
    expect(db).toMatchObject({
      source: 'download',
      repository: MIRROR,
      saved: true,
      key: 'trivy-db-2026-11-21'
    })
    expect(db.metadata?.UpdatedAt).toBe('2026-11-21T06:00:00Z')
    expect(cache.keys()).toEqual(['trivy-db-2026-11-21'])
    expect(sleeps).toEqual([])
  })

  it('retries a rate-limited mirror with exponential backoff', async () => {
    const trivy = new FakeTrivy({ [MIRROR]: ['429', '429', 'ok'] })
    const db = await prepare(trivy)
    expect(trivy.repositories()).toEqual([MIRROR, MIRROR, MIRROR])
    expect(sleeps).toEqual([5000, 10000])
    expect(db.attempts.map(a => [a.repository, a.attempt, a.rateLimited, a.retryAfterMs])).toEqual([
      [MIRROR, 1, true, 5000],
      [MIRROR, 2, true, 10000],
      [MIRROR, 3, false, undefined]
    ])
    expect(db.repository).toBe(MIRROR)
    expect(reporter.lines).toContain(
      `Trivy DB download from ${MIRROR} was rate-limited (attempt 1 of 3); retrying in 5s.`
    )
  })

  it('moves to the next mirror when the retries are used up', async () => {
    const trivy = new FakeTrivy({ [MIRROR]: ['429', '429', '429'], [GHCR]: ['429', 'ok'] })
    const db = await prepare(trivy)
    expect(trivy.repositories()).toEqual([MIRROR, MIRROR, MIRROR, GHCR, GHCR])
    // no wait after the last attempt at a mirror: the next mirror is tried at once
    expect(sleeps).toEqual([5000, 10000, 5000])
    expect(db.repository).toBe(GHCR)
    expect(reporter.warnings).toEqual([`Trivy DB downloaded from ${GHCR} after ${MIRROR} failed.`])
  })

  it('does not retry an error that is not a rate limit', async () => {
    const trivy = new FakeTrivy({ [MIRROR]: ['down'], [GHCR]: ['ok'] })
    await prepare(trivy)
    expect(trivy.repositories()).toEqual([MIRROR, GHCR])
    expect(sleeps).toEqual([])
  })

  it('fails naming the mirrors, the last error and what to do when nothing works', async () => {
    const trivy = new FakeTrivy({ [MIRROR]: ['429', '429'], [GHCR]: ['down'] })
    const retry = { ...DEFAULT_RETRY, attemptsPerRepository: 2 }
    const error = await prepare(trivy, { retry }).catch(e => e)
    expect(error).toBeInstanceOf(DbDownloadError)
    expect(error.message).toBe(
      `Could not download the Trivy vulnerability DB from ${MIRROR}, ${GHCR} (3 attempts). Last error: ${GHCR}: FATAL\tFatal error\tOCI repository error: dial tcp: lookup ghcr.io: no such host. Re-run the job later, or list a registry mirror you can reach in the DB repositories.`
    )
    expect(cache.keys()).toEqual([])
  })

  // A new job: the same runner folder (as on GitHub), emptied.
  const freshRunner = () =>
    fs.rmSync(path.join(dir, 'trivy-cache'), { recursive: true, force: true })

  it('uses the cache of the same day without downloading', async () => {
    await prepare(new FakeTrivy({ [MIRROR]: ['ok'] }))
    freshRunner()
    const second = new FakeTrivy({})
    const db = await prepare(second)
    expect(second.calls).toEqual([])
    expect(db).toMatchObject({ source: 'cache', restoredKey: 'trivy-db-2026-11-21', saved: false })
    expect(fs.readFileSync(path.join(dir, 'trivy-cache', 'db', 'trivy.db'), 'utf8')).toBe(
      `db from ${MIRROR}`
    )
  })

  it('misses a cache saved from another folder, as @actions/cache does', async () => {
    await prepare(new FakeTrivy({ [MIRROR]: ['ok'] }), { cacheDir: path.join(dir, 'elsewhere') })
    const second = new FakeTrivy({ [MIRROR]: ['ok'] })
    const db = await prepare(second)
    expect(db).toMatchObject({ source: 'download', restoredKey: undefined })
    expect(second.calls).toHaveLength(1)
  })

  it("refreshes yesterday's DB and saves it under today's key", async () => {
    await prepare(new FakeTrivy({ [MIRROR]: ['ok'] }), { now: new Date('2026-11-20T10:00:00Z') })
    freshRunner()
    const today = new FakeTrivy({ [MIRROR]: ['ok'] })
    const db = await prepare(today)
    expect(db).toMatchObject({
      source: 'download',
      restoredKey: 'trivy-db-2026-11-20',
      saved: true
    })
    expect(today.calls).toHaveLength(1)
    expect(cache.keys().sort()).toEqual(['trivy-db-2026-11-20', 'trivy-db-2026-11-21'])
  })

  it("scans with yesterday's DB, with a warning, when no mirror answers", async () => {
    await prepare(new FakeTrivy({ [MIRROR]: ['ok'] }), { now: new Date('2026-11-20T10:00:00Z') })
    freshRunner()
    const db = await prepare(new FakeTrivy({}))
    expect(db).toMatchObject({
      source: 'stale-cache',
      restoredKey: 'trivy-db-2026-11-20',
      saved: false
    })
    expect(reporter.warnings[0]).toMatch(
      /^Could not refresh the Trivy DB from mirror\.gcr\.io\/aquasec\/trivy-db:2 or ghcr\.io\/aquasecurity\/trivy-db:2; scanning with the DB restored from the GitHub cache service stand-in \(test\/stand-ins\) \(key trivy-db-2026-11-20\)/
    )
  })

  it('treats an unreachable cache as a warning, never a failure', async () => {
    cache.unreachable = true
    const db = await prepare(new FakeTrivy({ [MIRROR]: ['ok'] }))
    expect(db).toMatchObject({ source: 'download', saved: false })
    expect(reporter.warnings).toEqual([
      'Could not restore the Trivy DB from the GitHub cache service stand-in (test/stand-ins) (Cache service responded with 503 (stand-in set to unreachable)); downloading it instead.',
      'Could not save the Trivy DB to the GitHub cache service stand-in (test/stand-ins) (Cache service responded with 503 (stand-in set to unreachable)); the next run downloads it again.'
    ])
  })
})
