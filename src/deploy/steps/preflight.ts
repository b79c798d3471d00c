/**
 * Before anything changes on a host: docker and compose v2 are there, the deploy path is
 * writable, the disk has room, and the host paths the compose files name exist.
 */
import type { ProjectFiles } from '../../compose/project-files.js'
import { parseDiskFree, preflightCommands, projectTreeCommands } from '../commands.js'
import { allSettledOrThrow } from '../../exec/time.js'
import { runStep, type HostContext } from '../host.js'
import { hostLockPreflightArgv } from '../host-lock.js'

export async function preflight(
  ctx: HostContext,
  needs: { minFreeMiB: number; files: ProjectFiles | undefined }
): Promise<void> {
  const { session } = ctx
  const quick = { timeoutSeconds: ctx.settings.timeouts.quick }
  await runStep(ctx, 'preflight', async () => {
    // Independent checks, at once over the one connection.
    const [, compose] = await allSettledOrThrow([
      session.runChecked(preflightCommands.dockerVersion(), 'docker version', quick),
      session.run(preflightCommands.composeVersion(), quick),
      // The lock's scripts need flock, setsid and /proc (util-linux, Linux).
      session.runChecked(hostLockPreflightArgv(), 'check the lock tools', quick),
      deployPathReady(ctx, needs.minFreeMiB),
      checkHostPaths(ctx, needs.files)
    ])
    if (compose.exitCode !== 0 || !/^v?2\./.test(compose.stdout.trim())) {
      throw new Error(
        'Docker Compose v2 is not installed on the host (docker compose version failed); install the docker-compose-plugin package'
      )
    }
  })
}

/** The deploy path exists, the deploy user can write it, and it has min-free-disk MiB free. */
async function deployPathReady(ctx: HostContext, minFreeMiB: number): Promise<void> {
  const { session, layout } = ctx
  const quick = { timeoutSeconds: ctx.settings.timeouts.quick }
  await session.runChecked(preflightCommands.makeDirs(layout), 'create the deploy path', quick)
  const [writable, df] = await allSettledOrThrow([
    session.run(preflightCommands.writable(layout), quick),
    session.runChecked(preflightCommands.diskFree(layout.root), 'free disk', quick)
  ])
  if (writable.exitCode !== 0) throw new Error(`${layout.root} is not writable by the deploy user`)
  const freeKiB = parseDiskFree(df.stdout)
  if (freeKiB !== undefined && freeKiB < minFreeMiB * 1024) {
    throw new Error(
      `only ${Math.round(freeKiB / 1024)} MiB free under ${layout.root}; need ${minFreeMiB} MiB (min-free-disk)`
    )
  }
}

/**
 * Paths the compose files name absolutely are the host's own: a read-only one must exist
 * (Docker would make an empty root-owned folder in its place); a writable one Docker makes.
 */
async function checkHostPaths(ctx: HostContext, files: ProjectFiles | undefined): Promise<void> {
  const hostPaths = files?.hostPaths ?? []
  if (hostPaths.length === 0) return
  const host = ctx.session.host
  const result = await ctx.session.runChecked(
    projectTreeCommands.missingPaths(hostPaths.map(h => h.path)),
    'check the host paths',
    { timeoutSeconds: ctx.settings.timeouts.quick }
  )
  const missing = new Set(result.stdout.split('\n').filter(Boolean))
  const absent = hostPaths.filter(h => missing.has(h.path))
  for (const h of absent.filter(h => !h.required))
    ctx.reporter.warning(
      `[${host}] ${h.path} (${h.usedBy}) does not exist on the host; Docker will create it as an empty folder owned by root`
    )
  const required = absent.filter(h => h.required)
  if (required.length > 0)
    throw new Error(
      `${required.map(h => `${h.path} (${h.usedBy})`).join(', ')} ${required.length > 1 ? 'do' : 'does'} not exist on ${host}; these are host paths (written absolute in the compose files): create them there first`
    )
}
