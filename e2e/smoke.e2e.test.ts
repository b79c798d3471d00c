/**
 * The smoke stage's faults, each in the lab with real containers: every case fails with a
 * clear message naming the service, leaves nothing behind (checked by the compose project
 * label), and the failing-healthcheck case ends within its healthcheck budget plus a few
 * seconds. And the cases that must pass: probes of every kind, the test command with the
 * stack's URLs, and a stack whose fixed web port is taken but that smoke runs on ephemeral ports.
 */
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { ROOT, labEnv, projectsLeft, runCli, type Run } from './lab.js'

const dir = path.join(ROOT, '__tests__', 'fixtures', 'smoke-faults')
const lab = labEnv()
const env = { IMAGE: lab.LAB_DEBIAN_IMAGE as string, NGINX_IMAGE: lab.NGINX_IMAGE as string }

function smoke(
  caseFile: string,
  args: string[] = [],
  extraEnv: Record<string, string> = {}
): Run & { seconds: number; logDir: string } {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-logs-'))
  const started = Date.now()
  const run = runCli(
    [
      'smoke',
      '-C',
      dir,
      '-f',
      'base.yaml',
      '-f',
      caseFile,
      '--images',
      '{}',
      '--wait-timeout',
      '60',
      '--log-dir',
      logDir,
      '--json',
      ...args
    ],
    { env: { ...env, ...extraEnv } }
  )
  return { ...run, seconds: (Date.now() - started) / 1000, logDir }
}

const lastLine = (run: Run): string => run.stderr.trim().split('\n').pop() as string

/** Unpacks the log bundle the failed run wrote and returns its files. */
function bundle(logDir: string): Record<string, string> {
  const tarball = fs.readdirSync(logDir).find(file => file.endsWith('.tar.gz'))
  if (!tarball) throw new Error(`no log bundle in ${logDir}: ${fs.readdirSync(logDir).join(', ')}`)
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-bundle-'))
  execFileSync('tar', ['-xzf', path.join(logDir, tarball), '-C', out])
  const files: Record<string, string> = {}
  for (const file of fs.readdirSync(out, { recursive: true }).map(String)) {
    const full = path.join(out, file)
    if (fs.statSync(full).isFile()) files[path.basename(file)] = fs.readFileSync(full, 'utf8')
  }
  return files
}

describe('smoke faults: a clear message naming the service, nothing left behind', () => {
  it('a service whose healthcheck never passes fails within its healthcheck budget', () => {
    const run = smoke('unhealthy.yaml')
    expect(run.status).toBe(1)
    expect(lastLine(run)).toMatch(
      /^stack-deploy: Smoke test failed: service "app": healthcheck reports unhealthy/
    )
    // interval 1s x retries 3, plus start-up and teardown: well under the 60 s wait-timeout.
    expect(run.seconds).toBeLessThan(3 + 15)
    const files = bundle(run.logDir)
    expect(files['summary.json']).toContain('"service": "app"')
    expect(files['app.inspect.json']).toBeDefined()
    expect(projectsLeft('faults-unhealthy-smoke-')).toEqual([])
  })

  it('a service that crashes on start', () => {
    const run = smoke('crash.yaml')
    expect(run.status).toBe(1)
    expect(lastLine(run)).toMatch(
      /^stack-deploy: Smoke test failed: service "app": container exited with code 2/
    )
    expect(bundle(run.logDir)['app.log']).toContain('fatal: config file /etc/app.conf not found')
    // The annotation for the service carries the last log lines.
    expect(run.stderr).toMatch(/error: Smoke test: app: .*fatal: config file/s)
    expect(projectsLeft('faults-crash-smoke-')).toEqual([])
  })

  it('a migration job that exits 1', () => {
    const run = smoke('migrate-fails.yaml')
    expect(run.status).toBe(1)
    expect(lastLine(run)).toMatch(
      /^stack-deploy: Smoke test failed: service "migrate": one-shot job exited with code 1/
    )
    expect(bundle(run.logDir)['migrate.log']).toContain('ERROR: relation notes already exists')
    expect(projectsLeft('faults-migrate-smoke-')).toEqual([])
  })

  it('a probe that gets a 500', () => {
    const run = smoke('ok.yaml', [
      '--probes=- http: web:8080/broken\n  retries: 1\n  interval: 200ms'
    ])
    expect(run.status).toBe(1)
    expect(lastLine(run)).toMatch(
      /^stack-deploy: Smoke test failed: service "web": probe .*\/broken.* failed: .*500/
    )
    expect(JSON.parse(bundle(run.logDir)['probes.json'] as string)[0]).toMatchObject({
      ok: false,
      attempts: 2
    })
    expect(projectsLeft('faults-ok-smoke-')).toEqual([])
  })

  it.each([
    [
      'an unknown service',
      '- http: cache:6379/',
      /probes\[0\].*unknown service "cache"; the stack has: app, web/
    ],
    [
      'an unpublished port',
      '- http: web:9090/health',
      /probes\[0\].*does not publish port 9090 \(it publishes 8080\)/
    ]
  ])('a probe on %s is refused before anything starts', (_name, probes, message) => {
    const run = smoke('ok.yaml', [`--probes=${probes}`])
    expect(run.status).toBe(1)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(lastLine(run)).toMatch(/^stack-deploy: Input 'probes': /)
    expect(lastLine(run)).toMatch(message)
    expect(run.seconds).toBeLessThan(10)
    expect(projectsLeft('faults-ok-smoke-')).toEqual([])
  })

  it('a compose file whose required variable is missing', () => {
    const run = runCli(['smoke', '-C', dir, '-f', 'base.yaml', '-f', 'ok.yaml', '--images', '{}'], {
      env: { NGINX_IMAGE: env.NGINX_IMAGE, IMAGE: '' }
    })
    expect(run.status).toBe(1)
    expect(lastLine(run)).toMatch(
      /^stack-deploy: Input 'compose-files': variable IMAGE is required by base.yaml but is not set/
    )
    expect(projectsLeft('faults-ok-smoke-')).toEqual([])
  })

  describe('a stack whose web port is already taken on the host', () => {
    let server: net.Server
    let port: number
    beforeAll(async () => {
      server = net.createServer()
      await new Promise<void>(resolve => server.listen(0, '0.0.0.0', resolve))
      port = (server.address() as net.AddressInfo).port
    })
    afterAll(async () => new Promise<void>(resolve => server.close(() => resolve())))

    it('fails naming web when its ports are kept fixed', () => {
      const run = smoke('ok.yaml', ['--ports', 'fixed'], { WEB_PORT: String(port) })
      expect(run.status).toBe(1)
      expect(lastLine(run)).toMatch(
        new RegExp(
          `^stack-deploy: Smoke test failed: the stack did not start: service "web": container is created: .*${port}.*(address already in use|port is already allocated)`
        )
      )
      expect(lastLine(run)).not.toContain('service "app"')
      expect(projectsLeft('faults-ok-smoke-')).toEqual([])
    })

    it('passes on ephemeral ports (the default), which never collide', () => {
      const run = smoke('ok.yaml', [], { WEB_PORT: String(port) })
      if (run.status !== 0) throw new Error(run.stderr)
      expect(projectsLeft('faults-ok-smoke-')).toEqual([])
    })
  })
})

describe('smoke probes and the test command', () => {
  it('runs HTTP and exec probes and the test command with the stack URLs', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-test-cmd-')), 'urls.txt')
    const probes = [
      '- http: web:8080/health',
      '  contains: ok',
      '- http: web:8080/json',
      '  json: { path: items.1, equals: 2 }',
      '- name: app is alive',
      '  exec: app',
      '  command: [sh, -c, "echo alive"]',
      '  contains: alive'
    ].join('\n')
    const run = smoke('ok.yaml', [
      `--probes=${probes}`,
      '--test-command',
      `echo "$WEB_URL $WEB_8080_URL" > ${out}`
    ])
    if (run.status !== 0) throw new Error(run.stderr)
    const result = JSON.parse(run.stdout) as {
      smoke: { probes: { name: string; ok: boolean }[]; serviceSeconds: Record<string, number> }
    }
    expect(result.smoke.probes.map(p => [p.name, p.ok])).toEqual([
      ['GET web:8080/health', true],
      ['GET web:8080/json', true],
      ['app is alive', true]
    ])
    expect(Object.keys(result.smoke.serviceSeconds).sort()).toEqual(['app', 'web'])
    const [webUrl, web8080] = fs.readFileSync(out, 'utf8').trim().split(' ')
    expect(webUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(web8080).toBe(webUrl)
    expect(projectsLeft('faults-ok-smoke-')).toEqual([])
  })

  it('fails when the test command fails', () => {
    const run = smoke('ok.yaml', ['--test-command', 'echo "2 tests failed" >&2; exit 4'])
    expect(run.status).toBe(1)
    expect(lastLine(run)).toMatch(
      /^stack-deploy: Smoke test failed: the test command exited with code 4: 2 tests failed/
    )
    expect(projectsLeft('faults-ok-smoke-')).toEqual([])
  })
})
