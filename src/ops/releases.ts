/**
 * `command: releases`: each host's releases, newest first, the live one marked, with what each
 * manifest says (commit, actor, time, images) and the backups taken for it (the dump of the
 * database that was live before that release migrated). Read-only: no lock is taken.
 */
import { backupCommands, parseBackupFileName } from '../deploy/commands.js'
import { currentRelease, listReleases, readManifests, type HostContext } from '../deploy/host.js'
import type { Manifest } from '../deploy/release.js'
import { codeCell, tableCell } from '../report/markdown.js'

export interface ReleaseBackup {
  service: string
  /** The file on the host. */
  file: string
  /** As the release's manifest recorded it, when it did. */
  bytes: number | undefined
}

export interface ReleaseEntry {
  id: string
  live: boolean
  sha: string | undefined
  actor: string | undefined
  createdAt: string | undefined
  runUrl: string | undefined
  /** service -> image@digest. */
  images: Record<string, string>
  backups: ReleaseBackup[]
  /** False when the manifest is missing or unreadable (the release is not whole). */
  complete: boolean
}

export interface HostReleases {
  host: string
  live: string | undefined
  /** Newest first. */
  releases: ReleaseEntry[]
}

/**
 * The releases of one host, newest first, from what the host lists. `backupFiles` are the
 * names in backups/; a backup belongs to the release it was taken for.
 */
export function releaseEntries(
  ids: readonly string[],
  live: string | undefined,
  manifests: ReadonlyMap<string, Partial<Manifest> | undefined>,
  backupFiles: readonly string[],
  backupsDir: string
): ReleaseEntry[] {
  const backups = new Map<string, ReleaseBackup[]>()
  for (const name of [...backupFiles].sort()) {
    const parsed = parseBackupFileName(name)
    if (!parsed) continue
    const recorded = manifests.get(parsed.releaseId)?.backup
    const file = `${backupsDir}/${name}`
    const list = backups.get(parsed.releaseId) ?? []
    list.push({
      service: parsed.service,
      file,
      bytes: recorded && recorded.file === file ? recorded.bytes : undefined
    })
    backups.set(parsed.releaseId, list)
  }
  return [...ids]
    .sort()
    .reverse()
    .map(id => {
      const manifest = manifests.get(id)
      return {
        id,
        live: id === live,
        sha: manifest?.sha,
        actor: manifest?.actor,
        createdAt: manifest?.createdAt,
        runUrl: manifest?.runUrl,
        images: manifest?.images ?? {},
        backups: backups.get(id) ?? [],
        complete: manifest !== undefined
      }
    })
}

/** Reads one host's releases: the listing, `current`, every manifest and the backups. */
export async function readHostReleases(ctx: HostContext): Promise<HostReleases> {
  const [ids, live, backupListing] = await Promise.all([
    listReleases(ctx),
    currentRelease(ctx),
    ctx.session.run(backupCommands.list(ctx.layout), {
      timeoutSeconds: ctx.settings.timeouts.quick
    })
  ])
  const manifests = await readManifests(ctx, ids)
  // No backups/ folder yet (nothing deployed with a backup) is an empty list.
  const backupFiles = backupListing.exitCode === 0 ? backupListing.stdout.split('\n') : []
  return {
    host: ctx.session.host,
    live,
    releases: releaseEntries(ids, live, manifests, backupFiles, ctx.layout.backups)
  }
}

const shortSha = (sha: string | undefined): string => (sha ? oneLine(sha.slice(0, 7)) : '?')

/**
 * A manifest's text on one line, without control characters: a manifest is a file on the host,
 * and what it says must neither split a line nor drive the terminal (escape sequences).
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it removes
const oneLine = (text: string): string => text.replace(/[\u0000-\u001f\u007f]+/g, ' ')

/** One line per release, each prefixed with its host: what the CLI prints. */
export function renderReleasesText(hosts: readonly HostReleases[]): string {
  const lines: string[] = []
  for (const host of hosts) {
    if (host.releases.length === 0) lines.push(`[${host.host}] no releases`)
    for (const release of host.releases) {
      const backups = release.backups.map(b => `backup ${b.service}: ${b.file}`)
      const parts = [
        `${release.live ? '*' : ' '} ${release.id}`,
        release.complete
          ? `${shortSha(release.sha)} by ${oneLine(release.actor ?? '?')} at ${oneLine(release.createdAt ?? '?')}`
          : 'no manifest (incomplete)',
        ...backups
      ]
      lines.push(`[${host.host}] ${parts.join('  ')}`)
    }
  }
  return `${lines.join('\n')}\n`
}

/** A manifest's text in a table cell: report/markdown's escaping, after oneLine. */
const cell = (text: string): string => tableCell(oneLine(text))

/** The job summary: a table per host. */
export function releasesMarkdown(hosts: readonly HostReleases[]): string {
  const parts = ['## Releases\n']
  for (const host of hosts) {
    parts.push(`### ${cell(host.host)}\n`)
    if (host.releases.length === 0) {
      parts.push('No releases.\n')
      continue
    }
    parts.push('| | Release | Commit | By | At | Backups |', '|---|---|---|---|---|---|')
    for (const release of host.releases)
      parts.push(
        `| ${release.live ? 'live' : ''} | \`${release.id}\` | ${release.complete ? codeCell(shortSha(release.sha)) : 'no manifest'} | ${cell(release.actor ?? '')} | ${cell(release.createdAt ?? '')} | ${release.backups.map(b => codeCell(oneLine(b.file))).join('<br>')} |`
      )
    parts.push('')
  }
  return `${parts.join('\n')}\n`
}
