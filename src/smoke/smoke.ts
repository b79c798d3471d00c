import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { randomBytes } from 'node:crypto'
import { composeBaseArgs } from '../compose/args.js'
import { assessStack, parsePsOutput, type StackAssessment } from '../compose/ps.js'
import type { Plan } from '../compose/plan.js'
import type { ComposeProjectRef } from '../compose/types.js'
import type { ImageMap } from '../build/images.js'
import { lastLines, type CommandResult, type Executor } from '../exec/executor.js'
import type { Reporter } from '../report/reporter.js'
import { downArgs, logsArgs, psArgs, upArgs } from './commands.js'
import { smokeOverrideYaml, type PortMode } from './override.js'

export interface SmokeOptions {
  waitTimeoutSeconds: number
  ports: PortMode
  keep: boolean
  /** Services to bring up (with their dependencies); empty means all. */
  services: string[]
}

export interface SmokeResult {
  project: string
  secondsToReady: number
  /** Per service: seconds from `up` until it was healthy (or, for a job, done). */
  serviceSeconds: Record<string, number>
}

export class SmokeFailedError extends Error {
  constructor(
    readonly failures: { service: string; reason: string; logs: string }[],
    message: string
  ) {
    super(message)
    this.name = 'SmokeFailedError'
  }
}

/** A project name of its own per run, so two smoke runs of one stack never collide. */
export function smokeProjectName(project: string): string {
  return `${project}-smoke-${randomBytes(3).toString('hex')}`
}

const POLL_MS = 500
const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

async function assess(
  executor: Executor,
  base: string[],
  cwd: string,
  plan: Plan,
  services: string[]
): Promise<StackAssessment> {
  const ps = await executor.run(psArgs(base), { cwd })
  const containers = ps.exitCode === 0 ? parsePsOutput(ps.stdout) : []
  const names = new Set([...services, ...containers.map(c => c.Service)])
  return assessStack(plan, containers, [...names])
}

async function failureWithLogs(
  executor: Executor,
  base: string[],
  cwd: string,
  failures: { service: string; reason: string }[],
  headline: string
): Promise<SmokeFailedError> {
  const detailed = []
  for (const failure of failures) {
    const logs = await executor.run(logsArgs(base, failure.service, 30), { cwd })
    detailed.push({ ...failure, logs: lastLines(logs.stdout + logs.stderr, 30) })
  }
  const lines = detailed.map(f => `service "${f.service}": ${f.reason}`)
  const logText = detailed
    .map(f => `--- last log lines of ${f.service} ---\n${f.logs || '(no output)'}`)
    .join('\n')
  return new SmokeFailedError(detailed, `${headline}: ${lines.join('; ')}\n${logText}`)
}

/**
 * Brings the whole stack up under a unique project name with `up --wait`, checks that every
 * service is healthy and every one-shot job exited 0, and always tears it down again.
 */
export async function smokeStage(
  ref: ComposeProjectRef,
  plan: Plan,
  images: ImageMap,
  options: SmokeOptions,
  executor: Executor,
  reporter: Reporter
): Promise<SmokeResult> {
  const project = smokeProjectName(plan.project)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-deploy-smoke-'))
  const overridePath = path.join(dir, 'images.override.yaml')
  fs.writeFileSync(overridePath, smokeOverrideYaml(plan, images, options.ports))
  const smokeRef: ComposeProjectRef = {
    ...ref,
    projectName: project,
    files: [...ref.files, overridePath]
  }
  const base = composeBaseArgs(smokeRef)
  const cwd = ref.workingDirectory
  const down = downArgs(base)
  // Saved before anything starts, so that the post step can tear down a cancelled run.
  reporter.saveState('smoke-teardown', JSON.stringify({ cwd, argv: down, dir }))

  const services = options.services.length > 0 ? options.services : plan.services.map(s => s.name)
  const started = Date.now()
  const serviceSeconds: Record<string, number> = {}
  let up: CommandResult | undefined
  // `up --wait` runs while we watch the containers: that gives each service's time to ready,
  // and a job that fails or a service that turns unhealthy ends the run at once.
  const upDone = reporter
    .group(`Start ${project}`, () =>
      executor.run([...upArgs(base, options.waitTimeoutSeconds), ...options.services], {
        cwd,
        stream: true
      })
    )
    .then(result => {
      up = result
    })
  try {
    const deadline = started + options.waitTimeoutSeconds * 1000
    for (;;) {
      const state = await assess(executor, base, cwd, plan, services)
      for (const name of state.readyServices) serviceSeconds[name] ??= (Date.now() - started) / 1000
      if (state.failed.length > 0) {
        throw await failureWithLogs(executor, base, cwd, state.failed, 'Smoke test failed')
      }
      if (state.ready) {
        await upDone
        if (up?.exitCode === 0 || (await assess(executor, base, cwd, plan, services)).ready) break
      }
      // `up --wait` also fails when a one-shot job exits 0 (docker/compose #10596), so a failed
      // `up` only counts once nothing is left starting, or when containers never started.
      const finished = up as CommandResult | undefined
      const neverStarted = state.pending.filter(p => p.reason === 'container is created')
      if (
        finished &&
        finished.exitCode !== 0 &&
        (neverStarted.length > 0 || state.pending.every(p => p.reason === 'no container yet'))
      ) {
        const reason = lastLines(finished.stderr || finished.stdout, 5).replace(/\n/g, ' | ')
        throw await failureWithLogs(
          executor,
          base,
          cwd,
          (neverStarted.length > 0 ? neverStarted : state.pending).map(p => ({
            ...p,
            reason: `${p.reason}; compose: ${reason}`
          })),
          'Smoke test failed: the stack did not start'
        )
      }
      if (Date.now() > deadline) {
        throw await failureWithLogs(
          executor,
          base,
          cwd,
          state.pending,
          `Smoke test timed out after ${options.waitTimeoutSeconds}s (wait-timeout)`
        )
      }
      await sleep(POLL_MS)
    }
    const secondsToReady = (Date.now() - started) / 1000
    reporter.info(
      `Stack ${project} is up: every service healthy or done in ${secondsToReady.toFixed(1)}s`
    )
    return { project, secondsToReady, serviceSeconds }
  } finally {
    await teardown()
  }

  async function teardown(): Promise<void> {
    if (options.keep) {
      reporter.info(`keep: leaving ${project} running; remove it with: ${down.join(' ')}`)
      reporter.saveState('smoke-teardown', '')
    } else {
      const result = await executor.run(down, { cwd })
      if (result.exitCode !== 0) {
        reporter.warning(`Could not tear down ${project}: ${lastLines(result.stderr, 3)}`)
      } else {
        reporter.saveState('smoke-teardown', '')
        fs.rmSync(dir, { recursive: true, force: true })
      }
    }
    // `up` ends by itself once its containers are gone or its wait-timeout passes.
    await upDone
  }
}
