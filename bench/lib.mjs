// Shared helpers for the benchmarks: the lab's coordinates, timing of whole commands, and
// ratio printing. Each benchmark compares stack-deploy with the plain Docker commands it
// replaces, interleaved in the same run, because absolute times on these machines are noisy.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
export const CLI = path.join(ROOT, 'dist', 'cli', 'index.js')

export function labEnv() {
  const env = {}
  for (const line of fs.readFileSync(path.join(ROOT, '.lab', 'env'), 'utf8').split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim())
    if (match) env[match[1]] = match[2].replace(/^'(.*)'$/, '$1')
  }
  return env
}

/** The environment for the reference stack in the lab: the lab's base images, plus `extra`. */
export function referenceStackEnv(lab, extra) {
  return {
    ...process.env,
    NODE_IMAGE: lab.NODE_IMAGE,
    NGINX_IMAGE: lab.NGINX_IMAGE,
    POSTGRES_IMAGE: lab.POSTGRES_IMAGE,
    REDIS_IMAGE: lab.REDIS_IMAGE,
    ...extra
  }
}

/** Runs a command, fails loudly if it fails, and returns its wall time in seconds. */
export function timed(argv, options = {}) {
  const started = process.hrtime.bigint()
  const run = spawnSync(argv[0], argv.slice(1), {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    ...options
  })
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  if (run.status !== 0) {
    throw new Error(
      `${argv.join(' ')} failed (${run.status}):\n${(run.stderr || run.stdout).slice(-2000)}`
    )
  }
  return { seconds, stdout: run.stdout }
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Prints one comparison line: medians and the ratio ours / theirs, with a pass mark if a limit is given. */
export function report(name, ours, theirs, limit) {
  const ratio = median(ours) / median(theirs)
  const verdict =
    limit === undefined
      ? ''
      : ratio <= limit
        ? `  (limit ${limit}: ok)`
        : `  (limit ${limit}: OVER)`
  console.log(
    `${name}: stack-deploy ${median(ours).toFixed(3)}s vs docker ${median(theirs).toFixed(3)}s (median of ${ours.length}) -> ratio ${ratio.toFixed(2)}${verdict}`
  )
  return ratio
}
