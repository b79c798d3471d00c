/**
 * The deploy lock on the lab's deploy host, through the action as the runner runs it (issue 11,
 * holes 4 and 5), with the stack e2e/fixtures/stacks/slow-migration: its migration takes
 * MIGRATE_SECONDS and records `start MARK <time>` / `done MARK <time>` in the persistent folder
 * shared/marks on the host.
 *
 * Hole 4, the lock's age: a long deploy renews its lock, so that another deploy never takes it
 * for a stale one; the age is the heartbeat's, by the host's clock (not the owner record's
 * `acquiredAt`); of two deploys that find the same stale lock, exactly one takes it over.
 * Hole 5, a migration cut off from its run (the connection dropped, or the job cancelled): it
 * runs to its end on the host, keeps the lock meanwhile (even when the lock looks stale), and
 * the lock goes by itself when it ends; the post step says so.
 *
 * Every main step is started the way the runner starts it (dist/index.js with INPUT_* and the
 * GITHUB_* files), asynchronously, so that the test watches the host while it runs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  NODE24,
  ROOT,
  docker,
  labEnv,
  readFileCommands,
  runCli,
  waitFor,
  type StepRun
} from './lab.js'
import { quoteArg } from '../src/exec/quote.js'
import type { SshState } from '../src/exec/remote.js'
import { DEFAULT_TUNING, sshControlArgv, sshPaths } from '../src/exec/ssh.js'
import { renewIntervalSeconds } from '../src/deploy/host-lock.js'

const lab = labEnv()
const project = `deploy-lock-${process.pid}`
const deployPath = lab.LAB_DEPLOY_PATH as string
const root = path.join(deployPath, project)
const lockDir = path.join(root, '.lock')
const marksDir = path.join(root, 'shared', 'marks')
const host = `${lab.LAB_SSH_USER}@${lab.LAB_HOST}`
const hostEnv = { DOCKER_HOST: lab.LAB_DEPLOY_DOCKER_HOST as string }
const PORT = 8096
/**
 * The smallest lock-ttl the input accepts (src/inputs.ts): the lock is renewed every 20 s, and
 * is stale 60 s after its last renewal.
 */
const TTL = 60
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-lock-e2e-'))
/** A copy of the stack: nothing a run writes lands in the repository. */
const dir = path.join(tmp, 'slow-migration')
let images = ''

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

// ---------------------------------------------------------------------------------------------
// The action, as the runner starts it

interface RunningStep {
  child: ChildProcess
  /** The step's GITHUB_STATE file: what the runner gives the post step. */
  stateFile: string
  done: Promise<StepRun>
}

const started: ChildProcess[] = []

/**
 * Starts dist/index.js as the runner does (lab.ts runStep, but not blocking this process): its
 * log (stdout and stderr) goes to a file, read when it exits.
 */
function startStep(
  inputs: Record<string, string>,
  env: Record<string, string> = {},
  state: Record<string, string> = {}
): RunningStep {
  const runDir = fs.mkdtempSync(path.join(tmp, 'runner-'))
  const files = {
    GITHUB_OUTPUT: path.join(runDir, 'output'),
    GITHUB_STATE: path.join(runDir, 'state'),
    GITHUB_STEP_SUMMARY: path.join(runDir, 'summary')
  }
  for (const file of Object.values(files)) fs.writeFileSync(file, '')
  const stepEnv: Record<string, string> = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) =>
        !key.startsWith('INPUT_') && !key.startsWith('STATE_') && !key.startsWith('GITHUB_')
    )
  ) as Record<string, string>
  Object.assign(stepEnv, files, env)
  for (const [name, value] of Object.entries(inputs))
    stepEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  for (const [name, value] of Object.entries(state)) stepEnv[`STATE_${name}`] = value
  const log = path.join(runDir, 'log')
  const out = fs.openSync(log, 'w')
  const child = spawn(NODE24, [path.join(ROOT, 'dist', 'index.js')], {
    env: stepEnv,
    stdio: ['ignore', out, out]
  })
  fs.closeSync(out)
  started.push(child)
  const done = new Promise<StepRun>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', code =>
      resolve({
        status: code ?? -1,
        stdout: readText(log) ?? '',
        outputs: readFileCommands(files.GITHUB_OUTPUT),
        state: readFileCommands(files.GITHUB_STATE),
        summary: readText(files.GITHUB_STEP_SUMMARY) ?? ''
      })
    )
  })
  return { child, stateFile: files.GITHUB_STATE, done }
}

const step = (
  inputs: Record<string, string>,
  env: Record<string, string> = {},
  state: Record<string, string> = {}
): Promise<StepRun> => startStep(inputs, env, state).done

/** The runner's variables for run `run` of acme/shop by `actor`. */
function runner(actor: string, run: number): Record<string, string> {
  return {
    NGINX_IMAGE: lab.NGINX_IMAGE as string,
    GITHUB_ACTIONS: 'true',
    GITHUB_ACTOR: actor,
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: String(run),
    GITHUB_EVENT_NAME: 'push',
    // Its own commit per run: release ids never collide, even for runs started together.
    GITHUB_SHA: createHash('sha1').update(`${project} ${run}`).digest('hex')
  }
}

/** How the lock names the holder `actor` of run `run` (stage.ts ownerOf). */
const ownerOf = (actor: string, run: number): string =>
  `${actor} (https://github.com/acme/shop/actions/runs/${run})`

/** A deploy of the stack whose migration is `mark`, taking `seconds`. */
function deployInputs(
  mark: string,
  seconds: number,
  extra: Record<string, string> = {}
): Record<string, string> {
  return {
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
    'env-file': [
      `WEB_PORT=${PORT}`,
      `NGINX_IMAGE=${lab.NGINX_IMAGE}`,
      `MIGRATE_SECONDS=${seconds}`,
      `MIGRATE_MARK=${mark}`
    ].join('\n'),
    'migrate-service': 'migrate',
    'health-urls': `http://{host}:${PORT}/`,
    'lock-ttl': String(TTL),
    ...extra
  }
}

function expectDeployed(run: StepRun): string {
  if (run.status !== 0) throw new Error(`deploy failed:\n${run.stdout.slice(-4000)}`)
  return run.outputs['release-id'] as string
}

// ---------------------------------------------------------------------------------------------
// The host

/** Runs `script` with bash on the deploy host, as the deploy user, with `args` as $1... */
function onHost(script: string, args: string[] = []): string {
  const run = spawnSync(
    'ssh',
    [
      ...['-i', lab.LAB_SSH_KEY as string, '-o', `UserKnownHostsFile=${lab.LAB_KNOWN_HOSTS}`],
      ...['-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes'],
      ...['-o', 'KexAlgorithms=curve25519-sha256', host],
      ['bash', '-s', '--', ...args].map(quoteArg).join(' ')
    ],
    { input: script, encoding: 'utf8' }
  )
  if (run.status !== 0) throw new Error(`on the host: ${run.stderr}`)
  return run.stdout
}

const HAND_TOKEN = `handmade${process.pid}`
const HAND_OWNER = 'hand-made holder'

/**
 * A lock made by hand on the host, as a run that died would leave it (the files the acquire
 * script of src/deploy/host-lock.ts writes), with its heartbeat touched at `heartbeat` (a
 * `touch -d` date, by the host's clock), under the host's flock.
 */
function handMadeLock(acquiredAt: string, heartbeat: string): void {
  const owner = JSON.stringify({
    token: HAND_TOKEN,
    owner: HAND_OWNER,
    acquiredAt,
    ttlSeconds: 3600
  })
  onHost(
    `set -euo pipefail
root=$1 token=$2 owner=$3 heartbeat=$4
mkdir -p -- "$root"
exec 9>>"$root/.lock.flock"
flock -w 20 9
rm -rf -- "$root/.lock"
mkdir -- "$root/.lock"
printf '%s' "$token" >"$root/.lock/token"
printf '%s\\n' "$owner" >"$root/.lock/owner.json"
touch -d "$heartbeat" -- "$root/.lock/heartbeat"
`,
    [root, HAND_TOKEN, owner, heartbeat]
  )
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

const lockToken = (): string | undefined => readText(path.join(lockDir, 'token'))

/** The pid of the migration registered under the lock (busy/migrate/pid: "PID STARTTIME"). */
function busyMigratePid(): number | undefined {
  const pid = Number(readText(path.join(lockDir, 'busy', 'migrate', 'pid'))?.split(' ')[0])
  return pid > 0 ? pid : undefined
}

interface MigrationEvent {
  event: string
  mark: string
  /** Milliseconds, by the host's clock. */
  at: number
}

/** The lines the migrations wrote to shared/marks/migrations.log. */
function migrations(): MigrationEvent[] {
  return (readText(path.join(marksDir, 'migrations.log')) ?? '')
    .split('\n')
    .filter(line => line.trim() !== '')
    .map(line => {
      const [event = '', mark = '', at = ''] = line.split(' ')
      return { event, mark, at: Number(at) * 1000 }
    })
}

const migrationOf = (mark: string): MigrationEvent[] => migrations().filter(e => e.mark === mark)
const migrationDone = (mark: string): boolean => fs.existsSync(path.join(marksDir, `${mark}.done`))

interface AuditLine {
  time: string
  action: string
  release: string
  actor: string
}

function auditLines(): AuditLine[] {
  return (readText(path.join(root, 'audit.log')) ?? '')
    .split('\n')
    .filter(line => line.trim() !== '')
    .map(line => JSON.parse(line) as AuditLine)
}

/** The live release; undefined before the first deploy. */
function current(): string | undefined {
  try {
    return path.basename(fs.readlinkSync(path.join(root, 'current')))
  } catch {
    return undefined
  }
}

/** The migrate containers running on the deploy host (`compose run` of the migration). */
function runningMigrations(): string[] {
  return docker(
    [
      ...['ps', '-q', '--filter', `label=com.docker.compose.project=${project}`],
      ...['--filter', 'label=com.docker.compose.service=migrate', '--filter', 'status=running']
    ],
    hostEnv
  )
    .stdout.split('\n')
    .filter(Boolean)
}

/** Whether a process runs (not a zombie nobody reaped). */
function alive(pid: number): boolean {
  const stat = readText(`/proc/${pid}/stat`)
  return stat !== undefined && !/^\S+ \(.*\) [ZX]/s.test(stat)
}

/** The pid of a run's SSH master, from its control socket (`ssh -O check`). */
function masterPid(state: SshState): number {
  const [ssh, ...args] = sshControlArgv(
    { target: state.target, jump: state.jump },
    sshPaths(state.dir),
    DEFAULT_TUNING,
    'check'
  )
  const check = spawnSync(ssh as string, args, { encoding: 'utf8' })
  const pid = Number(/pid=(\d+)/.exec(check.stderr + check.stdout)?.[1])
  if (!(pid > 0)) throw new Error(`no SSH master in ${state.dir}: ${check.stderr}`)
  return pid
}

/**
 * The processes waiting for the host's flock on the project's lock (the lock scripts run
 * `flock -w 20 9` with fd 9 open on `<lockDir>.flock`). The deploy host shares this machine's
 * processes; only its network is its own.
 */
function flockWaiters(exclude: number): number[] {
  const waiting: number[] = []
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry)
    if (!(pid > 0) || pid === exclude) continue
    if (readText(`/proc/${pid}/comm`)?.trim() !== 'flock') continue
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/9`) === `${lockDir}.flock`) waiting.push(pid)
    } catch {
      // Gone meanwhile, or no fd 9: not one of them.
    }
  }
  return waiting
}

/** Holds the host's flock on the project's lock (every lock script waits) until released. */
async function holdHostFlock(): Promise<{ pid: number; release: () => Promise<void> }> {
  const holder = spawn('flock', ['-x', `${lockDir}.flock`, 'sh', '-c', 'echo held; cat'], {
    stdio: ['pipe', 'pipe', 'inherit']
  })
  started.push(holder)
  const exited = new Promise(resolve => holder.once('exit', resolve))
  await new Promise<void>((resolve, reject) => {
    holder.once('exit', code => reject(new Error(`flock exited with ${code}`)))
    holder.stdout?.once('data', () => resolve())
  })
  return {
    pid: holder.pid as number,
    release: async () => {
      holder.stdin?.end()
      await exited
    }
  }
}

/** A health URL the test opens: 503 until open() (keeps a deploy in its verify step). */
async function startGate(): Promise<{
  url: string
  requests: () => number
  open: () => void
  close: () => Promise<void>
}> {
  let isOpen = false
  let requests = 0
  const server = http.createServer((_request, response) => {
    requests++
    response.writeHead(isOpen ? 200 : 503, { 'content-type': 'text/plain' })
    response.end(isOpen ? 'open\n' : 'closed\n')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/gate`,
    requests: () => requests,
    open: () => {
      isOpen = true
    },
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

// ---------------------------------------------------------------------------------------------

beforeAll(() => {
  fs.cpSync(path.join(ROOT, 'e2e', 'fixtures', 'stacks', 'slow-migration'), dir, {
    recursive: true
  })
  const built = runCli(
    [
      ...['build', '--working-directory', dir, '-f', 'compose.yaml', '-p', project],
      ...['--registry', lab.LAB_REGISTRY as string, '--image-namespace', `e2e-lock-${process.pid}`],
      ...['--registry-username', lab.LAB_REGISTRY_USER as string, '--push']
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
  // Whatever a failed test left running (a held main step, the flock holder).
  await Promise.all(
    started
      .filter(child => child.exitCode === null && child.signalCode === null)
      .map(
        child =>
          new Promise(resolve => {
            child.once('exit', resolve)
            child.kill('SIGKILL')
          })
      )
  )
  const ids = docker(
    ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`],
    hostEnv
  )
    .stdout.split('\n')
    .filter(Boolean)
  if (ids.length > 0) docker(['rm', '-f', ...ids], hostEnv)
  docker(['network', 'rm', `${project}_default`], hostEnv)
  // The migrations wrote into shared/ as root: removed as root, here.
  fs.rmSync(root, { recursive: true, force: true })
  fs.rmSync(tmp, { recursive: true, force: true })
})

describe('the deploy lock (hole 4: its age)', () => {
  it('is renewed through a long deploy: past its TTL, a second deploy still waits, fails, and never takes it over', async () => {
    const gate = await startGate()
    const firstRun = 101
    // The first deploy: a 25 s migration, then it stays in verify until the gate opens.
    const first = startStep(
      deployInputs('renewal', 25, {
        'health-urls': `http://{host}:${PORT}/\n${gate.url}`,
        'health-retries': '600'
      }),
      runner('slow-deployer', firstRun)
    )
    const samples: { at: number; heartbeat: number; token: string; migrating: boolean }[] = []
    let sampler: NodeJS.Timeout | undefined
    try {
      const token = await waitFor(
        'the first deploy to take the lock',
        () => fs.existsSync(path.join(lockDir, 'heartbeat')) && lockToken(),
        240
      )
      const owner = JSON.parse(
        await waitFor('its owner record', () => readText(path.join(lockDir, 'owner.json')), 10)
      ) as { acquiredAt: string; ttlSeconds: number }
      expect(owner.ttlSeconds).toBe(TTL)
      // When it was taken, by the host's clock: the owner record is written once, then never.
      const takenAt = fs.statSync(path.join(lockDir, 'owner.json')).mtimeMs
      sampler = setInterval(() => {
        try {
          samples.push({
            at: Date.now(),
            heartbeat: fs.statSync(path.join(lockDir, 'heartbeat')).mtimeMs,
            token: lockToken() ?? '',
            migrating: busyMigratePid() !== undefined
          })
        } catch {
          samples.push({ at: Date.now(), heartbeat: NaN, token: '', migrating: false })
        }
      }, 200)

      await waitFor(
        'the migration to run on the host',
        () => busyMigratePid() !== undefined && migrationOf('renewal').length > 0,
        240
      )
      await waitFor('the first deploy to reach its health checks', () => gate.requests() > 0, 300)
      // Its migration is over (it ran under the lock, registered in busy/), and now nothing of
      // it runs on the host: only the renewals keep the lock fresh. Let it grow past its TTL.
      expect(migrationDone('renewal')).toBe(true)
      expect(busyMigratePid()).toBeUndefined()
      await waitFor(
        `the lock to be older than its TTL (${TTL}s)`,
        () => Date.now() - takenAt > (TTL + 2) * 1000,
        TTL + 10,
        500
      )

      const second = await step(
        deployInputs('never', 0, { 'lock-timeout': '4' }),
        runner('second-deployer', 102)
      )
      expect(second.status).toBe(1)
      const refused = new RegExp(
        `::error::.*the deploy lock is held by ${escape(ownerOf('slow-deployer', firstRun))} since ${escape(owner.acquiredAt)}.* \\(renewed (\\d+)s ago \\(TTL ${TTL}s\\)\\); gave up after 4s \\(lock-timeout\\)`
      ).exec(second.stdout)
      if (!refused) throw new Error(`not the refusal expected:\n${second.stdout.slice(-3000)}`)
      // Renewed within one renewal interval, although taken more than a TTL ago.
      expect(Number(refused[1])).toBeLessThanOrEqual(renewIntervalSeconds(TTL) + 5)
      expect(Date.now() - takenAt).toBeGreaterThan(TTL * 1000)
      expect(second.stdout).not.toContain('took over')
      expect(lockToken()).toBe(token)
      expect(migrationOf('never')).toEqual([])

      clearInterval(sampler)
      sampler = undefined
      // Seen from the host all along: the lock stayed the first run's, its heartbeat never
      // older than the TTL, renewed while the migration ran and after it.
      expect(samples.length).toBeGreaterThan(100)
      expect(samples.filter(s => s.token !== token)).toEqual([])
      const heartbeats = [...new Set(samples.map(s => s.heartbeat))]
      expect(heartbeats.length).toBeGreaterThanOrEqual(3)
      expect(samples.filter(s => !(s.at - s.heartbeat < TTL * 1000))).toEqual([])
      const initial = samples[0]?.heartbeat as number
      expect(samples.some(s => s.migrating && s.heartbeat > initial)).toBe(true)
      expect(samples.some(s => !s.migrating && s.heartbeat > initial)).toBe(true)
    } finally {
      if (sampler) clearInterval(sampler)
      gate.open()
    }
    const run = await first.done
    await gate.close()
    const release = expectDeployed(run)
    expect(run.stdout).not.toContain('took over')
    expect(run.stdout).not.toContain('no longer ours')
    expect(fs.existsSync(lockDir)).toBe(false)
    expect(current()).toBe(release)
    expect(migrationOf('renewal').map(e => e.event)).toEqual(['start', 'done'])
  })

  it('judges a lock by its heartbeat on the host, not by when its owner record says it was taken', async () => {
    const live = current()
    // Taken in 2001 by any clock, but its heartbeat is fresh: not stale.
    handMadeLock('2001-01-01T00:00:00.000Z', 'now')
    const refused = await step(
      deployInputs('clock-refused', 0, { 'lock-timeout': '3' }),
      runner('clock-deployer', 201)
    )
    expect(refused.status).toBe(1)
    expect(refused.stdout).toMatch(
      new RegExp(
        `::error::.*the deploy lock is held by ${HAND_OWNER} since 2001-01-01T00:00:00\\.000Z \\(renewed \\d+s ago \\(TTL 3600s\\)\\); gave up after 3s \\(lock-timeout\\)`
      )
    )
    expect(refused.stdout).not.toContain('took over')
    expect(lockToken()).toBe(HAND_TOKEN)
    expect(current()).toBe(live)
    expect(migrationOf('clock-refused')).toEqual([])

    // Taken just now by its owner record, but not renewed for two hours: stale.
    const takenAt = new Date().toISOString()
    handMadeLock(takenAt, '2 hours ago')
    const run = await step(
      deployInputs('clock-took', 0, { 'lock-timeout': '3' }),
      runner('clock-deployer', 202)
    )
    const release = expectDeployed(run)
    const warning = new RegExp(
      `::warning::.*took over a stale deploy lock held by ${HAND_OWNER} since ${escape(takenAt)}: not renewed for (\\d+)s, past its TTL of 3600s`
    ).exec(run.stdout)
    if (!warning) throw new Error(`no take-over warning:\n${run.stdout.slice(-3000)}`)
    expect(Number(warning[1])).toBeGreaterThanOrEqual(7200)
    expect(Number(warning[1])).toBeLessThan(7200 + 300)
    expect(fs.existsSync(lockDir)).toBe(false)
    expect(current()).toBe(release)
    expect(migrationDone('clock-took')).toBe(true)
  })

  it('lets exactly one of two deploys take over the same stale lock; the other waits its turn', async () => {
    handMadeLock(new Date().toISOString(), '2 hours ago')
    // Both runs' acquire scripts wait for the host's flock, which the test holds: once it
    // lets go, both read the same stale lock and both try to take it over.
    const flock = await holdHostFlock()
    const racers: { name: string; run: number; mark: string; step: RunningStep }[] = []
    try {
      for (const [name, run] of [
        ['racer-a', 301],
        ['racer-b', 302]
      ] as const) {
        const mark = `race-${run}`
        racers.push({
          name,
          run,
          mark,
          step: startStep(deployInputs(mark, 2, { 'lock-timeout': '240' }), runner(name, run))
        })
      }
      await waitFor('a deploy to ask for the lock', () => flockWaiters(flock.pid).length > 0, 240)
      // The host's flock waits at most 20 s (FLOCK_WAIT_SECONDS): the other must come by then.
      await waitFor(
        'both deploys to ask for the lock',
        () => flockWaiters(flock.pid).length > 1,
        15
      )
    } finally {
      await flock.release()
    }
    const runs = await Promise.all(racers.map(racer => racer.step.done))
    const releases = runs.map(expectDeployed)
    const took = runs.map(run =>
      /took over a stale deploy lock held by hand-made holder/.test(run.stdout)
    )
    expect(took.filter(Boolean)).toHaveLength(1)
    const winner = took.indexOf(true)
    const loser = 1 - winner
    expect(runs[loser]?.stdout).not.toContain('took over')

    // One after the other: the loser's migration started only after the winner's deploy was
    // complete (its audit line is written just before it lets the lock go).
    const audit = auditLines()
    const auditOf = (release: string): number => {
      const lines = audit.filter(line => line.action === 'deploy' && line.release === release)
      expect(lines).toHaveLength(1)
      return Date.parse(lines[0]?.time as string)
    }
    const w = migrationOf(racers[winner]?.mark as string)
    const l = migrationOf(racers[loser]?.mark as string)
    expect(w.map(e => e.event)).toEqual(['start', 'done'])
    expect(l.map(e => e.event)).toEqual(['start', 'done'])
    const order = [
      w[0]?.at,
      w[1]?.at,
      auditOf(releases[winner] as string),
      l[0]?.at,
      l[1]?.at,
      auditOf(releases[loser] as string)
    ] as number[]
    expect(order).toEqual([...order].sort((a, b) => a - b))
    expect(audit.map(line => line.release).slice(-2)).toEqual([releases[winner], releases[loser]])

    // The host is consistent: the last one is live, both releases whole, no lock.
    expect(fs.existsSync(lockDir)).toBe(false)
    expect(current()).toBe(releases[loser])
    for (const release of releases)
      expect(fs.existsSync(path.join(root, 'releases', release as string, 'manifest.json'))).toBe(
        true
      )
  })
})

describe('a migration cut off from its run (hole 5)', () => {
  /**
   * Starts a deploy whose migration `mark` takes `seconds`, and waits until the migration runs
   * on the host under the lock: gives the step and the pid registered for it.
   */
  async function deployUntilMigrating(
    mark: string,
    seconds: number,
    actor: string,
    run: number
  ): Promise<{ main: RunningStep; pid: number; token: string }> {
    const main = startStep(deployInputs(mark, seconds), runner(actor, run))
    const pid = await waitFor(
      'the migration to run on the host',
      () => migrationOf(mark).length > 0 && busyMigratePid(),
      300
    )
    expect(runningMigrations()).toHaveLength(1)
    return { main, pid, token: lockToken() as string }
  }

  /** The post step, as the runner starts it after a cancelled main step. */
  async function postStep(state: Record<string, string>): Promise<StepRun> {
    const post = await step(
      {},
      {},
      {
        isPost: 'true',
        ssh: state.ssh ?? '',
        'deploy-locks': state['deploy-locks'] ?? ''
      }
    )
    expect(post.status).toBe(0)
    return post
  }

  /** What the post step said, what is on the host while the migration runs, and after it. */
  async function expectMigrationFinishesUnderTheLock(
    post: StepRun,
    mark: string,
    pid: number,
    previous: string | undefined
  ): Promise<void> {
    expect(post.stdout).toMatch(
      new RegExp(
        `::warning::kept: migrate \\(pid ${pid}\\) still running on ${escape(lab.LAB_HOST as string)}; the deploy lock ${escape(lockDir)} is released when it ends`
      )
    )
    // Released by its holder, kept by the host while the migration runs.
    expect(fs.existsSync(path.join(lockDir, 'release-when-idle'))).toBe(true)
    expect(busyMigratePid()).toBe(pid)
    expect(runningMigrations()).toHaveLength(1)
    expect(migrationDone(mark)).toBe(false)

    // It runs to its end, and then the lock goes by itself.
    await waitFor(`migration ${mark} to end`, () => migrationDone(mark), 180, 250)
    await waitFor('the lock to go', () => !fs.existsSync(lockDir), 30)
    expect(migrationOf(mark).map(e => e.event)).toEqual(['start', 'done'])
    await waitFor('the migrate container to go', () => runningMigrations().length === 0, 30)
    // Nothing switched: the previous release is live, and whole.
    expect(current()).toBe(previous)
    if (previous)
      expect(fs.existsSync(path.join(root, 'releases', previous, 'manifest.json'))).toBe(true)
  }

  /** A deploy right after: it finds no lock (no waiting for lock-ttl, no take-over). */
  async function expectNextDeploy(mark: string, actor: string, run: number): Promise<void> {
    const next = await step(deployInputs(mark, 0, { 'lock-timeout': '3' }), runner(actor, run))
    const release = expectDeployed(next)
    expect(next.stdout).not.toContain('took over')
    expect(current()).toBe(release)
    expect(migrationDone(mark)).toBe(true)
    expect(fs.existsSync(lockDir)).toBe(false)
  }

  it('the SSH connection drops during the migration: it runs to its end, then the lock goes', async () => {
    const previous = current()
    const run = 401
    const { main, pid, token } = await deployUntilMigrating('dropped', 25, 'dropped-deployer', run)
    const state = readFileCommands(main.stateFile)
    const connections = JSON.parse(state.ssh ?? '[]') as SshState[]
    expect(connections).toHaveLength(1)
    const master = masterPid(connections[0] as SshState)
    // The network drops (the master dies without a goodbye), and the runner with it.
    main.child.kill('SIGSTOP')
    process.kill(master, 'SIGKILL')
    main.child.kill('SIGKILL')
    await main.done
    await waitFor('the SSH master to be gone', () => !alive(master), 10)

    const post = await postStep(readFileCommands(main.stateFile))
    // While it runs, the lock is not taken over, even when its heartbeat is old (the run that
    // renewed it is gone): another deploy waits, and fails naming the migration.
    onHost('touch -d "2 hours ago" -- "$1/heartbeat"', [lockDir])
    const early = await step(
      deployInputs('too-early', 0, { 'lock-timeout': '2' }),
      runner('early-deployer', 402)
    )
    expect(early.status).toBe(1)
    expect(early.stdout).toMatch(
      new RegExp(
        `::error::.*the deploy lock is held by ${escape(ownerOf('dropped-deployer', run))} since .* \\(migrate \\(pid ${pid}\\) still running on the host\\); gave up after 2s \\(lock-timeout\\)`
      )
    )
    expect(early.stdout).not.toContain('took over')
    expect(lockToken()).toBe(token)
    expect(migrationOf('too-early')).toEqual([])

    await expectMigrationFinishesUnderTheLock(post, 'dropped', pid, previous)
    await expectNextDeploy('after-drop', 'next-deployer', 403)
  })

  it('the job is cancelled during the migration: it runs to its end, then the lock goes', async () => {
    const previous = current()
    const { main, pid } = await deployUntilMigrating('cancelled', 15, 'cancelled-deployer', 501)
    const connections = JSON.parse(readFileCommands(main.stateFile).ssh ?? '[]') as SshState[]
    expect(connections).toHaveLength(1)
    const connection = connections[0] as SshState
    const master = masterPid(connection)
    // The runner cancels: SIGINT, then SIGTERM if the step is still there 7.5 s later.
    main.child.kill('SIGINT')
    const sigterm = setTimeout(() => main.child.kill('SIGTERM'), 7500)
    await main.done
    clearTimeout(sigterm)
    // The connection itself did not drop.
    expect(alive(master)).toBe(true)

    const post = await postStep(readFileCommands(main.stateFile))
    // The post step closed the connection and removed the key.
    expect(fs.existsSync(connection.dir)).toBe(false)
    await waitFor('the SSH master to be gone', () => !alive(master), 10)

    await expectMigrationFinishesUnderTheLock(post, 'cancelled', pid, previous)
    await expectNextDeploy('after-cancel', 'next-deployer', 502)
  })
})
