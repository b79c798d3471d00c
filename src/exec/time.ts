/** Resolves after `ms` milliseconds: the one real wait that polls, retries and backoffs share. */
export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/**
 * Like Promise.all, but waits for every promise to settle before it throws the first failure:
 * work started together is never left running behind an error (a pull still going while the
 * deploy already unlocks and removes the release).
 */
export async function allSettledOrThrow<T extends readonly unknown[]>(
  promises: readonly [...{ [K in keyof T]: Promise<T[K]> }]
): Promise<T> {
  const settled = await Promise.allSettled(promises as readonly Promise<unknown>[])
  const failed = settled.find(outcome => outcome.status === 'rejected')
  if (failed) throw (failed as PromiseRejectedResult).reason
  return settled.map(outcome => (outcome as PromiseFulfilledResult<unknown>).value) as unknown as T
}
