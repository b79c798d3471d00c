/**
 * The GitHub integration under the runner contract: `node dist/index.js` with INPUT_* and the
 * runner's GITHUB_* variables, GITHUB_API_URL pointing at the fake GitHub API
 * (test/stand-ins/fake-github-api.ts, a stand-in: nothing here talks to GitHub). The fake runs
 * as its own process because runStep blocks this process while the action runs; the requests
 * it recorded are read back after each step.
 *
 * One pushed build serves every deploy. The deploys run in an order that gives the rollback a
 * healthy release to go back to: no token (R1), deployments refused (R2), recorded (R3),
 * rollback (to R2), then a deploy that fails and is rolled back automatically.
 */
import { spawnSync, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  ROOT,
  docker,
  labEnv,
  referenceStackEnv,
  removeProject,
  runCli,
  runStep,
  startFakeGithubApi
} from './lab.js'
import type { RecordedRequest } from '../test/stand-ins/fake-github-api.js'
import { commentMarker, parseCommentData } from '../src/report/github-comment.js'

const lab = labEnv()
const project = `github-e2e-${process.pid}`
const PORT = 8085
const TOKEN = `ghs_e2e${process.pid}tokenvalue`
const PR = 17
const RUN_URL = 'https://github.com/acme/shop/actions/runs/4242'
const host = `${lab.LAB_SSH_USER}@${lab.LAB_HOST}`
const HEAD = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim()
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'github-e2e-'))

const common = {
  'compose-files': 'compose/compose.yaml',
  'working-directory': ROOT,
  'project-name': project,
  registry: lab.LAB_REGISTRY as string,
  'image-namespace': `e2e-github-${process.pid}`,
  'registry-username': lab.LAB_REGISTRY_USER as string,
  'registry-password': lab.LAB_REGISTRY_PASSWORD as string
}

const deployInputs = (images: string): Record<string, string> => ({
  ...common,
  command: 'deploy',
  images,
  hosts: host,
  'ssh-key': fs.readFileSync(lab.LAB_SSH_KEY as string, 'utf8'),
  'known-hosts': fs.readFileSync(lab.LAB_KNOWN_HOSTS as string, 'utf8'),
  'deploy-path': lab.LAB_DEPLOY_PATH as string,
  'env-file': `POSTGRES_IMAGE=${lab.POSTGRES_IMAGE}\nREDIS_IMAGE=${lab.REDIS_IMAGE}\nWEB_PORT=${PORT}`,
  secrets: 'POSTGRES_PASSWORD=github-pg-secret\nREDIS_PASSWORD=github-redis-secret',
  'health-urls': `http://{host}:${PORT}/api/health`,
  'health-retries': '20'
})

let fake: ChildProcess
let apiUrl = ''

/** The runner's variables for a run of acme/shop, with the API at the fake. */
const runnerEnv = (extra: Record<string, string> = {}): Record<string, string> =>
  referenceStackEnv({
    GITHUB_API_URL: apiUrl,
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_SHA: HEAD,
    GITHUB_RUN_ID: '4242',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_EVENT_NAME: 'push',
    ...extra
  })

async function control(method: string, route: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${apiUrl}/_fake/${route}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return response.json()
}
const recorded = async (): Promise<RecordedRequest[]> =>
  (await control('GET', 'requests')) as RecordedRequest[]
const clear = async (): Promise<unknown> => control('DELETE', 'requests')
const calls = (requests: RecordedRequest[]): string[] =>
  requests.map(r => `${r.method} ${r.pathname}`)

/** The step's log without the lines that tell the runner what to mask. */
const unmasked = (stdout: string): string =>
  stdout
    .split('\n')
    .filter(line => !line.startsWith('::add-mask::'))
    .join('\n')

beforeAll(async () => {
  ;({ fake, apiUrl } = await startFakeGithubApi())
})

afterAll(async () => {
  for (const engine of [lab.LAB_DEPLOY_DOCKER_HOST, lab.LAB_DEPLOY2_DOCKER_HOST])
    removeProject(project, { DOCKER_HOST: engine as string })
  // Closing its stdin stops the fake (it also stops if this process dies).
  const exited = new Promise(resolve => fake.once('exit', resolve))
  fake.stdin?.end()
  await exited
  fs.rmSync(tmp, { recursive: true, force: true })
})

describe('GitHub integration under the runner contract', () => {
  let images = ''
  const releases: Record<string, string> = {}

  it('pr-comment: one comment per pull request, created once, then updated by each step', async () => {
    const event = path.join(tmp, 'event.json')
    fs.writeFileSync(
      event,
      JSON.stringify({
        action: 'synchronize',
        number: PR,
        pull_request: { number: PR, head: { sha: HEAD } }
      })
    )
    // People commented before: our comment lands on the second page of 100.
    await control('POST', 'seed-comments', { owner: 'acme', repo: 'shop', issue: PR, count: 120 })
    await clear()
    const prEnv = runnerEnv({ GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event })
    const github = { 'github-token': TOKEN, 'pr-comment': 'true' }

    const built = runStep({ ...common, ...github, command: 'build', push: 'true' }, {}, prEnv)
    expect(built.status).toBe(0)
    images = built.outputs.images as string

    const smoked = runStep({ ...common, ...github, command: 'smoke', images }, {}, prEnv)
    expect(smoked.status).toBe(0)
    const afterSmoke = await recorded()

    // A failing stage updates its row before the step fails.
    const broken = runStep(
      {
        ...github,
        command: 'build',
        'working-directory': path.join(ROOT, '__tests__', 'fixtures', 'broken-build'),
        'project-name': project
      },
      {},
      { ...prEnv, BASE_IMAGE: lab.LAB_DEBIAN_IMAGE as string }
    )
    expect(broken.status).toBe(1)
    expect(broken.stdout).toMatch(/::error::Build failed for service "broken"/)

    const requests = await recorded()
    const writes = requests.filter(r => r.method !== 'GET')
    expect(calls(writes)).toEqual([
      `POST /repos/acme/shop/issues/${PR}/comments`,
      expect.stringMatching(/^PATCH \/repos\/acme\/shop\/issues\/comments\/\d+$/),
      expect.stringMatching(/^PATCH \/repos\/acme\/shop\/issues\/comments\/\d+$/)
    ])
    // The same comment each time: the one the POST created, found again on page 2.
    const comments = (await control('GET', 'comments')) as { id: number; body: string }[]
    const ours = comments.filter(c => c.body.includes('stack-deploy:pr-comment'))
    expect(ours).toHaveLength(1)
    const id = ours[0]?.id as number
    expect(writes.slice(1).map(r => r.pathname)).toEqual([
      `/repos/acme/shop/issues/comments/${id}`,
      `/repos/acme/shop/issues/comments/${id}`
    ])
    // Each step read the comments page by page (100 a page) before writing.
    const pages = requests.filter(r => r.method === 'GET').map(r => r.query.page)
    expect(pages).toEqual(['1', '2', '1', '2', '1', '2'])
    for (const request of requests) expect(request.authorization).toBe(`token ${TOKEN}`)

    // After the smoke step: both rows, both passed.
    const smokeBody = (afterSmoke.at(-1)?.body as { body: string }).body
    expect(smokeBody.split('\n')[0]).toBe(commentMarker(project))
    expect(smokeBody).toMatch(/\| build \| ✅ \| api \d+\.\ds.*web \d+\.\ds.*; pushed \|/)
    expect(smokeBody).toMatch(
      /\| smoke \| ✅ \| ready in \d+\.\ds \(slowest: \w+ \d+\.\ds\); total/
    )
    expect(smokeBody).toContain(`[run 4242](${RUN_URL})`)
    // After the failed build: its row says what failed; the smoke row is kept.
    const rows = parseCommentData(ours[0]?.body as string, project).rows
    expect(rows.map(r => [r.stage, r.ok, r.sha])).toEqual([
      ['build', false, HEAD],
      ['smoke', true, HEAD]
    ])
    expect(rows[0]?.detail).toMatch(/^Build failed for service "broken"/)

    // The token is masked, and never printed otherwise.
    for (const run of [built, smoked, broken]) {
      expect(run.stdout).toContain(`::add-mask::${TOKEN}`)
      expect(unmasked(run.stdout)).not.toContain(TOKEN)
    }
  })

  it('no github-token: not a single request to GitHub', async () => {
    await clear()
    const run = runStep(deployInputs(images), {}, runnerEnv())
    expect(run.status).toBe(0)
    releases.first = run.outputs['release-id'] as string
    expect(await recorded()).toEqual([])
  })

  it('deployments refused (403): the deploy succeeds, with a warning naming the permission', async () => {
    await control('POST', 'deny', { path: '/repos/acme/shop/deployments' })
    await clear()
    try {
      const run = runStep(
        { ...deployInputs(images), 'github-token': TOKEN, environment: 'staging' },
        {},
        runnerEnv()
      )
      expect(run.status).toBe(0)
      releases.second = run.outputs['release-id'] as string
      expect(run.stdout).toMatch(
        /::warning::Could not create the GitHub deployment to staging \(HTTP 403: Resource not accessible by integration\): the token needs the `deployments: write` permission on acme\/shop/
      )
      expect(calls(await recorded())).toEqual(['POST /repos/acme/shop/deployments'])
    } finally {
      await control('POST', 'allow')
    }
  })

  it('deploy: a deployment of the commit, then in_progress and success with the environment URL', async () => {
    await clear()
    const run = runStep(
      { ...deployInputs(images), 'github-token': TOKEN, environment: 'staging' },
      {},
      runnerEnv()
    )
    expect(run.status).toBe(0)
    const release = run.outputs['release-id'] as string
    releases.third = release
    const url = `http://${lab.LAB_HOST}:${PORT}/api/health`
    expect(run.outputs.url).toBe(url)

    const requests = await recorded()
    expect(calls(requests)).toEqual([
      'POST /repos/acme/shop/deployments',
      expect.stringMatching(/^POST \/repos\/acme\/shop\/deployments\/\d+\/statuses$/),
      expect.stringMatching(/^POST \/repos\/acme\/shop\/deployments\/\d+\/statuses$/)
    ])
    expect(requests[0]?.body).toEqual({
      ref: HEAD,
      task: 'deploy',
      auto_merge: false,
      required_contexts: [],
      environment: 'staging',
      production_environment: false,
      transient_environment: false,
      description: `Deploy ${release} of ${project} to ${host}`,
      payload: { project, release, hosts: [host] }
    })
    expect(requests[1]?.body).toEqual({
      state: 'in_progress',
      description: `Deploying ${release} on ${host}`,
      log_url: RUN_URL
    })
    expect(requests[2]?.body).toEqual({
      state: 'success',
      description: `Deployed ${release} to ${host}`,
      environment_url: url,
      log_url: RUN_URL
    })
    expect(unmasked(run.stdout)).not.toContain(TOKEN)
  })

  it('rollback: a deployment of its own (deploy:rollback), in_progress, then success', async () => {
    await clear()
    const run = runStep(
      {
        ...deployInputs(images),
        command: 'rollback',
        'github-token': TOKEN,
        environment: 'production',
        'environment-url': 'https://shop.example.com'
      },
      {},
      runnerEnv({ GITHUB_EVENT_NAME: 'workflow_dispatch' })
    )
    expect(run.status).toBe(0)
    expect(run.outputs['release-id']).toBe(releases.second)

    const requests = await recorded()
    expect(
      requests.map(r => (r.body as { state?: string; task?: string }).state ?? r.body)
    ).toEqual([
      expect.objectContaining({
        task: 'deploy:rollback',
        environment: 'production',
        production_environment: true,
        ref: HEAD,
        payload: { project, release: 'previous', hosts: [host] }
      }),
      'in_progress',
      'success'
    ])
    expect(requests[2]?.body).toEqual({
      state: 'success',
      description: `Rolled back to ${releases.second} on ${host}`,
      environment_url: 'https://shop.example.com',
      log_url: RUN_URL
    })
  })

  it('a deploy that fails and rolls back: in_progress, then failure saying so, before the step fails', async () => {
    // The new release's api never gets healthy: `up --wait` fails and the host goes back.
    const unhealthy = path.join(tmp, 'api-unhealthy.yaml')
    fs.writeFileSync(
      unhealthy,
      "services:\n  api:\n    healthcheck:\n      test: ['CMD', 'false']\n      interval: 1s\n      retries: 2\n      start_period: 1s\n"
    )
    await clear()
    const run = runStep(
      {
        ...deployInputs(images),
        'compose-files': `compose/compose.yaml\n${unhealthy}`,
        'wait-timeout': '60',
        'github-token': TOKEN,
        environment: 'staging'
      },
      {},
      runnerEnv()
    )
    expect(run.status).toBe(1)
    expect(run.stdout).toMatch(new RegExp(`::error::.*rolled back to ${releases.second}`))

    const requests = await recorded()
    expect(requests.map(r => (r.body as { state?: string }).state ?? 'create')).toEqual([
      'create',
      'in_progress',
      'failure'
    ])
    const failure = requests[2]?.body as { description: string; log_url: string }
    expect(failure.description).toMatch(
      new RegExp(`^Deploy failed on ${host} at .+; rolled back to ${releases.second}`)
    )
    expect([...failure.description].length).toBeLessThanOrEqual(140)
    expect(failure.log_url).toBe(RUN_URL)
    expect(failure).not.toHaveProperty('environment_url')
    // What the failure status says is true: the previous release answers.
    expect((await fetch(`http://${lab.LAB_HOST}:${PORT}/api/health`)).status).toBe(200)
  })

  it('the CLI takes github-token only from STACK_DEPLOY_GITHUB_TOKEN, never as a flag', () => {
    const run = runCli(['plan', '-f', 'compose/compose.yaml', '--github-token', TOKEN], {
      env: referenceStackEnv()
    })
    expect(run.status).toBe(1)
    expect(run.stderr).toMatch(/Unknown option '--github-token'/)
  })

  it('two hosts, the second fails before switching: the status says so, and that the first was rolled back', async () => {
    const host2 = `${lab.LAB_SSH_USER}@${lab.LAB_HOST2}`
    const host2Env = { DOCKER_HOST: lab.LAB_DEPLOY2_DOCKER_HOST as string }
    const both = {
      ...deployInputs(images),
      hosts: `${host}\n${host2}`,
      'backup-service': 'postgres'
    }
    const live = runStep(both, {}, runnerEnv())
    if (live.status !== 0) throw new Error(live.stdout.slice(-3000))
    const release = live.outputs['release-id'] as string
    // Host 2's database is stopped: its backup fails after host 1 has switched.
    const postgres = docker(
      [
        'ps',
        '-q',
        '--filter',
        `label=com.docker.compose.project=${project}`,
        '--filter',
        'label=com.docker.compose.service=postgres'
      ],
      host2Env
    ).stdout.trim()
    expect(docker(['stop', postgres], host2Env).status).toBe(0)
    await clear()
    const run = runStep({ ...both, 'github-token': TOKEN, environment: 'staging' }, {}, runnerEnv())
    expect(run.status).toBe(1)
    const requests = await recorded()
    const failure = requests[2]?.body as { state: string; description: string }
    expect(failure.state).toBe('failure')
    // Host 2 never switched; host 1 did and was put back. Each is said of its own host.
    expect(failure.description).toMatch(
      new RegExp(
        `^Deploy failed on ${host2} at backup; nothing switched \\(${host} rolled back to ${release}\\): postgres`
      )
    )
    expect(failure.description).not.toMatch(new RegExp(`at backup; rolled back`))
  })
})
