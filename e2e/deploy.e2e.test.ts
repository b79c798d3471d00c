/**
 * The deploy stage against the lab's deploy host: a real sshd with a pinned host key, a separate
 * dockerd and image store, images pulled from the authenticated lab registry.
 */
import { exec, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { MemoryReporter } from '../src/report/reporter.js'
import { RemoteExecutor } from '../src/exec/remote.js'
import { DEFAULT_TUNING, sshControlArgv } from '../src/exec/ssh.js'
import { composeRuntime } from '../src/deploy/compose-runtime.js'
import { hostContext, type HostContext } from '../src/deploy/host.js'
import { deployHost } from '../src/deploy/pipeline.js'
import type { HeldLock } from '../src/deploy/post.js'
import type { HostSession } from '../src/deploy/session.js'
import type { DeployRelease, HostSettings } from '../src/deploy/settings.js'
import { hostSettings, prepareRelease, type DeployContext } from '../src/deploy/stage.js'
import { acquireLock } from '../src/deploy/steps/lock.js'
import { prune } from '../src/deploy/steps/prune.js'
import { planFromConfig } from '../src/compose/plan.js'
import type { ComposeConfig } from '../src/compose/types.js'
import type { Reporter } from '../src/report/reporter.js'
import {
  ROOT,
  docker,
  labEnv,
  referenceStackEnv,
  releaseFilesFor,
  removeProject,
  runCli,
  runStep,
  startLoad
} from './lab.js'

const lab = labEnv()
const namespace = `e2e-deploy-${process.pid}`
const project = `deploy-e2e-${process.pid}`

async function sleep(ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Samples every process's argv on the machine (the deploy host's processes included) while `body` runs. */
async function sampleProcesses<T>(body: () => Promise<T>): Promise<{ value: T; samples: string }> {
  let samples = ''
  let running = true
  const loop = (async () => {
    while (running) {
      samples += await new Promise<string>(resolve =>
        exec('ps -eo args', (_e, out) => resolve(out))
      )
      await sleep(100)
    }
  })()
  try {
    return { value: await body(), samples }
  } finally {
    running = false
    await loop
  }
}

function containerId(service: string): string {
  return deployDocker(['compose', '-p', project, 'ps', '-q', service]).stdout.trim()
}

function psql(sql: string): string {
  return deployDocker([
    'compose',
    '-p',
    project,
    'exec',
    '-T',
    'postgres',
    'psql',
    '-U',
    'app',
    '-d',
    'app',
    '-tAc',
    sql
  ]).stdout.trim()
}

function deployDocker(args: string[]) {
  return docker(args, { DOCKER_HOST: lab.LAB_DEPLOY_DOCKER_HOST as string })
}

/** The .env of a release: the reference stack's variables, APP_VERSION as given. */
function envFileText(appVersion: string): string {
  return `POSTGRES_PASSWORD=deploy-pg-secret\nREDIS_PASSWORD=deploy-redis-secret\nPOSTGRES_IMAGE=${lab.POSTGRES_IMAGE}\nREDIS_IMAGE=${lab.REDIS_IMAGE}\nWEB_PORT=8080\nAPP_VERSION=${appVersion}`
}

/** A deploy's inputs as the stage reads them: its new release, and the host settings it runs with. */
interface Deploy {
  release: DeployRelease
  settings: HostSettings
}

function deployOf(context: DeployContext, now: Date = new Date()): Deploy {
  const release = prepareRelease(context, now)
  return { release, settings: hostSettings(context, release.compose) }
}

/** One host's context for a task, with the compose runtime (as the deploy stage builds it). */
function hostFor(
  session: HostSession,
  settings: HostSettings,
  releaseId: string | undefined,
  reporter: Reporter,
  onLocked?: (lock: HeldLock) => void
): HostContext {
  return hostContext({
    session,
    settings,
    reporter,
    runtime: composeRuntime,
    releaseId,
    onLocked
  })
}

describe('deploy to the lab host', () => {
  let images: Record<string, { image: string; tags: string[]; digest: string; ref: string }>
  let baseContext: DeployContext
  let base: Deploy
  let remote: RemoteExecutor

  beforeAll(async () => {
    const env = referenceStackEnv({
      STACK_DEPLOY_REGISTRY_PASSWORD: lab.LAB_REGISTRY_PASSWORD as string
    })
    const built = runCli(
      [
        'build',
        '-f',
        'compose/compose.yaml',
        '--registry',
        lab.LAB_REGISTRY as string,
        '--image-namespace',
        namespace,
        '--registry-username',
        lab.LAB_REGISTRY_USER as string,
        '--push'
      ],
      { env }
    )
    if (built.status !== 0) throw new Error(built.stderr)
    images = JSON.parse(built.stdout)
    const config = JSON.parse(
      docker(
        ['compose', '-f', path.join(ROOT, 'compose', 'compose.yaml'), 'config', '--format', 'json'],
        referenceStackEnv()
      ).stdout
    ) as ComposeConfig
    // The lab's own project name, not the compose file's.
    const plan = { ...planFromConfig(config), project }
    const { files } = await releaseFilesFor(ROOT, ['compose/compose.yaml'], referenceStackEnv())
    baseContext = {
      ref: { workingDirectory: ROOT, files: ['compose/compose.yaml'], profiles: [] },
      plan,
      files,
      secretFiles: {},
      images,
      inputs: {
        hosts: [
          {
            user: lab.LAB_SSH_USER as string,
            host: lab.LAB_HOST as string,
            port: Number(lab.LAB_SSH_PORT)
          }
        ],
        sshKey: fs.readFileSync(lab.LAB_SSH_KEY as string, 'utf8'),
        knownHosts: fs.readFileSync(lab.LAB_KNOWN_HOSTS as string, 'utf8'),
        trustOnFirstUse: false,
        jumpHost: undefined,
        connectTimeoutSeconds: 10,
        deployPath: lab.LAB_DEPLOY_PATH as string,
        envFile: envFileText('1'),
        secrets: '',
        backupService: 'postgres',
        backupKeep: 3,
        migrateService: 'migrate',
        migrateTimeoutSeconds: 300,
        healthUrls: ['http://{host}:8080/api/health'],
        healthRetries: 10,
        lockTimeoutSeconds: 10,
        lockTtlSeconds: 900,
        keepReleases: 3,
        zeroDowntime: true,
        zeroDowntimeSettleSeconds: 3,
        minFreeMiB: 100,
        releaseId: undefined
      },
      registry: {
        host: lab.LAB_REGISTRY as string,
        username: lab.LAB_REGISTRY_USER as string,
        password: lab.LAB_REGISTRY_PASSWORD as string
      },
      waitTimeoutSeconds: 180,
      sha: 'e2e0001',
      actor: 'e2e',
      runUrl: undefined
    }
    base = deployOf(baseContext)
    remote = await RemoteExecutor.open({
      target: {
        user: lab.LAB_SSH_USER as string,
        host: lab.LAB_HOST as string,
        port: Number(lab.LAB_SSH_PORT)
      },
      privateKey: fs.readFileSync(lab.LAB_SSH_KEY as string, 'utf8'),
      knownHosts: fs.readFileSync(lab.LAB_KNOWN_HOSTS as string, 'utf8')
    })
  })

  afterAll(async () => {
    await remote?.dispose()
    removeProject(project, { DOCKER_HOST: lab.LAB_DEPLOY_DOCKER_HOST as string })
  })

  it('deploys to an empty host', async () => {
    const reporter = new MemoryReporter()
    const host = hostFor(remote, base.settings, base.release.releaseId, reporter)
    try {
      await deployHost(host, base.release, 'e2e')
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\n${reporter.lines.join('\n')}\n${JSON.stringify(host.report, null, 2)}`
      )
    }
    expect(host.report.result).toBe('deployed')
    const health = await fetch(`http://${lab.LAB_HOST}:8080/api/health`)
    expect(health.status).toBe(200)
    expect(health.headers.get('x-app-version')).toBe('1')
    expect(host.report.backup).toBeUndefined() // nothing to back up on an empty host
  })

  let secondRelease: string
  let secondContext: DeployContext
  let second: Deploy
  it('deploys a new api version: rows survive, a backup is taken, unchanged services are not recreated', async () => {
    const created = await fetch(`http://${lab.LAB_HOST}:8080/api/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'written under version 1' })
    })
    expect(created.status).toBe(201)
    const note = (await created.json()) as { id: number }
    const rowsBefore = psql('select count(*) from notes')
    const postgresBefore = containerId('postgres')

    const env = referenceStackEnv({
      STACK_DEPLOY_REGISTRY_PASSWORD: lab.LAB_REGISTRY_PASSWORD as string,
      APP_VERSION: '2'
    })
    const built = runCli(
      [
        'build',
        '-f',
        'compose/compose.yaml',
        '--services',
        'api',
        '--registry',
        lab.LAB_REGISTRY as string,
        '--image-namespace',
        namespace,
        '--registry-username',
        lab.LAB_REGISTRY_USER as string,
        '--push'
      ],
      { env }
    )
    if (built.status !== 0) throw new Error(built.stderr)
    const newApi = JSON.parse(built.stdout) as typeof images
    expect(newApi.api?.digest).not.toBe(images.api?.digest)
    const config = JSON.parse(
      docker(
        ['compose', '-f', path.join(ROOT, 'compose', 'compose.yaml'), 'config', '--format', 'json'],
        referenceStackEnv()
      ).stdout
    ) as ComposeConfig
    const allImages = { ...images, ...newApi }
    secondContext = {
      ...baseContext,
      plan: { ...planFromConfig(config), project },
      images: allImages,
      inputs: { ...baseContext.inputs, envFile: envFileText('2') },
      sha: 'e2e0002'
    }
    second = deployOf(secondContext)
    secondRelease = second.release.releaseId
    expect(second.release.envFile).toBe(
      base.release.envFile.replace("APP_VERSION='1'", "APP_VERSION='2'")
    )
    const reporter = new MemoryReporter()
    const host = hostFor(remote, second.settings, secondRelease, reporter)
    const apiBefore = containerId('api')
    const webBefore = containerId('web')
    // Requests through web -> api all along the deploy: the api is replaced new-container-first.
    const load = await startLoad(`http://${lab.LAB_HOST}:8080/api/health`)
    const { samples } = await sampleProcesses(() => deployHost(host, second.release, 'e2e'))
    const { sent, failures } = await load.stop()
    expect(host.report.result).toBe('deployed')
    expect(host.report.previous).toBe(base.release.releaseId)
    expect(reporter.lines.join('\n')).toContain(
      'api: starting the new container next to the old one (zero-downtime)'
    )
    expect(containerId('api')).not.toBe(apiBefore)
    // web's image and configuration did not change: it kept running through the api's switch.
    expect(containerId('web')).toBe(webBefore)
    expect(sent).toBeGreaterThan(20)
    expect(failures).toEqual([])

    const health = await fetch(`http://${lab.LAB_HOST}:8080/api/health`)
    expect(health.headers.get('x-app-version')).toBe('2')
    const reread = await fetch(`http://${lab.LAB_HOST}:8080/api/notes/${note.id}`)
    expect(reread.status).toBe(200)
    expect(psql('select count(*) from notes')).toBe(rowsBefore)
    // postgres's image and configuration did not change: compose left it running.
    expect(containerId('postgres')).toBe(postgresBefore)

    // The backup: recorded, non-empty, and a scratch Postgres restored from it has the same rows.
    const backup = host.report.backup
    expect(backup?.file).toMatch(new RegExp(`${secondRelease}-postgres\\.sql\\.gz$`))
    expect(backup?.bytes).toBeGreaterThan(100)
    const manifest = JSON.parse(
      fs.readFileSync(
        path.join(
          lab.LAB_DEPLOY_PATH as string,
          project,
          'releases',
          secondRelease,
          'manifest.json'
        ),
        'utf8'
      )
    )
    expect(manifest.backup).toEqual(backup)
    expect(manifest.images.api).toBe(newApi.api?.ref)
    expect(JSON.stringify(manifest)).not.toContain('deploy-pg-secret')
    const scratch = `restore-check-${process.pid}`
    try {
      expect(
        docker([
          'run',
          '-d',
          '--name',
          scratch,
          '-e',
          'POSTGRES_PASSWORD=scratch',
          lab.POSTGRES_IMAGE as string
        ]).status
      ).toBe(0)
      let ready = false
      for (let i = 0; i < 60 && !ready; i++) {
        ready =
          docker(['exec', scratch, 'pg_isready', '-h', '127.0.0.1', '-U', 'postgres']).status === 0
        if (!ready) await sleep(500)
      }
      const dump = fs.mkdtempSync(path.join(os.tmpdir(), 'restore-'))
      fs.copyFileSync(backup?.file as string, path.join(dump, 'dump.sql.gz'))
      expect(
        docker(['cp', path.join(dump, 'dump.sql.gz'), `${scratch}:/tmp/dump.sql.gz`]).status
      ).toBe(0)
      const restore = docker([
        'exec',
        scratch,
        'sh',
        '-c',
        'gunzip -c /tmp/dump.sql.gz | psql -v ON_ERROR_STOP=1 -q -U postgres -d postgres'
      ])
      expect(restore.stderr).not.toMatch(/ERROR/)
      expect(
        docker([
          'exec',
          scratch,
          'psql',
          '-U',
          'postgres',
          '-d',
          'postgres',
          '-tAc',
          'select count(*) from notes'
        ]).stdout.trim()
      ).toBe(rowsBefore)
    } finally {
      docker(['rm', '-f', '-v', scratch])
    }

    // Secrets: not in the log, not in any process's argv on the machine during the deploy.
    for (const secret of [
      'deploy-pg-secret',
      'deploy-redis-secret',
      lab.LAB_REGISTRY_PASSWORD as string
    ]) {
      expect(reporter.lines.join('\n')).not.toContain(secret)
      expect(samples).not.toContain(secret)
    }
    expect(samples.length).toBeGreaterThan(0)
  })

  /** The second release's inputs, with one more compose file (and its own sha). */
  async function contextWithExtraFile(
    name: string,
    content: string,
    sha: string
  ): Promise<DeployContext> {
    const { files } = await releaseFilesFor(ROOT, ['compose/compose.yaml'], referenceStackEnv(), [
      { name: `compose/${name}`, content }
    ])
    return { ...secondContext, files, sha }
  }

  it('stops at a failing migration: nothing switches, the old version answers, the lock is free', async () => {
    const { release, settings } = deployOf(
      await contextWithExtraFile(
        'migrate-fails.yaml',
        "services:\n  migrate:\n    command: ['sh', '-c', 'echo applying 003 >&2; exit 1']\n",
        'e2e0003'
      )
    )
    const host = hostFor(remote, settings, release.releaseId, new MemoryReporter())
    await expect(deployHost(host, release, 'e2e')).rejects.toThrow(
      /failed at "migrate": the migration \(service migrate\) exited with code 1; the previous release keeps serving/
    )
    expect(fs.readlinkSync(path.join(lab.LAB_DEPLOY_PATH as string, project, 'current'))).toMatch(
      new RegExp(`${secondRelease}$`)
    )
    const health = await fetch(`http://${lab.LAB_HOST}:8080/api/health`)
    expect(health.status).toBe(200)
    expect(health.headers.get('x-app-version')).toBe('2')
    expect(fs.existsSync(path.join(lab.LAB_DEPLOY_PATH as string, project, '.lock'))).toBe(false)
  })

  it('rolls back a release whose health check fails, and the previous version answers', async () => {
    const { release, settings } = deployOf({
      ...(await contextWithExtraFile(
        'api-unhealthy.yaml',
        "services:\n  api:\n    healthcheck:\n      test: ['CMD', 'false']\n      interval: 1s\n      retries: 2\n",
        'e2e0004'
      )),
      waitTimeoutSeconds: 60
    })
    const reporter = new MemoryReporter()
    const host = hostFor(remote, settings, release.releaseId, reporter)
    const outcome = await deployHost(host, release, 'e2e').then(
      () => 'deployed',
      (error: Error) => error.message
    )
    if (!outcome.includes('rolled back')) {
      throw new Error(
        `${outcome}\n${reporter.errors.join('\n')}\n${JSON.stringify(host.report.steps, null, 1)}`
      )
    }
    expect(outcome).toMatch(new RegExp(`rolled back to ${secondRelease}, which is serving`))
    expect(host.report.result).toBe('rolled back')
    expect(fs.readlinkSync(path.join(lab.LAB_DEPLOY_PATH as string, project, 'current'))).toMatch(
      new RegExp(`${secondRelease}$`)
    )
    const health = await fetch(`http://${lab.LAB_HOST}:8080/api/health`)
    expect(health.status).toBe(200)
    const audit = fs
      .readFileSync(path.join(lab.LAB_DEPLOY_PATH as string, project, 'audit.log'), 'utf8')
      .trim()
      .split('\n')
      .map(line => JSON.parse(line))
    // Failed deploys are recorded too: the failed migration's (the previous test), and this
    // one's, written after its rollback.
    expect(audit.map(entry => entry.action)).toEqual([
      'deploy',
      'deploy',
      'deploy failed',
      'rollback',
      'deploy failed'
    ])
  })

  it('makes a second deploy at the same time wait, then fail naming the holder', async () => {
    const firstDeploy = deployOf({ ...secondContext, sha: 'e2e0005' })
    const first = hostFor(
      remote,
      firstDeploy.settings,
      firstDeploy.release.releaseId,
      new MemoryReporter()
    )
    const firstRun = deployHost(first, firstDeploy.release, 'first deployer')
    // Whatever the second one does, the first runs to its end inside this test: left running,
    // it would hold the lock into the next tests.
    const firstEnded = firstRun.then(
      () => undefined,
      () => undefined
    )
    await sleep(1500) // the first one has the lock by now
    const secondDeploy = deployOf(
      {
        ...secondContext,
        inputs: { ...secondContext.inputs, lockTimeoutSeconds: 3 },
        sha: 'e2e0006'
      },
      new Date(Date.now() + 1000)
    )
    const later = hostFor(
      remote,
      secondDeploy.settings,
      secondDeploy.release.releaseId,
      new MemoryReporter()
    )
    try {
      await expect(deployHost(later, secondDeploy.release, 'second deployer')).rejects.toThrow(
        /the deploy lock is held by first deployer since .*; gave up after 3s \(lock-timeout\)/
      )
    } finally {
      await firstEnded
    }
    await firstRun
    expect(first.report.result).toBe('deployed')
    expect(fs.existsSync(path.join(lab.LAB_DEPLOY_PATH as string, project, '.lock'))).toBe(false)
  })

  it('recovers when the SSH connection is killed in the middle of a deploy: a re-run completes', async () => {
    // A configuration change, so that the rollout recreates api and takes a few seconds.
    const { release, settings } = deployOf(
      {
        ...secondContext,
        inputs: { ...secondContext.inputs, envFile: envFileText('7') },
        sha: 'e2e0007'
      },
      new Date(Date.now() + 5000)
    )
    const killMaster = (): void => {
      const [ssh, ...args] = sshControlArgv(remote.route, remote.paths, DEFAULT_TUNING, 'check')
      const check = spawnSync(ssh as string, args, { encoding: 'utf8' })
      const pid = Number(/pid=(\d+)/.exec(check.stderr + check.stdout)?.[1])
      if (pid > 0) process.kill(pid, 'SIGKILL') // no goodbye: as when a network drops
    }
    // Kill the master connection while a rollout command is running on it: the ssh client of
    // `up --no-recreate --scale` (or of the final `up --wait`) carries the command in its argv,
    // so the kill lands in the middle of it, not between two short health polls that would
    // simply reconnect.
    class KillingReporter extends MemoryReporter {
      killed = false
      override info(message: string): void {
        super.info(message)
        if (this.killed || !message.endsWith('] roll out')) return
        this.killed = true
        const deadline = Date.now() + 60_000
        const watch = setInterval(() => {
          const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout
          const running = ps
            .split('\n')
            .some(line => line.startsWith('ssh ') && /--no-recreate|--wait-timeout/.test(line))
          if (running || Date.now() > deadline) {
            clearInterval(watch)
            if (running) killMaster()
          }
        }, 50)
      }
    }
    const reporter = new KillingReporter()
    const first = hostFor(remote, settings, release.releaseId, reporter)
    await expect(deployHost(first, release, 'e2e')).rejects.toThrow(/failed at "roll out"/)
    expect(reporter.killed).toBe(true)
    // The failed run still released its lock: the next command opened a new connection.
    expect(fs.existsSync(path.join(lab.LAB_DEPLOY_PATH as string, project, '.lock'))).toBe(false)

    const again = hostFor(remote, settings, release.releaseId, new MemoryReporter())
    await deployHost(again, release, 'e2e')
    expect(again.report.result).toBe('deployed')
    expect(fs.readlinkSync(path.join(lab.LAB_DEPLOY_PATH as string, project, 'current'))).toMatch(
      new RegExp(`${release.releaseId}$`)
    )
    const health = await fetch(`http://${lab.LAB_HOST}:8080/api/health`)
    expect(health.status).toBe(200)
    expect(health.headers.get('x-app-version')).toBe('7')
  })

  it('the post step of a cancelled run releases its lock and closes its connection', async () => {
    const own = await RemoteExecutor.open({
      target: {
        user: lab.LAB_SSH_USER as string,
        host: lab.LAB_HOST as string,
        port: Number(lab.LAB_SSH_PORT)
      },
      privateKey: fs.readFileSync(lab.LAB_SSH_KEY as string, 'utf8'),
      knownHosts: fs.readFileSync(lab.LAB_KNOWN_HOSTS as string, 'utf8')
    })
    const locks: HeldLock[] = []
    const host = hostFor(own, second.settings, secondRelease, new MemoryReporter(), lock =>
      locks.push(lock)
    )
    await acquireLock(host, 'a run that gets cancelled')
    const lockDir = path.join(lab.LAB_DEPLOY_PATH as string, project, '.lock')
    expect(fs.existsSync(lockDir)).toBe(true)
    expect(locks).toHaveLength(1)
    // The runner starts the post step with the state the main step saved.
    const post = runStep(
      {},
      { isPost: 'true', ssh: JSON.stringify([own.state()]), 'deploy-locks': JSON.stringify(locks) }
    )
    expect(post.status).toBe(0)
    expect(post.stdout).toContain('Released the deploy lock')
    expect(fs.existsSync(lockDir)).toBe(false)
    expect(fs.existsSync(own.state().dir)).toBe(false)
  })

  it('removes old releases and only the images no kept release runs', async () => {
    const root = path.join(lab.LAB_DEPLOY_PATH as string, project)
    const live = path.basename(fs.readlinkSync(path.join(root, 'current')))
    const manifestOf = (id: string): { images: Record<string, string> } | undefined => {
      const file = path.join(root, 'releases', id, 'manifest.json')
      return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined
    }
    const before = fs.readdirSync(path.join(root, 'releases'))
    expect(before.length).toBeGreaterThan(1)
    const liveRefs = Object.values(manifestOf(live)?.images ?? {})
    // Every image this file deployed that the live release does not run: version 1's api, at
    // least (the live release runs a later build). Old releases were pruned as the tests went
    // (keep-releases 3), and this prune keeps only the live one: none of them may be left.
    const goneRefs = [
      ...new Set(
        [base.release, second.release]
          .flatMap(release => Object.values(release.images).map(image => image.ref))
          .filter(ref => !liveRefs.includes(ref))
      )
    ]
    expect(goneRefs.length).toBeGreaterThan(0)
    const present = (ref: string): boolean =>
      deployDocker(['image', 'inspect', '--format', '{{.Id}}', ref]).status === 0

    const own = await RemoteExecutor.open({
      target: {
        user: lab.LAB_SSH_USER as string,
        host: lab.LAB_HOST as string,
        port: Number(lab.LAB_SSH_PORT)
      },
      privateKey: fs.readFileSync(lab.LAB_SSH_KEY as string, 'utf8'),
      knownHosts: fs.readFileSync(lab.LAB_KNOWN_HOSTS as string, 'utf8')
    })
    try {
      const reporter = new MemoryReporter()
      const host = hostFor(own, { ...second.settings, keepReleases: 1 }, live, reporter)
      // As the old HostDeployment.prune() with releaseId = live and no previous release.
      await prune(host, [live])
      expect(reporter.lines.join('\n')).toMatch(/removed \d+ old release\(s\)/)
    } finally {
      await own.dispose()
    }
    expect(fs.readdirSync(path.join(root, 'releases'))).toEqual([live])
    for (const ref of goneRefs) expect(present(ref)).toBe(false)
    // What runs, and the base images the project only pulls, are untouched.
    for (const ref of liveRefs) expect(present(ref)).toBe(true)
    for (const image of [lab.POSTGRES_IMAGE as string, lab.REDIS_IMAGE as string])
      expect(present(image)).toBe(true)
    expect((await fetch(`http://${lab.LAB_HOST}:8080/api/health`)).status).toBe(200)
  })
})
