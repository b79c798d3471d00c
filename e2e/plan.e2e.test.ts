/**
 * `stack-deploy plan` against real `docker compose config` (the lab's Compose v2), on the
 * reference stack and on fixtures that exercise build targets and args, profiles, x-
 * extensions, ${VAR:?} interpolation, extends and several -f files; and the one-line errors.
 */
import * as path from 'node:path'
import { ROOT, referenceStackEnv, runCli } from './lab.js'

const fixtures = path.join(ROOT, '__tests__', 'fixtures')

interface PlanJson {
  project: string
  services: {
    name: string
    kind: string
    image?: string
    build?: { target?: string; args: Record<string, string> }
    healthcheck?: { test: string }
    ports: { published?: string; target: number }[]
    awaitedBy: string[]
  }[]
  networks: { name: string; internal: boolean }[]
  volumes: string[]
}

function plan(args: string[], env: Record<string, string> = {}): PlanJson {
  const run = runCli(['plan', '--json', ...args], { env })
  if (run.status !== 0) throw new Error(`plan failed: ${run.stderr}`)
  return JSON.parse(run.stdout) as PlanJson
}

const kinds = (p: PlanJson): Record<string, string> =>
  Object.fromEntries(p.services.map(s => [s.name, s.kind]))

describe('plan on real compose files', () => {
  it('classifies the reference stack', () => {
    const p = plan(['-C', path.join(ROOT, 'compose'), '-f', 'compose.yaml'], referenceStackEnv())
    expect(kinds(p)).toEqual({
      api: 'build',
      migrate: 'job',
      postgres: 'image',
      redis: 'image',
      web: 'build'
    })
    const web = p.services.find(s => s.name === 'web')
    expect(web?.ports.map(port => port.target)).toEqual([8080])
    // Only web publishes a port.
    expect(p.services.filter(s => s.ports.length > 0).map(s => s.name)).toEqual(['web'])
    expect(p.services.find(s => s.name === 'migrate')?.awaitedBy).toContain('api')
    expect(p.services.find(s => s.name === 'postgres')?.healthcheck?.test).toMatch(/pg_isready/)
  })

  it('classifies the reference stack with its production and development overrides', () => {
    for (const override of ['compose.prod.yaml', 'compose.dev.yaml']) {
      const p = plan(
        ['-C', path.join(ROOT, 'compose'), '-f', 'compose.yaml', '-f', override],
        referenceStackEnv()
      )
      expect(kinds(p)).toEqual({
        api: 'build',
        migrate: 'job',
        postgres: 'image',
        redis: 'image',
        web: 'build'
      })
    }
  })

  it('reads build targets and args, x- extensions, profiles and one-shot jobs', () => {
    const dir = path.join(fixtures, 'targets')
    const p = plan(['-C', dir])
    expect(kinds(p)).toEqual({ app: 'build', cache: 'image', seed: 'job', worker: 'build' })
    const app = p.services.find(s => s.name === 'app')
    expect(app?.build?.target).toBe('runtime')
    expect(app?.build?.args).toEqual({ APP_VERSION: '1.2.3', BASE_IMAGE: 'debian:bookworm-slim' })
    expect(app?.ports).toEqual([
      { target: 8080, published: '8088', hostIp: '127.0.0.1', protocol: 'tcp' }
    ])
    expect(p.volumes).toEqual(['cachedata'])

    const withProfile = plan(['-C', dir, '--profile', 'debug'], { APP_VERSION: '9.9.9' })
    expect(kinds(withProfile)['debug-shell']).toBe('image')
    expect(withProfile.services.find(s => s.name === 'app')?.build?.args.APP_VERSION).toBe('9.9.9')
  })

  it('merges extends and several -f files', () => {
    const p = plan([
      '-C',
      path.join(fixtures, 'extends'),
      '-f',
      'compose.yaml',
      '-f',
      'compose.override.yaml'
    ])
    expect(kinds(p)).toEqual({
      api: 'build',
      'api-depends': 'image',
      db: 'image',
      migrate: 'job',
      web: 'image'
    })
    expect(p.services.find(s => s.name === 'web')?.image).toBe('nginx:1.27-bookworm')
    expect(p.services.find(s => s.name === 'web')?.healthcheck?.test).toBe('true')
    expect(p.services.find(s => s.name === 'api')?.build?.target).toBe('dev')
    expect(p.networks).toEqual([
      { name: 'back', internal: true, external: false },
      // api-depends names no network, so compose adds the default one.
      { name: 'default', internal: false, external: false },
      { name: 'front', internal: false, external: false }
    ])
  })

  it('prints a readable table without --json', () => {
    const run = runCli(['plan', '-C', path.join(fixtures, 'targets')])
    expect(run.status).toBe(0)
    expect(run.stdout).toMatch(/^Project targets/)
    expect(run.stdout).toMatch(/seed\s+job\s+busybox:1.36/)
    expect(run.stdout).toMatch(/app\s+build\s+build app dockerfile=Dockerfile.multi target=runtime/)
  })
})

describe('bad input: one line naming the input, non-zero exit', () => {
  const oneLineError = (args: string[], env: Record<string, string> = {}): string => {
    const run = runCli(args, { env })
    expect(run.status).not.toBe(0)
    const lines = run.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    return lines[0] as string
  }

  it.each([
    ['an unknown command', ['ship'], /^stack-deploy: Input 'command': unknown command "ship"/],
    [
      'a missing compose file',
      ['plan', '-f', 'missing.yaml'],
      /^stack-deploy: Input 'compose-files': missing.yaml was not found/
    ],
    [
      'invalid YAML',
      ['plan', '-C', path.join(fixtures, 'invalid-yaml')],
      /^stack-deploy: Input 'compose-files': compose.yaml is not valid YAML at line 4/
    ],
    [
      'a missing required variable',
      ['plan', '-C', path.join(fixtures, 'required-var')],
      /^stack-deploy: Input 'compose-files': variable DB_PASSWORD is required by compose.yaml but is not set \(set DB_PASSWORD to the database password\)/
    ],
    [
      'an unknown service',
      ['plan', '-C', path.join(fixtures, 'targets'), '--services', 'app,queue'],
      /^stack-deploy: Input 'services': unknown service "queue"; the project has: app, cache, seed, worker$/
    ],
    [
      'a service without build or image',
      ['plan', '-C', path.join(fixtures, 'no-image')],
      /^stack-deploy: Input 'compose-files': docker compose could not read compose.yaml: .*orphan/
    ]
  ])('%s', (_name, args, message) => {
    expect(oneLineError(args)).toMatch(message)
  })
})
