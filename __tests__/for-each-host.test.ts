/**
 * forEachHost, on fake sessions: every host is connected (and recorded for the post step)
 * before any runs, every host is prepared before the first one runs, a failure undoes the hosts
 * already run (last first) and says what became of them, and every host is finished and every
 * connection closed whatever happened.
 */
import { DeployError, type OtherHostOutcome } from '../src/errors.js'
import { PendingConnections, forEachHost, type HostConnection } from '../src/deploy/hosts.js'
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

  it('stops before any host runs when one cannot be reached, and closes every connection made', async () => {
    const { done, events, sessions } = run(['a', 'b', 'c'], { unreachable: 'b' })
    await expect(done).rejects.toThrow('b: Host key verification failed')
    // Every connection was started at once: c's too, made, and closed.
    expect(events.filter(e => !e.startsWith('state'))).toEqual([
      'connect a',
      'connect b',
      'connect c',
      'unreachable b',
      'finish a'
    ])
    expect(sessions.map(s => [s.host, s.disposed])).toEqual([
      ['a', true],
      ['c', true]
    ])
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

/** A promise and the functions that settle it, for connections that finish when a test says. */
function deferred<T>(): {
  promise: Promise<T>
  resolve: (value: T) => void
  reject: (error: Error) => void
} {
  let resolve!: (value: T) => void
  let reject!: (error: Error) => void
  const promise = new Promise<T>((yes, no) => {
    resolve = yes
    reject = no
  })
  return { promise, resolve, reject }
}

/** Lets every pending promise callback run. */
const settle = () => new Promise(resolve => setImmediate(resolve))

/** forEachHost over connections the test settles itself, one deferred per endpoint. */
function manual(names: string[], connect?: (name: string) => Promise<HostConnection>) {
  const events: string[] = []
  const pending = new Map(names.map(name => [name, deferred<HostConnection>()]))
  const done = forEachHost<string, Host>({
    endpoints: names,
    label: name => name,
    connect:
      connect ??
      (name => {
        events.push(`connect ${name}`)
        return (pending.get(name) as ReturnType<typeof deferred<HostConnection>>).promise
      }),
    post: new PostStateRecorder((name, value) => {
      if (name === 'ssh' && value)
        events.push(`recorded ${readPostState(() => value).connections.length}`)
    }),
    open: (session, onLocked) => {
      events.push(`open ${session.host}`)
      return { session: session as Connection, onLocked }
    },
    unreachable: (name, error) => events.push(`unreachable ${name}: ${error.message}`),
    run: async host => {
      events.push(`run ${host.session.host}`)
    },
    finish: async host => {
      events.push(`finish ${host.session.host}`)
    },
    hostOf: host => host.session.host
  })
  /** The host's connection is made: returns it. */
  const succeed = (name: string) => {
    const session = new Connection(name)
    pending.get(name)?.resolve(session)
    return session
  }
  const fail = (name: string) => pending.get(name)?.reject(new Error(`${name}: Connection refused`))
  return { done, events, connect: succeed, fail }
}

describe('forEachHost connecting', () => {
  it('starts every connection at once, and takes them in order however they finish', async () => {
    const { done, events, connect } = manual(['a', 'b', 'c'])
    await settle()
    // All three are under way before any has finished.
    expect(events).toEqual(['connect a', 'connect b', 'connect c'])
    const c = connect('c')
    const b = connect('b')
    await settle()
    // b and c are there, but a comes first: nothing is recorded or opened before it.
    expect(events).toEqual(['connect a', 'connect b', 'connect c'])
    const a = connect('a')
    await done
    expect(events.slice(3)).toEqual([
      'recorded 1',
      'open a',
      'recorded 2',
      'open b',
      'recorded 3',
      'open c',
      'run a',
      'run b',
      'run c',
      'finish a',
      'finish b',
      'finish c'
    ])
    expect([a, b, c].map(s => s.disposed)).toEqual([true, true, true])
  })

  it('reports the first host in order that failed, once, even when a later one failed first', async () => {
    const { done, events, connect, fail } = manual(['a', 'b', 'c'])
    const failure = done.catch((error: unknown) => error)
    fail('c')
    await settle()
    const a = connect('a')
    fail('b')
    const error = await failure
    expect((error as Error).message).toBe('b: Connection refused')
    expect(events.filter(e => e.startsWith('unreachable'))).toEqual([
      'unreachable b: b: Connection refused'
    ])
    expect(events.some(e => e.startsWith('run'))).toBe(false)
    expect(a.disposed).toBe(true)
  })

  it('waits for the hosts after a failed one, and closes those that connect', async () => {
    const { done, events, connect, fail } = manual(['a', 'b', 'c'])
    let finished = false
    const failure = done.catch((error: unknown) => error).finally(() => (finished = true))
    fail('a')
    await settle()
    // a failed, but b and c are still connecting: forEachHost does not return on them.
    expect(finished).toBe(false)
    expect(events.filter(e => e.startsWith('unreachable'))).toEqual([
      'unreachable a: a: Connection refused'
    ])
    const b = connect('b')
    await settle()
    expect(finished).toBe(false)
    fail('c')
    expect(((await failure) as Error).message).toBe('a: Connection refused')
    expect(b.disposed).toBe(true)
    expect(events.filter(e => e.startsWith('open'))).toEqual([])
  })

  it('treats a connect that throws at once like one that fails', async () => {
    const other = new Connection('b')
    const { done, events } = manual(['a', 'b'], name => {
      if (name === 'a') throw new Error('a: bad address')
      return Promise.resolve(other)
    })
    await expect(done).rejects.toThrow('a: bad address')
    expect(events).toEqual(['unreachable a: a: bad address'])
    expect(other.disposed).toBe(true)
  })
})

describe('PendingConnections', () => {
  it('starts one connection per endpoint at once; each is taken once, by label', async () => {
    const started: string[] = []
    const sessions: Connection[] = []
    const pending = PendingConnections.start(
      ['a', 'b', 'a'],
      name => `deploy@${name}`,
      async name => {
        started.push(name)
        const session = new Connection(name)
        sessions.push(session)
        return session
      }
    )
    expect(started).toEqual(['a', 'b', 'a'])
    const first = pending.take('deploy@a')
    const second = pending.take('deploy@a')
    expect(first).toBeDefined()
    expect(second).toBeDefined()
    expect(second).not.toBe(first)
    expect(pending.take('deploy@a')).toBeUndefined()
    expect(pending.take('deploy@c')).toBeUndefined()
    // What was taken is the taker's to close; dispose closes only b.
    await pending.dispose()
    expect(sessions.map(s => [s.host, s.disposed])).toEqual([
      ['a', false],
      ['b', true],
      ['a', false]
    ])
    expect(pending.take('deploy@b')).toBeUndefined()
  })

  it('closes the connections not taken once they are made, dropping the failures', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const late = deferred<HostConnection>()
      const made = new Connection('a')
      const pending = PendingConnections.start(
        ['a', 'b', 'c'],
        name => name,
        async name => {
          if (name === 'a') return made
          if (name === 'b') throw new Error('b: Connection refused')
          return late.promise
        }
      )
      // A failure nobody awaits yet is not an unhandled rejection.
      await settle()
      let disposed = false
      const disposing = pending.dispose().then(() => (disposed = true))
      await settle()
      // c is still connecting: dispose waits for it, so that it is closed too.
      expect(disposed).toBe(false)
      const c = new Connection('c')
      late.resolve(c)
      await expect(disposing).resolves.toBe(true)
      expect([made.disposed, c.disposed]).toEqual([true, true])
      await settle()
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('hands forEachHost the connections already started: one connection per host, closed by it', async () => {
    let opened = 0
    const sessions: Connection[] = []
    const pending = PendingConnections.start(
      ['a', 'b'],
      name => name,
      async name => {
        opened++
        const session = new Connection(name)
        sessions.push(session)
        return session
      }
    )
    const fellBack: string[] = []
    const fallback = async (name: string) => {
      fellBack.push(name)
      return new Connection(`fallback ${name}`)
    }
    const ran: string[] = []
    await forEachHost<string, Host>({
      endpoints: ['a', 'b'],
      label: name => name,
      connect: name => pending.take(name) ?? fallback(name),
      post: new PostStateRecorder(() => undefined),
      open: (session, onLocked) => ({ session: session as Connection, onLocked }),
      run: async host => {
        ran.push(host.session.host)
      },
      hostOf: host => host.session.host
    })
    expect(opened).toBe(2)
    expect(fellBack).toEqual([])
    expect(ran).toEqual(['a', 'b'])
    expect(sessions.map(s => s.disposed)).toEqual([true, true])
    await pending.dispose()
  })

  it('lets forEachHost report a connection that failed before it was taken, as its own', async () => {
    const pending = PendingConnections.start(
      ['a', 'b'],
      name => name,
      async name => {
        if (name === 'a') throw new Error('a: Host key verification failed')
        return new Connection(name)
      }
    )
    await settle()
    const unreachable: string[] = []
    await expect(
      forEachHost<string, Host>({
        endpoints: ['a', 'b'],
        label: name => name,
        connect: name => pending.take(name) ?? Promise.reject(new Error('not pre-started')),
        post: new PostStateRecorder(() => undefined),
        open: (session, onLocked) => ({ session: session as Connection, onLocked }),
        unreachable: (label, error) => unreachable.push(`${label}: ${error.message}`),
        run: async () => undefined,
        hostOf: host => host.session.host
      })
    ).rejects.toThrow('a: Host key verification failed')
    expect(unreachable).toEqual(['a: a: Host key verification failed'])
  })
})
