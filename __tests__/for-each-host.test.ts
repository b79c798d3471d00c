/**
 * forEachHost, on fake sessions: every host is connected (and recorded for the post step)
 * before any runs, every host is prepared before the first one runs, a failure undoes the hosts
 * already run (last first) and says what became of them, and every host is finished and every
 * connection closed whatever happened.
 */
import { DeployError, type OtherHostOutcome } from '../src/errors.js'
import { forEachHost, type HostConnection } from '../src/deploy/hosts.js'
import { PostStateRecorder, readPostState, type HeldLock } from '../src/deploy/post.js'
import { FakeSession } from './support/fake-session.js'

class Connection extends FakeSession implements HostConnection {
  disposed = false
  constructor(name: string) {
    super(undefined, name)
  }
  async dispose(): Promise<void> {
    this.disposed = true
  }
}

interface Host {
  session: Connection
  onLocked: (lock: HeldLock) => void
}

function run(
  names: string[],
  options: {
    unreachable?: string
    failRun?: string
    failPrepare?: string
    undo?: boolean
  } = {}
) {
  const events: string[] = []
  const state: Record<string, string> = {}
  const sessions: Connection[] = []
  const done = forEachHost<string, Host>({
    endpoints: names,
    label: name => name,
    connect: async name => {
      events.push(`connect ${name}`)
      if (name === options.unreachable) throw new Error(`${name}: Host key verification failed`)
      const session = new Connection(name)
      sessions.push(session)
      return session
    },
    post: new PostStateRecorder((name, value) => {
      state[name] = value
      events.push(
        `state ${name}=${value ? readPostState(n => state[n] ?? '').connections.length + '/' + readPostState(n => state[n] ?? '').locks.length : 'cleared'}`
      )
    }),
    open: (session, onLocked) => ({ session: session as Connection, onLocked }),
    unreachable: name => events.push(`unreachable ${name}`),
    prepare: async host => {
      events.push(`prepare ${host.session.host}`)
      host.onLocked({ ssh: host.session.state(), lockDir: `/l/${host.session.host}`, token: 't' })
      if (host.session.host === options.failPrepare)
        throw new DeployError({
          task: 'deploy',
          host: host.session.host,
          step: 'lock',
          reason: 'held',
          outcome: 'nothing switched'
        })
    },
    run: async host => {
      events.push(`run ${host.session.host}`)
      if (host.session.host === options.failRun)
        throw new DeployError({
          task: 'deploy',
          host: host.session.host,
          step: 'migrate',
          reason: 'exit 1',
          outcome: 'nothing switched'
        })
    },
    ...(options.undo === false
      ? {}
      : {
          undo: async (host: Host): Promise<OtherHostOutcome> => {
            events.push(`undo ${host.session.host}`)
            return { host: host.session.host, outcome: 'rolled back', release: 'r0' }
          }
        }),
    finish: async host => {
      events.push(`finish ${host.session.host}`)
    },
    hostOf: host => host.session.host
  })
  return { done, events, sessions, state }
}

describe('forEachHost', () => {
  it('connects and prepares every host before the first runs, then finishes each and closes every connection', async () => {
    const { done, events, sessions, state } = run(['a', 'b'])
    await done
    expect(events.filter(e => !e.startsWith('state'))).toEqual([
      'connect a',
      'connect b',
      'prepare a',
      'prepare b',
      'run a',
      'run b',
      'finish a',
      'finish b'
    ])
    // The post step could have found both connections and both locks; at the end, nothing.
    expect(events).toContain('state deploy-locks=2/2')
    expect(state).toEqual({ ssh: '', 'deploy-locks': '' })
    expect(sessions.every(s => s.disposed)).toBe(true)
  })

  it('stops before any host runs when one cannot be reached', async () => {
    const { done, events, sessions } = run(['a', 'b', 'c'], { unreachable: 'b' })
    await expect(done).rejects.toThrow('b: Host key verification failed')
    expect(events.filter(e => !e.startsWith('state'))).toEqual([
      'connect a',
      'connect b',
      'unreachable b',
      'finish a'
    ])
    expect(sessions.map(s => s.disposed)).toEqual([true])
  })

  it('stops before any host runs when one fails its preparation', async () => {
    const { done, events } = run(['a', 'b'], { failPrepare: 'b' })
    await expect(done).rejects.toMatchObject({ host: 'b', step: 'lock', otherHosts: [] })
    expect(events.some(e => e.startsWith('run'))).toBe(false)
    expect(events).toContain('finish a')
    expect(events).toContain('finish b')
  })

  it('undoes the hosts already run, last first, and keeps the failing host apart from them', async () => {
    const { done, events } = run(['a', 'b', 'c'], { failRun: 'c' })
    const failure = await done.catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(DeployError)
    expect(failure).toMatchObject({
      host: 'c',
      step: 'migrate',
      outcome: 'nothing switched',
      otherHosts: [
        { host: 'a', outcome: 'rolled back', release: 'r0' },
        { host: 'b', outcome: 'rolled back', release: 'r0' }
      ]
    })
    const order = events.filter(e => /^(run|undo|finish)/.test(e))
    expect(order).toEqual([
      'run a',
      'run b',
      'run c',
      'undo b',
      'undo a',
      'finish a',
      'finish b',
      'finish c'
    ])
  })

  it('throws the failure as it is when nothing is undone', async () => {
    const { done } = run(['a', 'b'], { failRun: 'b', undo: false })
    await expect(done).rejects.toMatchObject({ host: 'b', otherHosts: [] })
  })
})
