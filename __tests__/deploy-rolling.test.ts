import { planFromConfig } from '../src/compose/plan.js'
import type { ComposeConfig } from '../src/compose/types.js'
import { composeCommands, containerCommands } from '../src/deploy/commands.js'
import { decideRoll, parseContainers, parseHealth, rollingServices } from '../src/deploy/rolling.js'

const check = { test: ['CMD', 'true'] }
const config: ComposeConfig = {
  name: 'shop',
  services: {
    api: { image: 'shop/api', build: { context: '/w/api' }, healthcheck: check },
    worker: { image: 'shop/api', build: { context: '/w/api' }, healthcheck: check },
    'no-check': { image: 'shop/x', build: { context: '/w/x' } },
    'check-disabled': {
      image: 'shop/x',
      build: { context: '/w/x' },
      healthcheck: { test: ['NONE'] }
    },
    web: {
      image: 'shop/web',
      build: { context: '/w/web' },
      healthcheck: check,
      ports: [{ target: 8080, published: '80' }]
    },
    named: {
      image: 'shop/x',
      build: { context: '/w/x' },
      healthcheck: check,
      container_name: 'shop-named'
    },
    stateful: {
      image: 'shop/x',
      build: { context: '/w/x' },
      healthcheck: check,
      volumes: [{ type: 'volume', source: 'data', target: '/data' }]
    },
    scratch: {
      image: 'shop/x',
      build: { context: '/w/x' },
      healthcheck: check,
      volumes: [{ type: 'tmpfs', source: undefined, target: '/tmp' }]
    },
    postgres: { image: 'postgres:16', healthcheck: check },
    migrate: {
      image: 'shop/api',
      build: { context: '/w/api' },
      healthcheck: check
    },
    uses: {
      image: 'shop/api',
      depends_on: { migrate: { condition: 'service_completed_successfully' } }
    }
  }
} as unknown as ComposeConfig

describe('which services are replaced with no downtime', () => {
  it('only built services with a healthcheck, no published port, no container_name, no volume, and no job', () => {
    // api, worker: yes. scratch: a tmpfs is not shared state. migrate: a job (others wait on it).
    // web: a published port; named: a fixed name; stateful: a volume; postgres: not built;
    // no-check, check-disabled: nothing says when the new one is ready.
    expect(rollingServices(planFromConfig(config))).toEqual(['api', 'scratch', 'worker'])
  })
})

describe('rolling decisions', () => {
  const id = (c: string): string => c.repeat(64)
  it('parses docker ps lines and ignores anything else', () => {
    expect(
      parseContainers(`${id('a')} hash1 running\n${id('b')} hash2 exited\nWARNING: something\n\n`)
    ).toEqual([
      { id: id('a'), configHash: 'hash1', state: 'running' },
      { id: id('b'), configHash: 'hash2', state: 'exited' }
    ])
  })

  it.each([
    ['nothing runs', [], 'new', { action: 'skip', reason: 'no running container to replace' }],
    [
      'only a stopped container',
      [{ id: id('a'), configHash: 'old', state: 'exited' }],
      'new',
      { action: 'skip', reason: 'no running container to replace' }
    ],
    [
      'already on the new configuration',
      [{ id: id('a'), configHash: 'new', state: 'running' }],
      'new',
      { action: 'skip', reason: 'unchanged' }
    ],
    [
      'one old container: start one more',
      [{ id: id('a'), configHash: 'old', state: 'running' }],
      'new',
      {
        action: 'roll',
        old: [{ id: id('a'), configHash: 'old', state: 'running' }],
        scaleTo: 2
      }
    ],
    [
      'two replicas: start two more',
      [
        { id: id('a'), configHash: 'old', state: 'running' },
        { id: id('b'), configHash: 'old', state: 'running' }
      ],
      'new',
      {
        action: 'roll',
        old: [
          { id: id('a'), configHash: 'old', state: 'running' },
          { id: id('b'), configHash: 'old', state: 'running' }
        ],
        scaleTo: 4
      }
    ],
    [
      'no hash known: roll rather than guess',
      [{ id: id('a'), configHash: '', state: 'running' }],
      '',
      { action: 'roll', old: [{ id: id('a'), configHash: '', state: 'running' }], scaleTo: 2 }
    ]
  ])('%s', (_why, containers, newHash, expected) => {
    expect(decideRoll(containers, newHash)).toEqual(expected)
  })

  it('parses health, with "none" for a container without a healthcheck', () => {
    expect(parseHealth(`${id('a')} running healthy\n${id('b')} exited none\n`)).toEqual([
      { id: id('a'), status: 'running', health: 'healthy' },
      { id: id('b'), status: 'exited', health: 'none' }
    ])
  })
})

describe('rolling argv', () => {
  const base = ['docker', 'compose', '-p', 'shop']
  it.each([
    [composeCommands.configHash(base, 'api'), [...base, 'config', '--hash', 'api']],
    [
      composeCommands.scaleUp(base, 'api', 2),
      [...base, 'up', '--detach', '--no-recreate', '--scale', 'api=2', 'api']
    ],
    [
      composeCommands.scaleUp(base, 'api', 2, ['migrate']),
      [
        ...base,
        'up',
        '--detach',
        '--no-recreate',
        '--scale',
        'api=2',
        '--scale',
        'migrate=0',
        'api'
      ]
    ],
    [composeCommands.create(base, ['migrate']), [...base, 'create', 'migrate']],
    [
      containerCommands.list('shop', 'api'),
      [
        'docker',
        'ps',
        '--all',
        '--no-trunc',
        '--filter',
        'label=com.docker.compose.project=shop',
        '--filter',
        'label=com.docker.compose.service=api',
        '--format',
        '{{.ID}} {{.Label "com.docker.compose.config-hash"}} {{.State}}'
      ]
    ],
    [containerCommands.stop(['a', 'b']), ['docker', 'stop', 'a', 'b']],
    [containerCommands.remove(['a']), ['docker', 'rm', '--force', 'a']]
  ])('%j', (argv, expected) => {
    expect(argv).toEqual(expected)
  })

  it('never uses --no-deps, which would change the configuration hash compose compares', () => {
    expect(composeCommands.scaleUp(base, 'api', 2)).not.toContain('--no-deps')
    expect(composeCommands.up(base, 60)).not.toContain('--no-deps')
  })
})
