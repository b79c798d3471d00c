/**
 * scanStage end to end without Docker: the stand-in trivy (test/stand-ins/trivy) answers
 * --version, --download-db-only and convert for real; only `trivy image <ref>`, which needs a
 * Docker engine, is answered by this file from fixture reports (the e2e test runs it for real).
 */
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
import { MemoryReporter, type AnnotationWhere } from '../src/report/reporter.js'
import { GivenTrivy } from '../src/scan/install.js'
import {
  ScanError,
  ScanGateError,
  ScanOptionError,
  scanStage,
  targetsFromImages,
  targetsFromRefs,
  type ScanOptions,
  type ScanTarget
} from '../src/scan/scan.js'
import { GitHubCacheServiceStandIn } from '../test/stand-ins/github-cache-service.js'

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const STAND_IN = path.join(ROOT, 'test', 'stand-ins', 'trivy')
const FIXTURES = path.join(ROOT, '__tests__', 'fixtures', 'scan')

type ScanScript = { report: string } | { broken: string } | { exitCode: number; stderr: string }

/** Runs the stand-in for everything but image scans, which come from `script`. */
class HybridExecutor implements Executor {
  readonly events: string[]
  readonly calls: string[][] = []
  active = 0
  maxActive = 0
  private readonly local = new LocalExecutor(new Writable({ write: (_c, _e, done) => done() }))

  constructor(
    private readonly script: Record<string, ScanScript>,
    events: string[],
    /** Hold each scan until this many run at once (or 5 s pass): a fixed wait is flaky under load. */
    private readonly holdUntilActive = 1
  ) {
    this.events = events
  }

  async run(argv: string[], options?: RunOptions): Promise<CommandResult> {
    this.calls.push(argv)
    const isScan = argv[1] === 'image' && !argv.includes('--download-db-only')
    if (!isScan) {
      if (argv.includes('--download-db-only')) this.events.push('download')
      if (argv[1] === 'convert')
        this.events.push(`convert ${path.basename(argv[argv.length - 1] as string)}`)
      return this.local.run(argv, options)
    }
    const ref = argv[argv.length - 1] as string
    const output = argv[argv.indexOf('--output') + 1] as string
    this.events.push(`scan ${ref}`)
    this.active++
    this.maxActive = Math.max(this.maxActive, this.active)
    const until = Date.now() + 5000
    do await new Promise(resolve => setTimeout(resolve, 25))
    while (this.maxActive < this.holdUntilActive && Date.now() < until)
    this.active--
    const step = this.script[ref]
    if (!step) throw new Error(`no script for ${ref}`)
    if ('exitCode' in step) {
      return { argv, exitCode: step.exitCode, stdout: '', stderr: step.stderr, durationMs: 1 }
    }
    const text = fs.readFileSync(
      path.join(FIXTURES, 'report' in step ? step.report : step.broken),
      'utf8'
    )
    fs.writeFileSync(output, 'broken' in step ? text.slice(0, text.length / 2) : text)
    return { argv, exitCode: 0, stdout: '', stderr: '', durationMs: 1 }
  }
}

/** Keeps annotation titles too, which MemoryReporter drops. */
class RecordingReporter extends MemoryReporter {
  readonly annotations: { level: string; message: string; title?: string }[] = []
  override error(message: string, where?: AnnotationWhere): void {
    super.error(message)
    this.annotations.push({ level: 'error', message, title: where?.title })
  }
  override warning(message: string, where?: AnnotationWhere): void {
    super.warning(message)
    if (where?.title) this.annotations.push({ level: 'warning', message, title: where.title })
  }
}

const API = 'registry.example.com/shop/api:1.4.2'
const WEB = 'registry.example.com/shop/web:1.4.2'

describe('scanStage', () => {
  let dir: string
  let events: string[]
  let cache: GitHubCacheServiceStandIn
  let reporter: RecordingReporter

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scan-stage-'))
    fs.mkdirSync(path.join(dir, 'project'))
    events = []
    cache = new GitHubCacheServiceStandIn(path.join(dir, 'cache-service'), e =>
      events.push(`cache ${e.op} ${e.key}`)
    )
    reporter = new RecordingReporter()
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  const options = (over: Partial<ScanOptions> = {}): ScanOptions => ({
    severities: ['CRITICAL', 'HIGH'],
    ignoreUnfixed: false,
    ignoreFile: undefined,
    exitCodes: { default: 1, perService: {} },
    parallel: 2,
    trivyVersion: 'path',
    dbRepositories: ['mirror.gcr.io/aquasec/trivy-db:2', 'ghcr.io/aquasecurity/trivy-db:2'],
    sarifDir: path.join(dir, 'project', 'stack-deploy-sarif'),
    workingDirectory: path.join(dir, 'project'),
    ...over
  })

  const run = (
    targets: ScanTarget[],
    script: Record<string, ScanScript>,
    over: Partial<ScanOptions> = {}
  ) => {
    const executor = new HybridExecutor(script, events, over.parallel ?? 1)
    const promise = scanStage(targets, options(over), {
      executor,
      reporter,
      cache,
      installer: new GivenTrivy(STAND_IN, executor),
      sleep: async () => {},
      now: () => new Date('2026-11-21T12:00:00Z')
    })
    return { executor, promise }
  }

  const two: ScanTarget[] = [
    { service: 'api', ref: API },
    { service: 'web', ref: WEB }
  ]
  const twoScripts = {
    [API]: { report: 'report-api.json' },
    [WEB]: { report: 'report-clean.json' }
  }

  it('writes everything, saves the DB before scanning, then fails the gate in one line', async () => {
    const { promise } = run(two, twoScripts)
    const error = await promise.catch(e => e)
    expect(error).toBeInstanceOf(ScanGateError)
    expect(error.message).toBe(
      'Scan gate failed: api has 2 CRITICAL, 3 HIGH (threshold CRITICAL,HIGH); see the job summary'
    )

    // the DB: downloaded once, saved to the cache before the first image is scanned
    expect(events.slice(0, 3)).toEqual([
      'cache restore trivy-db-2026-11-21',
      'download',
      'cache save trivy-db-2026-11-21'
    ])
    expect(events.filter(e => e === 'download')).toHaveLength(1)
    expect(events.slice(3).every(e => e.startsWith('scan ') || e.startsWith('convert '))).toBe(true)

    // reports and SARIF, one per service, with the service's category
    const result = (error as ScanGateError).result
    const sarifDir = path.join(dir, 'project', 'stack-deploy-sarif')
    expect(fs.readdirSync(sarifDir).sort()).toEqual([
      'api.sarif',
      'api.trivy.json',
      'web.sarif',
      'web.trivy.json'
    ])
    for (const service of ['api', 'web']) {
      const sarif = JSON.parse(fs.readFileSync(path.join(sarifDir, `${service}.sarif`), 'utf8'))
      expect(sarif.version).toBe('2.1.0')
      expect(sarif.runs[0].tool.driver.name).toBe('Trivy')
      expect(sarif.runs[0].automationDetails).toEqual({ id: `stack-deploy/${service}/` })
    }
    const apiSarif = JSON.parse(fs.readFileSync(path.join(sarifDir, 'api.sarif'), 'utf8'))
    // every finding of the JSON report, the duplicated libc6 entry once (as Trivy's filter does)
    expect(apiSarif.runs[0].results).toHaveLength(8)

    expect(result.services.map(s => [s.service, s.verdict])).toEqual([
      ['api', 'fail'],
      ['web', 'pass']
    ])
    expect(result.failing).toEqual(['api'])
    expect(result.services[0]?.worst.map(f => f.id)).toEqual([
      'CVE-2099-1001',
      'CVE-2099-1004',
      'CVE-2099-1002',
      'CVE-2099-2001',
      'CVE-2099-1003'
    ])

    // summary, one annotation for the failing service, outputs
    expect(reporter.summary).toContain(
      '| api | `registry.example.com/shop/api:1.4.2` | **2** | **3** | 1 | 1 | 1 | 0 | ❌ fail |'
    )
    expect(reporter.summary).toContain(
      '| web | `registry.example.com/shop/web:1.4.2` | 0 | 0 | 0 | 0 | 0 | 0 | ✅ pass |'
    )
    expect(reporter.summary).toContain(
      'Trivy 0.74.0 · DB downloaded from mirror.gcr.io/aquasec/trivy-db:2'
    )
    expect(reporter.annotations).toHaveLength(1)
    expect(reporter.annotations[0]).toMatchObject({
      level: 'error',
      title: 'Scan gate failed: api'
    })
    expect(reporter.annotations[0]?.message).toContain(
      '- CVE-2099-1001 libssl3 3.0.11-1~deb12u2 → 3.0.13-1~deb12u1 (CRITICAL)'
    )
    const output = JSON.parse(reporter.outputs.scan as string)
    expect(output.passed).toBe(false)
    expect(output.services.api.counts).toEqual({
      CRITICAL: 2,
      HIGH: 3,
      MEDIUM: 1,
      LOW: 1,
      UNKNOWN: 1
    })
    expect(reporter.outputs['sarif-dir']).toBe(sarifDir)
  })

  // Fifteen scans, each converted by the stand-in trivy (a process): slow on a busy machine.
  it('scans at most `parallel` images at once', async () => {
    const refs = ['a', 'b', 'c', 'd', 'e'].map(n => `registry.example.com/shop/${n}:1`)
    const script = Object.fromEntries(refs.map(ref => [ref, { report: 'report-clean.json' }]))
    for (const parallel of [1, 2, 3]) {
      const { executor, promise } = run(targetsFromRefs(refs), script, { parallel })
      const result = await promise
      expect(result.passed).toBe(true)
      expect(executor.maxActive).toBe(parallel)
    }
  }, 30_000)

  it('reports but never fails a service with exit code 0', async () => {
    const { promise } = run(two, twoScripts, { exitCodes: { default: 1, perService: { api: 0 } } })
    const result = await promise
    expect(result.passed).toBe(true)
    expect(result.services[0]?.verdict).toBe('report-only')
    expect(reporter.annotations).toEqual([
      expect.objectContaining({ level: 'warning', title: 'Scan findings (report only): api' })
    ])
    expect(reporter.summary).toContain('⚠️ report only (exit code 0)')
  })

  it('passes with a threshold above what was found', async () => {
    const { promise } = run(
      [{ service: 'api', ref: API }],
      { [API]: { report: 'report-api.json' } },
      {
        severities: ['CRITICAL'],
        ignoreUnfixed: true,
        ignoreFile: path.join(FIXTURES, '.trivyignore')
      }
    )
    // CRITICAL: CVE-2099-1001 is in the .trivyignore, CVE-2099-1004 has no fix
    const result = await promise
    expect(result.passed).toBe(true)
    expect(result.services[0]?.counts).toEqual({
      CRITICAL: 0,
      HIGH: 2,
      MEDIUM: 0,
      LOW: 0,
      UNKNOWN: 1
    })
    expect(result.services[0]?.ignored).toEqual({ ignoreFile: 2, unfixed: 3 })
    // the expired entry is called out
    expect(reporter.warnings).toContain(
      `CVE-2099-1002 (expired 2026-01-01) in ${path.join(FIXTURES, '.trivyignore')} no longer applies; fix the finding or renew the expiry date`
    )
  })

  it('applies the .trivyignore of the working directory to the gate and to the SARIF, not to the JSON', async () => {
    fs.writeFileSync(path.join(dir, 'project', '.trivyignore'), 'CVE-2099-1001\nCVE-2099-1004\n')
    const { promise } = run([{ service: 'api', ref: API }], {
      [API]: { report: 'report-api.json' }
    })
    const error = await promise.catch(e => e)
    expect(error.message).toBe(
      'Scan gate failed: api has 3 HIGH (threshold CRITICAL,HIGH); see the job summary'
    )
    const sarifDir = path.join(dir, 'project', 'stack-deploy-sarif')
    const sarif = JSON.parse(fs.readFileSync(path.join(sarifDir, 'api.sarif'), 'utf8'))
    const ruleIds = sarif.runs[0].results.map((r: { ruleId: string }) => r.ruleId)
    expect(ruleIds).not.toContain('CVE-2099-1001')
    expect(ruleIds).not.toContain('CVE-2099-1004')
    const report = fs.readFileSync(path.join(sarifDir, 'api.trivy.json'), 'utf8')
    expect(report).toContain('CVE-2099-1001')
    expect(reporter.summary).toContain('ignore file: `.trivyignore` (2 rules)')
  })

  it('fails on a broken report naming the service and the file, and still summarises the others', async () => {
    const { promise } = run(two, {
      [API]: { broken: 'report-api.json' },
      [WEB]: { report: 'report-clean.json' }
    })
    const error = await promise.catch(e => e)
    expect(error).toBeInstanceOf(ScanError)
    const reportPath = path.join(dir, 'project', 'stack-deploy-sarif', 'api.trivy.json')
    expect(error.message).toMatch(
      new RegExp(
        `^The Trivy report for service "api" is not valid JSON: ${reportPath.replace(/[.]/g, '\\.')} \\(`
      )
    )
    expect(error.message.split('\n')).toHaveLength(1)
    expect(reporter.summary).toContain('| web |')
    expect(reporter.summary).toContain(
      '**Not scanned:** api (`registry.example.com/shop/api:1.4.2`)'
    )
  })

  it('fails when Trivy exits non-zero, naming the service, the image and the tail of stderr', async () => {
    const stderr = [
      '2026-11-21T12:00:00Z\tINFO\t[vulndb] skipping',
      '2026-11-21T12:00:01Z\tFATAL\tFatal error\trun error: image scan error: scan error: unable to initialize a scan service: unable to initialize an image scan service: unable to find the specified image "registry.example.com/shop/api:1.4.2" in ["docker" "containerd" "podman" "remote"]'
    ].join('\n')
    const { promise } = run([{ service: 'api', ref: API }], { [API]: { exitCode: 1, stderr } })
    const error = await promise.catch(e => e)
    expect(error).toBeInstanceOf(ScanError)
    expect(error.message).toBe(
      `Trivy could not scan service "api" (image ${API}): exit 1; the image is neither in the local Docker engine nor in a registry Trivy can read; build it first (command: build) or pass the \`images\` output of the build step\n${stderr}`
    )
  })

  it('names every service that could not be scanned', async () => {
    const { promise } = run(two, {
      [API]: { exitCode: 1, stderr: 'FATAL boom' },
      [WEB]: { broken: 'report-clean.json' }
    })
    const error = await promise.catch(e => e)
    expect(error.message.split('\n')[0]).toBe('Trivy could not scan 2 services:')
    expect(error.failures.map((f: { service: string }) => f.service)).toEqual(['api', 'web'])
  })

  it.each<[string, ScanTarget[], Partial<ScanOptions>, string]>([
    ['no targets', [], {}, "Scan option 'images': nothing to scan"],
    [
      'a target without a ref',
      [{ service: 'api', ref: '' }],
      {},
      `Scan option 'images': service "api" has no image ref to scan`
    ],
    [
      'a duplicated service',
      [
        { service: 'api', ref: 'a:1' },
        { service: 'api', ref: 'b:1' }
      ],
      {},
      'service "api" is listed twice'
    ],
    [
      'an unknown severity',
      [{ service: 'api', ref: 'a:1' }],
      { severities: ['SEVERE'] },
      "Scan option 'severity': unknown severity"
    ],
    ['parallel 0', [{ service: 'api', ref: 'a:1' }], { parallel: 0 }, "Scan option 'parallel'"],
    [
      'a bad trivy version',
      [{ service: 'api', ref: 'a:1' }],
      { trivyVersion: 'latest' },
      "Scan option 'trivy-version'"
    ],
    [
      'a missing ignore file',
      [{ service: 'api', ref: 'a:1' }],
      { ignoreFile: 'nope/.trivyignore' },
      "Scan option 'ignore-file': The ignore file"
    ]
  ])('refuses %s before running anything', async (_name, targets, over, message) => {
    const { executor, promise } = run(targets, {}, over)
    const error = await promise.catch(e => e)
    expect(error).toBeInstanceOf(ScanOptionError)
    expect(error.message).toContain(message)
    expect(executor.calls).toEqual([])
  })

  it('keeps the Trivy cache in one folder on a runner, so that the next job restores it', async () => {
    const saved = process.env.RUNNER_TEMP
    process.env.RUNNER_TEMP = path.join(dir, 'runner-temp')
    try {
      const reportOnly: Partial<ScanOptions> = { exitCodes: { default: 0, perService: {} } }
      await run(two, twoScripts, reportOnly).promise
      expect(events).toContain('download')
      expect(fs.existsSync(path.join(dir, 'runner-temp', 'stack-deploy-trivy-cache', 'db'))).toBe(
        true
      )
      // the next job: a fresh runner, the same path
      fs.rmSync(path.join(dir, 'runner-temp'), { recursive: true })
      events.length = 0
      const result = await run(two, twoScripts, reportOnly).promise
      expect(events).not.toContain('download')
      expect(result.db).toMatchObject({ source: 'cache', restoredKey: 'trivy-db-2026-11-21' })
    } finally {
      if (saved === undefined) delete process.env.RUNNER_TEMP
      else process.env.RUNNER_TEMP = saved
    }
  })

  it('warns about exit codes for services that are not scanned', async () => {
    const { promise } = run(
      [{ service: 'web', ref: WEB }],
      { [WEB]: { report: 'report-clean.json' } },
      {
        exitCodes: { default: 1, perService: { wbe: 0 } }
      }
    )
    await promise
    expect(reporter.warnings).toContain(
      'Scan exit codes are set for wbe, which is not scanned; check the service names'
    )
  })
})

describe('scan targets', () => {
  it('come from the build stage images map', () => {
    const images = {
      api: { image: 'r/api', tags: ['1'], digest: '', ref: 'r/api:1' },
      web: { image: 'r/web', tags: ['1'], digest: 'sha256:x', ref: 'r/web@sha256:x' }
    }
    expect(targetsFromImages(images)).toEqual([
      { service: 'api', ref: 'r/api:1' },
      { service: 'web', ref: 'r/web@sha256:x' }
    ])
    expect(targetsFromImages(images, ['web'])).toEqual([{ service: 'web', ref: 'r/web@sha256:x' }])
    expect(() => targetsFromImages(images, ['db'])).toThrow(
      `Scan option 'images': no image for service "db"; the images map has: api, web`
    )
  })

  it('come from bare refs, named after the repository', () => {
    expect(
      targetsFromRefs([
        '198.18.47.1:5000/lab/postgres:16',
        'redis:7',
        'other/redis@sha256:abc',
        'localhost:5000/x'
      ])
    ).toEqual([
      { service: 'postgres', ref: '198.18.47.1:5000/lab/postgres:16' },
      { service: 'redis', ref: 'redis:7' },
      { service: 'redis-2', ref: 'other/redis@sha256:abc' },
      { service: 'x', ref: 'localhost:5000/x' }
    ])
  })
})
