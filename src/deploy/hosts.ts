/**
 * A task over every host of an environment: deploy, rollback, and the day-2 commands. One
 * function owns what they share: connect to every host before any runs (all at once; a wrong
 * pinned key or address stops the task before the first host changes), record connections and
 * locks for the post step, run the hosts one at a time, undo the hosts already done when a later
 * one fails, and close every connection.
 */
import { DeployError, type OtherHostOutcome } from '../errors.js'
import type { HeldLock, PostStateRecorder } from './post.js'
import type { HostSession } from './session.js'

/** A session that can be closed: the SSH executor. */
export interface HostConnection extends HostSession {
  dispose(): Promise<void>
}

export interface ForEachHostOptions<E, C> {
  endpoints: E[]
  /** How an endpoint is named before it is reached. */
  label: (endpoint: E) => string
  /** Called for every endpoint at once, before the first connection is awaited. */
  connect: (endpoint: E) => Promise<HostConnection>
  post: PostStateRecorder
  /** The per-host context, given its session and where to register a lock it takes. */
  open: (session: HostConnection, onLocked: (lock: HeldLock) => void) => C
  /** A host that could not be reached (the task stops before any host ran). */
  unreachable?: (label: string, error: Error) => void
  /** On every host, before the first one runs: checks and locks. */
  prepare?: (host: C) => Promise<void>
  run: (host: C) => Promise<void>
  /** A later host failed: put this one (already run) back, and say what became of it. */
  undo?: (host: C, error: Error) => Promise<OtherHostOutcome>
  /** On every opened host at the end, whatever happened (release its lock). Must not throw. */
  finish?: (host: C) => Promise<void>
  /** The host label of a context, for a failure that is not a DeployError. */
  hostOf: (host: C) => string
}

/**
 * Runs `run` on each host in order and returns the contexts. A failure undoes the hosts
 * already run (last first), and is thrown as a DeployError that says what became of them.
 */
export async function forEachHost<E, C>(options: ForEachHostOptions<E, C>): Promise<C[]> {
  const sessions: HostConnection[] = []
  const hosts: C[] = []
  const done: C[] = []
  // Every host is reached at once (a connection is mostly waiting: ssh-keygen, the network),
  // and awaited in order: the failure reported is the first host's that failed, as when they
  // were made one after the other.
  const connecting = options.endpoints.map(endpoint => startConnection(options.connect, endpoint))
  // How many of them were awaited here: the others are awaited at the end, to be closed.
  let awaited = 0
  try {
    for (const [index, endpoint] of options.endpoints.entries()) {
      awaited = index + 1
      const session = await (connecting[index] as Promise<HostConnection>).catch((error: Error) => {
        options.unreachable?.(options.label(endpoint), error)
        throw error
      })
      sessions.push(session)
      options.post.connected(session.state())
      hosts.push(options.open(session, lock => options.post.locked(lock)))
    }
    for (const host of hosts) await options.prepare?.(host)
    let current: C | undefined
    try {
      for (const host of hosts) {
        current = host
        await options.run(host)
        done.push(host)
      }
    } catch (error) {
      throw await undoOthers(options, done, error as Error, current)
    }
    return hosts
  } finally {
    for (const host of hosts) await options.finish?.(host)
    // The hosts after one that could not be reached: closed too, once connected (their own
    // failures are not reported: the task stopped at the first).
    for (const connection of connecting.slice(awaited)) {
      const session = await connection.catch(() => undefined)
      if (session) sessions.push(session)
    }
    for (const session of sessions) await session.dispose().catch(() => undefined)
    options.post.clear()
  }
}

/** Puts the hosts already run back (last first); the failure then says what became of them. */
async function undoOthers<E, C>(
  options: ForEachHostOptions<E, C>,
  done: C[],
  error: Error,
  failing: C | undefined
): Promise<Error> {
  if (!options.undo || done.length === 0) return error
  const outcomes: OtherHostOutcome[] = []
  for (const host of [...done].reverse()) outcomes.push(await options.undo(host, error))
  outcomes.reverse()
  // The failing host's own outcome stays its own: what became of the others is a field of
  // its own, never mixed into the failing host's (a status once read it as "rolled back").
  if (error instanceof DeployError) return error.withOtherHosts(outcomes)
  return new DeployError({
    task: 'deploy',
    host: failing ? options.hostOf(failing) : 'a host',
    step: 'deploy',
    reason: error.message,
    outcome: 'nothing switched',
    otherHosts: outcomes
  })
}

/**
 * Starts one connection. A synchronous throw becomes a rejection, and a rejection is never
 * "unhandled" while nobody awaits the connection yet: whoever awaits it later still gets it.
 */
function startConnection<E>(
  connect: (endpoint: E) => Promise<HostConnection>,
  endpoint: E
): Promise<HostConnection> {
  const connection = new Promise<HostConnection>(resolve => resolve(connect(endpoint)))
  connection.catch(() => undefined)
  return connection
}

/**
 * Connections started before the task that uses them: the engine starts a deploy's while it
 * still reads the project, so that the hosts are reached by the time the project is. The task
 * takes each one, once, by its endpoint's label (forEachHost then reports a failure to connect,
 * and closes the connection, as any other); `dispose` closes every one not taken, once made,
 * when the task failed before it connected or never ran. Nothing here reports a failure to
 * connect: an untaken connection's failure is dropped, the run's own error is the one to tell.
 */
export class PendingConnections {
  /** By label: one connection for each time an endpoint is listed. */
  private readonly pending = new Map<string, Promise<HostConnection>[]>()

  private constructor() {}

  /** Starts a connection to every endpoint, all at once. */
  static start<E>(
    endpoints: readonly E[],
    label: (endpoint: E) => string,
    connect: (endpoint: E) => Promise<HostConnection>
  ): PendingConnections {
    const connections = new PendingConnections()
    for (const endpoint of endpoints) {
      const key = label(endpoint)
      const list = connections.pending.get(key) ?? []
      list.push(startConnection(connect, endpoint))
      connections.pending.set(key, list)
    }
    return connections
  }

  /**
   * The connection started for the endpoint of this label, from now on the caller's to close;
   * undefined when none is left.
   */
  take(label: string): Promise<HostConnection> | undefined {
    return this.pending.get(label)?.shift()
  }

  /** Closes every connection not taken, once it is made. Never rejects. */
  async dispose(): Promise<void> {
    const left = [...this.pending.values()].flat()
    this.pending.clear()
    await Promise.all(
      left.map(async connection => {
        const session = await connection.catch(() => undefined)
        await session?.dispose().catch(() => undefined)
      })
    )
  }
}
