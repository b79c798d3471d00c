/**
 * The scan stage on real images of the lab's Docker engine, with the stand-in Trivy
 * (test/stand-ins/trivy: real package listing through `docker run ... dpkg-query`, a fake DB)
 * and the stand-in for GitHub's cache service. Real Trivy is not available on this machine.
 *
 * The expected findings are computed here on their own: this file lists the images' packages
 * with dpkg-query and compares versions with the host's dpkg, against the same stand-in DB.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Writable } from 'node:stream'
import {
  LocalExecutor,
  type CommandResult,
  type Executor,
  type RunOptions
} from '../src/exec/executor.js'
import { MemoryReporter } from '../src/report/reporter.js'
import { dbCacheKey } from '../src/scan/db.js'
import { GivenTrivy } from '../src/scan/install.js'
import { SEVERITIES, emptyCounts, type Severity } from '../src/scan/report.js'
import {
  ScanError,
  ScanGateError,
  scanStage,
  type ScanOptions,
  type ScanResult,
  type ScanTarget
} from '../src/scan/scan.js'
import { GitHubCacheServiceStandIn } from '../test/stand-ins/github-cache-service.js'
import { ROOT, docker, labEnv } from './lab.js'

const STAND_IN = path.join(ROOT, 'test', 'stand-ins', 'trivy')
const DB = JSON.parse(
  fs.readFileSync(path.join(ROOT, 'test', 'stand-ins', 'trivy-db.json'), 'utf8')
) as {
  vulnerabilities: {
    id: string
    package: string
    severity: Severity
    fixedVersion: string | null
    affectedFrom?: string
  }[]
}

interface Expected {
  ids: string[]
  counts: Record<Severity, number>
  unfixed: number
}

function dpkgLessThan(a: string, b: string): boolean {
  return spawnSync('dpkg', ['--compare-versions', a, 'lt', b]).status === 0
}

/** What the stand-in DB implies for the packages that are really in the image. */
function expectedFor(ref: string): Expected {
  const listing = docker([
    'run',
    '--rm',
    '--entrypoint',
    'dpkg-query',
    ref,
    '-W',
    '-f',
    '${Package}\t${Version}\n'
  ])
  expect(listing.status).toBe(0)
  const installed = new Map(
    listing.stdout
      .split('\n')
      .filter(Boolean)
      .map(line => line.split('\t') as [string, string])
  )
  const counts = emptyCounts()
  const ids: string[] = []
  let unfixed = 0
  for (const entry of DB.vulnerabilities) {
    const version = installed.get(entry.package)
    if (version === undefined) continue
    if (entry.affectedFrom && dpkgLessThan(version, entry.affectedFrom)) continue
    if (entry.fixedVersion && !dpkgLessThan(version, entry.fixedVersion)) continue
    ids.push(entry.id)
    counts[entry.severity]++
    if (!entry.fixedVersion) unfixed++
  }
  return { ids: ids.sort(), counts, unfixed }
}

/**
 * LocalExecutor that notes when each image scan starts and ends, and hands the stand-in its
 * fault switches (TRIVY_STANDIN_*) through the command's environment: under jest, changes to
 * process.env do not reach child processes.
 */
class TimedExecutor implements Executor {
  readonly scans: { ref: string; start: number; end: number }[] = []
  readonly calls: string[][] = []
  private readonly local = new LocalExecutor(new Writable({ write: (_c, _e, done) => done() }))

  constructor(private readonly env: Record<string, string> = {}) {}

  async run(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
    this.calls.push(argv)
    const start = Date.now()
    const result = await this.local.run(argv, { ...options, env: { ...options.env, ...this.env } })
    if (argv[1] === 'image' && !argv.includes('--download-db-only')) {
      this.scans.push({ ref: argv[argv.length - 1] as string, start, end: Date.now() })
    }
    return result
  }
}

describe('scan stage on lab images (stand-in Trivy)', () => {
  const lab = labEnv()
  const postgres = lab.POSTGRES_IMAGE as string
  const redis = lab.REDIS_IMAGE as string
  const targets: ScanTarget[] = [
    { service: 'postgres', ref: postgres },
    { service: 'redis', ref: redis }
  ]
  let dir: string
  let cache: GitHubCacheServiceStandIn
  let expected: Record<string, Expected>
  let cacheEvents: string[]

  beforeAll(() => {
    for (const ref of [postgres, redis]) {
      expect(docker(['image', 'inspect', ref]).status).toBe(0)
    }
    expected = { postgres: expectedFor(postgres), redis: expectedFor(redis) }
    // What the stand-in DB is built to give the lab images: a CRITICAL only in postgres.
    expect(expected.postgres?.counts.CRITICAL).toBeGreaterThan(0)
    expect(expected.redis?.counts.CRITICAL).toBe(0)
    expect(expected.redis?.counts.HIGH).toBeGreaterThan(0)
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scan-e2e-'))
    cacheEvents = []
    cache = new GitHubCacheServiceStandIn(path.join(dir, 'cache-service'), e =>
      cacheEvents.push(`${e.op} ${e.key}`)
    )
  })
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

  const options = (name: string, over: Partial<ScanOptions> = {}): ScanOptions => ({
    severities: ['CRITICAL', 'HIGH'],
    ignoreUnfixed: false,
    ignoreFile: undefined,
    exitCodes: { default: 1, perService: {} },
    parallel: 2,
    trivyVersion: 'path',
    dbRepositories: ['mirror.gcr.io/aquasec/trivy-db:2', 'ghcr.io/aquasecurity/trivy-db:2'],
    sarifDir: path.join(dir, name, 'stack-deploy-sarif'),
    workingDirectory: path.join(dir, name),
    // one folder for every run, as RUNNER_TEMP is on a runner: @actions/cache keys entries by path
    cacheDir: path.join(dir, 'runner-temp', 'trivy-cache'),
    ...over
  })

  async function scan(
    name: string,
    over: Partial<ScanOptions> = {},
    {
      list = targets,
      store = cache,
      env = {}
    }: { list?: ScanTarget[]; store?: GitHubCacheServiceStandIn; env?: Record<string, string> } = {}
  ): Promise<{
    result?: ScanResult
    error?: Error
    executor: TimedExecutor
    reporter: MemoryReporter
    sleeps: number[]
  }> {
    fs.mkdirSync(path.join(dir, name), { recursive: true })
    // each run is a new job on a fresh runner: nothing left from the last one but the cache
    fs.rmSync(path.join(dir, 'runner-temp'), { recursive: true, force: true })
    const executor = new TimedExecutor(env)
    const reporter = new MemoryReporter()
    const sleeps: number[] = []
    try {
      const result = await scanStage(list, options(name, over), {
        executor,
        reporter,
        cache: store,
        installer: new GivenTrivy(STAND_IN, executor),
        sleep: async ms => {
          sleeps.push(ms)
        }
      })
      return { result, executor, reporter, sleeps }
    } catch (error) {
      return { error: error as Error, executor, reporter, sleeps }
    }
  }

  it('scans two images in parallel, writes JSON and SARIF, and fails the gate after saving the DB', async () => {
    const { error, executor, reporter } = await scan('run1')
    expect(error).toBeInstanceOf(ScanGateError)
    const result = (error as ScanGateError).result

    // the two scans overlapped
    expect(executor.scans).toHaveLength(2)
    const [a, b] = executor.scans as [(typeof executor.scans)[0], (typeof executor.scans)[0]]
    expect(a.start < b.end && b.start < a.end).toBe(true)

    // counts and findings are what the stand-in DB implies for the images' real packages
    for (const service of result.services) {
      const want = expected[service.service] as Expected
      expect([service.service, service.counts]).toEqual([service.service, want.counts])
      const report = JSON.parse(fs.readFileSync(service.reportPath, 'utf8'))
      expect(report.SchemaVersion).toBe(2)
      expect(report.ArtifactType).toBe('container_image')
      expect(report.ArtifactName).toBe(service.ref)
      const ids = report.Results.flatMap((r: { Vulnerabilities?: { VulnerabilityID: string }[] }) =>
        (r.Vulnerabilities ?? []).map(v => v.VulnerabilityID)
      )
      expect(ids.sort()).toEqual(want.ids)
      const sarif = JSON.parse(fs.readFileSync(service.sarifPath, 'utf8'))
      expect(sarif.version).toBe('2.1.0')
      expect(sarif.runs[0].tool.driver.name).toBe('Trivy')
      expect(sarif.runs[0].automationDetails.id).toBe(`stack-deploy/${service.service}/`)
      expect(sarif.runs[0].results.map((r: { ruleId: string }) => r.ruleId).sort()).toEqual(
        want.ids
      )
      expect(path.basename(service.sarifPath)).toBe(`${service.service}.sarif`)
    }

    // the one-line gate message, built from the expectation
    const describe = (c: Record<Severity, number>) =>
      (['CRITICAL', 'HIGH'] as Severity[])
        .filter(s => c[s] > 0)
        .map(s => `${c[s]} ${s}`)
        .join(', ')
    expect((error as Error).message).toBe(
      `Scan gate failed: postgres has ${describe(expected.postgres!.counts)}; redis has ${describe(expected.redis!.counts)} (threshold CRITICAL,HIGH); see the job summary`
    )

    // the DB was saved to the cache before the scans, although the gate failed
    expect(cache.keys()).toEqual([dbCacheKey(new Date())])
    expect(result.db).toMatchObject({
      source: 'download',
      saved: true,
      repository: 'mirror.gcr.io/aquasec/trivy-db:2'
    })
    const saved = cache.events.find(e => e.op === 'save')!
    expect(saved.at).toBeLessThanOrEqual(Math.min(...executor.scans.map(s => s.start)))

    // job summary and one annotation per failing service
    for (const sev of SEVERITIES) expect(reporter.summary).toContain(sev)
    expect(reporter.summary).toContain(`| postgres | \`${postgres}\` |`)
    expect(reporter.errors).toHaveLength(2)
    expect(reporter.errors[0]).toContain('STANDIN-2026-0002 libpq5')
  })

  it('uses the cached DB the next time, and passes a threshold above what redis has', async () => {
    // any download attempt would now fail: the DB must come from the cache
    const { error, executor } = await scan(
      'run2',
      { severities: ['CRITICAL'] },
      { env: { TRIVY_STANDIN_FAIL_DB: 'error:*' } }
    )
    expect(executor.calls.filter(argv => argv.includes('--download-db-only'))).toEqual([])
    expect(error).toBeInstanceOf(ScanGateError)
    const result = (error as ScanGateError).result
    expect(result.db.source).toBe('cache')
    expect(result.services.map(s => [s.service, s.verdict])).toEqual([
      ['postgres', 'fail'],
      ['redis', 'pass']
    ])
    expect(error?.message).toBe(
      `Scan gate failed: postgres has ${expected.postgres!.counts.CRITICAL} CRITICAL (threshold CRITICAL); see the job summary`
    )
  })

  it('passes when the failing service has exit code 0, and reports it', async () => {
    const { result, error, reporter } = await scan('run3', {
      severities: ['CRITICAL'],
      exitCodes: { default: 1, perService: { postgres: 0 } }
    })
    expect(error).toBeUndefined()
    expect(result?.passed).toBe(true)
    expect(result?.services.map(s => [s.service, s.verdict])).toEqual([
      ['postgres', 'report-only'],
      ['redis', 'pass']
    ])
    expect(reporter.summary).toContain('⚠️ report only (exit code 0)')
  })

  it('ignores unfixed findings and the .trivyignore of the working directory', async () => {
    fs.mkdirSync(path.join(dir, 'run4'), { recursive: true })
    fs.writeFileSync(
      path.join(dir, 'run4', '.trivyignore'),
      '# accepted for the test\nSTANDIN-2026-0002 exp:2999-01-01\n'
    )
    const { result, error } = await scan('run4', { severities: ['CRITICAL'], ignoreUnfixed: true })
    expect(error).toBeUndefined()
    const pg = result!.services.find(s => s.service === 'postgres')!
    expect(pg.counts.CRITICAL).toBe(0)
    expect(pg.ignored).toEqual({ ignoreFile: 1, unfixed: expected.postgres!.unfixed })
    // the SARIF leaves out the accepted finding; the JSON report keeps it
    const sarif = JSON.parse(fs.readFileSync(pg.sarifPath, 'utf8'))
    expect(sarif.runs[0].results.map((r: { ruleId: string }) => r.ruleId)).not.toContain(
      'STANDIN-2026-0002'
    )
    expect(fs.readFileSync(pg.reportPath, 'utf8')).toContain('STANDIN-2026-0002')
  })

  it('fails on a broken JSON report, naming the service and the file', async () => {
    const { error } = await scan('run5', {}, { env: { TRIVY_STANDIN_BROKEN_JSON: redis } })
    expect(error).toBeInstanceOf(ScanError)
    const reportPath = path.join(dir, 'run5', 'stack-deploy-sarif', 'redis.trivy.json')
    expect(error?.message).toContain(
      `The Trivy report for service "redis" is not valid JSON: ${reportPath} (`
    )
    expect(error?.message.split('\n')).toHaveLength(1)
  })

  it('fails clearly on an image that is not there', async () => {
    const missing = `${lab.LAB_REGISTRY}/lab/no-such-image:0`
    const { error } = await scan('run6', {}, { list: [{ service: 'ghost', ref: missing }] })
    expect(error).toBeInstanceOf(ScanError)
    expect(error?.message).toMatch(
      new RegExp(
        `^Trivy could not scan service "ghost" \\(image ${missing.replace(/[.]/g, '\\.')}\\): exit 1; the image is neither in the local Docker engine`
      )
    )
    expect(error?.message).toContain('unable to find the specified image')
  })

  it('retries a rate-limited DB download with backoff, through the real (stand-in) process', async () => {
    const fresh = new GitHubCacheServiceStandIn(path.join(dir, 'cache-service-2'))
    const { error, sleeps, executor } = await scan(
      'run7',
      { severities: ['CRITICAL'], exitCodes: { default: 0, perService: {} } },
      { store: fresh, env: { TRIVY_STANDIN_FAIL_DB: '429:2' } }
    )
    expect(error).toBeUndefined()
    expect(sleeps).toEqual([5000, 10000])
    expect(executor.calls.filter(argv => argv.includes('--download-db-only'))).toHaveLength(3)
    expect(fresh.keys()).toEqual([dbCacheKey(new Date())])
  })
})
