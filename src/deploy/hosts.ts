/**
 * A task over every host of an environment: deploy, rollback, and the day-2 commands. One
 * function owns what they share: connect to every host before any runs (a wrong pinned key or
 * address stops the task before the first host changes), record connections and locks for the
 * post step, run the hosts one at a time, undo the hosts already done when a later one fails,
 * and close every connection.
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
  try {
    for (const endpoint of options.endpoints) {
      const session = await options.connect(endpoint).catch((error: Error) => {
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
