/**
 * The reference stack (compose/, dockerfiles/, nginx/, example/) built with the CLI in the lab,
 * smoke-tested, and used for real: a note goes in through web → api → postgres, api restarts,
 * and the note is still there, read through nginx, which finds the new api container by itself.
 */
import * as net from 'node:net'
import * as path from 'node:path'
import { ROOT, docker, leftovers, projectsLeft, referenceStackEnv, runCli, waitFor } from './lab.js'

const composeDir = path.join(ROOT, 'compose')

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

describe('the reference stack in the lab', () => {
  let env: Record<string, string>
  let images: Record<string, { ref: string; id?: string }>
  let webPort: number

  beforeAll(async () => {
    webPort = await freePort()
    env = referenceStackEnv({ WEB_PORT: String(webPort) })
  })

  it('with no command, in a folder with compose.yaml, plans, builds and smoke-tests the stack', () => {
    const run = runCli([], { cwd: composeDir, env })
    if (run.status !== 0) throw new Error(run.stderr)
    expect(run.stderr).toMatch(/^Project stack-deploy-example/m)
    expect(run.stderr).toMatch(/^==> Build api, web$/m)
    expect(run.stderr).toMatch(/^Stack stack-deploy-example-smoke-[0-9a-f]{6} is up/m)
    expect(projectsLeft('stack-deploy-example-smoke-')).toEqual([])
  })

  it('builds api and web with one bake run', () => {
    const run = runCli(['build', '-f', 'compose/compose.yaml'], { env }) // from the repository root, as a workflow would
    if (run.status !== 0) throw new Error(run.stderr)
    images = JSON.parse(run.stdout) as typeof images
    expect(Object.keys(images).sort()).toEqual(['api', 'web'])
    for (const image of Object.values(images)) {
      expect(image.id).toMatch(/^sha256:[0-9a-f]{64}$/)
      expect(docker(['image', 'inspect', '--format', '{{.Id}}', image.ref]).stdout.trim()).toBe(
        image.id
      )
    }
  })

  it('smoke-tests the stack with probes through web → api → postgres, and leaves nothing behind', () => {
    const probes = [
      '- http: web:8080/health',
      '- name: api health through nginx',
      '  http: web:8080/api/health',
      '  json: { path: status, equals: ok }',
      '- name: a note through web, api and postgres',
      '  http: web:8080/api/notes',
      '  method: POST',
      '  headers: { content-type: application/json }',
      '  body: \'{"text": "smoke"}\'',
      '  status: 201',
      '  json: { path: text, equals: smoke }',
      '- exec: postgres',
      '  command: [pg_isready, -h, 127.0.0.1, -U, app, -d, app]',
      '  contains: accepting connections'
    ].join('\n')
    const run = runCli(
      [
        'smoke',
        '-C',
        composeDir,
        '-f',
        'compose.yaml',
        '--images',
        JSON.stringify(images),
        `--probes=${probes}`,
        '--json'
      ],
      { env }
    )
    if (run.status !== 0) throw new Error(run.stderr)
    const result = JSON.parse(run.stdout) as {
      smoke: {
        project: string
        secondsToReady: number
        serviceSeconds: Record<string, number>
        probes: { ok: boolean }[]
      }
    }
    expect(result.smoke.project).toMatch(/-smoke-[0-9a-f]{6}$/)
    expect(result.smoke.secondsToReady).toBeGreaterThan(0)
    expect(result.smoke.probes.map(p => p.ok)).toEqual([true, true, true, true])
    // Each service's time to ready is recorded; web waits for api, which waits for migrate.
    const t = result.smoke.serviceSeconds
    expect(Object.keys(t).sort()).toEqual(['api', 'migrate', 'postgres', 'redis', 'web'])
    expect(t.web as number).toBeGreaterThanOrEqual(t.api as number)
    expect(t.api as number).toBeGreaterThanOrEqual(t.migrate as number)
    expect(leftovers(result.smoke.project)).toEqual([])
  })

  it('serves notes through web → api → postgres, and keeps them across an api restart', async () => {
    const run = runCli(
      [
        'smoke',
        '-C',
        composeDir,
        '-f',
        'compose.yaml',
        '--images',
        JSON.stringify(images),
        '--keep',
        '--json'
      ],
      { env }
    )
    if (run.status !== 0) throw new Error(run.stderr)
    const project = (JSON.parse(run.stdout) as { smoke: { project: string } }).smoke.project
    try {
      // Every long-running service healthy, the migration job exited 0.
      const ps = docker([
        'compose',
        '-p',
        project,
        'ps',
        '--all',
        '--format',
        '{{.Service}} {{.State}} {{.Health}} {{.ExitCode}}'
      ])
      const states = Object.fromEntries(
        ps.stdout
          .trim()
          .split('\n')
          .map(line => {
            const [service, ...rest] = line.split(' ')
            return [service, rest.join(' ')]
          })
      )
      expect(states).toEqual({
        api: 'running healthy 0',
        migrate: 'exited  0',
        postgres: 'running healthy 0',
        redis: 'running healthy 0',
        web: 'running healthy 0'
      })

      // Smoke runs publish on ephemeral loopback ports: ask compose where web landed.
      const published = docker(['compose', '-p', project, 'port', 'web', '8080']).stdout.trim()
      expect(published).toMatch(/^127\.0\.0\.1:\d+$/)
      expect(published).not.toBe(`127.0.0.1:${webPort}`)
      const base = `http://${published}`
      const health = await fetch(`${base}/api/health`)
      expect(health.status).toBe(200)

      const created = await fetch(`${base}/api/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'written before the restart' })
      })
      expect(created.status).toBe(201)
      const note = (await created.json()) as { id: number; text: string }
      expect(note.text).toBe('written before the restart')

      const apiContainer = docker(['compose', '-p', project, 'ps', '-q', 'api']).stdout.trim()
      expect(docker(['restart', apiContainer]).status).toBe(0)

      const reread = await waitFor('the note through web after the api restart', async () => {
        const response = await fetch(`${base}/api/notes/${note.id}`)
        return response.status === 200 ? ((await response.json()) as { text: string }) : undefined
      })
      expect(reread.text).toBe('written before the restart')
      const list = (await (await fetch(`${base}/api/notes`)).json()) as unknown
      expect(JSON.stringify(list)).toContain('written before the restart')
    } finally {
      docker(['compose', '-p', project, 'down', '--volumes', '--remove-orphans', '--timeout', '5'])
    }
    expect(leftovers(project)).toEqual([])
  })
})
