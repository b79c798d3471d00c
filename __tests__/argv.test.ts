import { composeBaseArgs, composeConfigArgs } from '../src/compose/args.js'
import { bakeArgs, defaultImageName, failedTargetOf } from '../src/build/bake.js'
import { downArgs, logsArgs, psArgs, upArgs } from '../src/smoke/commands.js'
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
      'one target, loaded',
      ref(),
      [{ service: 'api', tags: ['app/api:dev'] }],
      true,
      [
        'docker',
        'buildx',
        'bake',
        '--file',
        'compose.yaml',
        '--load',
        '--set',
        'api.tags=app/api:dev',
        'api'
      ]
    ],
    [
      'several files and targets, several tags',
      ref({ files: ['compose.yaml', 'compose.prod.yaml'] }),
      [
        { service: 'api', tags: ['r/api:1', 'r/api:latest'] },
        { service: 'web', tags: ['r/web:1'] }
      ],
      false,
      [
        'docker',
        'buildx',
        'bake',
        '--file',
        'compose.yaml',
        '--file',
        'compose.prod.yaml',
        '--set',
        'api.tags=r/api:1',
        '--set',
        'api.tags=r/api:latest',
        '--set',
        'web.tags=r/web:1',
        'api',
        'web'
      ]
    ]
  ])('%s', (_name, input, targets, load, argv) => {
    expect(bakeArgs(input, targets, { load })).toEqual(argv)
  })

  it('names images like compose does', () => {
    expect(defaultImageName('shop', 'api')).toBe('shop-api')
  })

  it.each([
    [
      'ERROR: target api: failed to solve: process "/bin/sh -c npm ci" did not complete',
      ['api', 'web'],
      'api'
    ],
    [
      '#12 [web build 3/5] RUN node build.js\n#12 ERROR: process did not complete\n------',
      ['api', 'web'],
      'web'
    ],
    [
      '#8 [api deps 2/4] COPY package.json .\n#9 [web 1/2] FROM x\nERROR: failed to solve',
      ['api', 'web'],
      'web'
    ],
    ['nothing useful here', ['api'], undefined]
  ])('finds the failed target in %j', (output, targets, service) => {
    expect(failedTargetOf(output, targets)).toBe(service)
  })
})

describe('smoke argv', () => {
  const base = ['docker', 'compose', '-f', 'c.yaml', '-p', 'x-smoke-1']
  it.each([
    [upArgs(base, 90), [...base, 'up', '--detach', '--wait', '--wait-timeout', '90', '--no-build']],
    [downArgs(base), [...base, 'down', '--volumes', '--remove-orphans', '--timeout', '10']],
    [psArgs(base), [...base, 'ps', '--all', '--format', 'json']],
    [logsArgs(base, 'api', 30), [...base, 'logs', '--no-color', '--tail', '30', 'api']]
  ])('%#', (argv, expected) => {
    expect(argv).toEqual(expected)
  })
})
