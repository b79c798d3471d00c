/**
 * The smoke stage: the whole stack up inside the runner under a project name of its own, with
 * exactly the images that were built and ephemeral ports, waited on (one-shot jobs must exit 0),
 * probed, explained when it fails, and always torn down.
 *
 *   override (image pins, ports) → up --wait, watched → probes → test command → report
 *   on failure: state, health log and logs per failing service → summary, annotations, bundle
 *   always: down --volumes --remove-orphans (also from the post step if the job is cancelled)
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { randomBytes } from 'node:crypto'
import { composeBaseArgs, composePsArgs } from '../compose/args.js'
import { assessStack, parsePsOutput, type StackAssessment } from '../compose/ps.js'
import type { Plan } from '../compose/plan.js'
import type { ComposeProjectRef } from '../compose/types.js'
import type { ImageMap } from '../build/images.js'
import { lastLines, type CommandResult, type Executor } from '../exec/executor.js'
import { sleep } from '../exec/time.js'
import type { Reporter } from '../report/reporter.js'
import { downArgs, upArgs } from './commands.js'
import {
  annotationFor,
  collectDiagnostics,
  renderDiagnosticsMarkdown,
  smokeFailureMessage,
  writeLogBundle,
  type Failure
} from './diagnostics.js'
import { smokeOverrideYaml, type PortMode } from './override.js'
import { filesOverrideYaml, secretHashes, type ProjectFiles } from '../compose/project-files.js'
import { resolvePublishedPorts, runProbes } from './probe-runner.js'
import {
  renderProbeTable,
  stackUrls,
  testCommandArgs,
  validateProbeTargets,
  type Probe,
  type ProbeResult
} from './probes.js'

export interface SmokeOptions {
  waitTimeoutSeconds: number
  ports: PortMode
  keep: boolean
  /** Services to bring up (with their dependencies); empty means all. */
  services: string[]
  probes: Probe[]
  testCommand: string | undefined
  /** Absolute folder for the log bundle. */
  logDir: string
  /** Values to blank in collected logs and inspect output. */
  secrets: string[]
  /**
   * What a release of the project carries (compose/project-files.ts), so that smoke runs what
   * deploys: the same refusals, persistent folders starting empty (in a folder of the run, never
   * the checkout), and the secret files a deploy would use.
   */
  files?: { files: ProjectFiles; secrets: { name: string; content: string }[] }
}

export interface SmokeResult {
  project: string
  secondsToReady: number
  /** Per service: seconds from `up` until it was healthy (or, for a job, done). */
  serviceSeconds: Record<string, number>
  probes: ProbeResult[]
  totalSeconds: number
}

export class SmokeFailedError extends Error {
  constructor(
    readonly failures: Failure[],
    readonly logBundle: string | undefined,
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

async function assess(
  executor: Executor,
  base: string[],
  cwd: string,
  plan: Plan,
  services: string[]
): Promise<StackAssessment> {
  const ps = await executor.run(composePsArgs(base), { cwd })
  const containers = ps.exitCode === 0 ? parsePsOutput(ps.stdout) : []
  const names = new Set([...services, ...containers.map(c => c.Service)])
  return assessStack(plan, containers, [...names])
}

/**
 * Which services a failed `up` is about: compose names the container (`<project>-<service>-1`)
 * in the daemon's error, e.g. a published port that is already taken. Falls back to every
 * service that did not start.
 */
export function startFailures(
  output: string,
  project: string,
  stuck: { service: string; reason: string }[]
): Failure[] {
  const lines = output
    .split('\n')
    .map(line => line.trim())
    .filter(Boolean)
  const error =
    [...lines].reverse().find(line => /error/i.test(line)) ?? lines[lines.length - 1] ?? 'no output'
  // The endpoint's 64-hex id says nothing to a user.
  const reason = error.replace(/\s*\([0-9a-f]{64}\)/g, '')
  const named = stuck.filter(p => error.includes(`${project}-${p.service}-`))
  return (named.length > 0 ? named : stuck).map(p => ({
    service: p.service,
    reason: `${p.reason}: ${reason}`
  }))
}

/**
 * The files override for a smoke run: persistent folders in `dir/shared` (created empty, as on a
 * first deploy), every secret file in `dir/secrets` (its content as a deploy would send it, from
 * the secret-files input or the working tree), and the rest where compose resolved it in the
 * working tree. Returns the files to add to `-f`.
 */
function writeFilesOverride(
  dir: string,
  { files, secrets }: NonNullable<SmokeOptions['files']>
): string[] {
  const inDir = (...parts: string[]): string => path.join(dir, ...parts)
  for (const persistent of files.persistent)
    fs.mkdirSync(inDir('shared', persistent.relative), { recursive: true })
  if (secrets.length > 0) fs.mkdirSync(inDir('secrets'), { recursive: true, mode: 0o700 })
  for (const secret of secrets)
    fs.writeFileSync(inDir('secrets', secret.name), secret.content, { mode: 0o400 })
  const yaml = filesOverrideYaml(
    files,
    {
      object: () => undefined,
      shared: relative => inDir('shared', relative),
      secret: name => inDir('secrets', name)
    },
    secretHashes(secrets)
  )
  const file = inDir('files.override.yaml')
  fs.writeFileSync(file, yaml)
  return [file]
}

/** The report of a run that got through: per-service times and the probe table. */
export function smokeSummary(result: SmokeResult): string {
  const rows = Object.entries(result.serviceSeconds)
    .sort((a, b) => a[1] - b[1])
    .map(([service, seconds]) => `| ${service} | ${seconds.toFixed(1)}s |`)
  const probes = renderProbeTable(result.probes)
  return [
    '### Smoke test',
    '',
    `Every service healthy or done after **${result.secondsToReady.toFixed(1)}s**; total ${result.totalSeconds.toFixed(1)}s (project \`${result.project}\`).`,
    '',
    '| Service | Ready after |',
    '|---|---|',
    ...rows,
    '',
    ...(probes ? [probes, ''] : [])
  ].join('\n')
}

/**
 * Brings the whole stack up under a unique project name with `up --wait`, checks that every
 * service is healthy and every one-shot job exited 0, runs the probes and the test command, and
 * always tears the stack down again.
 */
export async function smokeStage(
  ref: ComposeProjectRef,
  plan: Plan,
  images: ImageMap,
  options: SmokeOptions,
  executor: Executor,
  reporter: Reporter
): Promise<SmokeResult> {
  const started = Date.now()
  const services = options.services.length > 0 ? options.services : plan.services.map(s => s.name)
  // Probes are checked against the stack before anything starts.
  const stackServices = plan.services.filter(s => services.includes(s.name))
  validateProbeTargets(options.probes, stackServices)

  const project = smokeProjectName(plan.project)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-deploy-smoke-'))
  const overridePath = path.join(dir, 'smoke.override.yaml')
  fs.writeFileSync(overridePath, smokeOverrideYaml(plan, images, options.ports))
  const filesOverride = options.files ? writeFilesOverride(dir, options.files) : []
  const smokeRef: ComposeProjectRef = {
    ...ref,
    projectName: project,
    files: [...ref.files, overridePath, ...filesOverride]
  }
  const base = composeBaseArgs(smokeRef)
  const cwd = ref.workingDirectory
  const down = downArgs(base)
  // Saved before anything starts, so that the post step can tear down a cancelled run.
  reporter.saveState('smoke-teardown', JSON.stringify({ cwd, argv: down, dir }))

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

  const fail = async (
    failures: Failure[],
    headline: string,
    extra: Record<string, string> = {}
  ): Promise<never> => {
    // Every secret the run knows, blanked before anything is cut, shown or written.
    const redact = (text: string): string => reporter.redact(text)
    const diagnostics = await collectDiagnostics(failures, base, {
      executor,
      cwd,
      secrets: options.secrets,
      redact
    })
    await reporter.addSummary(
      `### Smoke test failed\n\n${renderDiagnosticsMarkdown(diagnostics)}\n`
    )
    for (const diag of diagnostics) {
      const annotation = annotationFor(diag)
      reporter.error(annotation.message, { title: annotation.title })
    }
    let bundle: string | undefined
    try {
      fs.mkdirSync(options.logDir, { recursive: true })
      const ps = await executor.run(composePsArgs(base), { cwd })
      const files = { 'compose-ps.json': ps.stdout, ...extra }
      bundle = await writeLogBundle(
        diagnostics,
        { dir: options.logDir, project, extra: files, redact },
        executor
      )
      reporter.setOutput('log-bundle', bundle)
    } catch (error) {
      reporter.warning(`Could not write the log bundle: ${(error as Error).message}`)
    }
    throw new SmokeFailedError(failures, bundle, smokeFailureMessage(failures, headline))
  }

  try {
    const deadline = started + options.waitTimeoutSeconds * 1000
    for (;;) {
      const state = await assess(executor, base, cwd, plan, services)
      for (const name of state.readyServices) serviceSeconds[name] ??= (Date.now() - started) / 1000
      if (state.failed.length > 0) await fail(state.failed, 'Smoke test failed')
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
        const failures = startFailures(
          finished.stderr || finished.stdout,
          project,
          neverStarted.length > 0 ? neverStarted : state.pending
        )
        await fail(failures, 'Smoke test failed: the stack did not start')
      }
      if (Date.now() > deadline) {
        await fail(
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

    const needPorts =
      options.probes.some(p => p.kind !== 'exec') || options.testCommand !== undefined
    const ports = needPorts
      ? await resolvePublishedPorts(
          stackServices,
          { base, cwd },
          { executor, log: line => reporter.info(line) }
        )
      : []
    const probes = await runProbes(
      options.probes,
      { base, cwd, ports },
      { executor, log: line => reporter.info(line) }
    )
    for (const result of probes)
      reporter.info(`probe ${result.name}: ${result.ok ? 'ok' : `FAILED: ${result.detail}`}`)
    const failedProbes = probes.filter(result => !result.ok)
    if (failedProbes.length > 0) {
      await reporter.addSummary(`### Smoke probes\n\n${renderProbeTable(probes)}\n`)
      await fail(
        failedProbes.map(result => ({
          service: result.target.split(':')[0] as string,
          reason: `probe ${result.name} failed: ${result.detail}`
        })),
        'Smoke test failed',
        { 'probes.json': JSON.stringify(probes, null, 2) }
      )
    }

    if (options.testCommand !== undefined) {
      const urls = stackUrls(stackServices, ports)
      reporter.info(`Running the test command with ${Object.keys(urls).join(', ') || 'no URLs'}`)
      const test = await reporter.group('Test command', () =>
        executor.run(testCommandArgs(options.testCommand as string), {
          cwd,
          env: urls,
          stream: true
        })
      )
      if (test.exitCode !== 0) {
        throw new SmokeFailedError(
          [],
          undefined,
          `Smoke test failed: the test command exited with code ${test.exitCode}: ${lastLines(test.stderr || test.stdout, 1)}`
        )
      }
    }
    return {
      project,
      secondsToReady,
      serviceSeconds,
      probes,
      totalSeconds: (Date.now() - started) / 1000
    }
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
        try {
          fs.rmSync(dir, { recursive: true, force: true })
        } catch (error) {
          // A container may have written root-owned files into a persistent folder of the run.
          reporter.warning(`Could not remove ${dir}: ${(error as Error).message}`)
        }
      }
    }
    // `up` ends by itself once its containers are gone or its wait-timeout passes.
    await upDone
  }
}
