/**
 * The Docker Compose runtime: one project per host, each release addressed by its own compose
 * files, overrides and env files (see remoteComposeArgs), zero-downtime services replaced new
 * container first (./rolling.ts). Everything is argv from ./commands.ts.
 */
import { sleep } from '../exec/time.js'
import type { CommandResult } from '../exec/executor.js'
import type { Reporter } from '../report/reporter.js'
import { composeCommands, containerCommands, pgDumpArgs, remoteComposeArgs } from './commands.js'
import { releaseLayout } from './release.js'
import { decideRoll, parseContainers, parseHealth, type RollDecision } from './rolling.js'
import type { LongCommand, Runtime, RuntimeRelease } from './runtime.js'
import type { HostSession } from './session.js'
import type { HostSettings } from './settings.js'

/** The RuntimeFactory of the compose runtime. */
export const composeRuntime = (
  session: HostSession,
  settings: HostSettings,
  reporter: Reporter,
  long: LongCommand
): Runtime => new ComposeRuntime(session, settings, reporter, long)

export class ComposeRuntime implements Runtime {
  constructor(
    private readonly session: HostSession,
    private readonly settings: HostSettings,
    private readonly reporter: Reporter,
    /** Wraps the commands that change what runs (see LongCommand); the host context's. */
    private readonly long: LongCommand
  ) {}

  private base(release: RuntimeRelease): string[] {
    return remoteComposeArgs(
      releaseLayout(this.settings.deployPath, this.settings.project, release.id),
      this.settings.project,
      release.compose
    )
  }

  private get t() {
    return this.settings.timeouts
  }

  /** A long command, wrapped; throws naming `step` unless it exits 0. */
  private async runLong(
    id: string,
    argv: string[],
    step: string,
    timeoutSeconds: number
  ): Promise<CommandResult> {
    const wrapped = this.long(id, argv, timeoutSeconds)
    return this.session.runChecked(wrapped.argv, step, {
      timeoutSeconds: wrapped.timeoutSeconds,
      step
    })
  }

  async pull(release: RuntimeRelease, env?: Record<string, string>): Promise<void> {
    await this.session.runChecked(composeCommands.pull(this.base(release)), 'pull images', {
      env,
      timeoutSeconds: this.t.pull
    })
  }

  async dumpArgv(service: string): Promise<string[] | undefined> {
    const running = await this.session.runChecked(
      containerCommands.running(this.settings.project, service),
      `find the running ${service} container`,
      { timeoutSeconds: this.t.quick }
    )
    const container = running.stdout.trim().split('\n')[0]?.trim()
    return container ? pgDumpArgs(container) : undefined
  }

  async migrate(
    release: RuntimeRelease,
    service: string,
    timeoutSeconds: number
  ): Promise<CommandResult> {
    const wrapped = this.long(
      'migrate',
      composeCommands.migrate(this.base(release), service),
      timeoutSeconds
    )
    return this.session.run(wrapped.argv, {
      timeoutSeconds: wrapped.timeoutSeconds,
      step: 'migrate'
    })
  }

  /** lookAhead's reads, by release id: each used once, by the next bringUp of that release. */
  private readonly ahead = new Map<string, Promise<RollDecision[]>>()

  lookAhead(release: RuntimeRelease): void {
    const decisions = this.decideRolls(this.base(release))
    // Read again by bringUp if it failed; never an unhandled rejection meanwhile.
    decisions.catch(() => undefined)
    this.ahead.set(release.id, decisions)
  }

  /** For each zero-downtime service: keep it, or replace it new container first. */
  private decideRolls(base: string[]): Promise<RollDecision[]> {
    return Promise.all(this.settings.rollingServices.map(service => this.decideRoll(base, service)))
  }

  private async decideRoll(base: string[], service: string): Promise<RollDecision> {
    const [hash, listing] = await Promise.all([
      this.session.runChecked(composeCommands.configHash(base, service), 'compose config --hash', {
        timeoutSeconds: this.t.quick * 2
      }),
      this.session.runChecked(containerCommands.list(this.settings.project, service), 'docker ps', {
        timeoutSeconds: this.t.quick
      })
    ])
    // `config --hash api` prints "api <hash>".
    const newHash = hash.stdout.trim().split(/\s+/).pop() ?? ''
    return decideRoll(parseContainers(listing.stdout), newHash)
  }

  async bringUp(
    release: RuntimeRelease,
    step: string,
    jobsDone: readonly string[] = []
  ): Promise<void> {
    const base = this.base(release)
    const { rollingServices, waitTimeoutSeconds } = this.settings
    const ahead = this.ahead.get(release.id)
    this.ahead.delete(release.id)
    const decisions =
      rollingServices.length === 0
        ? []
        : await (ahead?.catch(() => this.decideRolls(base)) ?? this.decideRolls(base))
    // The other jobs' new containers first, without starting them: otherwise `up` recreates a
    // job (new image), and compose recreates everything that depends on it.
    const jobs = this.settings.jobs.filter(job => !jobsDone.includes(job))
    if (rollingServices.length > 0 && jobs.length > 0)
      await this.session.runChecked(composeCommands.create(base, jobs), 'compose create (jobs)', {
        timeoutSeconds: this.t.containers
      })
    let rolled = false
    for (const [index, service] of rollingServices.entries()) {
      // Read before any roll: once one has rolled (and compose converged its dependencies),
      // the next is read again.
      const decision: RollDecision = rolled
        ? await this.decideRoll(base, service)
        : (decisions[index] as RollDecision)
      rolled = (await this.rollService(base, service, decision, jobsDone)) || rolled
    }
    await this.runLong(
      'up',
      composeCommands.up(base, waitTimeoutSeconds, jobsDone),
      step,
      waitTimeoutSeconds + this.t.composeOverhead
    )
  }

  /** Replaces `service` new-container-first, when compose would recreate it; true if it did. */
  private async rollService(
    base: string[],
    service: string,
    decision: RollDecision,
    jobsDone: readonly string[]
  ): Promise<boolean> {
    const { project, waitTimeoutSeconds, settleSeconds } = this.settings
    if (decision.action === 'skip') return false
    const old = decision.old.map(c => c.id)
    this.reporter.info(
      `[${this.session.host}] ${service}: starting the new container next to the old one (zero-downtime)`
    )
    await this.runLong(
      `scale-${service}`,
      composeCommands.scaleUp(base, service, decision.scaleTo, jobsDone),
      `start the new ${service}`,
      waitTimeoutSeconds + this.t.composeOverhead
    )
    // Started (and in Docker's DNS) from here on, not from before `up`, which may first
    // have run a job the service depends on.
    const started = Date.now()
    const after = await this.session.runChecked(
      containerCommands.list(project, service),
      'docker ps',
      { timeoutSeconds: this.t.quick }
    )
    const fresh = parseContainers(after.stdout)
      .map(c => c.id)
      .filter(id => !old.includes(id))
    try {
      await this.waitHealthy(service, fresh)
    } catch (error) {
      // The old containers never stopped: take the new ones away, and the release fails.
      await this.session.run(containerCommands.remove(fresh), {
        timeoutSeconds: this.t.containers
      })
      throw error
    }
    // Proxies that cache the service's DNS answer (the reference stack's nginx: 2 s) must have
    // seen the new address before the old one goes away (zero-downtime-settle).
    await sleep(Math.max(0, started + settleSeconds * 1000 - Date.now()))
    await this.session.runChecked(containerCommands.stop(old), `stop the old ${service}`, {
      timeoutSeconds: this.t.containers
    })
    await this.session.run(containerCommands.remove(old), { timeoutSeconds: this.t.quick * 2 })
    return true
  }

  /** Until every one of `ids` is healthy; fails at once on one that exits or turns unhealthy. */
  private async waitHealthy(service: string, ids: string[]): Promise<void> {
    if (ids.length === 0) throw new Error(`compose started no new ${service} container`)
    const { waitTimeoutSeconds } = this.settings
    const deadline = Date.now() + waitTimeoutSeconds * 1000
    for (;;) {
      const inspect = await this.session.run(containerCommands.health(ids), {
        timeoutSeconds: this.t.quick
      })
      const states = parseHealth(inspect.stdout)
      const bad = states.find(s => s.status !== 'running' || s.health === 'unhealthy')
      if (bad)
        throw new Error(
          `the new ${service} container is ${bad.status === 'running' ? 'unhealthy' : bad.status}; the old one kept serving`
        )
      if (states.length === ids.length && states.every(s => s.health === 'healthy')) return
      if (Date.now() >= deadline)
        throw new Error(
          `the new ${service} container was not healthy within ${waitTimeoutSeconds}s (wait-timeout); the old one kept serving`
        )
      await sleep(this.t.healthPollMs)
    }
  }
}
