/**
 * The deploy stage, per host, in order:
 *
 *   preflight → lock → upload release → registry login → pull → backup → migrate →
 *   switch current + up --wait → verify → (on failure after the switch: roll back) → prune → unlock
 *
 * Several hosts deploy one at a time; the first host that fails stops the deploy, and the hosts
 * already switched are rolled back. Nothing here builds shell text: commands are argv from
 * ./commands.ts, sent through a HostSession (./session.ts; over SSH, src/exec/remote.ts).
 */
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { ImageMap } from '../build/images.js'
import type { Reporter } from '../report/reporter.js'
import type { HostSession } from './session.js'
import { DeployError } from '../errors.js'
import type { HeldLock } from './post.js'
import {
  backupCommands,
  backupFileName,
  composeCommands,
  containerCommands,
  lockCommands,
  parseDiskFree,
  pgDumpArgs,
  preflightCommands,
  releaseCommands,
  remoteComposeArgs,
  createTarballArgv,
  projectTreeCommands
} from './commands.js'
import { lastLines, runForBytes } from '../exec/executor.js'
import { checkWebSocket } from '../exec/websocket.js'
import { sleep } from '../exec/time.js'
import { loginArgs, logoutArgs } from '../exec/docker.js'
import { EXTRA_COMPOSE_DIR, type ProjectFiles } from '../compose/project-files.js'
import {
  FILES_OVERRIDE,
  IMAGES_OVERRIDE,
  linkListText,
  manifestFileMap,
  objectListText,
  objectsToPrune,
  filesSummary,
  splitUnchanged,
  tarMemberList
} from './release-files.js'
import { decideRoll, parseContainers, parseHealth } from './rolling.js'
import { decideOnHeldLock, parseLockOwner, type LockOwner } from './lock.js'
import {
  buildManifest,
  imagesToPrune,
  legacyCompose,
  isReleaseId,
  previousRelease,
  releaseLayout,
  releasesToPrune,
  type Manifest,
  type ReleaseCompose,
  type ReleaseLayout
} from './release.js'

export interface DeployPlan {
  project: string
  releaseId: string
  deployPath: string
  /** How compose addresses the new release (and any release whose manifest says nothing). */
  compose: ReleaseCompose
  /** The files the project references; undefined for a rollback (nothing is uploaded). */
  files: ProjectFiles | undefined
  /** files.override.yaml: bind mounts, secrets and configs at their places on the host. */
  filesOverride: string
  /** Secret files' contents (sent on stdin, written 0400; never logged). */
  secretFiles: { name: string; content: string }[]
  images: ImageMap
  /** The release's .env text (secrets included: it is written with mode 0600, never logged). */
  envFile: string
  /** The compose override that pins every service to its image@digest. */
  imagesOverride: string
  registry: { host: string; username: string; password: string } | undefined
  backupService: string | undefined
  backupKeep: number
  migrateService: string | undefined
  migrateTimeoutSeconds: number
  waitTimeoutSeconds: number
  lockTimeoutSeconds: number
  lockTtlSeconds: number
  keepReleases: number
  /** The release's one-shot jobs (services others wait on to complete). */
  jobs: string[]
  /** Services replaced with no downtime (new container first); see ./rolling.ts. */
  rollingServices: string[]
  /** At least this long between a new container's start and its old one's stop (DNS caches). */
  settleSeconds: number
  minFreeMiB: number
  /** URLs checked from the runner after the rollout; `{host}` is replaced by the host's address. */
  healthUrls: string[]
  healthRetries: number
  sha: string
  actor: string
  runUrl: string | undefined
}

export interface StepRecord {
  step: string
  seconds: number
  ok: boolean
  detail: string
}

export interface HostReport {
  host: string
  result: 'deployed' | 'failed' | 'rolled back' | 'not started'
  steps: StepRecord[]
  backup: Manifest['backup']
  migrationOutput: string
  previous: string | undefined
  /** The upload: files sent and files hard-linked from the live release. */
  files?: { sent: number; linked: number; bytesSent: number }
}

/** Substitutes {host} in a health URL. */
export function healthUrlFor(template: string, host: string): string {
  return template.replace(/\{host\}/g, host.includes(':') ? `[${host}]` : host)
}

/** Backups to delete: all dumps of this service but the newest `keep`. */
export function backupsToPrune(files: string[], service: string, keep: number): string[] {
  const own = files.filter(file => file.endsWith(`-${service}.sql.gz`)).sort()
  return own.slice(0, Math.max(0, own.length - keep))
}

/**
 * A fixed script, values as "$1" and "$@": dumps through gzip into a temp file beside the
 * target and renames it, so a failed dump never leaves a file that looks like a backup.
 */
const BACKUP_SCRIPT =
  'out=$1; shift; tmp=$(mktemp "$out.XXXXXX"); trap \'rm -f "$tmp"\' EXIT; "$@" | gzip -c > "$tmp"; mv -f "$tmp" "$out"; trap - EXIT'

export class HostDeployment {
  readonly report: HostReport
  private readonly layout: ReleaseLayout
  private readonly token = randomBytes(8).toString('hex')
  private locked = false
  private switched = false

  constructor(
    private readonly remote: HostSession,
    private readonly plan: DeployPlan,
    private readonly reporter: Reporter,
    private readonly now: () => Date = () => new Date(),
    /** Told when a lock is taken, so that the post step can release it after a cancellation. */
    private readonly onLocked?: (lock: HeldLock) => void
  ) {
    this.layout = releaseLayout(plan.deployPath, plan.project, plan.releaseId)
    this.report = {
      host: remote.host,
      result: 'not started',
      steps: [],
      backup: undefined,
      migrationOutput: '',
      previous: undefined
    }
  }

  private get base(): string[] {
    return remoteComposeArgs(this.layout, this.plan.project, this.plan.compose)
  }

  /**
   * Compose for another release (the live one, for a backup or a rollback): its own files,
   * overrides and profiles, as its manifest records them, since releases can differ.
   */
  private async baseOf(id: string): Promise<string[]> {
    const manifest = await this.readManifest(id)
    const compose =
      manifest?.compose ??
      (Array.isArray(manifest?.composeFiles) && manifest.composeFiles.length > 0
        ? legacyCompose(manifest.composeFiles)
        : // No readable manifest: assume the same layout as this release.
          this.plan.compose)
    return remoteComposeArgs(
      releaseLayout(this.plan.deployPath, this.plan.project, id),
      this.plan.project,
      compose
    )
  }

  /** Runs one named step, times it, and turns any failure into a DeployError naming host and step. */
  private async step<T>(name: string, body: () => Promise<T>): Promise<T> {
    const started = Date.now()
    this.reporter.info(`[${this.remote.host}] ${name}`)
    try {
      const value = await body()
      this.report.steps.push({
        step: name,
        seconds: (Date.now() - started) / 1000,
        ok: true,
        detail: ''
      })
      return value
    } catch (error) {
      const message = (error as Error).message
      this.report.steps.push({
        step: name,
        seconds: (Date.now() - started) / 1000,
        ok: false,
        detail: message.split('\n')[0] ?? ''
      })
      if (error instanceof DeployError) throw error
      throw new DeployError({
        task: 'deploy',
        host: this.remote.host,
        step: name,
        reason: message,
        // Until the switch, the previous release never stopped serving.
        outcome: this.switched ? 'not rolled back' : 'nothing switched'
      })
    }
  }

  async preflight(): Promise<void> {
    await this.step('preflight', async () => {
      await this.remote.runChecked(preflightCommands.dockerVersion(), 'docker version', {
        timeoutSeconds: 30
      })
      const compose = await this.remote.run(preflightCommands.composeVersion(), {
        timeoutSeconds: 30
      })
      if (compose.exitCode !== 0 || !/^v?2\./.test(compose.stdout.trim())) {
        throw new Error(
          'Docker Compose v2 is not installed on the host (docker compose version failed); install the docker-compose-plugin package'
        )
      }
      await this.remote.runChecked(
        preflightCommands.makeDirs(this.layout),
        'create the deploy path',
        { timeoutSeconds: 30 }
      )
      const writable = await this.remote.run(preflightCommands.writable(this.layout), {
        timeoutSeconds: 30
      })
      if (writable.exitCode !== 0)
        throw new Error(`${this.layout.root} is not writable by the deploy user`)
      const df = await this.remote.runChecked(
        preflightCommands.diskFree(this.layout.root),
        'free disk',
        { timeoutSeconds: 30 }
      )
      const freeKiB = parseDiskFree(df.stdout)
      if (freeKiB !== undefined && freeKiB < this.plan.minFreeMiB * 1024) {
        throw new Error(
          `only ${Math.round(freeKiB / 1024)} MiB free under ${this.layout.root}; need ${this.plan.minFreeMiB} MiB (min-free-disk)`
        )
      }
      await this.checkHostPaths()
    })
  }

  /**
   * Paths the compose files name absolutely are the host's own: a read-only one must exist
   * (Docker would make an empty root-owned folder in its place); a writable one Docker makes.
   */
  private async checkHostPaths(): Promise<void> {
    const hostPaths = this.plan.files?.hostPaths ?? []
    if (hostPaths.length === 0) return
    const result = await this.remote.runChecked(
      projectTreeCommands.missingPaths(hostPaths.map(h => h.path)),
      'check the host paths',
      { timeoutSeconds: 30 }
    )
    const missing = new Set(result.stdout.split('\n').filter(Boolean))
    const absent = hostPaths.filter(h => missing.has(h.path))
    for (const h of absent.filter(h => !h.required))
      this.reporter.warning(
        `[${this.remote.host}] ${h.path} (${h.usedBy}) does not exist on the host; Docker will create it as an empty folder owned by root`
      )
    const required = absent.filter(h => h.required)
    if (required.length > 0)
      throw new Error(
        `${required.map(h => `${h.path} (${h.usedBy})`).join(', ')} ${required.length > 1 ? 'do' : 'does'} not exist on ${this.remote.host}; these are host paths (written absolute in the compose files): create them there first`
      )
  }

  async lock(owner: string): Promise<void> {
    await this.step('lock', async () => {
      const deadline = Date.now() + this.plan.lockTimeoutSeconds * 1000
      let holder = 'another deploy'
      for (;;) {
        const made = await this.remote.run(lockCommands.acquire(this.layout), {
          timeoutSeconds: 30
        })
        if (made.exitCode === 0) {
          const record: LockOwner = {
            token: this.token,
            owner,
            runUrl: this.plan.runUrl,
            acquiredAt: this.now().toISOString(),
            ttlSeconds: this.plan.lockTtlSeconds
          }
          this.locked = true
          this.onLocked?.({
            ssh: this.remote.state(),
            lockDir: this.layout.lockDir,
            token: this.token
          })
          await this.remote.writeFile(
            path.posix.join(this.layout.lockDir, 'owner.json'),
            JSON.stringify(record),
            0o644,
            { step: 'write the lock owner', timeoutSeconds: 30 }
          )
          return
        }
        const ownerText = await this.remote.run(lockCommands.readOwner(this.layout), {
          timeoutSeconds: 30
        })
        const [mtime, hostNow] = await Promise.all([
          this.remote.run(lockCommands.age(this.layout), { timeoutSeconds: 30 }),
          this.remote.run(lockCommands.now(), { timeoutSeconds: 30 })
        ])
        const age = Number(hostNow.stdout.trim()) - Number(mtime.stdout.trim())
        const decision = decideOnHeldLock(
          parseLockOwner(ownerText.stdout),
          this.now(),
          Number.isFinite(age) ? age : 0,
          this.plan.lockTtlSeconds
        )
        holder = decision.holder
        if (decision.action === 'take-over') {
          this.reporter.warning(
            `[${this.remote.host}] taking over a stale deploy lock held by ${decision.holder}: ${decision.reason}`
          )
          const aside = await this.remote.run(lockCommands.moveAside(this.layout, this.token), {
            timeoutSeconds: 30
          })
          if (aside.exitCode === 0)
            await this.remote.run(lockCommands.removeAside(this.layout, this.token), {
              timeoutSeconds: 60
            })
          continue
        }
        if (Date.now() >= deadline) {
          throw new Error(
            `the deploy lock is held by ${holder}; gave up after ${this.plan.lockTimeoutSeconds}s (lock-timeout)`
          )
        }
        await sleep(Math.min(3000, Math.max(0, deadline - Date.now())))
      }
    })
  }

  /** Removes our own lock only: the token in owner.json must be ours. */
  async unlock(): Promise<void> {
    if (!this.locked) return
    const ownerText = await this.remote.run(lockCommands.readOwner(this.layout), {
      timeoutSeconds: 30
    })
    if (parseLockOwner(ownerText.stdout)?.token === this.token) {
      await this.remote.run(lockCommands.release(this.layout), { timeoutSeconds: 30 })
    } else {
      this.reporter.warning(
        `[${this.remote.host}] the deploy lock is no longer ours (taken over?); leaving it`
      )
    }
    this.locked = false
  }

  async currentRelease(): Promise<string | undefined> {
    const link = await this.remote.run(releaseCommands.readCurrent(this.layout), {
      timeoutSeconds: 30
    })
    const id = link.exitCode === 0 ? path.posix.basename(link.stdout.trim()) : ''
    return isReleaseId(id) ? id : undefined
  }

  /**
   * The release on the host: our own files (.env 0600, the overrides), the secret files
   * (0400), then the project tree: the live release's unchanged files hard-linked, the rest
   * sent as one tarball on the same connection; then the store objects and the persistent
   * folders; the manifest last, so a release with a manifest is whole.
   */
  async upload(manifest: Manifest, previous: string | undefined): Promise<void> {
    await this.step('upload', async () => {
      // The live release's manifest says which files can be hard-linked; read it meanwhile.
      const [, before] = await Promise.all([
        this.remote.runChecked(
          projectTreeCommands.makeDirs(this.layout),
          'create the release directory',
          { timeoutSeconds: 30 }
        ),
        previous && this.plan.files ? this.readManifest(previous) : undefined
      ])
      const write = (name: string, content: string, mode: number, step?: string) =>
        this.remote.writeFile(path.posix.join(this.layout.release, name), content, mode, {
          step,
          timeoutSeconds: 60
        })
      // Independent files, written at once over the one connection (its session limit applies).
      await Promise.all([
        write(IMAGES_OVERRIDE, this.plan.imagesOverride, 0o644),
        write(FILES_OVERRIDE, this.plan.filesOverride, 0o644),
        write('.env', this.plan.envFile, 0o600, 'write the env file'),
        ...this.plan.secretFiles.map(secret =>
          this.remote.writeFile(
            path.posix.join(this.layout.secrets, secret.name),
            secret.content,
            0o400,
            { step: `write the secret file ${secret.name}`, timeoutSeconds: 60 }
          )
        ),
        this.uploadTree(previous, before?.files)
      ])
      await this.writeManifest(manifest)
    })
  }

  private async uploadTree(
    previous: string | undefined,
    before: Record<string, string> | undefined
  ): Promise<void> {
    const files = this.plan.files
    if (!files) return
    if (files.extraComposeFiles.length > 0) {
      await this.remote.runChecked(
        ['mkdir', '-p', path.posix.join(this.layout.tree, EXTRA_COMPOSE_DIR)],
        'create the release directory',
        { timeoutSeconds: 30 }
      )
      await Promise.all(
        files.extraComposeFiles.map(file =>
          this.remote.writeFile(
            path.posix.join(this.layout.tree, file.relative),
            fs.readFileSync(file.absolute, 'utf8'),
            0o644,
            { timeoutSeconds: 60 }
          )
        )
      )
    }
    const { link, send } = splitUnchanged(files.entries, before)
    let notLinked: string[] = []
    if (link.length > 0 && previous) {
      const linked = await this.remote.runChecked(
        projectTreeCommands.linkUnchanged(
          releaseLayout(this.plan.deployPath, this.plan.project, previous).tree,
          this.layout
        ),
        'link unchanged files',
        { input: linkListText(link), timeoutSeconds: 300 }
      )
      notLinked = linked.stdout.split('\n').filter(Boolean)
    }
    const toSend = [...send, ...link.filter(entry => notLinked.includes(entry.path))]
    let bytesSent = 0
    if (toSend.length > 0) {
      const tarball = await runForBytes(
        createTarballArgv(files.root),
        tarMemberList(toSend),
        files.root
      )
      if (tarball.exitCode !== 0)
        throw new Error(`tar of the project files failed here: ${lastLines(tarball.stderr, 3)}`)
      bytesSent = tarball.stdout.length
      await this.remote.runChecked(projectTreeCommands.extract(this.layout), 'unpack the files', {
        input: tarball.stdout,
        timeoutSeconds: 600
      })
    }
    this.report.files = {
      sent: toSend.filter(entry => entry.type !== 'dir').length,
      linked: link.length - notLinked.length,
      bytesSent
    }
    await Promise.all([
      files.objects.length > 0
        ? this.remote.runChecked(projectTreeCommands.makeObjects(this.layout), 'store objects', {
            input: objectListText(files),
            timeoutSeconds: 300
          })
        : undefined,
      files.persistent.length > 0
        ? this.remote.runChecked(
            projectTreeCommands.makeShared(
              this.layout,
              files.persistent.map(p => p.relative)
            ),
            'create the persistent folders',
            { timeoutSeconds: 60 }
          )
        : undefined
    ])
  }

  private async writeManifest(manifest: Manifest): Promise<void> {
    await this.remote.writeFile(
      path.posix.join(this.layout.release, 'manifest.json'),
      `${JSON.stringify(manifest, null, 2)}\n`,
      0o644,
      { timeoutSeconds: 60 }
    )
  }

  async pull(): Promise<void> {
    await this.step('pull', async () => {
      const registry = this.plan.registry
      if (registry) {
        await this.remote.runChecked(
          loginArgs(registry.host, registry.username),
          'registry login',
          { input: registry.password, timeoutSeconds: 60 }
        )
      }
      try {
        await this.remote.runChecked(composeCommands.pull(this.base), 'pull images', {
          timeoutSeconds: 900
        })
      } finally {
        if (registry) await this.remote.run(logoutArgs(registry.host), { timeoutSeconds: 30 })
      }
    })
  }

  /**
   * Dumps the database of the live release (if any), before anything changes. A database that
   * is not running, a failed dump or an empty one stops the deploy before it migrates: only a
   * first deploy (nothing live) and `backup: false` (no backup service) go without.
   */
  async backup(manifest: Manifest, previous: string | undefined): Promise<void> {
    const service = this.plan.backupService
    if (!service || !previous) return
    await this.step('backup', async () => {
      const base = await this.baseOf(previous)
      // A stopped stack has no live database to dump (its volume is untouched by the deploy).
      const running = await this.remote.run(
        [...base, 'ps', '--status', 'running', '--quiet', service],
        {
          timeoutSeconds: 60
        }
      )
      // No migration without a backup: a stopped database is a reason to stop, not to skip.
      if (running.exitCode !== 0 || running.stdout.trim() === '') {
        throw new Error(
          `${service} of the live release ${previous} is not running, so no backup can be taken before the migration; start it, or deploy with backup: false`
        )
      }
      const file = path.posix.join(
        this.layout.backups,
        backupFileName(this.plan.releaseId, service)
      )
      await this.remote.runScript(BACKUP_SCRIPT, [file, ...pgDumpArgs(base, service)], 'pg_dump', {
        timeoutSeconds: 1800
      })
      await this.remote.runChecked(backupCommands.verify(file), 'check the backup', {
        timeoutSeconds: 300
      })
      const size = Number(
        (
          await this.remote.runChecked(backupCommands.size(file), 'backup size', {
            timeoutSeconds: 30
          })
        ).stdout.trim()
      )
      // gzip of an empty dump is about 20 bytes; a real pg_dump has a header of several hundred.
      if (!(size > 100)) throw new Error(`the backup ${file} is empty (${size} bytes)`)
      manifest.backup = { service, file, bytes: size }
      this.report.backup = manifest.backup
      await this.writeManifest(manifest)
      const listing = await this.remote.run(backupCommands.list(this.layout), {
        timeoutSeconds: 30
      })
      const old = backupsToPrune(
        listing.stdout.split('\n').filter(Boolean),
        service,
        this.plan.backupKeep
      )
      if (old.length > 0)
        await this.remote.run(backupCommands.remove(this.layout, old), { timeoutSeconds: 60 })
    })
  }

  async migrate(): Promise<void> {
    const service = this.plan.migrateService
    if (!service) return
    await this.step('migrate', async () => {
      const result = await this.remote.run(composeCommands.migrate(this.base, service), {
        timeoutSeconds: this.plan.migrateTimeoutSeconds,
        step: 'migrate'
      })
      this.report.migrationOutput = `${result.stdout}${result.stderr}`
        .trim()
        .split('\n')
        .slice(-40)
        .join('\n')
      if (result.exitCode !== 0) {
        throw new Error(
          `the migration (service ${service}) exited with code ${result.exitCode}; the previous release keeps serving. Last lines: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`
        )
      }
    })
  }

  private async switchTo(id: string): Promise<void> {
    const target = path.posix.join(this.layout.releases, id)
    await this.remote.runChecked(releaseCommands.linkNew(this.layout, target), 'link the release', {
      timeoutSeconds: 30
    })
    await this.remote.runChecked(releaseCommands.switchCurrent(this.layout), 'switch current', {
      timeoutSeconds: 30
    })
  }

  async rollout(): Promise<void> {
    await this.step('roll out', async () => {
      await this.switchTo(this.plan.releaseId)
      this.switched = true
      await this.bringUp(this.base, 'compose up --wait')
    })
  }

  /**
   * Brings the release that `base` addresses up: first the zero-downtime services, one at a
   * time, each new container healthy before its old one stops; then compose brings the rest
   * up (it leaves the replaced ones alone: their containers already have the new
   * configuration). Used by the rollout and by every rollback.
   */
  private async bringUp(base: string[], step: string): Promise<void> {
    // The jobs' new containers first, without starting them: otherwise `up` recreates the
    // migration job (new image), and compose recreates everything that depends on it.
    if (this.plan.rollingServices.length > 0 && this.plan.jobs.length > 0)
      await this.remote.runChecked(
        composeCommands.create(base, this.plan.jobs),
        'compose create (jobs)',
        {
          timeoutSeconds: 300
        }
      )
    for (const service of this.plan.rollingServices) await this.rollService(base, service)
    await this.remote.runChecked(composeCommands.up(base, this.plan.waitTimeoutSeconds), step, {
      timeoutSeconds: this.plan.waitTimeoutSeconds + 120
    })
  }

  /** Replaces `service` new-container-first, when compose would recreate it. */
  private async rollService(base: string[], service: string): Promise<void> {
    const [hash, listing] = await Promise.all([
      this.remote.runChecked(composeCommands.configHash(base, service), 'compose config --hash', {
        timeoutSeconds: 60
      }),
      this.remote.runChecked(containerCommands.list(this.plan.project, service), 'docker ps', {
        timeoutSeconds: 30
      })
    ])
    // `config --hash api` prints "api <hash>".
    const newHash = hash.stdout.trim().split(/\s+/).pop() ?? ''
    const decision = decideRoll(parseContainers(listing.stdout), newHash)
    if (decision.action === 'skip') return
    const old = decision.old.map(c => c.id)
    this.reporter.info(
      `[${this.remote.host}] ${service}: starting the new container next to the old one (zero-downtime)`
    )
    await this.remote.runChecked(
      composeCommands.scaleUp(base, service, decision.scaleTo),
      `start the new ${service}`,
      { timeoutSeconds: this.plan.waitTimeoutSeconds + 120 }
    )
    // Started (and in Docker's DNS) from here on, not from before `up`, which may first
    // have run a job the service depends on.
    const started = Date.now()
    const after = await this.remote.runChecked(
      containerCommands.list(this.plan.project, service),
      'docker ps',
      { timeoutSeconds: 30 }
    )
    const fresh = parseContainers(after.stdout)
      .map(c => c.id)
      .filter(id => !old.includes(id))
    try {
      await this.waitHealthy(service, fresh)
    } catch (error) {
      // The old containers never stopped: take the new ones away, and the release fails.
      await this.remote.run(containerCommands.remove(fresh), { timeoutSeconds: 120 })
      throw error
    }
    // Proxies that cache the service's DNS answer (the reference stack's nginx: 2 s) must have
    // seen the new address before the old one goes away (zero-downtime-settle).
    await sleep(Math.max(0, started + this.plan.settleSeconds * 1000 - Date.now()))
    await this.remote.runChecked(containerCommands.stop(old), `stop the old ${service}`, {
      timeoutSeconds: 300
    })
    await this.remote.run(containerCommands.remove(old), { timeoutSeconds: 60 })
  }

  /** Until every one of `ids` is healthy; fails at once on one that exits or turns unhealthy. */
  private async waitHealthy(service: string, ids: string[]): Promise<void> {
    if (ids.length === 0) throw new Error(`compose started no new ${service} container`)
    const deadline = Date.now() + this.plan.waitTimeoutSeconds * 1000
    for (;;) {
      const inspect = await this.remote.run(containerCommands.health(ids), { timeoutSeconds: 30 })
      const states = parseHealth(inspect.stdout)
      const bad = states.find(s => s.status !== 'running' || s.health === 'unhealthy')
      if (bad)
        throw new Error(
          `the new ${service} container is ${bad.status === 'running' ? 'unhealthy' : bad.status}; the old one kept serving`
        )
      if (states.length === ids.length && states.every(s => s.health === 'healthy')) return
      if (Date.now() >= deadline)
        throw new Error(
          `the new ${service} container was not healthy within ${this.plan.waitTimeoutSeconds}s (wait-timeout); the old one kept serving`
        )
      await sleep(1000)
    }
  }

  async verify(): Promise<void> {
    if (this.plan.healthUrls.length === 0) return
    await this.step('verify', async () => {
      for (const template of this.plan.healthUrls) {
        const url = healthUrlFor(template, this.remote.address)
        let last = ''
        let ok = false
        for (let attempt = 0; attempt <= this.plan.healthRetries && !ok; attempt++) {
          if (attempt > 0) await sleep(1000)
          if (/^wss?:\/\//.test(url)) {
            // A WebSocket endpoint: the upgrade must answer 101.
            const check = await checkWebSocket(url, { timeoutMs: 5000 })
            ok = check.ok
            last = check.detail
            continue
          }
          try {
            const response = await fetch(url, {
              signal: AbortSignal.timeout(5000),
              redirect: 'manual'
            })
            ok = response.status >= 200 && response.status < 300
            last = `HTTP ${response.status}`
          } catch (error) {
            last = (error as Error).message
          }
        }
        if (!ok)
          throw new Error(
            `health check ${url} failed after ${this.plan.healthRetries + 1} attempts: ${last}`
          )
      }
    })
  }

  /** Back to `previous` after this host's own rollout failed: switch current, bring it up, record it. */
  async rollback(previous: string | undefined, why: string): Promise<boolean> {
    if (!this.switched) return false
    if (!previous) {
      this.reporter.warning(
        `[${this.remote.host}] no previous release to roll back to (first deploy); the new release stays as it is`
      )
      return false
    }
    return this.restore(previous, why)
  }

  private async restore(id: string, why: string): Promise<boolean> {
    try {
      await this.step(`roll back to ${id}`, async () => {
        await this.switchTo(id)
        await this.bringUp(await this.baseOf(id), 'compose up --wait (rollback)')
      })
      await this.verify()
      await this.audit('rollback', id, why)
      this.report.result = 'rolled back'
      return true
    } catch (error) {
      this.reporter.error(
        `[${this.remote.host}] rollback to ${id} failed: ${(error as Error).message}`
      )
      return false
    }
  }

  /** A later host failed: put this one, already deployed and unlocked, back on its previous release. */
  async rollbackAfterOtherHostFailed(why: string): Promise<boolean> {
    const previous = this.report.previous
    if (!previous) {
      this.reporter.warning(
        `[${this.remote.host}] had no release before this deploy; it keeps the new one`
      )
      return false
    }
    // A multi-host deploy still holds this host's lock; otherwise it is taken again.
    const relock = !this.locked
    if (relock) await this.lock(`rollback after: ${why.split('\n')[0]}`)
    try {
      const restored = await this.restore(previous, `another host failed: ${why.split('\n')[0]}`)
      if (restored) await this.discardRelease()
      return restored
    } finally {
      if (relock) await this.unlock()
    }
  }

  /** `command: rollback`: to `target`, or to the release before the live one. Returns the release. */
  async rollbackTo(target: string | undefined, owner: string): Promise<string> {
    await this.lock(owner)
    try {
      const current = await this.currentRelease()
      this.report.previous = current
      const listing = await this.remote.run(releaseCommands.listReleases(this.layout), {
        timeoutSeconds: 30
      })
      const ids = listing.stdout.split('\n').filter(isReleaseId)
      const chosen = target ?? (current ? previousRelease(ids, current) : undefined)
      if (!chosen) {
        throw new DeployError({
          task: 'rollback',
          host: this.remote.host,
          step: 'rollback',
          reason: `no release before ${current ?? 'the live one'} is kept on the host`,
          outcome: 'nothing switched'
        })
      }
      if (!ids.includes(chosen)) {
        throw new DeployError({
          task: 'rollback',
          host: this.remote.host,
          step: 'rollback',
          reason: `release ${chosen} is not on the host (it has: ${ids.join(', ') || 'none'})`,
          outcome: 'nothing switched'
        })
      }
      if (chosen === current) {
        this.reporter.info(`[${this.remote.host}] ${chosen} is already live`)
        this.report.result = 'deployed'
        return chosen
      }
      this.switched = true
      if (!(await this.restore(chosen, `rollback from ${current ?? 'nothing'}`))) {
        throw new DeployError({
          task: 'rollback',
          host: this.remote.host,
          step: 'rollback',
          reason: `to ${chosen} failed; see the steps in the job summary`,
          outcome: 'not rolled back'
        })
      }
      return chosen
    } finally {
      await this.unlock()
    }
  }

  async audit(action: string, release: string, detail: string): Promise<void> {
    const line = `${JSON.stringify({ time: this.now().toISOString(), action, release, actor: this.plan.actor, sha: this.plan.sha, run: this.plan.runUrl, detail })}\n`
    await this.remote.run(releaseCommands.appendAudit(this.layout), {
      input: line,
      timeoutSeconds: 30
    })
  }

  async prune(): Promise<void> {
    await this.step('prune', async () => {
      const listing = await this.remote.run(releaseCommands.listReleases(this.layout), {
        timeoutSeconds: 30
      })
      const ids = listing.stdout.split('\n').filter(isReleaseId)
      const old = releasesToPrune(ids, this.plan.keepReleases, [
        this.plan.releaseId,
        this.report.previous ?? ''
      ])
      if (old.length === 0) return
      // Read before the folders go: which images only the pruned releases ran.
      const manifests = new Map(
        await Promise.all(ids.map(async id => [id, await this.readManifest(id)] as const))
      )
      const images = imagesToPrune(
        old.map(id => manifests.get(id)),
        ids.filter(id => !old.includes(id)).map(id => manifests.get(id))
      )
      await this.remote.runChecked(
        releaseCommands.removeReleases(this.layout, old),
        'remove old releases',
        { timeoutSeconds: 120 }
      )
      await this.pruneObjects(ids.filter(id => !old.includes(id)).map(id => manifests.get(id)))
      if (images.length === 0) {
        this.reporter.info(
          `[${this.remote.host}] removed ${old.length} old release(s); their images are still in use`
        )
        return
      }
      const removed = await this.remote.run(releaseCommands.removeImages(images), {
        timeoutSeconds: 300
      })
      // An image still in use (or already gone) stays as it is: pruning never fails a deploy.
      const refused = removed.stderr
        .split('\n')
        .filter(line => line.trim() && !/No such image/i.test(line))
      if (refused.length > 0)
        this.reporter.warning(
          `[${this.remote.host}] some old images were kept: ${refused.slice(0, 3).join(' | ')}`
        )
      this.reporter.info(
        `[${this.remote.host}] removed ${old.length} old release(s) and ${images.length - refused.length} of their ${images.length} image ref(s)`
      )
    })
  }

  /**
   * Store objects that no kept release mounts. Only when every kept manifest could be read:
   * an object a release still needs is never taken away on a guess.
   */
  private async pruneObjects(kept: (Partial<Manifest> | undefined)[]): Promise<void> {
    if (kept.some(manifest => manifest === undefined)) return
    const listing = await this.remote.run(projectTreeCommands.listObjects(this.layout), {
      timeoutSeconds: 30
    })
    if (listing.exitCode !== 0) return
    const unused = objectsToPrune(
      listing.stdout.split('\n').filter(Boolean),
      kept.map(manifest => manifest?.objects)
    )
    if (unused.length > 0)
      await this.remote.runChecked(
        projectTreeCommands.removeObjects(this.layout, unused),
        'remove unused store objects',
        { timeoutSeconds: 120 }
      )
  }

  /** A release's manifest on the host; undefined when it is missing or unreadable. */
  private async readManifest(id: string): Promise<Partial<Manifest> | undefined> {
    const layout = releaseLayout(this.plan.deployPath, this.plan.project, id)
    const text = await this.remote.run(['cat', path.posix.join(layout.release, 'manifest.json')], {
      timeoutSeconds: 30
    })
    try {
      return text.exitCode === 0 ? (JSON.parse(text.stdout) as Manifest) : undefined
    } catch {
      return undefined
    }
  }

  /**
   * The whole pipeline on this host; throws a DeployError after rolling back when it can.
   * `prepared`: preflight and lock were done already (a multi-host deploy checks and locks
   * every host first), and the caller releases the lock.
   */
  async deploy(owner: string, options: { prepared?: boolean } = {}): Promise<void> {
    if (!options.prepared) {
      await this.preflight()
      await this.lock(owner)
    }
    try {
      const previous = await this.currentRelease()
      this.report.previous = previous
      const manifest = buildManifest({
        release: this.plan.releaseId,
        project: this.plan.project,
        images: this.plan.images,
        sha: this.plan.sha,
        actor: this.plan.actor,
        createdAt: this.now().toISOString(),
        runUrl: this.plan.runUrl,
        composeFiles: this.plan.compose.composeFiles,
        compose: this.plan.compose,
        ...(this.plan.files
          ? {
              files: manifestFileMap(this.plan.files.entries),
              objects: this.plan.files.objects.map(o => o.name),
              persistent: this.plan.files.persistent.map(p => p.relative),
              secrets: this.plan.secretFiles.map(s => s.name)
            }
          : {})
      })
      await this.upload(manifest, previous)
      // The pull touches nothing that runs and the backup reads the live database: they can
      // overlap. Both are awaited before anything fails, so no work is left running.
      const [pulled, backedUp] = await Promise.allSettled([
        this.pull(),
        this.backup(manifest, previous)
      ])
      for (const outcome of [pulled, backedUp])
        if (outcome.status === 'rejected') throw outcome.reason
      await this.migrate()
      try {
        await this.rollout()
        await this.verify()
      } catch (error) {
        const rolledBack = await this.rollback(previous, (error as Error).message)
        this.report.result = rolledBack ? 'rolled back' : 'failed'
        const failed = error instanceof DeployError ? error : undefined
        throw new DeployError({
          task: 'deploy',
          host: this.remote.host,
          step: failed?.step ?? 'roll out',
          reason: failed?.reason ?? (error as Error).message,
          outcome: rolledBack ? 'rolled back' : 'not rolled back',
          rolledBackTo: rolledBack ? previous : undefined
        })
      }
      await this.audit(
        'deploy',
        this.plan.releaseId,
        previous ? `from ${previous}` : 'first deploy'
      )
      this.report.result = 'deployed'
      await this.prune()
    } catch (error) {
      if (this.report.result === 'not started') this.report.result = 'failed'
      // A release that is not live (it never switched, or was rolled back) goes: nothing
      // half-done stays behind, and a later rollback can never pick it.
      if (!this.switched || this.report.result === 'rolled back') await this.discardRelease()
      throw error
    } finally {
      if (!options.prepared) await this.unlock()
    }
  }

  /** Removes this deploy's release folder, unless `current` points at it. Never fails. */
  private async discardRelease(): Promise<void> {
    if ((await this.currentRelease().catch(() => this.plan.releaseId)) === this.plan.releaseId)
      return
    await this.remote
      .run(releaseCommands.removeReleases(this.layout, [this.plan.releaseId]), {
        timeoutSeconds: 120
      })
      .catch(() => undefined)
  }
}

/** The job summary: per host, each step with its duration, the backup, the migration output, the result. */
export function deploySummary(
  releaseId: string,
  reports: HostReport[],
  files?: ProjectFiles
): string {
  const blocks = reports.map(report => {
    const rows = report.steps.map(
      s =>
        `| ${s.ok ? '✅' : '❌'} ${s.step} | ${s.seconds.toFixed(1)}s | ${s.detail.replace(/\|/g, '\\|')} |`
    )
    return [
      `#### ${report.host}: ${report.result}`,
      '',
      '| Step | Time | Detail |',
      '|---|---|---|',
      ...rows,
      '',
      report.backup
        ? `Backup: \`${report.backup.file}\` (${report.backup.bytes} bytes)`
        : 'Backup: none',
      ...(report.files
        ? [
            '',
            `Files: ${report.files.sent} sent (${report.files.bytesSent} bytes), ${report.files.linked} unchanged and hard-linked`
          ]
        : []),
      '',
      ...(report.migrationOutput
        ? [
            '<details><summary>Migration output</summary>',
            '',
            '```text',
            report.migrationOutput.replace(/```/g, "'''"),
            '```',
            '</details>',
            ''
          ]
        : [])
    ].join('\n')
  })
  return [
    `### Deploy ${releaseId}`,
    '',
    ...(files ? [filesSummary(files), ''] : []),
    ...blocks
  ].join('\n')
}
