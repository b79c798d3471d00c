/**
 * The day-2 commands over every host of an environment, on the deploy's own host sessions
 * (forEachHost: one pinned SSH connection per host, closed at the end).
 */
import type { HostContext } from '../deploy/host.js'
import { forEachHost } from '../deploy/hosts.js'
import { legacyCompose } from '../deploy/release.js'
import { hostSettings, hostsOf, type RollbackContext } from '../deploy/stage.js'
import type { Reporter } from '../report/reporter.js'
import { readHostReleases, type HostReleases } from './releases.js'

/** A day-2 command needs what a rollback needs: the hosts and the project, no images. */
export type OpsContext = RollbackContext

/** `command: releases`: each host's releases, in the order of the hosts input. */
export async function releasesStage(
  context: OpsContext,
  reporter: Reporter
): Promise<HostReleases[]> {
  const settings = hostSettings(context, legacyCompose(context.ref.files))
  const opened: HostContext[] = []
  const found: HostReleases[] = []
  await forEachHost({
    ...hostsOf(context, settings, reporter, undefined, opened),
    run: async host => {
      found.push(await readHostReleases(host))
    }
  })
  return found
}
