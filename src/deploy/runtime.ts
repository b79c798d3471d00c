/**
 * The runtime seam: what depends on how the stack runs on the host (Docker Compose today, Swarm
 * next) sits behind this interface, so that the pipeline (./pipeline.ts) never builds a
 * runtime's commands itself. A second runtime plugs in here without touching the steps.
 */
import type { CommandResult } from '../exec/executor.js'
import type { ReleaseCompose } from './release.js'

/** A release on the host, as a runtime addresses it. */
export interface RuntimeRelease {
  id: string
  compose: ReleaseCompose
}

/**
 * A long host command (a migration, a rollout) that must not be cut off half-way: the lock
 * step wraps it so that it survives a dropped connection and the lock stays while it runs.
 */
export type LongCommand = (
  id: string,
  argv: string[],
  timeoutSeconds: number
) => { argv: string[]; timeoutSeconds: number }

export interface Runtime {
  /**
   * Pulls every image the release runs (the registry login is the caller's; `env` says where
   * its credentials are).
   */
  pull(release: RuntimeRelease, env?: Record<string, string>): Promise<void>
  /**
   * argv that prints a dump of the live `service`'s database on stdout (credentials stay in
   * the container); undefined when the service has no running container.
   */
  dumpArgv(service: string): Promise<string[] | undefined>
  /** Runs the one-shot migration job to completion; a non-zero exit is a result. */
  migrate(release: RuntimeRelease, service: string, timeoutSeconds: number): Promise<CommandResult>
  /**
   * Starts reading, without changing anything, what bringUp(release) will decide from (which
   * services need a new container), so that it overlaps the migration. bringUp reads it again
   * if this was not called.
   */
  lookAhead(release: RuntimeRelease): void
  /**
   * Brings the release up: the zero-downtime services first (new container healthy before the
   * old one stops), then everything else; `step` names it in errors. `jobsDone`: one-shot jobs
   * that already ran for this release (the migration), not to be run again.
   */
  bringUp(release: RuntimeRelease, step: string, jobsDone?: readonly string[]): Promise<void>
}
