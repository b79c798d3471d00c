/**
 * The migration job of the new release, before the switch: a failure leaves the previous
 * release serving. Its output (the last lines) goes to the summary, redacted.
 */
import { DeployError } from '../../errors.js'
import { runStep, type HostContext } from '../host.js'
import type { DeployRelease } from '../settings.js'

const OUTPUT_LINES = 40

/** Compose's own progress lines on stderr ("Container shop-postgres-1  Running"). */
const COMPOSE_PROGRESS =
  /^\s*Container \S+\s+(?:Creating|Created|Recreate|Recreated|Starting|Started|Running|Waiting|Healthy|Stopping|Stopped|Removing|Removed)\s*$/

/**
 * The last `count` lines the job itself printed (the reference api logs to stdout), without
 * compose's progress lines, which would otherwise be all an error quotes.
 */
export function jobOutputTail(stdout: string, stderr: string, count: number): string[] {
  return [...stdout.split('\n'), ...stderr.split('\n')]
    .map(line => line.trimEnd())
    .filter(line => line.trim() !== '' && !COMPOSE_PROGRESS.test(line))
    .slice(-count)
}

export async function migrate(ctx: HostContext, release: DeployRelease): Promise<void> {
  const job = release.migrate
  if (!job) return
  try {
    await runStep(ctx, 'migrate', async () => {
      const result = await ctx.runtime.migrate(
        { id: release.releaseId, compose: release.compose },
        job.service,
        job.timeoutSeconds
      )
      ctx.report.migrationOutput = ctx.reporter.redact(
        `${result.stdout}${result.stderr}`.trim().split('\n').slice(-OUTPUT_LINES).join('\n')
      )
      if (result.exitCode !== 0) {
        throw new Error(
          `the migration (service ${job.service}) exited with code ${result.exitCode}; the previous release keeps serving. Last lines: ${ctx.reporter.redact(jobOutputTail(result.stdout, result.stderr, 3).join(' | '))}`
        )
      }
    })
  } catch (error) {
    // It may have committed part of its work: the error names the backup taken before it.
    if (error instanceof DeployError && ctx.report.backup)
      throw new DeployError({ ...error.fields(), backup: ctx.report.backup.file })
    throw error
  }
}
