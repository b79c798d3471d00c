import { planFromConfig, selectServices, builtServices } from '../src/compose/plan.js'
import { assessStack, parsePsOutput, type ContainerState } from '../src/compose/ps.js'
import { renderPlanMarkdown, renderPlanText } from '../src/report/plan-table.js'
import type { ComposeConfig } from '../src/compose/types.js'

// Shaped like `docker compose config --format json` output (normalised: absolute contexts,
// long-form depends_on, ports as objects).
const config: ComposeConfig = {
  name: 'shop',
  services: {
    api: {
      image: 'shop/api:dev',
      build: {
        context: '/w/api',
        dockerfile: 'Dockerfile',
        target: 'runtime',
        args: { NODE_IMAGE: 'node:24', EMPTY: null }
      },
      depends_on: {
        db: { condition: 'service_healthy', required: true },
        migrate: { condition: 'service_completed_successfully', required: true }
      },
      healthcheck: { test: ['CMD', 'node', 'healthcheck.js'], interval: '5s', retries: 3 },
      networks: { backend: null }
    },
    migrate: {
      image: 'shop/api:dev',
      depends_on: { db: { condition: 'service_healthy' } },
      networks: { backend: null }
    },
    db: {
      image: 'postgres:16',
      healthcheck: { test: ['CMD-SHELL', 'pg_isready -U app'], interval: '2s' },
      volumes: [{ type: 'volume', source: 'pgdata', target: '/var/lib/postgresql/data' }],
      networks: { backend: null }
    },
    web: {
      build: { context: '/w', dockerfile: 'dockerfiles/web.Dockerfile' },
      ports: [{ target: 8080, published: '8080', protocol: 'tcp', mode: 'ingress' }],
      healthcheck: { disable: true },
      networks: { frontend: null, backend: null }
    }
  },
  volumes: { pgdata: { name: 'shop_pgdata' } },
  networks: { backend: { internal: true }, frontend: null }
}

describe('planFromConfig', () => {
  const plan = planFromConfig(config)
  const byName = Object.fromEntries(plan.services.map(s => [s.name, s]))

  it.each([
    ['api', 'build'],
    ['web', 'build'],
    ['migrate', 'job'],
    ['db', 'image']
  ])('classifies %s as %s', (name, kind) => {
    expect(byName[name]?.kind).toBe(kind)
  })

  it('records who waits on a job, build settings, healthchecks, ports and volumes', () => {
    expect(byName.migrate?.awaitedBy).toEqual(['api'])
    expect(byName.api?.build).toEqual({
      context: '/w/api',
      dockerfile: 'Dockerfile',
      target: 'runtime',
      args: { NODE_IMAGE: 'node:24', EMPTY: '' }
    })
    expect(byName.api?.healthcheck).toEqual({
      test: 'node healthcheck.js',
      interval: '5s',
      retries: 3
    })
    expect(byName.db?.healthcheck?.test).toBe('pg_isready -U app')
    expect(byName.web?.healthcheck).toBeUndefined()
    expect(byName.web?.ports).toEqual([
      { target: 8080, published: '8080', hostIp: undefined, protocol: 'tcp' }
    ])
    expect(byName.db?.volumes).toEqual([
      { type: 'volume', source: 'pgdata', target: '/var/lib/postgresql/data', readOnly: false }
    ])
    expect(byName.web?.networks).toEqual(['backend', 'frontend'])
    expect(plan.volumes).toEqual(['pgdata'])
    expect(plan.networks).toEqual([
      { name: 'backend', internal: true, external: false },
      { name: 'frontend', internal: false, external: false }
    ])
  })

  it('builds only services with a build section', () => {
    expect(builtServices(plan).map(s => s.name)).toEqual(['api', 'web'])
  })

  it('selects services and lists the known ones for an unknown name', () => {
    expect(selectServices(plan, ['web']).map(s => s.name)).toEqual(['web'])
    expect(() => selectServices(plan, ['web', 'worker'])).toThrow(
      'unknown service "worker"; the project has: api, db, migrate, web'
    )
  })

  it('renders a text table and a Markdown table', () => {
    const text = renderPlanText(plan, '/w')
    expect(text).toMatch(/^Project shop/)
    expect(text).toMatch(
      /api\s+build\s+build api dockerfile=Dockerfile target=runtime args=NODE_IMAGE,EMPTY/
    )
    expect(text).toMatch(/migrate\s+job\s+shop\/api:dev/)
    expect(text).toContain('Networks: backend (internal), frontend')
    const markdown = renderPlanMarkdown(plan, '/w')
    expect(markdown).toContain(
      '| web | build | build . dockerfile=dockerfiles/web.Dockerfile | - | 8080->8080/tcp |'
    )
  })
})

describe('assessStack', () => {
  const plan = planFromConfig(config)
  const c = (Service: string, State: string, Health = '', ExitCode = 0): ContainerState => ({
    Name: `shop-${Service}-1`,
    Service,
    State,
    Health,
    ExitCode
  })
  const all = ['api', 'db', 'migrate', 'web']

  it.each([
    [
      'everything up, job done',
      [
        c('api', 'running', 'healthy'),
        c('db', 'running', 'healthy'),
        c('migrate', 'exited', '', 0),
        c('web', 'running')
      ],
      true,
      [],
      []
    ],
    [
      'job still running',
      [
        c('api', 'created'),
        c('db', 'running', 'healthy'),
        c('migrate', 'running'),
        c('web', 'created')
      ],
      false,
      [],
      ['api', 'migrate', 'web']
    ],
    [
      'job failed',
      [c('db', 'running', 'healthy'), c('migrate', 'exited', '', 1)],
      false,
      ['migrate'],
      ['api', 'web']
    ],
    [
      'service unhealthy',
      [
        c('api', 'running', 'unhealthy'),
        c('db', 'running', 'healthy'),
        c('migrate', 'exited'),
        c('web', 'running')
      ],
      false,
      ['api'],
      []
    ],
    [
      'service crashed',
      [
        c('api', 'exited', '', 137),
        c('db', 'running', 'healthy'),
        c('migrate', 'exited'),
        c('web', 'running')
      ],
      false,
      ['api'],
      []
    ],
    [
      'service restarting',
      [
        c('api', 'restarting'),
        c('db', 'running', 'starting'),
        c('migrate', 'exited'),
        c('web', 'running')
      ],
      false,
      ['api'],
      ['db']
    ]
  ])('%s', (_name, containers, ready, failed, pending) => {
    const result = assessStack(plan, containers, all)
    expect(result.ready).toBe(ready)
    expect(result.failed.map(f => f.service)).toEqual(failed)
    expect(result.pending.map(p => p.service)).toEqual(pending)
  })

  it('reads both JSON array and JSON lines from compose ps', () => {
    const one = { Name: 'a', Service: 'a', State: 'running', Health: '', ExitCode: 0 }
    expect(parsePsOutput(JSON.stringify([one]))).toEqual([one])
    expect(parsePsOutput(`${JSON.stringify(one)}\n${JSON.stringify(one)}\n`)).toEqual([one, one])
    expect(parsePsOutput('')).toEqual([])
  })
})
