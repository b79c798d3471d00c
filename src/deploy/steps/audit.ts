/** One JSON line per deploy and rollback in the host's audit.log, secrets redacted. */
import { releaseCommands } from '../commands.js'
import type { HostContext } from '../host.js'

export async function audit(
  ctx: HostContext,
  action: 'deploy' | 'rollback' | 'deploy failed',
  release: string,
  detail: string
): Promise<void> {
  const { sha, actor, runUrl } = ctx.settings
  const line = ctx.reporter.redact(
    JSON.stringify({
      time: ctx.now().toISOString(),
      action,
      release,
      actor,
      sha,
      run: runUrl,
      detail
    })
  )
  await ctx.session.run(releaseCommands.appendAudit(ctx.layout), {
    input: `${line}\n`,
    timeoutSeconds: ctx.settings.timeouts.quick
  })
}
