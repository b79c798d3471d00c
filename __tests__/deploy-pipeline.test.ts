/**
 * The deploy pipeline on an in-memory host (support/fake-session.ts): the exact command
 * sequence of a deploy, of a zero-downtime replacement and of a rollback, and, for a failure at
 * each step, what becomes of the host: nothing switched, rolled back, or the lock kept.
 */
import { projectFilesWith } from './support/project-files.js'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { hostContext, type HostContext } from '../src/deploy/host.js'
import { composeRuntime } from '../src/deploy/compose-runtime.js'
import { deployHost, rollbackHost } from '../src/deploy/pipeline.js'
import type { DeployRelease, HostSettings } from '../src/deploy/settings.js'
import { releaseComposeOf } from '../src/deploy/release-files.js'
import type { ProjectFiles } from '../src/compose/project-files.js'
import { MemoryReporter } from '../src/report/reporter.js'
import { FakeSession, heldInner, type FakeCall } from './support/fake-session.js'
import { settingsWith } from './support/host-settings.js'
import type { CommandResult } from '../src/exec/executor.js'

const D = `sha256:${'a'.repeat(64)}`
const LIVE = '20261128T000000Z-0ld0001'
const NEW = '20261129T120000Z-abc1234'
const ROOT = '/srv/sd/shop'
const OLD_ID = 'a1a1a1a1a1a1'
const NEW_ID = 'b2b2b2b2b2b2'

const files: ProjectFiles = projectFilesWith()

function releaseWith(over: Partial<DeployRelease> = {}): DeployRelease {
  return {
    releaseId: NEW,
    compose: releaseComposeOf(files, []),
    files,
    filesOverride: '{}\n',
    secretFiles: [],
    images: { api: { image: 'r/api', tags: ['1'], digest: D, ref: `r/api@${D}` } },
    envFile: "A='1'\n",
    imagesOverride: 'services: {}\n',
    registry: undefined,
    backup: { service: 'postgres', keep: 3 },
    migrate: { service: 'migrate', timeoutSeconds: 60 },
    minFreeMiB: 10,
    ...over
  }
}

/** A host's context on the fake session, with the compose runtime, as the stage makes it. */
function contextOn(
  session: FakeSession,
  settings: HostSettings = settingsWith(),
  releaseId: string | undefined = NEW
): HostContext {
  const reporter = new MemoryReporter()
  return hostContext({
    session,
    settings,
    reporter,
    runtime: composeRuntime,
    releaseId
  })
}

/** Deploys `release` on the fake host; returns the host's context (its report). */
async function deployOn(
  session: FakeSession,
  options: { settings?: HostSettings; release?: DeployRelease } = {}
): Promise<HostContext> {
  const ctx = contextOn(session, options.settings)
  await deployHost(ctx, options.release ?? releaseWith(), 'octocat')
  return ctx
}

/** Which command fails, and how, in a scenario. */
type Failure = (call: FakeCall) => Partial<CommandResult> | undefined

/**
 * A host with a live release and a running stack, answering like the lab host does; `fail`
 * overrides any answer. `live: false` is an empty host (a first deploy).
 */
function host(options: { live?: boolean; fail?: Failure } = {}): FakeSession {
  const live = options.live ?? true
  // The api's containers, by id and configuration hash.
  let containers: { id: string; hash: string }[] = [{ id: OLD_ID, hash: 'oldhash' }]
  let made = 0
  const session: FakeSession = new FakeSession((argv, call) => {
    const failed = options.fail?.(call)
    if (failed) return failed
    const text = argv.join(' ')
    if (call.label === 'docker version --format {{.Server.Version}}')
      return { stdout: '20.10.24\n' }
    if (call.label === 'docker compose version --short') return { stdout: '2.26.1\n' }
    if (argv[0] === 'df')
      return {
        stdout:
          'Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/vda 100 1 9999999 1% /\n'
      }
    if (argv[0] === 'readlink')
      return live ? { stdout: `${ROOT}/releases/${LIVE}\n` } : { exitCode: 1 }
    if (argv[0] === 'cat' && text.endsWith(`${LIVE}/manifest.json`))
      return {
        stdout: JSON.stringify({
          release: LIVE,
          composeFiles: ['project/compose.yaml'],
          compose: releaseComposeOf(files, []),
          objects: []
        })
      }
    if (isRunningPostgres(call)) return { stdout: 'pg1\n' }
    if (call.label.startsWith('script:out=$1')) return { stdout: '4096\n' }
    if (call.label.startsWith('compose run --rm -T migrate')) return { stdout: 'applied 002\n' }
    // Like compose's: the hash of the release whose files the command names.
    const hash = text.includes(`/releases/${NEW}/`) ? 'newhash' : 'oldhash'
    if (call.label.startsWith('compose config --hash api')) return { stdout: `api ${hash}\n` }
    if (argv[0] === 'docker' && argv[1] === 'ps' && text.includes('com.docker.compose.service=api'))
      return { stdout: containers.map(c => `${c.id} ${c.hash} running\n`).join('') }
    if (call.label.startsWith('compose up --detach --no-recreate --scale api=')) {
      made++
      containers = [...containers, { id: made === 1 ? NEW_ID : `c${made}`.padEnd(12, 'c'), hash }]
    }
    if (argv[0] === 'docker' && argv[1] === 'inspect')
      return {
        stdout: argv
          .slice(4)
          .map(id => `${id} running healthy\n`)
          .join('')
      }
    if (argv[0] === 'docker' && argv[1] === 'rm')
      containers = containers.filter(c => !argv.includes(c.id))
    if (argv[0] === 'ls' && text.endsWith('/releases'))
      return { stdout: live ? `${LIVE}\n${NEW}\n` : `${NEW}\n` }
    return undefined
  })
  return session
}

/** The lookup of the live postgres container: compose's labels, running, not a one-off. */
function isRunningPostgres(call: FakeCall): boolean {
  const text = call.argv.join(' ')
  return (
    call.argv[0] === 'docker' &&
    call.argv[1] === 'ps' &&
    text.includes('com.docker.compose.service=postgres') &&
    text.includes('status=running')
  )
}

/** The labels of the calls, without the reads that only look (cat, ls, readlink, stat). */
function changes(session: FakeSession): string[] {
  return session
    .labels()
    .filter(
      label =>
        !/^(cat|ls|readlink|stat|df|date|docker version|docker compose version)\b/.test(label)
    )
}

describe('a deploy on a host, command by command', () => {
  it('runs the pipeline in order: lock, upload, pull with backup, migrate, roll out, audit, prune, unlock', async () => {
    const session = host()
    const deployment = await deployOn(session)
    const seen = changes(session)
    const order = [
      'mkdir -p /srv/sd/shop/releases /srv/sd/shop/backups',
      'test -w /srv/sd/shop',
      'lock:acquire',
      `write ${ROOT}/releases/${NEW}/images.override.yaml 0644`,
      `write ${ROOT}/releases/${NEW}/manifest.json 0644`,
      'compose pull --quiet',
      'compose config --hash api',
      'compose run --rm -T migrate',
      `ln -sfn ${ROOT}/releases/${NEW} ${ROOT}/current.new`,
      `mv -T ${ROOT}/current.new ${ROOT}/current`,
      'compose up --detach --no-recreate --scale api=2 --scale migrate=0 api',
      `docker stop ${OLD_ID}`,
      `docker rm --force ${OLD_ID}`,
      'compose up --detach --wait --wait-timeout 5 --remove-orphans --scale migrate=0',
      `dd of=${ROOT}/audit.log oflag=append conv=notrunc status=none`,
      'lock:release'
    ]
    // Each of these happens, and in this order.
    const positions = order.map(label => seen.indexOf(label))
    expect(positions.every(position => position >= 0)).toBe(true)
    expect(positions).toEqual([...positions].sort((a, b) => a - b))
    // The backup: a dump of the live postgres container (found by compose's labels), checked
    // in the same script, before the migration.
    const dumpCall = session.calls.find(call => call.label.startsWith('script:out=$1; shift'))
    expect(dumpCall?.argv.slice(-6, -3)).toEqual(['docker', 'exec', 'pg1'])
    expect(dumpCall?.argv[2]).toContain('gzip -t')
    const dump = seen.indexOf(dumpCall?.label as string)
    // It overlaps the upload (it only reads what is live), and the manifest written after it
    // records it.
    expect(dump).toBeLessThan(seen.indexOf('compose run --rm -T migrate'))
    expect(seen.lastIndexOf(`write ${ROOT}/releases/${NEW}/manifest.json 0644`)).toBeGreaterThan(
      dump
    )
    expect(
      JSON.parse(session.files.get(`${ROOT}/releases/${NEW}/manifest.json`)?.content ?? '{}')
    ).toMatchObject({
      backup: { service: 'postgres', file: `${ROOT}/backups/${NEW}-postgres.sql.gz` }
    })
    // The pull waits for the upload's compose files, not for its manifest.
    expect(seen.indexOf('compose pull --quiet')).toBeGreaterThan(
      seen.indexOf(`write ${ROOT}/releases/${NEW}/images.override.yaml 0644`)
    )
    // What the rollout decides from (above) is read while the migration runs: it overlaps it.
    expect(deployment.report.result).toBe('deployed')
    expect(deployment.report.migrationOutput).toBe('applied 002')
    // The .env goes on stdin with mode 0600; nothing of it is in any argv.
    expect(session.files.get(`${ROOT}/releases/${NEW}/.env`)).toEqual({
      content: "A='1'\n",
      mode: '0600'
    })
    expect(session.calls.some(call => call.argv.join(' ').includes("A='1'"))).toBe(false)
  })

  it('pulls once the files are up, before the manifest; a backup that ends later goes into a second manifest write', async () => {
    const session = host()
    const manifestFile = `${ROOT}/releases/${NEW}/manifest.json`
    const gate = () => {
      let open: () => void = () => undefined
      const opened = new Promise<void>(resolve => (open = resolve))
      return { opened, open }
    }
    const manifestGate = gate()
    const dumpGate = gate()
    const writeFile = session.writeFile.bind(session)
    session.writeFile = async (file, content, mode) => {
      if (file === manifestFile) await manifestGate.opened
      return writeFile(file, content, mode)
    }
    const run = session.run.bind(session)
    session.run = async (argv, options) => {
      if ((argv[2] ?? '').includes('gzip -t')) await dumpGate.opened
      return run(argv, options)
    }
    const until = async (what: () => boolean) => {
      for (let i = 0; i < 1000 && !what(); i++) await new Promise(resolve => setImmediate(resolve))
      expect(what()).toBe(true)
    }
    const deploying = deployOn(session)
    // The pull starts while the manifest write is still held back.
    await until(() => session.labels().includes('compose pull --quiet'))
    expect(session.files.has(manifestFile)).toBe(false)
    manifestGate.open()
    // The upload wrote its manifest while the dump ran: without the backup.
    await until(() => session.files.has(manifestFile))
    expect(JSON.parse(session.files.get(manifestFile)?.content ?? '{}').backup).toBeUndefined()
    expect(session.labels()).not.toContain('compose run --rm -T migrate')
    dumpGate.open()
    await deploying
    const writes = session.labels().filter(label => label === `write ${manifestFile} 0644`)
    expect(writes).toHaveLength(2)
    expect(JSON.parse(session.files.get(manifestFile)?.content ?? '{}')).toMatchObject({
      backup: { service: 'postgres', file: `${ROOT}/backups/${NEW}-postgres.sql.gz`, bytes: 4096 }
    })
  })

  it('replaces a rolling service new-container-first: the old one stops only after the new one is healthy', async () => {
    const session = host()
    await deployOn(session)
    const seen = changes(session)
    const scale = seen.indexOf(
      'compose up --detach --no-recreate --scale api=2 --scale migrate=0 api'
    )
    const healthy = session.labels().findIndex(label => label.startsWith('docker inspect --format'))
    const stop = seen.indexOf(`docker stop ${OLD_ID}`)
    expect(scale).toBeGreaterThan(-1)
    expect(session.labels().indexOf(seen[stop] as string)).toBeGreaterThan(healthy)
    expect(healthy).toBeGreaterThan(session.labels().indexOf(seen[scale] as string))
  })

  it("logs in to the registry in a Docker config of the run's own, pulls with it, then removes it (the logout)", async () => {
    const session = host()
    await deployOn(session, {
      release: releaseWith({ registry: { host: 'r.example', username: 'ci', password: 'pw-1' } })
    })
    const config = session.calls.find(call => call.label.startsWith('script:mkdir -m 700'))
    const dir = config?.argv.at(-1) as string
    expect(dir).toMatch(new RegExp(`^${ROOT}/\\.docker-[0-9a-f]{12}$`))
    const login = session.calls.find(call => call.argv[1] === 'login')
    const pull = session.calls.find(call => call.label === 'compose pull --quiet')
    for (const call of [login, pull]) expect(call?.env).toEqual({ DOCKER_CONFIG: dir })
    // The password on stdin only.
    expect(login?.input).toBe('pw-1')
    expect(session.calls.some(call => call.argv.join(' ').includes('pw-1'))).toBe(false)
    const labels = session.labels()
    expect(labels.indexOf(`rm -rf -- ${dir}`)).toBeGreaterThan(labels.indexOf(pull?.label ?? ''))
  })

  it('takes no backup and switches on a first deploy', async () => {
    const session = host({ live: false })
    const deployment = await deployOn(session)
    expect(session.labels().some(label => label.startsWith('script:out=$1'))).toBe(false)
    expect(deployment.report.result).toBe('deployed')
  })
})

/** Where a host ends after a failure: whether current moved (and back), and the lock. */
function outcome(session: FakeSession): { switched: boolean; back: boolean; unlocked: boolean } {
  const labels = session.labels()
  return {
    switched: labels.includes(`ln -sfn ${ROOT}/releases/${NEW} ${ROOT}/current.new`),
    back: labels.includes(`ln -sfn ${ROOT}/releases/${LIVE} ${ROOT}/current.new`),
    unlocked: labels.includes('lock:release')
  }
}

describe('a failure at each step', () => {
  const failAt =
    (
      match: (label: string) => boolean,
      answer: Partial<CommandResult> = { exitCode: 1, stderr: 'boom' }
    ) =>
    (call: FakeCall) =>
      match(call.label) ? answer : undefined

  it.each([
    ['preflight', failAt(label => label === 'docker version --format {{.Server.Version}}')],
    ['upload', failAt(label => label.endsWith('images.override.yaml 0644'))],
    ['pull', failAt(label => label === 'compose pull --quiet')],
    ['backup', (call: FakeCall) => (isRunningPostgres(call) ? { stdout: '' } : undefined)],
    ['backup', failAt(label => label.startsWith('script:out=$1'))],
    // An empty dump: gzip of nothing is about 20 bytes.
    ['backup', failAt(label => label.startsWith('script:out=$1'), { stdout: '20\n' })],
    ['migrate', failAt(label => label === 'compose run --rm -T migrate')]
  ])(
    'fails at %s: nothing switches, the release is removed, the lock is released',
    async (step, fail) => {
      const session = host({ fail })
      const deployment = contextOn(session)
      await expect(deployHost(deployment, releaseWith(), 'octocat')).rejects.toMatchObject({
        step
      })
      expect(outcome(session)).toEqual({
        switched: false,
        back: false,
        unlocked: step !== 'preflight'
      })
      if (step !== 'preflight') {
        // The release that never went live is gone: a later rollback can never pick it.
        expect(
          session.calls.some(
            call =>
              call.label.startsWith('script:chmod -R u+w') &&
              call.argv.at(-1) === `${ROOT}/releases/${NEW}`
          )
        ).toBe(true)
      }
      // A preflight failure is before anything started on the host.
      expect(deployment.report.result).toBe(step === 'preflight' ? 'not started' : 'failed')
    }
  )

  it('refuses to migrate when the live database is not running, naming service, release and the way past', async () => {
    const session = host({
      fail: call => (isRunningPostgres(call) ? { stdout: '' } : undefined)
    })
    await expect(deployOn(session)).rejects.toThrow(
      `Deploy to deploy@h1 failed at "backup": postgres of the live release ${LIVE} is not running, so no backup can be taken before the migration; start it, or deploy with backup: false`
    )
    expect(session.labels()).not.toContain('compose run --rm -T migrate')
  })

  it('names the backup to restore from when the migration fails (it may have committed part of its work)', async () => {
    const session = host({
      fail: failAt(label => label === 'compose run --rm -T migrate', {
        exitCode: 1,
        stdout:
          '{"msg":"applied 900_marker.sql"}\n{"msg":"901_fail.sql failed and was rolled back"}\n',
        stderr: ' Container shop-postgres-1  Running\n'
      })
    })
    const failure = deployHost(contextOn(session), releaseWith(), 'octocat')
    await expect(failure).rejects.toMatchObject({
      step: 'migrate',
      outcome: 'nothing switched',
      backup: `${ROOT}/backups/${NEW}-postgres.sql.gz`
    })
    await expect(failure).rejects.toThrow(
      `Last lines: {"msg":"applied 900_marker.sql"} | {"msg":"901_fail.sql failed and was rolled back"}. The database was backed up before the migration: restore from ${ROOT}/backups/${NEW}-postgres.sql.gz if it committed part of its work`
    )
    expect(outcome(session).switched).toBe(false)
    // The host's audit log records the failure.
    const audit = session.calls.find(call => call.label.startsWith(`dd of=${ROOT}/audit.log`))
    expect(JSON.parse(audit?.input ?? '{}')).toMatchObject({
      action: 'deploy failed',
      release: NEW,
      detail: expect.stringMatching(
        /^migrate: the migration \(service migrate\) exited with code 1/
      )
    })
  })

  it('names no backup for a failed migration on a first deploy (nothing was live to back up)', async () => {
    const session = host({
      live: false,
      fail: failAt(label => label === 'compose run --rm -T migrate')
    })
    const failure = deployHost(contextOn(session), releaseWith(), 'octocat')
    await expect(failure).rejects.toMatchObject({ step: 'migrate', backup: undefined })
    await expect(failure).rejects.not.toThrow(/backed up/)
  })

  it('rolls back when the roll out fails after the switch', async () => {
    let ups = 0
    const session = host({
      fail: call => {
        if (!call.label.startsWith('compose up --detach --wait')) return undefined
        ups++
        return ups === 1 ? { exitCode: 1, stderr: 'api unhealthy' } : undefined
      }
    })
    const deployment = contextOn(session)
    await expect(deployHost(deployment, releaseWith(), 'octocat')).rejects.toThrow(
      `rolled back to ${LIVE}, which is serving`
    )
    expect(outcome(session)).toEqual({ switched: true, back: true, unlocked: true })
    expect(deployment.report.result).toBe('rolled back')
  })

  it('rolls back when the verification fails', async () => {
    // The new release answers 503; once rolled back, the previous one answers 200.
    let requests = 0
    const server = http.createServer((_request, response) =>
      response.writeHead(requests++ === 0 ? 503 : 200).end()
    )
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    try {
      const session = host()
      await expect(
        deployOn(session, {
          settings: settingsWith({ healthUrls: [`http://{host}:${port}/health`] })
        })
      ).rejects.toThrow(
        new RegExp(
          `health check http://127.0.0.1:${port}/health failed after 1 attempts: HTTP 503; rolled back to ${LIVE}`
        )
      )
      expect(outcome(session)).toEqual({ switched: true, back: true, unlocked: true })
    } finally {
      server.close()
    }
  })

  it('keeps the lock of another deploy and fails naming its holder', async () => {
    // The host's answer for a lock held by a live run (renewed 5 s ago by the host's clock).
    const held = (busy: { id: string; pid: number }[] = []) => ({
      exitCode: 3,
      stdout: `${JSON.stringify({
        ownerBase64: Buffer.from(
          JSON.stringify({
            token: 'b'.repeat(16),
            owner: 'alice',
            acquiredAt: '2020-01-01T00:00:00.000Z',
            ttlSeconds: 3600
          })
        ).toString('base64'),
        tokenBase64: Buffer.from('b'.repeat(16)).toString('base64'),
        mtime: 1700000000,
        ageSeconds: 5,
        busy
      })}\n`
    })
    const session = host({ fail: call => (call.label === 'lock:acquire' ? held() : undefined) })
    // acquiredAt is years ago by the runner's clock: only the host's heartbeat age counts.
    await expect(deployOn(session)).rejects.toThrow(
      /failed at "lock": the deploy lock is held by alice since 2020-01-01T00:00:00.000Z \(renewed 5s ago \(TTL 3600s\)\); gave up after 0s \(lock-timeout\)/
    )
    expect(session.labels()).not.toContain('lock:release')
    expect(session.labels()).not.toContain('lock:take-over')
    expect(outcome(session).switched).toBe(false)
  })

  it('takes over a lock whose heartbeat is older than its TTL, and only if the host says it won', async () => {
    const stale = {
      exitCode: 3,
      stdout: `${JSON.stringify({
        ownerBase64: Buffer.from(
          JSON.stringify({
            token: 'b'.repeat(16),
            owner: 'alice',
            acquiredAt: new Date().toISOString(),
            ttlSeconds: 60
          })
        ).toString('base64'),
        tokenBase64: Buffer.from('b'.repeat(16)).toString('base64'),
        mtime: 1700000000,
        ageSeconds: 61,
        busy: []
      })}\n`
    }
    // The first take-over loses (another run won); the lock is then free.
    let acquires = 0
    let takeOvers = 0
    const session = host({
      fail: call => {
        if (call.label === 'lock:acquire') return acquires++ === 0 ? stale : undefined
        if (call.label === 'lock:take-over')
          return takeOvers++ === 0 ? { exitCode: 3, stdout: 'lost\n' } : undefined
        return undefined
      }
    })
    const ctx = await deployOn(session)
    expect(ctx.report.result).toBe('deployed')
    const take = session.calls.find(call => call.label === 'lock:take-over')
    // The compare-and-swap names the stale token and heartbeat it judged.
    expect(take?.argv.slice(-3)).toEqual([expect.any(String), 'b'.repeat(16), '1700000000'])
    expect(session.labels().filter(label => label === 'lock:acquire')).toHaveLength(2)
  })

  it('runs the migration and compose up under the lock, so that they outlive a dropped connection', async () => {
    const session = host()
    await deployOn(session)
    const held = session.calls.filter(call => heldInner(call.argv))
    expect(held.map(call => call.label)).toEqual([
      'compose run --rm -T migrate',
      'compose up --detach --no-recreate --scale api=2 --scale migrate=0 api',
      'compose up --detach --wait --wait-timeout 5 --remove-orphans --scale migrate=0'
    ])
    // Each under this run's lock directory.
    for (const call of held) expect(call.argv[5]).toBe('/srv/sd/shop/.lock')
  })

  it('stops before the next step when a renewal finds the lock taken over', async () => {
    const session = host()
    const ctx = contextOn(session)
    const original = session.run.bind(session)
    session.run = async (argv, options) => {
      // The lock is lost while the upload runs.
      if (argv.join(' ').includes('images.override.yaml') && ctx.lock) ctx.lock.lost = true
      return original(argv, options)
    }
    const written = session.writeFile.bind(session)
    session.writeFile = async (file, content, mode) => {
      if (ctx.lock) ctx.lock.lost = true
      return written(file, content, mode)
    }
    await expect(deployHost(ctx, releaseWith(), 'octocat')).rejects.toThrow(
      /the deploy lock is no longer ours \(it was taken over\); stopped before this step/
    )
    expect(session.labels()).not.toContain('compose run --rm -T migrate')
    expect(outcome(session).switched).toBe(false)
  })
})

describe('a rollback on a host, command by command', () => {
  it('locks, switches current back, brings the release up the same way, audits and unlocks', async () => {
    const session = host()
    const deployment = contextOn(session, settingsWith(), undefined)
    // The host lists an older release before the live one.
    const older = '20261127T000000Z-01d0000'
    const original = session.run.bind(session)
    session.run = async (argv, options) => {
      if (argv[0] === 'ls' && argv[1] === '-1' && argv[2] === `${ROOT}/releases`) {
        session.calls.push({ argv, label: argv.join(' '), input: undefined })
        return { argv, exitCode: 0, stdout: `${older}\n${LIVE}\n`, stderr: '', durationMs: 0 }
      }
      return original(argv, options)
    }
    const chosen = await rollbackHost(deployment, undefined, 'octocat')
    expect(chosen).toBe(older)
    const seen = changes(session)
    const order = [
      'lock:acquire',
      `ln -sfn ${ROOT}/releases/${older} ${ROOT}/current.new`,
      `mv -T ${ROOT}/current.new ${ROOT}/current`,
      'compose create migrate',
      'compose up --detach --wait --wait-timeout 5 --remove-orphans',
      `dd of=${ROOT}/audit.log oflag=append conv=notrunc status=none`,
      'lock:release'
    ]
    const positions = order.map(label => seen.indexOf(label))
    expect(positions.every(position => position >= 0)).toBe(true)
    expect(positions).toEqual([...positions].sort((a, b) => a - b))
    expect(deployment.report.result).toBe('rolled back')
  })
})
