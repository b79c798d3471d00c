/**
 * Secrets sent to GitHub (issue 11, hole 6): a migration that prints its secrets, and every
 * place stack-deploy writes or sends text that the runner does not mask: the job summary, the
 * hosts' audit log, the deployment statuses and the pull request comment (to the fake GitHub
 * API, test/stand-ins/fake-github-api.ts), the error annotation, the smoke log bundle.
 *
 * The stack is e2e/fixtures/stacks/secret-printing: its migrate job prints DB_PASSWORD (given
 * with the `secrets` input, under a variable name that does not look secret) and the secret
 * file tls_key (several lines, given with `secret-files`). Each check also proves that the
 * secret was there to leak: the output that would hold it shows `***` instead.
 */
import { spawnSync, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ROOT, docker, labEnv, runCli, runStep, startFakeGithubApi, type StepRun } from './lab.js'
import type { RecordedRequest } from '../test/stand-ins/fake-github-api.js'
import { commentMarker } from '../src/report/github-comment.js'

const lab = labEnv()
const project = `secret-printing-${process.pid}`
const PORT = 8091
const PR = 23
const TOKEN = `ghs_e2e${process.pid}secretstoken`
const host = `${lab.LAB_SSH_USER}@${lab.LAB_HOST}`
const deployPath = lab.LAB_DEPLOY_PATH as string
const HEAD = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim()
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-redacted-e2e-'))

/** The `secrets` input's value, which the migration prints. */
const DB_PASSWORD = `Zq8xDb${process.pid}-pass!word`
/** The secret file's content, several lines, which the migration prints too. */
const TLS_KEY = [
  '-----BEGIN TEST PRIVATE KEY-----',
  `Kq7wLine1of${process.pid}xyzzy`,
  `Kq7wLine2of${process.pid}plugh`,
  '-----END TEST PRIVATE KEY-----'
].join('\n')

/** What must never show: each secret, each line of the key, and the start of the password (where a cut falls). */
const NEEDLES = [DB_PASSWORD, DB_PASSWORD.slice(0, 8), ...TLS_KEY.split('\n').slice(1, 3)]

/** The secrets found in a text; [] when there is none. */
const leaksIn = (text: string): string[] => NEEDLES.filter(needle => text.includes(needle))

let fake: ChildProcess
let apiUrl = ''
let dir = ''
let images = ''

async function control(method: string, route: string): Promise<unknown> {
  const response = await fetch(`${apiUrl}/_fake/${route}`, { method })
  return response.json()
}
const recorded = async (): Promise<RecordedRequest[]> =>
  (await control('GET', 'requests')) as RecordedRequest[]
const clear = async (): Promise<unknown> => control('DELETE', 'requests')

/** The runner's variables for a run of acme/shop, with the API at the fake. */
const runnerEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
  NGINX_IMAGE: lab.NGINX_IMAGE as string,
  GITHUB_API_URL: apiUrl,
  GITHUB_REPOSITORY: 'acme/shop',
  GITHUB_SHA: HEAD,
  GITHUB_RUN_ID: '4343',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_EVENT_NAME: 'push',
  ...extra
})

const secretInputs = {
  secrets: `DB_PASSWORD=${DB_PASSWORD}`,
  'secret-files': `tls_key<<EOF\n${TLS_KEY}\nEOF`
}

const deployInputs = (envFile: string): Record<string, string> => ({
  command: 'deploy',
  'working-directory': dir,
  'compose-files': 'compose.yaml',
  'project-name': project,
  images,
  hosts: host,
  'ssh-key': fs.readFileSync(lab.LAB_SSH_KEY as string, 'utf8'),
  'known-hosts': fs.readFileSync(lab.LAB_KNOWN_HOSTS as string, 'utf8'),
  'deploy-path': deployPath,
  registry: lab.LAB_REGISTRY as string,
  'registry-username': lab.LAB_REGISTRY_USER as string,
  'registry-password': lab.LAB_REGISTRY_PASSWORD as string,
  'env-file': envFile,
  ...secretInputs,
  'migrate-service': 'migrate',
  'health-urls': `http://{host}:${PORT}/`,
  'health-retries': '20',
  'github-token': TOKEN,
  environment: 'staging'
})

/** The step's annotations (error and warning lines of the log). */
const annotations = (run: StepRun): string =>
  run.stdout
    .split('\n')
    .filter(line => /^::(error|warning)/.test(line))
    .join('\n')

/** Every regular file under `root`, recursively. */
function filesUnder(root: string): string[] {
  return fs.readdirSync(root, { withFileTypes: true, recursive: true }).flatMap(entry => {
    const full = path.join(entry.parentPath, entry.name)
    return entry.isFile() ? [full] : []
  })
}

const auditLog = (): string => {
  const file = path.join(deployPath, project, 'audit.log')
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
}

beforeAll(async () => {
  ;({ fake, apiUrl } = await startFakeGithubApi())

  // A copy of the stack: nothing a run writes lands in the repository.
  dir = path.join(tmp, 'secret-printing')
  fs.cpSync(path.join(ROOT, 'e2e', 'fixtures', 'stacks', 'secret-printing'), dir, {
    recursive: true
  })
  // A checkout of its own: a deploy is recorded on GitHub only with a commit sha.
  for (const args of [
    ['init', '-q'],
    ['add', '-A'],
    ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', 'commit', '-qm', 'stack']
  ])
    expect(spawnSync('git', args, { cwd: dir }).status).toBe(0)
  const built = runCli(
    [
      'build',
      '--working-directory',
      dir,
      '-f',
      'compose.yaml',
      '-p',
      project,
      '--registry',
      lab.LAB_REGISTRY as string,
      '--image-namespace',
      `e2e-secrets-${process.pid}`,
      '--registry-username',
      lab.LAB_REGISTRY_USER as string,
      '--push'
    ],
    {
      env: {
        NGINX_IMAGE: lab.NGINX_IMAGE as string,
        STACK_DEPLOY_REGISTRY_PASSWORD: lab.LAB_REGISTRY_PASSWORD as string
      }
    }
  )
  if (built.status !== 0) throw new Error(built.stderr)
  images = built.stdout.trim()
})

afterAll(async () => {
  const env = { DOCKER_HOST: lab.LAB_DEPLOY_DOCKER_HOST as string }
  const ids = docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`], env)
    .stdout.split('\n')
    .filter(Boolean)
  if (ids.length > 0) docker(['rm', '-f', ...ids], env)
  docker(['network', 'rm', `${project}_default`], env)
  fs.rmSync(path.join(deployPath, project), { recursive: true, force: true })
  const exited = new Promise(resolve => fake.once('exit', resolve))
  fake.stdin?.end()
  await exited
  fs.rmSync(tmp, { recursive: true, force: true })
})

describe('a migration that prints its secrets', () => {
  it('deploy, the migration succeeds: no secret in the summary, the audit log or what GitHub was sent', async () => {
    await clear()
    const run = runStep(deployInputs(`WEB_PORT=${PORT}`), {}, runnerEnv())
    if (run.status !== 0) throw new Error(`deploy failed:\n${run.stdout.slice(-4000)}`)
    expect((await fetch(`http://${lab.LAB_HOST}:${PORT}/`)).status).toBe(200)
    const release = run.outputs['release-id'] as string

    // The secrets were there to print: the runner was told to mask them, the release has them.
    expect(run.stdout).toContain(`::add-mask::${DB_PASSWORD}`)
    expect(run.stdout).toContain(`::add-mask::${TLS_KEY.split('\n')[1]}`)
    expect(
      fs.readFileSync(path.join(deployPath, project, 'releases', release, '.env'), 'utf8')
    ).toContain(DB_PASSWORD)

    // The job summary shows the migration's output, redacted.
    expect(run.summary).toContain('Migration output')
    expect(run.summary).toContain('connecting with password ***')
    expect(leaksIn(run.summary)).toEqual([])

    // The audit log on the host.
    const audit = auditLog()
    expect(audit).toContain(release)
    expect(leaksIn(audit)).toEqual([])

    // GitHub: the deployment and its statuses.
    const requests = await recorded()
    expect(requests.map(r => (r.body as { state?: string }).state ?? 'create')).toEqual([
      'create',
      'in_progress',
      'success'
    ])
    expect(leaksIn(JSON.stringify(requests))).toEqual([])
    expect(leaksIn(annotations(run))).toEqual([])
  })

  it('deploy, the migration fails: no secret in the failure status, the error annotation or the summary', async () => {
    await clear()
    const run = runStep(deployInputs(`WEB_PORT=${PORT}\nMIGRATE_EXIT=3`), {}, runnerEnv())
    expect(run.status).toBe(1)

    // The error annotation quotes the migration's last line of stderr: `pw=<the password>`.
    const errors = annotations(run)
    expect(errors).toMatch(/::error::Deploy to .* failed at "migrate": .*exited with code 3/)
    expect(errors).toContain('pw=***')
    expect(leaksIn(errors)).toEqual([])

    const requests = await recorded()
    expect(requests.map(r => (r.body as { state?: string }).state ?? 'create')).toEqual([
      'create',
      'in_progress',
      'failure'
    ])
    const failure = requests[2]?.body as { description: string }
    expect(failure.description).toMatch(new RegExp(`^Deploy failed on ${host} at migrate`))
    // Within its 140 characters, the status quotes the migration's last lines, blanked before
    // they were cut (cut first, it would have shown the password's first characters).
    expect(failure.description).toMatch(/Last lines: .*\*\*\*/)
    expect(leaksIn(JSON.stringify(requests))).toEqual([])

    expect(run.summary).toContain('connecting with password ***')
    expect(leaksIn(run.summary)).toEqual([])
    // The host's audit log records the failure with the migration's last lines, redacted.
    const audit = auditLog()
    expect(audit).toMatch(/"action":"deploy failed".*migrate: .*pw=\*\*\*/)
    expect(leaksIn(audit)).toEqual([])
    // The previous release keeps serving.
    expect((await fetch(`http://${lab.LAB_HOST}:${PORT}/`)).status).toBe(200)
  })

  describe('smoke on a pull request', () => {
    const event = (): string => {
      const file = path.join(tmp, 'event.json')
      fs.writeFileSync(
        file,
        JSON.stringify({ number: PR, pull_request: { number: PR, head: { sha: HEAD } } })
      )
      return file
    }
    const smoke = (extra: Record<string, string>, env: Record<string, string>): StepRun =>
      runStep(
        {
          command: 'smoke',
          'working-directory': dir,
          'compose-files': 'compose.yaml',
          'project-name': project,
          images,
          ...secretInputs,
          'log-dir': path.join(tmp, 'logs'),
          'wait-timeout': '120',
          'github-token': TOKEN,
          'pr-comment': 'true',
          ...extra
        },
        {},
        // The workflow passes the password to the step's environment, as a GitHub secret.
        runnerEnv({
          GITHUB_EVENT_NAME: 'pull_request',
          GITHUB_EVENT_PATH: event(),
          DB_PASSWORD,
          ...env
        })
      )
    const comment = async (): Promise<string> => {
      const comments = (await control('GET', 'comments')) as { body: string }[]
      return comments.find(c => c.body.startsWith(commentMarker(project)))?.body ?? ''
    }

    it('the migration job fails: no secret in the log bundle (every file), the summary or the comment', async () => {
      await clear()
      const run = smoke({}, { MIGRATE_EXIT: '3' })
      expect(run.status).toBe(1)
      expect(annotations(run)).toMatch(/::error title=Smoke test%3A migrate::/)
      expect(leaksIn(annotations(run))).toEqual([])
      expect(leaksIn(run.summary)).toEqual([])
      expect(run.summary).toContain('connecting with password ***')

      const bundle = run.outputs['log-bundle'] as string
      expect(bundle).toMatch(/\.tar\.gz$/)
      const extracted = fs.mkdtempSync(path.join(tmp, 'bundle-'))
      expect(spawnSync('tar', ['-xzf', bundle, '-C', extracted]).status).toBe(0)
      const files = filesUnder(extracted)
      expect(files.map(file => path.basename(file))).toEqual(
        expect.arrayContaining(['migrate.log', 'migrate.inspect.json', 'summary.json'])
      )
      const found = files.flatMap(file =>
        leaksIn(fs.readFileSync(file, 'utf8')).map(needle => `${path.basename(file)}: ${needle}`)
      )
      expect(found).toEqual([])
      const log = fs.readFileSync(files.find(f => f.endsWith('migrate.log')) as string, 'utf8')
      // The job printed both: the password and each line of the key, all blanked.
      expect(log).toContain('connecting with password ***')
      expect(log.match(/\| \*\*\*$/gm)?.length).toBeGreaterThanOrEqual(4)

      expect(leaksIn(JSON.stringify(await recorded()))).toEqual([])
      expect(leaksIn(await comment())).toEqual([])
    })

    it('the test command prints the secret and fails: the comment row quotes it redacted', async () => {
      await clear()
      const run = smoke(
        { 'test-command': 'echo "pw=$DB_PASSWORD" >&2; exit 1' },
        { MIGRATE_EXIT: '0' }
      )
      expect(run.status).toBe(1)
      expect(annotations(run)).toContain('the test command exited with code 1: pw=***')
      expect(leaksIn(annotations(run))).toEqual([])
      const body = await comment()
      expect(body).toMatch(
        /\| smoke \| ❌ \| Smoke test failed: the test command exited with code 1: pw=\*\*\* \|/
      )
      expect(leaksIn(body)).toEqual([])
      expect(leaksIn(JSON.stringify(await recorded()))).toEqual([])
    })
  })
})
