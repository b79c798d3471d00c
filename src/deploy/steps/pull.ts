/**
 * The new release's images, pulled before anything that runs changes. The registry login
 * overlaps the upload; the pull itself needs the release's compose files, so it waits for
 * `uploaded` (and is skipped if the upload failed: that failure is the deploy's).
 *
 * The login goes into a Docker config folder of this run's own (DOCKER_CONFIG), removed
 * afterwards (the logout): the deploy user's ~/.docker/config.json is shared by every project on the host,
 * and another project's deploy logging out there would fail this pull half-way.
 */
import { randomBytes } from 'node:crypto'
import * as path from 'node:path'
import { loginArgs } from '../../exec/docker.js'
import { remoteScriptArgv } from '../../exec/remote.js'
import { runStep, type HostContext } from '../host.js'
import type { DeployRelease } from '../settings.js'

/**
 * Makes the run's Docker config folder (0700), with the user's CLI plugins linked in: compose
 * may be installed per user, in ~/.docker/cli-plugins. $1 = the folder.
 */
const DOCKER_CONFIG_SCRIPT = [
  'mkdir -m 700 -- "$1"',
  'plugins="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"',
  'if [ -d "$plugins" ]; then ln -s -- "$plugins" "$1/cli-plugins"; fi'
].join('\n')

export async function pull(
  ctx: HostContext,
  release: DeployRelease,
  uploaded: Promise<unknown> = Promise.resolve()
): Promise<void> {
  const { session, settings, layout } = ctx
  const quick = { timeoutSeconds: settings.timeouts.quick }
  await runStep(ctx, 'pull', async () => {
    const registry = release.registry
    const config = path.posix.join(layout.root, `.docker-${randomBytes(6).toString('hex')}`)
    const env = registry ? { DOCKER_CONFIG: config } : undefined
    try {
      if (registry) {
        await session.runChecked(
          remoteScriptArgv(DOCKER_CONFIG_SCRIPT, [config]),
          'registry login',
          quick
        )
        await session.runChecked(loginArgs(registry.host, registry.username), 'registry login', {
          input: registry.password,
          env,
          timeoutSeconds: settings.timeouts.login
        })
      }
      if (
        await uploaded.then(
          () => true,
          () => false
        )
      )
        await ctx.runtime.pull({ id: release.releaseId, compose: release.compose }, env)
    } finally {
      // The credentials are in the folder's config.json (it names no credential helper), and a
      // registry keeps no session to end: removing the folder is the whole of a logout.
      if (registry) await session.run(['rm', '-rf', '--', config], quick)
    }
  })
}
