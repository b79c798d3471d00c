/**
 * The deploy lock on a host: a directory (`mkdir` is atomic on every POSIX filesystem) with an
 * owner record. A second deploy waits up to `lock-timeout` and then fails naming the holder;
 * a lock older than its TTL (its owner died without cleaning up) may be taken over, and that is
 * logged.
 */
export interface LockOwner {
  /** Unique per deploy run, so only the owner releases it. */
  token: string
  owner: string
  runUrl: string | undefined
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

export type LockDecision =
  { action: 'wait'; holder: string } | { action: 'take-over'; holder: string; reason: string }

/**
 * What to do about a lock someone else holds. An owner record that cannot be read (a holder
 * that died between mkdir and writing it) is stale once the directory itself is older than
 * the TTL we would give.
 */
export function decideOnHeldLock(
  owner: LockOwner | undefined,
  now: Date,
  lockDirAgeSeconds: number,
  defaultTtlSeconds: number
): LockDecision {
  if (!owner) {
    return lockDirAgeSeconds > defaultTtlSeconds
      ? {
          action: 'take-over',
          holder: 'an unknown deploy',
          reason: `its lock has no owner record and is ${Math.round(lockDirAgeSeconds)}s old`
        }
      : { action: 'wait', holder: 'an unknown deploy (no owner record yet)' }
  }
  const holder = describeHolder(owner)
  const age = (now.getTime() - Date.parse(owner.acquiredAt)) / 1000
  if (Number.isFinite(age) && owner.ttlSeconds > 0 && age > owner.ttlSeconds) {
    return {
      action: 'take-over',
      holder,
      reason: `held for ${Math.round(age)}s, past its TTL of ${owner.ttlSeconds}s`
    }
  }
  return { action: 'wait', holder }
}

export function describeHolder(owner: LockOwner): string {
  return `${owner.owner} since ${owner.acquiredAt}${owner.runUrl ? ` (${owner.runUrl})` : ''}`
}
