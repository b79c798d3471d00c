/**
 * The live release's database, dumped before anything changes (it only reads what is live, so
 * it runs while the new release uploads and pulls). A database that is not
 * running, a failed dump or an empty one stops the deploy before it migrates: only a first
 * deploy (nothing live) and `backup: false` (no backup service) go without.
 */
import * as path from 'node:path'
import { backupCommands, backupFileName } from '../commands.js'
import { composeOfRelease, runStep, type HostContext } from '../host.js'
import type { Manifest } from '../release.js'
import type { DeployRelease } from '../settings.js'

/**
 * A fixed script, values as "$1" and "$@": dumps through gzip into a temp file beside the
 * target and renames it, so a failed dump never leaves a file that looks like a backup.
 */
const BACKUP_SCRIPT =
  'out=$1; shift; tmp=$(mktemp "$out.XXXXXX"); trap \'rm -f "$tmp"\' EXIT; "$@" | gzip -c > "$tmp"; mv -f "$tmp" "$out"; trap - EXIT'

/** gzip of an empty dump is about 20 bytes; a real pg_dump has a header of several hundred. */
const MIN_DUMP_BYTES = 100

/** Backups to delete: all dumps of this service but the newest `keep`. */
export function backupsToPrune(files: string[], service: string, keep: number): string[] {
  const own = files.filter(file => file.endsWith(`-${service}.sql.gz`)).sort()
  return own.slice(0, Math.max(0, own.length - keep))
}

export async function backup(
  ctx: HostContext,
  release: DeployRelease,
  manifest: Manifest,
  previous: string | undefined
): Promise<void> {
  const wanted = release.backup
  if (!wanted || !previous) return
  const { session, layout, settings } = ctx
  const t = settings.timeouts
  const { service } = wanted
  await runStep(ctx, 'backup', async () => {
    const live = { id: previous, compose: await composeOfRelease(ctx, previous) }
    // No migration without a backup: a stopped database is a reason to stop, not to skip.
    if (!(await ctx.runtime.isRunning(live, service))) {
      throw new Error(
        `${service} of the live release ${previous} is not running, so no backup can be taken before the migration; start it, or deploy with backup: false`
      )
    }
    const file = path.posix.join(layout.backups, backupFileName(release.releaseId, service))
    await session.runScript(
      BACKUP_SCRIPT,
      [file, ...ctx.runtime.dumpArgv(live, service)],
      'pg_dump',
      {
        timeoutSeconds: t.dump
      }
    )
    await session.runChecked(backupCommands.verify(file), 'check the backup', {
      timeoutSeconds: t.checkDump
    })
    const size = Number(
      (
        await session.runChecked(backupCommands.size(file), 'backup size', {
          timeoutSeconds: t.quick
        })
      ).stdout.trim()
    )
    if (!(size > MIN_DUMP_BYTES)) throw new Error(`the backup ${file} is empty (${size} bytes)`)
    // The caller writes it into the release's manifest (the upload may still be running).
    manifest.backup = { service, file, bytes: size }
    ctx.report.backup = manifest.backup
    const listing = await session.run(backupCommands.list(layout), { timeoutSeconds: t.quick })
    const old = backupsToPrune(listing.stdout.split('\n').filter(Boolean), service, wanted.keep)
    if (old.length > 0)
      await session.run(backupCommands.remove(layout, old), { timeoutSeconds: t.prune })
  })
}
