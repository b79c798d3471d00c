/**
 * Failure diagnostics on the lab's real Docker engine: a service that turns unhealthy, a job that
 * exits 3 and a service that never got a container are collected with the real LocalExecutor,
 * rendered, and packed into a log bundle that is unpacked again with tar.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Writable } from 'node:stream'
import { LocalExecutor, type Executor } from '../src/exec/executor.js'
import {
  annotationFor,
  collectDiagnostics,
  renderDiagnosticsMarkdown,
  smokeFailureMessage,
  writeLogBundle,
  type ServiceDiagnostics
} from '../src/smoke/diagnostics.js'
import { ROOT, docker, labEnv, leftovers } from './lab.js'

const FIXTURE = path.join(ROOT, '__tests__', 'fixtures', 'diagnostics')
const SECRET = 'e2e-secret-token-value'

interface PsEntry {
  Service: string
  State: string
  Health: string
  ExitCode: number
}

function ps(base: string[], env: Record<string, string>): PsEntry[] {
  const run = docker([...base.slice(1), 'ps', '--all', '--format', 'json'], env)
  const text = run.stdout.trim()
  if (run.status !== 0 || text === '') return []
  if (text.startsWith('[')) return JSON.parse(text) as PsEntry[]
  return text.split('\n').map(line => JSON.parse(line) as PsEntry)
}

describe('failure diagnostics against a real stack', () => {
  const project = `e2e-diag-${randomBytes(3).toString('hex')}`
  const base = ['docker', 'compose', '-f', path.join(FIXTURE, 'compose.yaml'), '-p', project]
  const local = new LocalExecutor(new Writable({ write: (_c, _e, done) => done() }))
  // compose interpolates the file for every command, ps and logs included; jest gives tests a
  // copy of process.env that child processes do not see, so the variable goes in explicitly.
  const env = { LAB_DEBIAN_IMAGE: labEnv().LAB_DEBIAN_IMAGE as string }
  const executor: Executor = {
    run: (argv, options) => local.run(argv, { ...options, env: { ...options?.env, ...env } })
  }
  const failures = [
    { service: 'sick', reason: 'healthcheck reports unhealthy' },
    { service: 'crash', reason: 'container exited with code 3' },
    { service: 'never', reason: 'no container yet' }
  ]
  let dir: string
  let diagnostics: ServiceDiagnostics[]

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diagnostics-e2e-'))
    const up = docker([...base.slice(1), 'up', '-d', 'sick', 'crash'], env)
    if (up.status !== 0) throw new Error(`compose up failed: ${up.stderr}`)
    const deadline = Date.now() + 90_000
    for (;;) {
      const entries = ps(base, env)
      const sick = entries.find(e => e.Service === 'sick')
      const crash = entries.find(e => e.Service === 'crash')
      if (sick?.Health === 'unhealthy' && crash?.State === 'exited') break
      if (Date.now() > deadline) {
        throw new Error(`the stack never reached unhealthy/exited: ${JSON.stringify(entries)}`)
      }
      await new Promise(resolve => setTimeout(resolve, 500))
    }
    diagnostics = await collectDiagnostics(failures, base, {
      executor,
      cwd: FIXTURE,
      logLines: 4
    })
  })

  afterAll(() => {
    try {
      const down = docker(
        [...base.slice(1), 'down', '-v', '--remove-orphans', '--timeout', '5'],
        env
      )
      expect(down.status).toBe(0)
      expect(leftovers(project)).toEqual([])
    } finally {
      if (dir) fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('the unhealthy service: state, failing health checks and its output (secrets blanked)', () => {
    const sick = diagnostics.find(d => d.service === 'sick') as ServiceDiagnostics
    expect(sick.notes).toEqual([])
    expect(sick.containers).toHaveLength(1)
    const [container] = sick.containers
    expect(container?.name).toBe(`${project}-sick-1`)
    expect(container?.service).toBe('sick')
    expect(container?.state).toMatchObject({
      status: 'running',
      exitCode: 0,
      oomKilled: false,
      restartCount: 0
    })
    expect(container?.health?.status).toBe('unhealthy')
    expect(container?.health?.failingStreak).toBeGreaterThanOrEqual(2)
    const log = container?.health?.log ?? []
    expect(log.length).toBeGreaterThanOrEqual(2)
    expect(log.length).toBeLessThanOrEqual(5)
    for (const check of log) {
      expect(check.exitCode).toBe(1)
      expect(check.output).toBe('')
      expect(Date.parse(check.end)).toBeGreaterThanOrEqual(Date.parse(check.start))
    }
    // stdout and stderr of the container, in compose's prefixed form, without colour codes.
    const lines = sick.logs.split('\n')
    expect(lines).toHaveLength(3)
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^sick-1 +\| sick: starting$/),
        expect.stringMatching(/^sick-1 +\| sick: using token=\*\*\*$/),
        expect.stringMatching(/^sick-1 +\| sick: waiting for a database that never comes$/)
      ])
    )
    expect(sick.logs).not.toContain('\u001b')
    expect(JSON.stringify(sick)).not.toContain(SECRET)
  })

  it('the job that exited 3: its state and its last 4 log lines', () => {
    const crash = diagnostics.find(d => d.service === 'crash') as ServiceDiagnostics
    expect(crash.notes).toEqual([])
    expect(crash.containers[0]?.state).toMatchObject({ status: 'exited', exitCode: 3 })
    expect(crash.containers[0]?.health).toBeUndefined()
    const lines = crash.logs.split('\n').map(line => line.replace(/^crash-1 +\| /, ''))
    expect(lines).toEqual([
      'crash: line 3',
      'crash: line 4',
      'crash: line 5',
      'crash: fatal: configuration file missing'
    ])
  })

  it('the service that never started: said so, without failing', () => {
    const never = diagnostics.find(d => d.service === 'never') as ServiceDiagnostics
    expect(never.containers).toEqual([])
    expect(never.logs).toBe('')
    expect(never.notes).toEqual(['no container was created for this service'])
  })

  it('renders the summary, annotations and the error line', () => {
    const md = renderDiagnosticsMarkdown(diagnostics)
    expect(md).toContain('<details><summary>❌ sick — healthcheck reports unhealthy</summary>')
    expect(md).toContain('<details><summary>❌ crash — container exited with code 3</summary>')
    expect(md).toContain('exited (exit code 3)')
    expect(md).toContain('> no container was created for this service')
    expect(md).not.toContain(SECRET)
    const sick = annotationFor(diagnostics[0] as ServiceDiagnostics)
    expect(sick.title).toBe('Smoke test: sick')
    expect(sick.message).toMatch(/^healthcheck reports unhealthy\. .*health: unhealthy/)
    expect(sick.message).toContain('Last health check: exit 1, no output.')
    expect(annotationFor(diagnostics[1] as ServiceDiagnostics).message).toMatch(
      /Last log lines: .*crash: line 5.*/
    )
    expect(smokeFailureMessage(failures)).toBe(
      'Smoke test failed: service "sick": healthcheck reports unhealthy; service "crash": container exited with code 3; service "never": no container yet (details in the job summary and the log bundle)'
    )
  })

  it('writes a bundle that tar unpacks into the logs, inspect output and summary', async () => {
    const psOutput = docker([...base.slice(1), 'ps', '--all', '--format', 'json'], env).stdout
    const out = await writeLogBundle(
      diagnostics,
      { dir, project, extra: { 'compose-ps.json': psOutput } },
      executor
    )
    expect(out).toBe(path.join(dir, `stack-deploy-smoke-${project}.tar.gz`))
    const unpacked = fs.mkdtempSync(path.join(dir, 'unpacked-'))
    const tar = spawnSync('tar', ['-xzf', out, '-C', unpacked], { encoding: 'utf8' })
    expect(tar.status).toBe(0)
    const root = path.join(unpacked, `stack-deploy-smoke-${project}`)
    expect(fs.readdirSync(unpacked)).toEqual([`stack-deploy-smoke-${project}`])
    expect(fs.readdirSync(root).sort()).toEqual([
      'compose-ps.json',
      'crash.inspect.json',
      'crash.log',
      'never.inspect.json',
      'never.log',
      'sick.inspect.json',
      'sick.log',
      'summary.json'
    ])
    const read = (name: string): string => fs.readFileSync(path.join(root, name), 'utf8')
    expect(read('crash.log')).toContain('crash: fatal: configuration file missing')
    expect(read('sick.log')).toContain('sick: using token=***')
    expect(read('never.log')).toBe('')
    const inspect = JSON.parse(read('sick.inspect.json')) as {
      Id: string
      Config: { Env: string[] }
      State: { Health: { Status: string } }
    }[]
    expect(inspect).toHaveLength(1)
    expect(inspect[0]?.Id).toBe(diagnostics[0]?.containers[0]?.id)
    expect(inspect[0]?.State.Health.Status).toBe('unhealthy')
    expect(inspect[0]?.Config.Env).toContain('SICK_API_TOKEN=***')
    for (const name of fs.readdirSync(root)) {
      if (name !== 'compose-ps.json') expect(read(name)).not.toContain(SECRET)
    }
    const summary = JSON.parse(read('summary.json')) as { services: ServiceDiagnostics[] }
    expect(summary.services.map(s => [s.service, s.containers.length])).toEqual([
      ['sick', 1],
      ['crash', 1],
      ['never', 0]
    ])
    expect(summary.services[1]?.containers[0]?.state.exitCode).toBe(3)
    expect(read('compose-ps.json')).toBe(psOutput)
  })
})
