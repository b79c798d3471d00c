import { composeBaseArgs, composeConfigArgs, composePsArgs } from '../src/compose/args.js'
import {
  bakeArgs,
  bakeOverride,
  defaultImageName,
  parseBuilderDriver,
  parsePushDigest,
  pushArgs
} from '../src/build/bake.js'
import { downArgs, logsArgs, upArgs } from '../src/smoke/commands.js'
import { loginArgs, logoutArgs } from '../src/exec/docker.js'
import type { ComposeProjectRef } from '../src/compose/types.js'

const ref = (over: Partial<ComposeProjectRef> = {}): ComposeProjectRef => ({
  workingDirectory: '/w',
  files: ['compose.yaml'],
  profiles: [],
  ...over
})

describe('compose argv', () => {
  it.each([
    [ref(), ['docker', 'compose', '-f', 'compose.yaml']],
    [
      ref({ files: ['a.yaml', 'b.yaml'], projectName: 'shop', profiles: ['debug', 'tools'] }),
      [
        'docker',
        'compose',
        '-f',
        'a.yaml',
        '-f',
        'b.yaml',
        '-p',
        'shop',
        '--profile',
        'debug',
        '--profile',
        'tools'
      ]
    ],
    [
      ref({ files: ['dir with space/compose.yaml'] }),
      ['docker', 'compose', '-f', 'dir with space/compose.yaml']
    ]
  ])('base args %#', (input, argv) => {
    expect(composeBaseArgs(input)).toEqual(argv)
  })

  it('config asks for JSON', () => {
    expect(composeConfigArgs(ref())).toEqual([
      'docker',
      'compose',
      '-f',
      'compose.yaml',
      'config',
      '--format',
      'json'
    ])
  })
})

describe('bake argv', () => {
  it.each([
    [
      'default builder',
      {
        files: ['/w/compose.yaml'],
        overrideFile: '/t/o.json',
        metadataFile: '/t/m.json',
        builder: undefined,
        targets: ['api']
      },
      [
        'docker',
        'buildx',
        'bake',
        '--file',
        '/w/compose.yaml',
        '--file',
        '/t/o.json',
        '--metadata-file',
        '/t/m.json',
        '--progress',
        'rawjson',
        'api'
      ]
    ],
    [
      'named builder, several files and targets',
      {
        files: ['/w/a.yaml', '/w/b.yaml'],
        overrideFile: '/t/o.json',
        metadataFile: '/t/m.json',
        builder: 'ci',
        targets: ['api', 'web']
      },
      [
        'docker',
        'buildx',
        'bake',
        '--builder',
        'ci',
        '--file',
        '/w/a.yaml',
        '--file',
        '/w/b.yaml',
        '--file',
        '/t/o.json',
        '--metadata-file',
        '/t/m.json',
        '--progress',
        'rawjson',
        'api',
        'web'
      ]
    ]
  ])('%s', (_name, invocation, argv) => {
    expect(bakeArgs(invocation)).toEqual(argv)
  })

  it('writes tags, labels, cache and a local output per target, leaving out empty cache lists', () => {
    expect(
      bakeOverride([
        {
          service: 'api',
          tags: ['r/api:1'],
          labels: { 'org.opencontainers.image.title': 'api' },
          cacheFrom: ['type=gha,scope=p-api'],
          cacheTo: ['type=gha,scope=p-api,mode=max,ignore-error=true']
        },
        {
          service: 'web',
          tags: ['r/web:1', 'r/web:latest'],
          labels: {},
          cacheFrom: [],
          cacheTo: []
        }
      ])
    ).toEqual({
      target: {
        api: {
          tags: ['r/api:1'],
          labels: { 'org.opencontainers.image.title': 'api' },
          'cache-from': ['type=gha,scope=p-api'],
          'cache-to': ['type=gha,scope=p-api,mode=max,ignore-error=true'],
          output: ['type=docker']
        },
        web: { tags: ['r/web:1', 'r/web:latest'], labels: {}, output: ['type=docker'] }
      }
    })
  })

  it('names images like compose does', () => {
    expect(defaultImageName('shop', 'api')).toBe('shop-api')
  })

  it.each([
    ['Name:   ci\nDriver:        docker-container\n', 'docker-container'],
    ['Name: default\nDriver: docker\nLast Activity: x', 'docker'],
    ['nothing', undefined]
  ])('reads the builder driver from %j', (output, driver) => {
    expect(parseBuilderDriver(output)).toBe(driver)
  })

  it('pushes by ref and reads the digest docker push prints', () => {
    expect(pushArgs('r/api:1')).toEqual(['docker', 'push', 'r/api:1'])
    const digest = `sha256:${'a'.repeat(64)}`
    expect(parsePushDigest(`1: digest: ${digest} size: 1570\n`)).toBe(digest)
    expect(parsePushDigest('nothing')).toBeUndefined()
  })
})

describe('smoke argv', () => {
  const base = ['docker', 'compose', '-f', 'c.yaml', '-p', 'x-smoke-1']
  it.each([
    [upArgs(base, 90), [...base, 'up', '--detach', '--wait', '--wait-timeout', '90', '--no-build']],
    [downArgs(base), [...base, 'down', '--volumes', '--remove-orphans', '--timeout', '10']],
    [composePsArgs(base), [...base, 'ps', '--all', '--format', 'json']],
    [logsArgs(base, 'api', 30), [...base, 'logs', '--no-color', '--tail', '30', 'api']]
  ])('%#', (argv, expected) => {
    expect(argv).toEqual(expected)
  })
})

describe('registry login argv (build on the runner, deploy on a host)', () => {
  it.each([
    [
      loginArgs('r.example:5000', 'ci'),
      ['docker', 'login', 'r.example:5000', '--username', 'ci', '--password-stdin']
    ],
    [
      loginArgs('r.example', 'ci'),
      ['docker', 'login', 'r.example', '--username', 'ci', '--password-stdin']
    ],
    [logoutArgs('r.example:5000'), ['docker', 'logout', 'r.example:5000']]
  ])('keeps the password out of argv: %j', (argv, expected) => {
    expect(argv).toEqual(expected)
  })
})
