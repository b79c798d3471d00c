import {
  defaultTags,
  renderTagTemplates,
  sanitizeTag,
  parseTagTemplates,
  tagsFor
} from '../src/build/tags.js'
import {
  adaptCacheToDriver,
  cacheSettings,
  cacheWriteAllowed,
  resolveCacheBackend
} from '../src/build/cache.js'
import { ociLabels, imageVersion } from '../src/build/labels.js'
import { httpsRepositoryUrl, type GitContext } from '../src/build/git-context.js'
import { classifyLoginFailure, registryOf } from '../src/build/registry.js'
import {
  JsonStreamSplitter,
  ProgressTracker,
  serviceOfVertex,
  isInstructionStep
} from '../src/build/progress.js'
import { planTargets, buildSummary, repositoryFor } from '../src/build/build.js'
import { planFromConfig } from '../src/compose/plan.js'
import { parseInputs } from '../src/inputs.js'

const SHA = '0123456789abcdef0123456789abcdef01234567'
const ctx = (over: Partial<GitContext> = {}): GitContext => ({
  event: 'push',
  ref: 'refs/heads/main',
  sha: SHA,
  defaultBranch: 'main',
  pullRequest: undefined,
  headBranch: undefined,
  repositoryUrl: 'https://github.com/acme/shop',
  runNumber: '42',
  ...over
})

describe('default tag rules', () => {
  it.each([
    ['push to the default branch', ctx(), ['sha-0123456', 'main', 'latest']],
    [
      'push to another branch',
      ctx({ ref: 'refs/heads/feature/Login_v2' }),
      ['sha-0123456', 'feature-Login_v2']
    ],
    [
      'a pull request',
      ctx({ event: 'pull_request', ref: 'refs/pull/17/merge', pullRequest: 17 }),
      ['sha-0123456', 'pr-17']
    ],
    [
      'a release tag',
      ctx({ ref: 'refs/tags/v1.4.2' }),
      ['sha-0123456', '1.4.2', '1.4', '1', 'latest']
    ],
    [
      'a 0.x release tag (no bare 0)',
      ctx({ ref: 'refs/tags/v0.9.1' }),
      ['sha-0123456', '0.9.1', '0.9', 'latest']
    ],
    ['a pre-release tag', ctx({ ref: 'refs/tags/v2.0.0-rc.1' }), ['sha-0123456', '2.0.0-rc.1']],
    ['a non-semver tag', ctx({ ref: 'refs/tags/nightly' }), ['sha-0123456']],
    ['unknown default branch', ctx({ defaultBranch: undefined }), ['sha-0123456', 'main']],
    ['outside git', ctx({ sha: '', ref: '' }), ['latest']],
    [
      'a branch named like a tag rule',
      ctx({ ref: 'refs/heads/.hidden' }),
      ['sha-0123456', 'hidden']
    ]
  ])('%s', (_name, context, tags) => {
    expect(defaultTags(context)).toEqual(tags)
  })

  it.each([
    ['feature/x', 'feature-x'],
    ['UPPER', 'UPPER'],
    ['--x', 'x'],
    ['a'.repeat(200), 'a'.repeat(128)],
    ['///', undefined]
  ])('sanitises %j', (branch, tag) => {
    expect(sanitizeTag(branch)).toBe(tag)
  })
})

describe('tag templates', () => {
  const templates = parseTagTemplates(
    '{{branch}}-{{short_sha}}\npr-{{pr}}\n{{version}}\n{{service}}-{{run_number}}\nstable\n# a comment'
  )
  it.each([
    ['branch push', ctx(), ['main-0123456', 'api-42', 'stable']],
    [
      'pull request',
      ctx({ ref: 'refs/pull/3/merge', pullRequest: 3 }),
      ['pr-3', 'api-42', 'stable']
    ],
    ['release', ctx({ ref: 'refs/tags/v3.1.0' }), ['3.1.0', 'api-42', 'stable']]
  ])('%s', (_name, context, tags) => {
    expect(renderTagTemplates(templates, context, 'api')).toEqual(tags)
  })

  it('fails when no template applies', () => {
    expect(() => tagsFor(ctx(), 'api', parseTagTemplates('pr-{{pr}}'))).toThrow(
      /no template applies/
    )
  })
})

describe('cache', () => {
  const gh = { ACTIONS_RUNTIME_TOKEN: 't', ACTIONS_RESULTS_URL: 'http://x' }
  it.each([
    ['auto', gh, false, 'gha'],
    ['auto', {}, true, 'registry'],
    ['auto', {}, false, 'none'],
    ['registry', gh, true, 'registry'],
    ['none', gh, true, 'none']
  ] as const)(
    '%s with env %j and registry=%s resolves to %s',
    (choice, env, hasRegistry, backend) => {
      expect(resolveCacheBackend(choice, env, hasRegistry)).toBe(backend)
    }
  )

  it.each([
    ['always', ctx({ ref: 'refs/heads/dev' }), true],
    ['never', ctx(), false],
    ['default-branch', ctx(), true],
    ['default-branch', ctx({ ref: 'refs/heads/dev' }), false],
    ['default-branch', ctx({ ref: 'refs/pull/1/merge', pullRequest: 1 }), false],
    ['default-branch', ctx({ defaultBranch: undefined }), false]
  ] as const)('write policy %s', (policy, context, allowed) => {
    expect(cacheWriteAllowed(policy, context)).toBe(allowed)
  })

  it('gives every service a cache of its own', () => {
    const api = cacheSettings(
      'gha',
      { project: 'shop', service: 'api', repository: 'r/shop/api' },
      'max',
      true
    )
    const web = cacheSettings(
      'gha',
      { project: 'shop', service: 'web', repository: 'r/shop/web' },
      'max',
      true
    )
    expect(api).toEqual({
      cacheFrom: ['type=gha,scope=shop-api'],
      cacheTo: ['type=gha,scope=shop-api,mode=max,ignore-error=true']
    })
    expect(web.cacheFrom).toEqual(['type=gha,scope=shop-web'])
    // Two services in one repository still get separate registry caches.
    const a = cacheSettings(
      'registry',
      { project: 'p', service: 'a', repository: 'r/app' },
      'min',
      true
    )
    const b = cacheSettings(
      'registry',
      { project: 'p', service: 'b', repository: 'r/app' },
      'min',
      false
    )
    expect(a).toEqual({
      cacheFrom: ['type=registry,ref=r/app:buildcache-a'],
      cacheTo: ['type=registry,ref=r/app:buildcache-a,mode=min,ignore-error=true']
    })
    expect(b).toEqual({ cacheFrom: ['type=registry,ref=r/app:buildcache-b'], cacheTo: [] })
    expect(
      cacheSettings('none', { project: 'p', service: 'a', repository: 'r' }, 'max', true)
    ).toEqual({ cacheFrom: [], cacheTo: [] })
  })

  it('adapts to what the builder driver can do', () => {
    const registry = cacheSettings(
      'registry',
      { project: 'p', service: 'a', repository: 'r/a' },
      'max',
      true
    )
    expect(adaptCacheToDriver(registry, 'registry', 'docker-container')).toEqual({
      settings: registry,
      dropped: undefined
    })
    expect(adaptCacheToDriver(registry, 'registry', 'docker')).toEqual({
      settings: { cacheFrom: registry.cacheFrom, cacheTo: [] },
      dropped: 'the "docker" buildx driver can read but not write a registry cache'
    })
    const gha = cacheSettings('gha', { project: 'p', service: 'a', repository: 'r/a' }, 'max', true)
    expect(adaptCacheToDriver(gha, 'gha', 'docker').settings).toEqual({
      cacheFrom: [],
      cacheTo: []
    })
  })
})

describe('labels', () => {
  it('sets the OCI labels from the git context and the commit time', () => {
    expect(ociLabels(ctx({ ref: 'refs/tags/v1.2.3' }), 'api', '2026-11-21T10:00:00+00:00')).toEqual(
      {
        'org.opencontainers.image.title': 'api',
        'org.opencontainers.image.source': 'https://github.com/acme/shop',
        'org.opencontainers.image.revision': SHA,
        'org.opencontainers.image.created': '2026-11-21T10:00:00+00:00',
        'org.opencontainers.image.version': '1.2.3'
      }
    )
  })
  it.each([
    [ctx(), 'main'],
    [ctx({ ref: 'refs/pull/5/merge', pullRequest: 5 }), 'pr-5'],
    [ctx({ ref: 'refs/tags/nightly' }), 'nightly'],
    [ctx({ ref: '' }), '0123456'],
    [ctx({ ref: '', sha: '' }), undefined]
  ])('version %#', (context, version) => {
    expect(imageVersion(context)).toBe(version)
  })
  it.each([
    ['git@github.com:acme/shop.git', 'https://github.com/acme/shop'],
    ['https://github.com/acme/shop.git', 'https://github.com/acme/shop'],
    ['https://token@github.com/acme/shop', 'https://github.com/acme/shop'],
    ['ssh://git@git.example.com:2222/team/app.git', 'https://git.example.com/team/app'],
    ['/srv/git/local', undefined]
  ])('repository URL from remote %s', (remote, url) => {
    expect(httpsRepositoryUrl(remote)).toBe(url)
  })
})

describe('registry login', () => {
  it.each([
    [
      'Error response from daemon: Get "http://r/v2/": unauthorized: authentication required',
      'refused'
    ],
    [
      'Error response from daemon: login attempt to http://r/v2/ failed with status: 401 Unauthorized',
      'refused'
    ],
    [
      'Error response from daemon: Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused',
      'unreachable'
    ],
    [
      'Error response from daemon: Get "https://nope.invalid/v2/": dial tcp: lookup nope.invalid: no such host',
      'unreachable'
    ],
    ['something else', 'other']
  ])('classifies %j', (output, kind) => {
    expect(classifyLoginFailure(output)).toBe(kind)
  })
  it.each([
    ['ghcr.io/acme/api', 'ghcr.io'],
    ['localhost:5000/api', 'localhost:5000'],
    ['localhost/api', 'localhost'],
    ['acme/api', 'docker.io'],
    ['api', 'docker.io']
  ])('registry of %s', (repository, registry) => {
    expect(registryOf(repository)).toBe(registry)
  })
})

describe('rawjson progress', () => {
  const encode = (text: string): string => Buffer.from(text).toString('base64')
  const stream = [
    JSON.stringify(
      {
        vertexes: [
          { digest: 'a', name: '[api deps 1/3] FROM node', started: '2026-01-01T00:00:00Z' }
        ]
      },
      null,
      2
    ),
    JSON.stringify(
      {
        vertexes: [
          {
            digest: 'a',
            name: '[api deps 1/3] FROM node',
            started: '2026-01-01T00:00:00Z',
            completed: '2026-01-01T00:00:01Z',
            cached: true
          }
        ]
      },
      null,
      2
    ),
    JSON.stringify({
      vertexes: [
        {
          digest: 'b',
          name: '[api deps 2/3] RUN npm ci',
          started: '2026-01-01T00:00:01Z',
          completed: '2026-01-01T00:00:04Z'
        }
      ]
    }),
    JSON.stringify({
      vertexes: [
        { digest: 'c', name: '[web 1/2] COPY x "{braces}"', started: '2026-01-01T00:00:00Z' }
      ]
    }),
    JSON.stringify({ logs: [{ vertex: 'c', data: encode('step one\nstep two failed\n') }] }),
    JSON.stringify({
      vertexes: [
        {
          digest: 'c',
          name: '[web 1/2] COPY x "{braces}"',
          started: '2026-01-01T00:00:00Z',
          completed: '2026-01-01T00:00:02Z',
          error: 'exit code: 1'
        }
      ]
    }),
    JSON.stringify({
      vertexes: [
        {
          digest: 'd',
          name: '[web internal] load build definition',
          started: '2026-01-01T00:00:00Z',
          completed: '2026-01-01T00:00:00Z'
        }
      ]
    })
  ].join('\n')

  it('gives every vertex to the only target when bake builds one (it then omits target names)', () => {
    const tracker = new ProgressTracker(['api'])
    tracker.push(stream)
    expect(tracker.summary('api')).toEqual({ steps: 3, cached: 1, seconds: 4 })
  })

  it('blames the failing step, not the sibling steps BuildKit cancelled because of it', () => {
    const tracker = new ProgressTracker(['fine', 'broken'])
    tracker.push(
      [
        {
          digest: 'f',
          name: '[fine 2/2] RUN echo fine',
          started: '2026-01-01T00:00:00Z',
          completed: '2026-01-01T00:00:01Z',
          error: 'exit code: 1: context canceled: context canceled'
        },
        {
          digest: 'b',
          name: '[broken 2/2] RUN make',
          started: '2026-01-01T00:00:00Z',
          completed: '2026-01-01T00:00:01Z',
          error: 'process "/bin/sh -c make" did not complete successfully: exit code: 3'
        }
      ]
        .map(vertex => JSON.stringify({ vertexes: [vertex] }))
        .join('\n')
    )
    expect(tracker.failure(['fine', 'broken'])?.service).toBe('broken')
  })

  it('splits concatenated JSON fed in arbitrary chunks', () => {
    const splitter = new JsonStreamSplitter()
    const values = [...stream].flatMap(char => splitter.push(char))
    expect(values).toHaveLength(7)
  })

  it('tracks steps, cache hits, durations and the failing step with its logs', () => {
    const tracker = new ProgressTracker(['api', 'web'])
    const printed = stream.split('\n').flatMap(line => tracker.push(`${line}\n`))
    expect(printed).toEqual([
      '[api deps 1/3] FROM node  CACHED',
      '[api deps 2/3] RUN npm ci  3.0s',
      '[web 1/2] COPY x "{braces}"  ERROR'
    ])
    expect(tracker.summary('api')).toEqual({ steps: 2, cached: 1, seconds: 4 })
    expect(tracker.summary('web')).toEqual({ steps: 1, cached: 0, seconds: 2 })
    const failure = tracker.failure(['api', 'web'])
    expect(failure?.service).toBe('web')
    expect(failure?.error).toBe('exit code: 1')
    expect(failure?.logs).toEqual(['step one', 'step two failed'])
  })

  it.each([
    ['[api deps 2/4] RUN npm ci', 'api', true],
    ['[web internal] load .dockerignore', 'web', false],
    ['[web] exporting to image', 'web', false],
    ['[web 1/2] FROM x', 'web', true],
    ['resolve image config', undefined, false],
    ['[2/2] RUN make', '2/2', true]
  ])('%s', (name, service, instruction) => {
    expect(serviceOfVertex(name)).toBe(service)
    expect(isInstructionStep(name)).toBe(instruction)
  })
})

describe('build targets', () => {
  const plan = planFromConfig({
    name: 'shop',
    services: {
      api: { image: 'shop/api:local', build: { context: '/w/api' } },
      worker: { build: { context: '/w/api' } },
      db: { image: 'postgres:16' }
    }
  })
  const inputs = (values: Record<string, string>) =>
    parseInputs(name => ({ command: 'build', ...values })[name] ?? '').build

  it('names images after the registry and namespace when a registry is given', () => {
    const targets = planTargets({
      ref: { workingDirectory: '/w', files: ['compose.yaml'], profiles: [] },
      plan,
      services: plan.services,
      inputs: inputs({ registry: 'r.example:5000', 'image-namespace': 'acme/shop' }),
      git: ctx(),
      commitTime: undefined,
      env: {}
    })
    expect(targets.map(t => [t.target.service, t.target.tags])).toEqual([
      [
        'api',
        [
          'r.example:5000/acme/shop/api:sha-0123456',
          'r.example:5000/acme/shop/api:main',
          'r.example:5000/acme/shop/api:latest'
        ]
      ],
      [
        'worker',
        [
          'r.example:5000/acme/shop/worker:sha-0123456',
          'r.example:5000/acme/shop/worker:main',
          'r.example:5000/acme/shop/worker:latest'
        ]
      ]
    ])
  })

  it("keeps the service's own image name, and its tag, without a registry", () => {
    const targets = planTargets({
      ref: { workingDirectory: '/w', files: ['compose.yaml'], profiles: [] },
      plan,
      services: plan.services,
      inputs: inputs({ tags: '{{branch}}' }),
      git: ctx(),
      commitTime: undefined,
      env: {}
    })
    expect(targets.map(t => t.target.tags)).toEqual([
      ['shop/api:main', 'shop/api:local'],
      ['shop-worker:main']
    ])
  })

  it('defaults the namespace to the GitHub repository, lower-cased', () => {
    const api = plan.services.find(s => s.name === 'api')!
    expect(
      repositoryFor(plan, api, inputs({ registry: 'ghcr.io' }), { GITHUB_REPOSITORY: 'Acme/Shop' })
    ).toBe('ghcr.io/acme/shop/api')
    expect(repositoryFor(plan, api, inputs({ registry: 'ghcr.io' }), {})).toBe('ghcr.io/shop/api')
  })

  it('summarises each service in one row', () => {
    expect(
      buildSummary([
        {
          service: 'api',
          tags: ['1.0.0', 'latest'],
          digest: `sha256:${'b'.repeat(64)}`,
          seconds: 12.34,
          steps: 8,
          cached: 6
        }
      ])
    ).toContain('| api | `1.0.0` `latest` | `sha256:bbbbbbbbbbbb…` | 12.3s | 75% (6/8) |')
  })
})
