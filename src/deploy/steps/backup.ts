/**
 * The live release's database, dumped before anything changes (it only reads what is live, so
 * it runs while the new release uploads and pulls). A database that is not
 * running, a failed dump or an empty one stops the deploy before it migrates: only a first
 * deploy (nothing live) and `backup: false` (no backup service) go without.
 */
import * as path from 'node:path'
import { backupCommands, backupFileName } from '../commands.js'
import { runStep, writeManifest, type HostContext } from '../host.js'
import type { Manifest } from '../release.js'
import type { DeployRelease } from '../settings.js'

/**
 * A fixed script, values as "$1" and "$@": dumps through gzip into a temp file beside the
 * target, proves it a whole gzip stream (gzip -t), renames it and prints its size: a failed
 * dump never leaves a file that looks like a backup. One command: each round trip counts, as
 * the backup is on the way to the migration.
 */
const BACKUP_SCRIPT = [
  'out=$1; shift',
  'tmp=$(mktemp "$out.XXXXXX"); trap \'rm -f "$tmp"\' EXIT',
  '"$@" | gzip -c > "$tmp"',
  'gzip -t "$tmp" || { echo "the dump in $tmp is not a whole gzip stream" >&2; exit 1; }',
  'mv -f "$tmp" "$out"; trap - EXIT',
  'stat -c %s "$out"'
].join('\n')

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
  previous: string | undefined,
  /** The upload, which writes the manifest: the backup goes into it, or into a second write. */
  uploaded: Promise<{ backupRecorded: boolean }>
): Promise<void> {
  const wanted = release.backup
  if (!wanted || !previous) return
  const { session, layout, settings } = ctx
  const t = settings.timeouts
  const { service } = wanted
  await runStep(ctx, 'backup', async () => {
    const dump = await ctx.runtime.dumpArgv(service)
    // No migration without a backup: a stopped database is a reason to stop, not to skip.
    if (!dump) {
      throw new Error(
        `${service} of the live release ${previous} is not running, so no backup can be taken before the migration; start it, or deploy with backup: false`
      )
    }
    const file = path.posix.join(layout.backups, backupFileName(release.releaseId, service))
    const dumped = await session.runScript(BACKUP_SCRIPT, [file, ...dump], 'pg_dump', {
      timeoutSeconds: t.dump + t.checkDump
    })
    const size = Number(dumped.stdout.trim().split('\n').pop())
    if (!(size > MIN_DUMP_BYTES)) throw new Error(`the backup ${file} is empty (${size} bytes)`)
    manifest.backup = { service, file, bytes: size }
    ctx.report.backup = manifest.backup
    const listing = await session.run(backupCommands.list(layout), { timeoutSeconds: t.quick })
    const old = backupsToPrune(listing.stdout.split('\n').filter(Boolean), service, wanted.keep)
    if (old.length > 0)
      await session.run(backupCommands.remove(layout, old), { timeoutSeconds: t.prune })
    // Into the release's manifest: the upload's write has it if it began after this point;
    // else, once that write is done, a second one. (A failed upload is the deploy's failure.)
    const recorded = await uploaded.then(
      done => done.backupRecorded,
      () => true
    )
    if (!recorded) await writeManifest(ctx, manifest)
  })
}
