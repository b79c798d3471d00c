/**
 * The deploy lock on a host: a directory with an owner record, a token file and a heartbeat
 * file, changed only under `flock` (see host-lock.ts, which has the host side). A second
 * deploy waits up to `lock-timeout` and then fails naming the holder. The holder renews the
 * heartbeat while it runs; a lock whose heartbeat is older than its TTL (by the host's own
 * clock: its owner died without cleaning up) may be taken over, and that is logged. A lock
 * whose holder still has a command running on the host (a migration, `compose up`) is never
 * taken over, whatever its age.
 */
export interface LockOwner {
  /** Unique per deploy run, so only the owner releases it. */
  token: string
  owner: string
  runUrl: string | undefined
  /** When it was taken, by the runner's clock: for messages only, never to judge the age. */
  acquiredAt: string
  ttlSeconds: number
}

export function parseLockOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>
    if (typeof value.token !== 'string' || typeof value.acquiredAt !== 'string') return undefined
    return {
      token: value.token,
      owner: String(value.owner ?? 'unknown'),
      runUrl: typeof value.runUrl === 'string' ? value.runUrl : undefined,
      acquiredAt: value.acquiredAt,
      ttlSeconds: Number(value.ttlSeconds ?? 0)
    }
  } catch {
    return undefined
  }
}

/** A long command the holder runs on the host under its lock (host-lock.ts heldCommand). */
export interface BusyCommand {
  /** What it is ("migrate", "up"). */
  id: string
  pid: number
}

/** A lock someone else holds, as the host sees it (host-lock.ts parseHeldLockState). */
export interface HeldLockState {
  /** Its owner record; undefined when there is none or it cannot be read. */
  owner: LockOwner | undefined
  /** The token the host has for it ('' when none): what a take-over must still find. */
  token: string
  /** When it was last renewed (its heartbeat), in seconds by the host's clock. */
  mtime: number
  /** The host's now minus mtime (NaN when the host could not tell). */
  ageSeconds: number
  /** The holder's commands still running on the host. */
  busy: BusyCommand[]
}

export type LockDecision =
  | { action: 'wait'; holder: string; reason: string }
  | { action: 'take-over'; holder: string; reason: string }

/**
 * What to do about a lock someone else holds. Never take over while one of its commands still
 * runs on the host. Otherwise it is stale once its heartbeat is older than the owner's TTL; a
 * lock without a (readable) owner record, or with no TTL in it, is judged by the TTL we would
 * give. The age is the host's (its clock, its file times): the runner's clock plays no part.
 */
export function decideOnHeldLock(state: HeldLockState, defaultTtlSeconds: number): LockDecision {
  const owner = state.owner
  const holder = owner ? describeHolder(owner) : 'an unknown deploy (no owner record)'
  if (state.busy.length > 0) {
    return {
      action: 'wait',
      holder,
      reason: `${describeBusy(state.busy)} still running on the host`
    }
  }
  const age = state.ageSeconds
  if (!Number.isFinite(age)) {
    return { action: 'wait', holder, reason: 'the host could not tell how old the lock is' }
  }
  const ownTtl = owner !== undefined && Number.isFinite(owner.ttlSeconds) && owner.ttlSeconds > 0
  const ttl = ownTtl ? owner.ttlSeconds : defaultTtlSeconds
  const seconds = Math.round(age)
  if (age > ttl) {
    return {
      action: 'take-over',
      holder,
      reason: owner
        ? `not renewed for ${seconds}s, past its TTL of ${ttl}s`
        : `its lock has no owner record and is ${seconds}s old, past the TTL of ${ttl}s`
    }
  }
  return {
    action: 'wait',
    holder,
    reason: owner
      ? `renewed ${seconds}s ago (TTL ${ttl}s)`
      : `no owner record yet (${seconds}s old, TTL ${ttl}s)`
  }
}

export function describeHolder(owner: LockOwner): string {
  return `${owner.owner} since ${owner.acquiredAt}${owner.runUrl ? ` (${owner.runUrl})` : ''}`
}

/** "migrate (pid 4242), up (pid 4250)". */
export function describeBusy(busy: readonly BusyCommand[]): string {
  return busy.map(command => `${command.id} (pid ${command.pid})`).join(', ')
}
