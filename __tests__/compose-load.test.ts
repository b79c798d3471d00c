import * as path from 'node:path'
import { checkComposeFiles, explainConfigFailure, filesReferencing } from '../src/compose/load.js'
import { InputError } from '../src/errors.js'
import { splitImageRef } from '../src/build/images.js'
import { imageOverride } from '../src/compose/images-override.js'
import { smokeOverrideYaml } from '../src/smoke/override.js'
import { planFromConfig } from '../src/compose/plan.js'

const fixtures = path.resolve('__tests__/fixtures')
const ref = (dir: string, files = ['compose.yaml']) => ({
  workingDirectory: path.join(fixtures, dir),
  files,
  profiles: []
})

describe('checkComposeFiles', () => {
  it('accepts valid files', () => {
    expect(() =>
      checkComposeFiles(ref('extends', ['compose.yaml', 'compose.override.yaml']))
    ).not.toThrow()
  })
  it('names a missing file and the input', () => {
    expect(() => checkComposeFiles(ref('extends', ['compose.yaml', 'nope.yaml']))).toThrow(
      /^Input 'compose-files': nope.yaml was not found/
    )
  })
  it('names the file and line of invalid YAML', () => {
    expect(() => checkComposeFiles(ref('invalid-yaml'))).toThrow(
      /^Input 'compose-files': compose.yaml is not valid YAML at line 4, column \d+/
    )
  })
})

describe('explainConfigFailure', () => {
  it('names the missing variable and the file that requires it', () => {
    const stderr =
      'error while interpolating services.db.environment.POSTGRES_PASSWORD: required variable DB_PASSWORD is missing a value: set DB_PASSWORD to the database password'
    const error = explainConfigFailure(ref('required-var'), stderr)
    expect(error).toBeInstanceOf(InputError)
    expect(error.message).toBe(
      "Input 'compose-files': variable DB_PASSWORD is required by compose.yaml but is not set (set DB_PASSWORD to the database password); set it in the environment or in the project's .env file"
    )
  })
  it('passes other compose errors on, on one line', () => {
    const error = explainConfigFailure(
      ref('no-image'),
      'line one\nservice "orphan" has neither an image nor a build context specified: invalid compose project\n'
    )
    expect(error.message).toBe(
      'Input \'compose-files\': docker compose could not read compose.yaml: line one | service "orphan" has neither an image nor a build context specified: invalid compose project'
    )
  })
  it('finds which files refer to a variable', () => {
    expect(filesReferencing(ref('required-var'), 'DB_PASSWORD')).toEqual(['compose.yaml'])
    expect(filesReferencing(ref('required-var'), 'DB_USER')).toEqual(['compose.yaml'])
    expect(filesReferencing(ref('required-var'), 'DB')).toEqual([])
  })
})

describe('images', () => {
  it.each([
    ['app/api:dev', 'app/api', 'dev'],
    ['localhost:5000/team/api:1.2.3', 'localhost:5000/team/api', '1.2.3'],
    ['localhost:5000/team/api', 'localhost:5000/team/api', undefined],
    ['r/api@sha256:abc', 'r/api', undefined],
    ['r/api:1@sha256:abc', 'r/api', '1']
  ])('splits %s', (input, repository, tag) => {
    expect(splitImageRef(input)).toEqual({ repository, tag })
  })

  it('pins each built service, and services that run its image, to its ref, and never pulls them', () => {
    const plan = planFromConfig({
      name: 'p',
      services: {
        api: { image: 'p/api:local', build: { context: '/w' } },
        migrate: { image: 'p/api:local' },
        web: { build: { context: '/w' } },
        db: { image: 'postgres:16' }
      }
    })
    expect(
      imageOverride(plan, {
        api: { image: 'r/api', tags: ['1'], digest: '', ref: 'r/api:1' },
        web: { image: 'r/web', tags: ['1'], digest: 'sha256:f', ref: 'r/web@sha256:f' }
      })
    ).toEqual({
      api: { image: 'r/api:1', pull_policy: 'never' },
      migrate: { image: 'r/api:1', pull_policy: 'never' },
      web: { image: 'r/web@sha256:f', pull_policy: 'never' }
    })
  })

  it('replaces published ports with ephemeral loopback ports, or keeps them', () => {
    const plan = planFromConfig({
      name: 'p',
      services: {
        web: { image: 'p/web', ports: [{ target: 8080, published: '8080', protocol: 'tcp' }] },
        db: { image: 'postgres:16' }
      }
    })
    expect(smokeOverrideYaml(plan, {}, 'ephemeral')).toBe(
      [
        'services:',
        '  web:',
        '    ports: !override',
        '      - target: 8080',
        '        host_ip: 127.0.0.1',
        '        protocol: tcp',
        ''
      ].join('\n')
    )
    expect(
      smokeOverrideYaml(
        plan,
        { web: { image: 'p/web', tags: ['1'], digest: '', ref: 'p/web:1' } },
        'fixed'
      )
    ).toBe(['services:', '  web:', '    image: p/web:1', '    pull_policy: never', ''].join('\n'))
  })
})
