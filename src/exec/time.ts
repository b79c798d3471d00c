/** Resolves after `ms` milliseconds: the one real wait that polls, retries and backoffs share. */
export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
