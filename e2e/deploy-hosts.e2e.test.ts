/**
 * Several hosts: the lab's two deploy hosts (each its own network namespace, dockerd, sshd and
 * /srv/stack-deploy), deployed in order, one at a time. When the second host fails, the first,
 * already switched, goes back to the release it had. `rollback` puts every host back.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { docker, labEnv, referenceStackEnv, removeProject, runCli } from './lab.js'

const lab = labEnv()
const namespace = `e2e-deploy-hosts-${process.pid}`
const project = `deploy-hosts-${process.pid}`
const host1 = `${lab.LAB_SSH_USER}@${lab.LAB_HOST}`
const host2 = `${lab.LAB_SSH_USER}@${lab.LAB_HOST2}`
const hosts = [
  {
    label: host1,
    address: lab.LAB_HOST as string,
    path: lab.LAB_DEPLOY_PATH as string,
    docker: lab.LAB_DEPLOY_DOCKER_HOST as string
  },
  {
    label: host2,
    address: lab.LAB_HOST2 as string,
    path: lab.LAB_DEPLOY2_PATH_ON_LAB as string,
    docker: lab.LAB_DEPLOY2_DOCKER_HOST as string
  }
]
const PORT = 8084

function args(): string[] {
  return [
    ...['-f', 'compose/compose.yaml', '-p', project],
    ...['--registry', lab.LAB_REGISTRY as string, '--image-namespace', namespace],
    ...['--registry-username', lab.LAB_REGISTRY_USER as string],
    `--hosts=${host1}\n${host2}`,
    `--known-hosts=${fs.readFileSync(lab.LAB_KNOWN_HOSTS as string, 'utf8')}`,
    ...['--deploy-path', lab.LAB_DEPLOY_PATH as string],
    ...['--health-urls', `http://{host}:${PORT}/api/health`, '--lock-timeout', '3']
  ]
}

const envFile = `POSTGRES_IMAGE=${lab.POSTGRES_IMAGE}\nREDIS_IMAGE=${lab.REDIS_IMAGE}\nWEB_PORT=${PORT}`
const env = referenceStackEnv({
  STACK_DEPLOY_REGISTRY_PASSWORD: lab.LAB_REGISTRY_PASSWORD as string,
  STACK_DEPLOY_SSH_KEY: fs.readFileSync(lab.LAB_SSH_KEY as string, 'utf8'),
  STACK_DEPLOY_SECRETS: 'POSTGRES_PASSWORD=hosts-pg-secret\nREDIS_PASSWORD=hosts-redis-secret'
})

function build(version: string): string {
  const built = runCli(['build', ...args(), '--push'], { env: { ...env, APP_VERSION: version } })
  if (built.status !== 0) throw new Error(built.stderr)
  return built.stdout.trim()
}

function deploy(images: string, version: string): ReturnType<typeof runCli> {
  return runCli(
    [
      'deploy',
      ...args(),
      '--images',
      images,
      '--backup-service',
      'postgres',
      '--migrate-service',
      'migrate',
      '--json'
    ],
    { env: { ...env, STACK_DEPLOY_ENV_FILE: `${envFile}\nAPP_VERSION=${version}` } }
  )
}

async function versionOn(address: string): Promise<string | null> {
  // A pooled keep-alive connection to a web container that a rollout recreated is closed
  // under us ("other side closed"): that is the old socket, not the new release. Retry.
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(`http://${address}:${PORT}/api/health`)
      return response.status === 200
        ? response.headers.get('x-app-version')
        : `HTTP ${response.status}`
    } catch (error) {
      if (attempt >= 3) throw error
      await new Promise(resolve => setTimeout(resolve, 500))
    }
  }
}

const current = (host: (typeof hosts)[number]): string =>
  path.basename(fs.readlinkSync(path.join(host.path, project, 'current')))

const auditActions = (host: (typeof hosts)[number]): string[] =>
  fs
    .readFileSync(path.join(host.path, project, 'audit.log'), 'utf8')
    .trim()
    .split('\n')
    .map(line => (JSON.parse(line) as { action: string }).action)

describe('deploying to several hosts', () => {
  let first = ''
  let images2 = ''
  const lockDir = path.join(hosts[1]!.path, project, '.lock')

  afterAll(() => {
    fs.rmSync(lockDir, { recursive: true, force: true })
    for (const host of hosts) removeProject(project, { DOCKER_HOST: host.docker })
  })

  it('deploys to both hosts in order, each with its own release folder and engine', async () => {
    const run = deploy(build('1'), '1')
    if (run.status !== 0) throw new Error(run.stderr)
    first = (JSON.parse(run.stdout) as { deploy: { releaseId: string } }).deploy.releaseId
    // One at a time, in the given order.
    const order = run.stderr.split('\n').filter(line => / preflight$/.test(line))
    expect(order).toEqual([`[${host1}] preflight`, `[${host2}] preflight`])
    for (const host of hosts) {
      expect(current(host)).toBe(first)
      expect(await versionOn(host.address)).toBe('1')
      // Each host's engine runs its own copy of the stack.
      const ps = docker(['compose', '-p', project, 'ps', '--format', '{{.Service}}'], {
        DOCKER_HOST: host.docker
      })
      expect(ps.stdout.split('\n').filter(Boolean).sort()).toEqual([
        'api',
        'postgres',
        'redis',
        'web'
      ])
    }
  })

  it('checks and locks every host before the first changes: a held lock on the second changes nothing', async () => {
    // Someone else's deploy holds host 2's lock (fresh, so not stale).
    fs.mkdirSync(lockDir)
    fs.writeFileSync(
      path.join(lockDir, 'owner.json'),
      JSON.stringify({
        token: 'someone-else',
        owner: 'alice (run 42)',
        acquiredAt: new Date().toISOString(),
        ttlSeconds: 3600
      })
    )
    images2 = build('2')
    const run = deploy(images2, '2')
    expect(run.status).toBe(1)
    const last = run.stderr.trim().split('\n').pop() as string
    expect(last).toContain(host2)
    expect(last).toContain('"lock"')
    expect(last).toContain('alice (run 42)')
    // Host 1 was checked and locked, never touched: no upload, no switch, no rollback.
    expect(run.stderr).not.toContain(`[${host1}] upload`)
    expect(run.stderr).not.toContain(`[${host1}] roll out`)
    for (const host of hosts) {
      expect(current(host)).toBe(first)
      expect(await versionOn(host.address)).toBe('1')
      expect(fs.readdirSync(path.join(host.path, project, 'releases'))).toEqual([first])
    }
    expect(auditActions(hosts[0]!)).toEqual(['deploy'])
    // The other deploy's lock is untouched; host 1's own lock is free again.
    expect(JSON.parse(fs.readFileSync(path.join(lockDir, 'owner.json'), 'utf8'))).toMatchObject({
      token: 'someone-else'
    })
    expect(fs.existsSync(path.join(hosts[0]!.path, project, '.lock'))).toBe(false)
    fs.rmSync(lockDir, { recursive: true, force: true })
  })

  it('refuses a host whose key is not pinned before any host is touched', () => {
    const onlyFirst = fs
      .readFileSync(lab.LAB_KNOWN_HOSTS as string, 'utf8')
      .split('\n')
      .filter(line => line.trim() !== '')[0] as string
    const run = runCli(
      [
        'deploy',
        ...args().map(arg =>
          arg.startsWith('--known-hosts=') ? `--known-hosts=${onlyFirst}` : arg
        ),
        '--images',
        images2,
        '--backup-service',
        'postgres',
        '--migrate-service',
        'migrate',
        '--json'
      ],
      { env: { ...env, STACK_DEPLOY_ENV_FILE: `${envFile}\nAPP_VERSION=2` } }
    )
    expect(run.status).toBe(1)
    expect(run.stderr).toContain(lab.LAB_HOST2 as string)
    expect(run.stderr).toMatch(/pinned/)
    expect(run.stderr).not.toContain(`[${host1}] preflight`)
    expect(current(hosts[0]!)).toBe(first)
    expect(fs.readdirSync(path.join(hosts[0]!.path, project, 'releases'))).toEqual([first])
  })

  it('when the second host fails after the first switched, rolls the first back to the release it had', async () => {
    // Host 2's database is stopped: its backup, after host 1 has switched, stops its deploy.
    const host2Env = { DOCKER_HOST: hosts[1]!.docker }
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
    expect(postgres).not.toBe('')
    expect(docker(['stop', postgres], host2Env).status).toBe(0)
    try {
      const run = deploy(images2, '2')
      expect(run.status).toBe(1)
      const last = run.stderr.trim().split('\n').pop() as string
      expect(last).toContain(`Deploy to ${host2} failed at "backup"`)
      expect(last).toContain(`${host1} was rolled back to ${first}`)
      // Host 2 itself never switched: its message says nothing of a rollback of its own.
      expect(last).not.toContain('which is serving')
      expect(run.stderr).toContain(`[${host1}] roll out`)
      expect(run.stderr).toMatch(new RegExp(`\\[${host1}\\] roll back to ${first}`))
      expect(current(hosts[0]!)).toBe(first)
      expect(current(hosts[1]!)).toBe(first)
      expect(await versionOn(hosts[0]!.address)).toBe('1')
      expect(auditActions(hosts[0]!)).toEqual(['deploy', 'deploy', 'rollback'])
      // Host 2's failed deploy is in its own audit log, as a failure, with nothing switched.
      expect(auditActions(hosts[1]!)).toEqual(['deploy', 'deploy failed'])
      for (const host of hosts)
        expect(fs.existsSync(path.join(host.path, project, '.lock'))).toBe(false)
    } finally {
      docker(['start', postgres], host2Env)
    }
  })

  it('deploys the same images to both once the lock is free, then rolls both back', async () => {
    const run = deploy(images2, '2')
    if (run.status !== 0) throw new Error(run.stderr)
    const second = (JSON.parse(run.stdout) as { deploy: { releaseId: string } }).deploy.releaseId
    for (const host of hosts) {
      expect(current(host)).toBe(second)
      expect(await versionOn(host.address)).toBe('2')
    }
    const rolled = runCli(['rollback', ...args(), '--release-id', first, '--json'], { env })
    if (rolled.status !== 0) throw new Error(rolled.stderr)
    for (const host of hosts) {
      expect(current(host)).toBe(first)
      expect(await versionOn(host.address)).toBe('1')
    }
  })
})
