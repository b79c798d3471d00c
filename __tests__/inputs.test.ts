import * as fs from 'node:fs'
import { parse } from 'yaml'
import { InputError } from '../src/errors.js'
import { INPUT_SPECS, parseExitCodes, parseInputs, parseList } from '../src/inputs.js'

const getter =
  (values: Record<string, string>) =>
  (name: string): string =>
    values[name] ?? ''

describe('parseInputs', () => {
  it('applies the defaults of action.yml', () => {
    const inputs = parseInputs(getter({ command: 'plan' }))
    expect(inputs).toEqual({
      command: 'plan',
      composeFiles: ['compose.yaml'],
      projectName: undefined,
      workingDirectory: '.',
      profiles: [],
      services: [],
      images: undefined,
      waitTimeoutSeconds: 180,
      keep: false,
      probes: [],
      testCommand: undefined,
      ports: 'ephemeral',
      logDir: 'stack-deploy-logs',
      pathRules: new Map(),
      secretFiles: {},
      build: {
        registry: undefined,
        imageNamespace: undefined,
        push: false,
        registryUsername: undefined,
        registryPassword: undefined,
        tagTemplates: undefined,
        cache: 'auto',
        cacheMode: 'max',
        cacheWrite: 'always',
        builder: undefined
      },
      scan: {
        imageRefs: [],
        severities: ['CRITICAL', 'HIGH'],
        ignoreUnfixed: false,
        ignoreFile: undefined,
        exitCodes: { default: 1, perService: {} },
        parallel: 2,
        trivyVersion: '0.74.0',
        dbRepositories: ['mirror.gcr.io/aquasec/trivy-db:2', 'ghcr.io/aquasecurity/trivy-db:2'],
        sarifDir: 'stack-deploy-sarif'
      },
      deploy: {
        hosts: [],
        sshKey: '',
        knownHosts: '',
        trustOnFirstUse: false,
        jumpHost: undefined,
        connectTimeoutSeconds: 15,
        deployPath: '/srv/stack-deploy',
        envFile: '',
        secrets: '',
        backupService: undefined,
        backupKeep: 5,
        migrateService: undefined,
        migrateTimeoutSeconds: 600,
        healthUrls: [],
        healthRetries: 10,
        lockTimeoutSeconds: 300,
        lockTtlSeconds: 3600,
        keepReleases: 5,
        zeroDowntime: true,
        zeroDowntimeSettleSeconds: 3,
        minFreeMiB: 1024,
        releaseId: undefined
      },
      github: {
        token: undefined,
        environment: undefined,
        environmentUrl: undefined,
        prComment: false
      }
    })
  })

  it('reads the GitHub inputs', () => {
    const deploy = {
      command: 'deploy',
      hosts: 'h1',
      'ssh-key': 'k',
      'known-hosts': 'h1 ssh-ed25519 AAAA',
      'github-token': ' ghs_abc \n',
      environment: 'production',
      'environment-url': 'https://shop.example.com'
    }
    expect(parseInputs(getter(deploy)).github).toEqual({
      token: 'ghs_abc',
      environment: 'production',
      environmentUrl: 'https://shop.example.com',
      prComment: false
    })
    // Without a token, an environment is not needed: nothing is recorded on GitHub.
    expect(
      parseInputs(getter({ ...deploy, 'github-token': '', environment: '' })).github.token
    ).toBeUndefined()
    for (const command of ['build', 'scan', 'smoke'])
      expect(
        parseInputs(getter({ command, 'github-token': 't', 'pr-comment': 'true' })).github.prComment
      ).toBe(true)
  })

  it('reads lists, booleans and numbers', () => {
    const inputs = parseInputs(
      getter({
        command: 'smoke',
        'compose-files': 'compose.yaml\n compose.prod.yaml \n# a comment\n',
        profiles: 'debug, tools',
        services: 'api\nweb',
        'wait-timeout': '30',
        keep: 'TRUE',
        images: '{"api":{"image":"r/api","tags":["1"],"digest":"","ref":"r/api:1"}}'
      })
    )
    expect(inputs.composeFiles).toEqual(['compose.yaml', 'compose.prod.yaml'])
    expect(inputs.profiles).toEqual(['debug', 'tools'])
    expect(inputs.services).toEqual(['api', 'web'])
    expect(inputs.waitTimeoutSeconds).toBe(30)
    expect(inputs.keep).toBe(true)
    expect(inputs.images?.api?.ref).toBe('r/api:1')
  })

  it.each([
    [{}, 'command', /is required/],
    [{ command: 'launch' }, 'command', /unknown command "launch"/],
    [{ command: 'deploy' }, 'hosts', /is required for deploy/],
    [{ command: 'deploy', hosts: 'h1' }, 'ssh-key', /is required for deploy/],
    [
      { command: 'rollback', hosts: 'h1', 'ssh-key': 'k' },
      'known-hosts',
      /is required for rollback: pin each host's key/
    ],
    [
      { command: 'deploy', hosts: 'bad host name' },
      'hosts',
      /"bad host name" is not a valid host name/
    ],
    [{ command: 'plan', 'deploy-path': 'srv/x' }, 'deploy-path', /must be an absolute path/],
    [{ command: 'plan', 'release-id': 'latest' }, 'release-id', /not a release id/],
    [{ command: 'plan', 'keep-releases': '1' }, 'keep-releases', /at least 2/],
    [{ command: 'plan', 'compose-files': '\n#only a comment\n' }, 'compose-files', /at least one/],
    [
      { command: 'plan', 'project-name': 'My App' },
      'project-name',
      /not a valid compose project name/
    ],
    [{ command: 'smoke', 'wait-timeout': '10s' }, 'wait-timeout', /whole number/],
    [{ command: 'smoke', 'wait-timeout': '0' }, 'wait-timeout', /whole number/],
    [{ command: 'smoke', keep: 'maybe' }, 'keep', /true or false/],
    [{ command: 'smoke', images: '{not json' }, 'images', /not valid JSON/],
    [{ command: 'smoke', images: '{"api":{}}' }, 'images', /"api" has no "ref"/],
    [{ command: 'build', registry: 'https://ghcr.io' }, 'registry', /not a registry host/],
    [
      { command: 'build', 'image-namespace': 'Team/App' },
      'image-namespace',
      /not a valid image namespace/
    ],
    [
      { command: 'build', registry: 'r.example', 'registry-username': 'u' },
      'registry-password',
      /required when registry-username/
    ],
    [
      { command: 'build', registry: 'r.example', 'registry-password': 'p' },
      'registry-username',
      /required when registry-password/
    ],
    [
      { command: 'build', 'registry-username': 'u', 'registry-password': 'p' },
      'registry',
      /says where to log in/
    ],
    [{ command: 'build', tags: '{{sha}}\n{{brnch}}' }, 'tags', /unknown variable \{\{brnch\}\}/],
    [{ command: 'build', tags: '{{sha' }, 'tags', /unbalanced braces/],
    [{ command: 'build', tags: 'release candidate' }, 'tags', /cannot make a valid tag/],
    [{ command: 'build', tags: '-{{sha}}' }, 'tags', /cannot make a valid tag/],
    [{ command: 'build', cache: 's3' }, 'cache', /one of auto, gha, registry, none/],
    [{ command: 'build', cache: 'registry' }, 'cache', /needs the registry input/],
    [{ command: 'build', 'cache-mode': 'all' }, 'cache-mode', /one of min, max/],
    [{ command: 'build', 'cache-write': 'main' }, 'cache-write', /always, default-branch, never/],
    [{ command: 'smoke', push: 'true' }, 'push', /only applies to the build command/],
    [{ command: 'scan', severity: 'CRITICAL,SEVERE' }, 'severity', /unknown severity "SEVERE"/],
    [{ command: 'scan', severity: ' , ' }, 'severity', /at least one/],
    [{ command: 'scan', 'exit-code': '2' }, 'exit-code', /"2" is not 0, 1 or service=0\|1/],
    [{ command: 'scan', 'exit-code': 'web=yes' }, 'exit-code', /"web=yes"/],
    [{ command: 'scan', parallel: '0' }, 'parallel', /from 1 to 16/],
    [{ command: 'scan', 'trivy-version': 'latest' }, 'trivy-version', /not a release like/],
    [
      { command: 'scan', 'trivy-db-repositories': '#none' },
      'trivy-db-repositories',
      /at least one/
    ],
    [{ command: 'smoke', ports: 'random' }, 'ports', /one of ephemeral, fixed/],
    [
      { command: 'smoke', probes: '- http: web:8080/health\n  statuss: 200' },
      'probes',
      /probes\[0\].*unknown key "statuss"/
    ],
    [
      { command: 'smoke', probes: '- exec: db\n  command: pg_isready -U app' },
      'probes',
      /probes\[0\]/
    ],
    [
      { command: 'deploy', hosts: 'h1', 'ssh-key': 'k', 'known-hosts': 'x', 'github-token': 't' },
      'environment',
      /is required for deploy when github-token is set: name the GitHub environment/
    ],
    [
      { command: 'rollback', hosts: 'h1', 'ssh-key': 'k', 'known-hosts': 'x', 'github-token': 't' },
      'environment',
      /is required for rollback when github-token is set/
    ],
    [
      { command: 'build', 'pr-comment': 'true' },
      'github-token',
      /required when pr-comment is true/
    ],
    [{ command: 'smoke', 'pr-comment': 'sometimes' }, 'pr-comment', /true or false/],
    [
      {
        command: 'deploy',
        hosts: 'h1',
        'ssh-key': 'k',
        'known-hosts': 'x',
        'github-token': 't',
        environment: 'staging',
        'pr-comment': 'true'
      },
      'pr-comment',
      /only applies to the build, scan and smoke commands, not "deploy"/
    ],
    [
      { command: 'plan', 'github-token': 't', 'pr-comment': 'true' },
      'pr-comment',
      /only applies to the build, scan and smoke commands, not "plan"/
    ],
    [
      { command: 'plan', 'environment-url': 'shop.example.com' },
      'environment-url',
      /"shop.example.com" is not an http\(s\) URL/
    ],
    [
      { command: 'plan', 'environment-url': 'ftp://shop.example.com' },
      'environment-url',
      /not an http\(s\) URL/
    ],
    [{ command: 'plan', environment: 'x'.repeat(256) }, 'environment', /at most 255 characters/]
  ])('rejects %j naming input %s', (values, input, message) => {
    let error: unknown
    try {
      parseInputs(getter(values as Record<string, string>))
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(InputError)
    expect((error as InputError).input).toBe(input)
    expect((error as InputError).message).toMatch(new RegExp(`^Input '${input}': `))
    expect((error as InputError).message).toMatch(message)
    expect((error as InputError).message).not.toContain('\n')
  })
})

describe('parseExitCodes', () => {
  it.each([
    ['1', { default: 1, perService: {} }],
    ['0', { default: 0, perService: {} }],
    ['1, web=0', { default: 1, perService: { web: 0 } }],
    ['api=1\nweb=0\n0', { default: 0, perService: { api: 1, web: 0 } }]
  ])('%j', (text, codes) => {
    expect(parseExitCodes(text)).toEqual(codes)
  })
})

describe('parseList', () => {
  it.each([
    ['', []],
    ['a', ['a']],
    ['a,b , c', ['a', 'b', 'c']],
    ['a\n\nb # why\n# skip', ['a', 'b']]
  ])('%j -> %j', (text, list) => {
    expect(parseList(text)).toEqual(list)
  })
})

describe('action.yml', () => {
  const action = parse(fs.readFileSync('action.yml', 'utf8')) as {
    inputs: Record<string, { description: string; default?: string; required?: boolean }>
    runs: Record<string, string>
  }

  it('declares exactly the inputs of the inputs module, with the same defaults', () => {
    expect(Object.keys(action.inputs)).toEqual(INPUT_SPECS.map(spec => spec.name))
    for (const spec of INPUT_SPECS) {
      const declared = action.inputs[spec.name]
      expect({
        name: spec.name,
        default: declared?.default,
        required: declared?.required ?? false
      }).toEqual({
        name: spec.name,
        default: spec.default,
        required: spec.required ?? false
      })
      expect(declared?.description).toBe(spec.description)
    }
  })

  it('runs dist/index.js on node24 with a post step', () => {
    expect(action.runs).toEqual({
      using: 'node24',
      main: 'dist/index.js',
      post: 'dist/index.js',
      'post-if': 'always()'
    })
  })
})
