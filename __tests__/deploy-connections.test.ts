/**
 * A deploy or rollback run on its own connects to its hosts while the project is read: the
 * engine starts the connections (startConnections), the stage takes them instead of connecting
 * again, and whatever it did not take (it failed before connecting, or never ran) is closed.
 * Fake sessions stand in for ssh, a fake executor for git and compose.
 */
import * as path from 'node:path'
import { runEngine, type EngineDeps } from '../src/engine.js'
import { deployStage, rollbackStage, startConnections } from '../src/deploy/stage.js'
import { releasesStage } from '../src/ops/stage.js'
import type { HostConnection } from '../src/deploy/hosts.js'
import { planFromConfig } from '../src/compose/plan.js'
import { planProjectFiles } from '../src/compose/project-files.js'
import type { CommandResult, Executor, RunOptions } from '../src/exec/executor.js'
import type { SshEndpoint } from '../src/exec/ssh.js'
import { DeployError, InputError } from '../src/errors.js'
import { parseInputs, type Command } from '../src/inputs.js'
import { MemoryReporter } from '../src/report/reporter.js'
import { FakeSession, commandResult } from './support/fake-session.js'

const FIXTURE = '__tests__/fixtures/extends'

class Connection extends FakeSession implements HostConnection {
  disposals = 0
  constructor(host: string) {
    super(undefined, host)
  }
  async dispose(): Promise<void> {
    this.disposals++
  }
}

function inputsFor(command: Command, values: Record<string, string> = {}) {
  return parseInputs(
    name =>
      ({
        command,
        'working-directory': FIXTURE,
        hosts: 'deploy@h1\ndeploy@h2',
        'ssh-key': 'k',
        'known-hosts': 'h1 ssh-ed25519 AAAA\nh2 ssh-ed25519 AAAA',
        ...values
      })[name] ?? ''
  )
}

/** Connections that open at once (or fail, for the hosts in `failing`), recorded in order. */
function fakeHosts(failing: string[] = []) {
  const events: string[] = []
  const sessions: Connection[] = []
  const open = async (endpoint: SshEndpoint): Promise<HostConnection> => {
    events.push(`connect ${endpoint.host}`)
    if (failing.includes(endpoint.host))
      throw new Error(`ssh to deploy@${endpoint.host} failed: Connection refused`)
    const session = new Connection(`deploy@${endpoint.host}`)
    sessions.push(session)
    return session
  }
  return { events, sessions, open }
}

const MODEL = {
  name: 'extends',
  services: { web: { image: 'nginx:1.27-bookworm' }, db: { image: 'postgres:16-bookworm' } }
}

/**
 * git and compose, answered here. `configFails`: compose cannot read the project. Each compose
 * read's start and end go to `events`, a few milliseconds apart: reads made one after the
 * other show as start, end, start, end; reads made at once as start, start.
 */
class FakeLocal implements Executor {
  readonly calls: string[][] = []
  constructor(
    private readonly events: string[],
    private readonly options: { configFails?: boolean } = {}
  ) {}

  async run(argv: string[], _options: RunOptions = {}): Promise<CommandResult> {
    this.calls.push(argv)
    const result = (fields: Partial<CommandResult>): CommandResult => commandResult(argv, fields)
    if (argv[0] === 'git')
      return result({ stdout: argv[1] === 'rev-parse' ? `${'a'.repeat(40)}\n` : '' })
    if (argv[0] === 'docker' && argv.includes('config')) {
      const which = argv.includes('--no-interpolate') ? 'as-written' : 'resolved'
      this.events.push(`start ${which}`)
      await new Promise(resolve => setTimeout(resolve, 20))
      this.events.push(`end ${which}`)
      if (this.options.configFails && which === 'resolved')
        return result({ exitCode: 1, stderr: 'service "web" has neither an image nor a build' })
      return result({ stdout: JSON.stringify(MODEL) })
    }
    throw new Error(`unexpected ${argv.join(' ')}`)
  }
}

/** The engine's startConnections, on fake hosts; records when it was asked. */
function engineDeps(hosts: ReturnType<typeof fakeHosts>): EngineDeps & { asked: number } {
  const deps = {
    asked: 0,
    startConnections: async (...[inputs, reporter]: Parameters<EngineDeps['startConnections']>) => {
      deps.asked++
      hosts.events.push('start connections')
      return startConnections(inputs, reporter, hosts.open)
    }
  }
  return deps
}

describe('a deploy connects while the project is read', () => {
  it('starts every host connection first, closes them when compose cannot read the project, and reports compose', async () => {
    const hosts = fakeHosts(['h2'])
    const local = new FakeLocal(hosts.events, { configFails: true })
    const deps = engineDeps(hosts)
    const error = await runEngine(
      inputsFor('deploy'),
      ['deploy'],
      local,
      new MemoryReporter(),
      deps
    ).catch((e: unknown) => e)
    // The project's error, not h2's connection failure.
    expect(error).toBeInstanceOf(InputError)
    expect((error as Error).message).toMatch(
      /^Input 'compose-files': docker compose could not read/
    )
    expect(hosts.events.slice(0, 3)).toEqual(['start connections', 'connect h1', 'connect h2'])
    expect(hosts.events.indexOf('start resolved')).toBeGreaterThan(2)
    expect(hosts.sessions.map(s => [s.host, s.disposals])).toEqual([['deploy@h1', 1]])
  })

  it('reads the as-written model along with the resolved one, and connects only once per host', async () => {
    const hosts = fakeHosts()
    const local = new FakeLocal(hosts.events)
    const reporter = new MemoryReporter()
    // No images: the deploy stage refuses its input before it connects.
    const error = await runEngine(
      inputsFor('deploy'),
      ['deploy'],
      local,
      reporter,
      engineDeps(hosts)
    ).catch((e: unknown) => e)
    expect((error as Error).message).toMatch(/^Input 'images': deploy needs the images output/)
    const reads = hosts.events.filter(e => / (resolved|as-written)$/.test(e))
    expect(reads.slice(0, 2)).toEqual(['start resolved', 'start as-written'])
    expect(local.calls.filter(argv => argv.includes('config'))).toHaveLength(2)
    expect(hosts.events.filter(e => e.startsWith('connect'))).toEqual(['connect h1', 'connect h2'])
    // Not taken by the stage (it stopped first): closed by the engine, once each.
    expect(hosts.sessions.map(s => s.disposals)).toEqual([1, 1])
  })

  it.each<[string, Command[]]>([
    ['after a build', ['build', 'deploy']],
    ['for a plan', ['plan']],
    ['for a smoke test', ['smoke']]
  ])('does not connect %s', async (_what, stages) => {
    const hosts = fakeHosts()
    const deps = engineDeps(hosts)
    await runEngine(
      inputsFor(stages[0] as Command),
      stages,
      new FakeLocal(hosts.events, { configFails: true }),
      new MemoryReporter(),
      deps
    ).catch(() => undefined)
    expect(deps.asked).toBe(0)
    expect(hosts.events.filter(e => e.startsWith('connect'))).toEqual([])
  })

  it('reads only the resolved model for a rollback, which carries no files', async () => {
    const hosts = fakeHosts()
    const local = new FakeLocal(hosts.events, { configFails: true })
    await runEngine(
      inputsFor('rollback'),
      ['rollback'],
      local,
      new MemoryReporter(),
      engineDeps(hosts)
    ).catch(() => undefined)
    expect(local.calls.filter(argv => argv.includes('config'))).toHaveLength(1)
    expect(hosts.sessions.map(s => s.disposals)).toEqual([1, 1])
  })
})

describe('the deploy stages take the connections already started', () => {
  const plan = planFromConfig(MODEL)
  const ref = { workingDirectory: path.resolve(FIXTURE), files: ['compose.yaml'], profiles: [] }
  const who = { sha: 'a'.repeat(40), actor: 'octocat', runUrl: undefined }

  it('a rollback uses them, one connection per host, and closes each once', async () => {
    const hosts = fakeHosts()
    const reporter = new MemoryReporter()
    const inputs = inputsFor('rollback').deploy
    const connections = startConnections(inputs, reporter, hosts.open)
    // Nothing on the fake hosts: the first has no release to go back to.
    const error = await rollbackStage(
      { ref, plan, inputs, waitTimeoutSeconds: 60, ...who, connections },
      reporter
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DeployError)
    expect((error as Error).message).toMatch(/no release before the live one/)
    // Had the stage connected again, the real ssh would have refused the key 'k' instead.
    expect(hosts.events).toEqual(['connect h1', 'connect h2'])
    expect(hosts.sessions[0]?.labels()).toContain('lock:acquire')
    expect(hosts.sessions.map(s => s.disposals)).toEqual([1, 1])
    // Taken and closed by the stage: the engine's dispose has nothing left to close.
    await connections.dispose()
    expect(hosts.sessions.map(s => s.disposals)).toEqual([1, 1])
    expect(reporter.state).toEqual({ ssh: '', 'deploy-locks': '' })
  })

  it('releases reads every host over them, in order, takes no lock, and closes each once', async () => {
    const hosts = fakeHosts()
    const reporter = new MemoryReporter()
    const inputs = inputsFor('releases').deploy
    const connections = startConnections(inputs, reporter, hosts.open)
    const found = await releasesStage(
      { ref, plan, inputs, waitTimeoutSeconds: 60, ...who, connections },
      reporter
    )
    // Nothing deployed on the fake hosts yet.
    expect(found).toEqual([
      { host: 'deploy@h1', live: undefined, releases: [] },
      { host: 'deploy@h2', live: undefined, releases: [] }
    ])
    expect(hosts.events).toEqual(['connect h1', 'connect h2'])
    for (const session of hosts.sessions)
      expect(session.labels().filter(label => label.startsWith('lock:'))).toEqual([])
    expect(hosts.sessions.map(s => s.disposals)).toEqual([1, 1])
  })

  it('a connection that failed is reported by the stage, as the host it could not reach', async () => {
    const hosts = fakeHosts(['h1'])
    const reporter = new MemoryReporter()
    const inputs = inputsFor('rollback').deploy
    const connections = startConnections(inputs, reporter, hosts.open)
    await expect(
      rollbackStage({ ref, plan, inputs, waitTimeoutSeconds: 60, ...who, connections }, reporter)
    ).rejects.toThrow('ssh to deploy@h1 failed: Connection refused')
    expect(hosts.sessions.map(s => [s.host, s.disposals])).toEqual([['deploy@h2', 1]])
  })

  it('a deploy that refuses its inputs leaves them to be closed by whoever started them', async () => {
    const hosts = fakeHosts()
    const reporter = new MemoryReporter()
    const inputs = inputsFor('deploy').deploy
    const connections = startConnections(inputs, reporter, hosts.open)
    const files = planProjectFiles({
      root: ref.workingDirectory,
      composeFiles: ref.files,
      closure: {
        composeFiles: [path.join(ref.workingDirectory, 'compose.yaml')],
        includeEnvFiles: []
      },
      references: [],
      rules: new Map(),
      uses: {}
    })
    await expect(
      deployStage(
        {
          ref,
          plan,
          files,
          secretFiles: {},
          images: {},
          inputs,
          registry: undefined,
          waitTimeoutSeconds: 60,
          ...who,
          connections
        },
        reporter
      )
    ).rejects.toThrow(/^Input 'images'/)
    expect(hosts.sessions.map(s => s.disposals)).toEqual([0, 0])
    await connections.dispose()
    expect(hosts.sessions.map(s => s.disposals)).toEqual([1, 1])
  })
})
