/**
 * The project's files on a host, as data: how compose addresses a release, which files are
 * sent and which are hard-linked from the live release, where objects, persistent folders and
 * secrets are. Pure; steps/upload.ts runs the commands, report/deploy-summary.ts says what shipped.
 */
import * as path from 'node:path'
import type { FileEntry, FileLocations, ProjectFiles } from '../compose/project-files.js'
import type { ReleaseCompose, ReleaseLayout } from './release.js'

/** Where a release keeps the project tree, relative to the release. */
export const TREE = 'project'
export const IMAGES_OVERRIDE = 'images.override.yaml'
export const FILES_OVERRIDE = 'files.override.yaml'

/** How compose runs this release on a host (recorded in its manifest). */
export function releaseComposeOf(files: ProjectFiles, profiles: string[]): ReleaseCompose {
  const inTree = (relative: string): string => path.posix.join(TREE, relative)
  return {
    projectDirectory: inTree(files.projectDirectory),
    composeFiles: files.composeFiles.map(inTree),
    envFiles: files.envFiles.map(inTree),
    overrides: [IMAGES_OVERRIDE, FILES_OVERRIDE],
    profiles: [...profiles]
  }
}

/** The manifest's record of the tree: what a later release compares against. */
export function manifestFileMap(entries: FileEntry[]): Record<string, string> {
  const map: Record<string, string> = {}
  for (const entry of entries)
    map[entry.path] =
      entry.type === 'symlink'
        ? `link:${entry.sha256}`
        : entry.type === 'dir'
          ? `dir:${entry.mode.toString(8).padStart(4, '0')}`
          : `${entry.sha256}:${entry.mode.toString(8).padStart(4, '0')}`
  return map
}

/**
 * Which files are hard-linked from the live release (same content and mode: the host checks the
 * content again before it links) and which are sent. Symlinks and folders are always sent:
 * they are a tar header each.
 */
export function splitUnchanged(
  entries: FileEntry[],
  previous: Record<string, string> | undefined
): { link: FileEntry[]; send: FileEntry[] } {
  const current = manifestFileMap(entries)
  const link: FileEntry[] = []
  const send: FileEntry[] = []
  for (const entry of entries) {
    if (entry.type === 'file' && previous && previous[entry.path] === current[entry.path])
      link.push(entry)
    else send.push(entry)
  }
  return { link, send }
}

/** The link script's input: `<sha256> <path>` lines (paths never hold a line break). */
export function linkListText(entries: FileEntry[]): string {
  return entries.map(entry => `${entry.sha256} ${entry.path}\n`).join('')
}

/**
 * The tarball's member list (NUL-separated, for `tar --null --files-from=-`): each folder on the
 * way to a sent file first, so that tar records its mode, then the files.
 */
export function tarMemberList(send: FileEntry[]): string {
  const dirs = new Set<string>(send.filter(entry => entry.type === 'dir').map(entry => entry.path))
  for (const entry of send) {
    let dir = path.posix.dirname(entry.path)
    while (dir !== '.' && !dirs.has(dir)) {
      dirs.add(dir)
      dir = path.posix.dirname(dir)
    }
  }
  const others = send.filter(entry => entry.type !== 'dir').map(entry => entry.path)
  return [...[...dirs].sort(), ...others].map(p => `${p}\0`).join('')
}

/** The objects script's input: `<name> <copy|link> <relative path>` lines. */
export function objectListText(files: ProjectFiles): string {
  return files.objects
    .map(object => `${object.name} ${object.writable ? 'copy' : 'link'} ${object.relative}\n`)
    .join('')
}

/** Where everything is on the host, for the files override. */
export function hostLocations(layout: ReleaseLayout): FileLocations {
  return {
    object: name => path.posix.join(layout.store, name),
    shared: relative => path.posix.join(layout.shared, relative),
    secret: name => path.posix.join(layout.secrets, name)
  }
}

/** Object names no kept release mounts any more. */
export function objectsToPrune(present: string[], kept: (string[] | undefined)[]): string[] {
  const keep = new Set(kept.flatMap(list => list ?? []))
  return present.filter(name => /^[0-9a-f]{16}-/.test(name) && !keep.has(name)).sort()
}
