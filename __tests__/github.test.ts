import { DeployError, type DeployErrorFields } from '../src/errors.js'
/**
 * The GitHub integration: pure helpers as table tests, and the deployment status sequence and
 * the comment upsert through the real Octokit client against the fake GitHub API (in-process:
 * these tests are async, so the server answers while they wait).
 */
import { MemoryReporter } from '../src/report/reporter.js'
import {
  DESCRIPTION_LIMIT,
  DeploymentRecorder,
  GithubClient,
  GithubIntegration,
  deploymentBody,
  describeDeployFailure,
  githubRunFromEnv,
  isProductionEnvironment,
  pullRequestOf,
  truncateDescription,
  upsertPullRequestRow,
  type DeploymentSpec
} from '../src/report/github.js'
import { commentMarker, parseCommentData, type CommentRow } from '../src/report/github-comment.js'
import { FakeGithubApi } from '../test/stand-ins/fake-github-api.js'

const REPO = { owner: 'acme', repo: 'shop' }
const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'
const RUN = 'https://github.com/acme/shop/actions/runs/77'
const RELEASE = '20261121T220130Z-a1b2c3d'

const spec = (over: Partial<DeploymentSpec> = {}): DeploymentSpec => ({
  task: 'deploy',
  ref: SHA,
  environment: 'staging',
  project: 'shop',
  release: RELEASE,
  hosts: ['deploy@h1'],
  ...over
})

describe('descriptions', () => {
  it.each([
    ['short', 'short'],
    ['  spaces\nand   lines ', 'spaces and lines'],
    ['x'.repeat(140), 'x'.repeat(140)],
    ['x'.repeat(141), `${'x'.repeat(139)}…`],
    ['é'.repeat(300), `${'é'.repeat(139)}…`]
  ])('truncateDescription, case %#', (text, out) => {
    expect(truncateDescription(text)).toBe(out)
    expect([...truncateDescription(text)].length).toBeLessThanOrEqual(DESCRIPTION_LIMIT)
  })

  const deployError = (fields: Partial<DeployErrorFields>): DeployError =>
    new DeployError({
      task: 'deploy',
      host: 'deploy@h1',
      step: 'roll out',
      reason: 'boom',
      outcome: 'nothing switched',
      ...fields
    })

  it.each([
    [
      'a failed health check, rolled back',
      'deploy',
      deployError({
        reason: 'compose up --wait failed: api is unhealthy',
        outcome: 'rolled back',
        rolledBackTo: '20261120T100000Z-0000001'
      }),
      'Deploy failed on deploy@h1 at roll out; rolled back to 20261120T100000Z-0000001: compose up --wait failed: api is unhealthy'
    ],
    [
      'compose output on the following lines',
      'deploy',
      deployError({
        reason:
          'compose up --wait failed on deploy@h1 (exit 1):\n Container shop-api-1 Waiting\n container shop-api-1 is unhealthy',
        outcome: 'rolled back',
        rolledBackTo: '20261120T100000Z-0000001'
      }),
      'Deploy failed on deploy@h1 at roll out; rolled back to 20261120T100000Z-0000001: compose up --wait failed (exit 1): container shop-api-1 is…'
    ],
    [
      // The failing host never switched; only the other one was rolled back. Read from the
      // fields, the status cannot say the failing host was rolled back.
      'a second host failed at migrate, the first one was rolled back',
      'deploy',
      deployError({
        host: 'deploy@h2',
        step: 'migrate',
        reason:
          'the migration (service migrate) exited with code 1; the previous release keeps serving. Last lines: boom',
        otherHosts: [
          { host: 'deploy@h1', outcome: 'rolled back', release: '20261120T100000Z-0000001' }
        ]
      }),
      'Deploy failed on deploy@h2 at migrate; nothing switched (deploy@h1 rolled back to 20261120T100000Z-0000001): the migration (service migrate…'
    ],
    [
      'a failed migration: nothing switched',
      'deploy',
      deployError({
        step: 'migrate',
        reason:
          'the migration (service migrate) exited with code 1; the previous release keeps serving. Last lines: boom'
      }),
      'Deploy failed on deploy@h1 at migrate; nothing switched: the migration (service migrate) exited with code 1. Last lines: boom'
    ],
    [
      'a first deploy that cannot roll back',
      'deploy',
      deployError({
        host: 'deploy@h2',
        step: 'verify',
        reason: 'health check http://h2/health failed after 3 attempts: ECONNREFUSED',
        outcome: 'not rolled back'
      }),
      'Deploy failed on deploy@h2 at verify; not rolled back: health check http://h2/health failed after 3 attempts: ECONNREFUSED'
    ],
    [
      'a rollback with no release to go back to',
      'deploy:rollback',
      deployError({
        task: 'rollback',
        step: 'rollback',
        reason: 'no release before 20261120T100000Z-0000001 is kept on the host'
      }),
      'Rollback failed on deploy@h1 at rollback: no release before 20261120T100000Z-0000001 is kept on the host'
    ],
    [
      'not a deploy error',
      'deploy',
      new Error("Input 'images': deploy needs the images output of a build step\nsecond line"),
      "Deploy failed: Input 'images': deploy needs the images output of a build step"
    ],
    [
      // A lookalike is not trusted: only DeployError's own fields are.
      'an error merely named DeployError',
      'deploy',
      Object.assign(
        new Error('Deploy to deploy@h1 failed at "x": y; rolled back to 20261120T100000Z-0000001'),
        {
          name: 'DeployError',
          host: 'deploy@h1',
          step: 'x'
        }
      ),
      'Deploy failed: Deploy to deploy@h1 failed at "x": y; rolled back to 20261120T100000Z-0000001'
    ]
  ] as const)('%s', (_name, task, error, description) => {
    expect(describeDeployFailure(task, error)).toBe(description)
  })

  it('renders the message from the same fields', () => {
    expect(
      deployError({
        host: 'deploy@h2',
        step: 'migrate',
        reason: 'exit 1',
        otherHosts: [
          { host: 'deploy@h1', outcome: 'rolled back', release: '20261120T100000Z-0000001' }
        ]
      }).message
    ).toBe(
      'Deploy to deploy@h2 failed at "migrate": exit 1. deploy@h1 was rolled back to 20261120T100000Z-0000001'
    )
    expect(
      deployError({ outcome: 'rolled back', rolledBackTo: '20261120T100000Z-0000001' }).message
    ).toBe(
      'Deploy to deploy@h1 failed at "roll out": boom; rolled back to 20261120T100000Z-0000001, which is serving'
    )
  })

  it('names the backup of a failed migration, in the message and (by file name) in the status', () => {
    const error = deployError({
      step: 'migrate',
      reason: 'exit 1',
      backup: '/srv/sd/shop/backups/20261121T220130.000Z-a1b2c3d-postgres.sql.gz'
    })
    expect(error.message).toBe(
      'Deploy to deploy@h1 failed at "migrate": exit 1. The database was backed up before the migration: restore from /srv/sd/shop/backups/20261121T220130.000Z-a1b2c3d-postgres.sql.gz if it committed part of its work'
    )
    expect(describeDeployFailure('deploy', error)).toBe(
      'Deploy failed on deploy@h1 at migrate; nothing switched; backup 20261121T220130.000Z-a1b2c3d-postgres.sql.gz: exit 1'
    )
  })

  it('cuts a long failure to 140 characters', () => {
    const long = describeDeployFailure(
      'deploy',
      deployError({ step: 'pull', reason: 'no space '.repeat(40), outcome: 'not rolled back' })
    )
    expect(long.startsWith('Deploy failed on deploy@h1 at pull; not rolled back: no space')).toBe(
      true
    )
    expect([...long]).toHaveLength(140)
  })
})

describe('the deployment request', () => {
  it.each([
    ['production', true],
    ['Production', true],
    ['prod', true],
    ['staging', false],
    ['production-eu', false]
  ])('environment %s is production: %s', (environment, production) => {
    expect(isProductionEnvironment(environment)).toBe(production)
    expect(deploymentBody(spec({ environment })).production_environment).toBe(production)
  })

  it('deploys the commit, merges nothing, requires no checks, and carries project, release and hosts', () => {
    expect(deploymentBody(spec({ hosts: ['deploy@h1', 'deploy@h2'] }))).toEqual({
      ref: SHA,
      task: 'deploy',
      auto_merge: false,
      required_contexts: [],
      environment: 'staging',
      production_environment: false,
      transient_environment: false,
      description: `Deploy ${RELEASE} of shop to 2 hosts`,
      payload: { project: 'shop', release: RELEASE, hosts: ['deploy@h1', 'deploy@h2'] }
    })
  })

  it('a rollback is its own task', () => {
    const body = deploymentBody(spec({ task: 'deploy:rollback', release: 'previous' }))
    expect(body.task).toBe('deploy:rollback')
    expect(body.description).toBe('Roll back shop on deploy@h1 to the previous release')
  })
})

describe('the run', () => {
  it.each([
    ['pull_request', { pull_request: { number: 12, head: { sha: 'f'.repeat(40) } } }, 12],
    ['pull_request_target', { pull_request: { number: 13 } }, 13],
    ['push', { pull_request: { number: 14 } }, undefined],
    ['pull_request', {}, undefined],
    [undefined, {}, undefined]
  ])('event %s with %j → pull request %s', (eventName, payload, number) => {
    const run = githubRunFromEnv(
      { GITHUB_REPOSITORY: 'acme/shop', ...(eventName ? { GITHUB_EVENT_NAME: eventName } : {}) },
      RUN,
      payload
    )
    expect(pullRequestOf(run)?.number).toBe(number)
  })

  it('reads the API URL and the repository from the environment', () => {
    const run = githubRunFromEnv(
      { GITHUB_API_URL: 'https://ghe.example/api/v3', GITHUB_REPOSITORY: 'acme/shop' },
      RUN,
      {}
    )
    expect(run.apiUrl).toBe('https://ghe.example/api/v3')
    expect(run.repo).toEqual(REPO)
    expect(githubRunFromEnv({}, undefined, {}).apiUrl).toBe('https://api.github.com')
    expect(githubRunFromEnv({ GITHUB_REPOSITORY: 'nope' }, undefined, {}).repo).toBeUndefined()
  })
})

describe('against the fake GitHub API', () => {
  let api: FakeGithubApi
  let client: GithubClient

  beforeEach(async () => {
    api = await FakeGithubApi.start()
    client = new GithubClient('ghs_unit_token', api.url)
  })
  afterEach(async () => {
    await api.close()
  })

  const calls = () => api.requests.map(r => `${r.method} ${r.pathname}`)
  const states = () =>
    api.requests
      .filter(r => r.pathname.endsWith('/statuses'))
      .map(r => (r.body as { state: string }).state)

  describe('a deployment', () => {
    it('success: created, in_progress with the run URL, success with the environment URL', async () => {
      const reporter = new MemoryReporter()
      const recorder = new DeploymentRecorder(client, REPO, spec(), RUN, reporter)
      await recorder.start()
      await recorder.succeed('http://h1:8080/', `Deployed ${RELEASE} to deploy@h1`)
      expect(calls()).toEqual([
        'POST /repos/acme/shop/deployments',
        'POST /repos/acme/shop/deployments/1000/statuses',
        'POST /repos/acme/shop/deployments/1000/statuses'
      ])
      expect(api.requests[0]?.authorization).toBe('token ghs_unit_token')
      expect(api.requests[0]?.body).toMatchObject({
        ref: SHA,
        task: 'deploy',
        environment: 'staging'
      })
      expect(api.requests[1]?.body).toEqual({
        state: 'in_progress',
        description: `Deploying ${RELEASE} on deploy@h1`,
        log_url: RUN
      })
      expect(api.requests[2]?.body).toEqual({
        state: 'success',
        description: `Deployed ${RELEASE} to deploy@h1`,
        environment_url: 'http://h1:8080/',
        log_url: RUN
      })
      expect(recorder.sent).toEqual(['in_progress', 'success'])
      expect(reporter.warnings).toEqual([])
    })

    it('failure: in_progress then failure, saying where it failed', async () => {
      const recorder = new DeploymentRecorder(client, REPO, spec(), RUN, new MemoryReporter())
      await recorder.start()
      await recorder.fail(
        new DeployError({
          task: 'deploy',
          host: 'deploy@h1',
          step: 'migrate',
          reason: 'exit 1',
          outcome: 'not rolled back'
        })
      )
      expect(states()).toEqual(['in_progress', 'failure'])
      expect((api.requests[2]?.body as { description: string }).description).toBe(
        'Deploy failed on deploy@h1 at migrate; not rolled back: exit 1'
      )
    })

    it('a long failure is cut to the 140 characters GitHub accepts', async () => {
      const recorder = new DeploymentRecorder(client, REPO, spec(), undefined, new MemoryReporter())
      await recorder.start()
      await recorder.fail(new Error('x'.repeat(500)))
      expect(recorder.sent).toEqual(['in_progress', 'failure'])
      // Without a run URL there is no log_url.
      expect(api.requests[1]?.body).not.toHaveProperty('log_url')
    })

    it('403 on create: one warning naming the permission, and no status calls', async () => {
      api.deny('/repos/acme/shop/deployments')
      const reporter = new MemoryReporter()
      const recorder = new DeploymentRecorder(client, REPO, spec(), RUN, reporter)
      await recorder.start()
      await recorder.succeed(undefined, 'done')
      expect(calls()).toEqual(['POST /repos/acme/shop/deployments'])
      expect(reporter.warnings).toHaveLength(1)
      expect(reporter.warnings[0]).toMatch(
        /Could not create the GitHub deployment to staging \(HTTP 403: Resource not accessible by integration\): the token needs the `deployments: write` permission on acme\/shop.*The deploy goes on/
      )
    })

    it('403 on the statuses: warns once and stops calling', async () => {
      api.deny('/repos/acme/shop/deployments/1000/statuses')
      const reporter = new MemoryReporter()
      const recorder = new DeploymentRecorder(client, REPO, spec(), RUN, reporter)
      await recorder.start()
      await recorder.fail(new Error('boom'))
      expect(calls()).toEqual([
        'POST /repos/acme/shop/deployments',
        'POST /repos/acme/shop/deployments/1000/statuses'
      ])
      expect(reporter.warnings).toHaveLength(1)
      expect(reporter.warnings[0]).toMatch(/set the GitHub deployment 1000 to in_progress.*403/)
    })

    it('a server error on in_progress still sends the final status', async () => {
      const reporter = new MemoryReporter()
      const recorder = new DeploymentRecorder(client, REPO, spec(), RUN, reporter)
      api.deny('/repos/acme/shop/deployments/1000/statuses', { status: 502 })
      await recorder.start()
      expect(reporter.warnings).toHaveLength(1)
      expect(reporter.warnings[0]).toMatch(/HTTP 502/)
      // A 5xx is not a missing permission: the next status is still tried.
      await recorder.succeed(undefined, 'ok')
      expect(states()).toEqual(['in_progress', 'success'])
      expect(recorder.sent).toEqual([])
    })

    it('an API that is not there: a warning, not an error', async () => {
      const reporter = new MemoryReporter()
      await api.close()
      const recorder = new DeploymentRecorder(client, REPO, spec(), RUN, reporter)
      await recorder.start()
      await recorder.succeed(undefined, 'ok')
      expect(reporter.warnings).toHaveLength(1)
      expect(reporter.warnings[0]).toMatch(/Could not create the GitHub deployment/)
      api = await FakeGithubApi.start()
    })
  })

  describe('the pull request comment', () => {
    const row = (over: Partial<CommentRow> = {}): CommentRow => ({
      stage: 'build',
      ok: true,
      detail: 'api 3.0s',
      sha: SHA,
      runUrl: RUN,
      at: new Date().toISOString(),
      ...over
    })
    const upsert = (r: CommentRow, reporter = new MemoryReporter(), project = 'shop') =>
      upsertPullRequestRow(client, REPO, 7, project, r, reporter)

    it('creates one comment, then updates it: never a second one', async () => {
      await upsert(row())
      await upsert(row({ stage: 'smoke', detail: 'ready in 20.0s' }))
      await upsert(row({ stage: 'smoke', ok: false, detail: 'api: unhealthy' }))
      expect(calls()).toEqual([
        'GET /repos/acme/shop/issues/7/comments',
        'POST /repos/acme/shop/issues/7/comments',
        'GET /repos/acme/shop/issues/7/comments',
        'PATCH /repos/acme/shop/issues/comments/1000',
        'GET /repos/acme/shop/issues/7/comments',
        'PATCH /repos/acme/shop/issues/comments/1000'
      ])
      expect(api.requests[0]?.query).toEqual({ per_page: '100', page: '1' })
      const comments = api.commentsOn('acme', 'shop', 7)
      expect(comments).toHaveLength(1)
      const body = comments[0]?.body as string
      expect(body.split('\n')[0]).toBe(commentMarker('shop'))
      expect(parseCommentData(body, 'shop').rows.map(r => [r.stage, r.ok, r.detail])).toEqual([
        ['build', true, 'api 3.0s'],
        ['smoke', false, 'api: unhealthy']
      ])
    })

    it('finds its comment on a later page, following the Link header', async () => {
      api.seedComments('acme', 'shop', 7, 130)
      await upsert(row())
      api.seedComments('acme', 'shop', 7, 90)
      api.requests.length = 0
      await upsert(row({ stage: 'scan' }))
      expect(calls()).toEqual([
        'GET /repos/acme/shop/issues/7/comments',
        'GET /repos/acme/shop/issues/7/comments',
        'PATCH /repos/acme/shop/issues/comments/1130'
      ])
      expect(api.requests.map(r => r.query.page)).toEqual(['1', '2', undefined])
      expect(
        api.commentsOn('acme', 'shop', 7).filter(c => c.body.includes('stack-deploy'))
      ).toHaveLength(1)
    })

    it('reads every page before creating a comment', async () => {
      api.seedComments('acme', 'shop', 7, 250)
      await upsert(row())
      expect(api.requests.map(r => `${r.method} ${r.query.page ?? ''}`)).toEqual([
        'GET 1',
        'GET 2',
        'GET 3',
        'POST '
      ])
    })

    it('another compose project gets a comment of its own', async () => {
      await upsert(row())
      await upsert(row(), new MemoryReporter(), 'admin')
      await upsert(row({ stage: 'smoke' }), new MemoryReporter(), 'admin')
      const bodies = api.commentsOn('acme', 'shop', 7).map(c => c.body.split('\n')[0])
      expect(bodies).toEqual([commentMarker('shop'), commentMarker('admin')])
    })

    it('403 (a fork pull request): a warning naming pull-requests: write and forks', async () => {
      api.deny('/repos/acme/shop/issues/7/comments', { method: 'POST' })
      const reporter = new MemoryReporter()
      await upsert(row(), reporter)
      expect(reporter.warnings).toHaveLength(1)
      expect(reporter.warnings[0]).toMatch(
        /Could not update the stack-deploy comment on pull request #7 \(HTTP 403: Resource not accessible by integration\): the token needs the `pull-requests: write` permission.*forks.*The build result itself is not affected/
      )
    })
  })

  describe('GithubIntegration', () => {
    const integration = (env: Record<string, string>, payload: object) => {
      const reporter = new MemoryReporter()
      const run = githubRunFromEnv({ GITHUB_API_URL: api.url, ...env }, RUN, payload)
      return { reporter, github: new GithubIntegration(client, run, reporter) }
    }

    it('comments with the pull request head commit', async () => {
      const head = 'f'.repeat(40)
      const { github } = integration(
        { GITHUB_REPOSITORY: 'acme/shop', GITHUB_EVENT_NAME: 'pull_request', GITHUB_SHA: SHA },
        { pull_request: { number: 9, head: { sha: head } } }
      )
      await github.commentRow('shop', { stage: 'build', ok: true, detail: 'ok' }, 'local')
      const body = api.commentsOn('acme', 'shop', 9)[0]?.body as string
      expect(parseCommentData(body, 'shop').rows[0]?.sha).toBe(head)
    })

    it('on a push, says there is no pull request and calls nothing', async () => {
      const { github, reporter } = integration(
        { GITHUB_REPOSITORY: 'acme/shop', GITHUB_EVENT_NAME: 'push' },
        {}
      )
      await github.commentRow('shop', { stage: 'build', ok: true, detail: 'ok' }, SHA)
      expect(api.requests).toEqual([])
      expect(reporter.lines.join('\n')).toMatch(/not for a pull request \(event push\)/)
    })

    it('without GITHUB_REPOSITORY or a sha: no deployment, a warning', () => {
      const { github, reporter } = integration({}, {})
      expect(github.deployment(spec())).toBeUndefined()
      const withRepo = integration({ GITHUB_REPOSITORY: 'acme/shop' }, {})
      expect(withRepo.github.deployment(spec({ ref: '' }))).toBeUndefined()
      expect([...reporter.warnings, ...withRepo.reporter.warnings]).toEqual([
        expect.stringMatching(/GITHUB_REPOSITORY/),
        expect.stringMatching(/No commit sha/)
      ])
    })
  })
})

describe('secrets never reach GitHub', () => {
  // What a failed migration printed; the deploy's failure quotes its last lines.
  const SECRET = 'pw-Zq8x"7|k\\secret'
  const migrationFailed = (): DeployError =>
    new DeployError({
      task: 'deploy',
      host: 'deploy@h1',
      step: 'migrate',
      reason: `the migration (service migrate) exited with code 3; the previous release keeps serving. Last lines: pw=${SECRET}`,
      outcome: 'nothing switched'
    })
  const secretReporter = (): MemoryReporter => {
    const reporter = new MemoryReporter()
    reporter.setSecret(SECRET)
    return reporter
  }
  /** What GitHub was sent, every request body as JSON text (JSON-escaped, as on the wire). */
  const sent = (api: FakeGithubApi): string => JSON.stringify(api.requests.map(r => r.body))
  const noSecretIn = (text: string): void => {
    expect(text).not.toContain(SECRET)
    expect(text).not.toContain(JSON.stringify(SECRET).slice(1, -1))
    // Not even the start of it, where a description is cut.
    expect(text).not.toContain('pw-Zq8')
  }

  it.each([
    ['a DeployError quoting the migration output', migrationFailed()],
    ['any other error', new Error(`migration: pw=${SECRET}`)]
  ])('describeDeployFailure redacts before it cuts: %s', (_name, error) => {
    const redact = (text: string): string => secretReporter().redact(text)
    const description = describeDeployFailure('deploy', error, redact)
    noSecretIn(description)
    expect(description).toMatch(/pw=\*\*\*$/)
  })

  it('cuts after redacting: a secret where the cut falls leaves nothing of itself', () => {
    const reporter = secretReporter()
    // Without redaction the cut falls inside the secret, and its first characters show.
    const cut = describeDeployFailure('deploy', migrationFailed())
    expect([...cut]).toHaveLength(140)
    expect(cut).toContain('pw-Zq8')
    const redacted = describeDeployFailure('deploy', migrationFailed(), text =>
      reporter.redact(text)
    )
    expect(redacted).toMatch(/Last lines: pw=\*\*\*$/)
    noSecretIn(redacted)
  })

  describe('against the fake GitHub API', () => {
    let api: FakeGithubApi
    let client: GithubClient
    beforeEach(async () => {
      api = await FakeGithubApi.start()
      client = new GithubClient('ghs_unit_token', api.url)
    })
    afterEach(async () => {
      await api.close()
    })

    it('deployment statuses: the failure quoting the migration output is redacted', async () => {
      const reporter = secretReporter()
      const recorder = new DeploymentRecorder(client, REPO, spec(), RUN, reporter)
      await recorder.start()
      await recorder.fail(migrationFailed())
      expect(recorder.sent).toEqual(['in_progress', 'failure'])
      const failure = api.requests[2]?.body as { state: string; description: string }
      expect(failure.state).toBe('failure')
      expect(failure.description).toMatch(
        /^Deploy failed on deploy@h1 at migrate; nothing switched: the migration .* Last lines: pw=\*\*\*$/
      )
      noSecretIn(sent(api))
    })

    it('every status description is redacted, whatever the caller passes', async () => {
      const reporter = secretReporter()
      const recorder = new DeploymentRecorder(client, REPO, spec(), RUN, reporter)
      await recorder.start()
      await recorder.succeed(undefined, `Deployed; migration said: password ${SECRET}`)
      expect((api.requests[2]?.body as { description: string }).description).toBe(
        'Deployed; migration said: password ***'
      )
      noSecretIn(sent(api))
    })

    it('the pull request comment: the row quoting output, the older rows and the hidden data', async () => {
      const reporter = secretReporter()
      // A comment written before the secret was known to redact (an older version, by hand).
      const old = {
        stage: 'build' as const,
        ok: true,
        detail: `built with ${SECRET}`,
        sha: SHA,
        runUrl: RUN,
        at: '2026-11-21T10:00:00.000Z'
      }
      await upsertPullRequestRow(client, REPO, 7, 'shop', old, new MemoryReporter())
      expect(sent(api)).toContain('pw-Zq8')
      api.requests.length = 0
      await upsertPullRequestRow(
        client,
        REPO,
        7,
        'shop',
        {
          stage: 'smoke',
          ok: false,
          // A long detail, cut at 600 characters: unredacted, the cut would fall in the secret.
          detail: `migrate: one-shot job exited with code 3: ${'x'.repeat(540)} pw=${SECRET} and more`,
          sha: SHA,
          runUrl: RUN,
          at: new Date().toISOString()
        },
        reporter
      )
      const body = api.commentsOn('acme', 'shop', 7)[0]?.body as string
      noSecretIn(body)
      noSecretIn(sent(api))
      const rows = parseCommentData(body, 'shop').rows
      expect(rows.map(r => [r.stage, r.detail.slice(0, 15)])).toEqual([
        ['build', 'built with ***'],
        ['smoke', 'migrate: one-sh']
      ])
      expect(rows[1]?.detail).toMatch(/x pw=\*\*\* and more$/)
    })
  })
})
