/**
 * The release on the host: our own files (.env 0600, the overrides), the secret files (0400),
 * then the project tree: the live release's unchanged files hard-linked, the rest sent as one
 * tarball on the same connection; then the store objects and the persistent folders; the
 * manifest last, so a release with a manifest is whole.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { EXTRA_COMPOSE_DIR } from '../../compose/project-files.js'
import { lastLines, runForBytes } from '../../exec/executor.js'
import { allSettledOrThrow } from '../../exec/time.js'
import { createTarballArgv, projectTreeCommands } from '../commands.js'
import { layoutOf, readManifest, runStep, writeManifest, type HostContext } from '../host.js'
import {
  FILES_OVERRIDE,
  IMAGES_OVERRIDE,
  linkListText,
  objectListText,
  splitUnchanged,
  tarMemberList
} from '../release-files.js'
import type { Manifest } from '../release.js'
import type { DeployRelease } from '../settings.js'

export interface Upload {
  /** Every file but the manifest is on the host: what the pull needs. Rejects as `done` does. */
  files: Promise<void>
  /** The whole step, the manifest last; says whether the manifest it wrote names a backup. */
  done: Promise<{ backupRecorded: boolean }>
}

/**
 * Starts the upload. `files` lets the pull start before the manifest is written; `done` is the
 * step (a DeployError on failure).
 */
export function upload(
  ctx: HostContext,
  release: DeployRelease,
  manifest: Manifest,
  previous: string | undefined
): Upload {
  let filesWritten: (value: Promise<void>) => void = () => undefined
  const written = new Promise<void>(resolve => (filesWritten = resolve))
  const done = runStep(ctx, 'upload', async () => {
    const writing = writeFiles(ctx, release, previous)
    filesWritten(writing)
    await writing
    // The backup, if it is done by now, goes into this write (else the pipeline writes again).
    const backupRecorded = manifest.backup !== undefined
    await writeManifest(ctx, manifest)
    return { backupRecorded }
  })
  // Settles with the step too: a step that fails before it writes anything (the lock was
  // taken over) must not leave the pull waiting.
  const files = Promise.race([written, done.then(() => undefined)])
  return { files, done }
}

async function writeFiles(
  ctx: HostContext,
  release: DeployRelease,
  previous: string | undefined
): Promise<void> {
  const { session, layout, settings } = ctx
  // The live release's manifest says which files can be hard-linked; read it meanwhile.
  const [, before] = await Promise.all([
    session.runChecked(projectTreeCommands.makeDirs(layout), 'create the release directory', {
      timeoutSeconds: settings.timeouts.quick
    }),
    previous ? readManifest(ctx, previous) : undefined
  ])
  const write = (file: string, content: string, mode: number, step?: string) =>
    session.writeFile(file, content, mode, { step, timeoutSeconds: settings.timeouts.write })
  const inRelease = (name: string) => path.posix.join(layout.release, name)
  // Independent files, written at once over the one connection (its session limit applies).
  await allSettledOrThrow([
    write(inRelease(IMAGES_OVERRIDE), release.imagesOverride, 0o644),
    write(inRelease(FILES_OVERRIDE), release.filesOverride, 0o644),
    write(inRelease('.env'), release.envFile, 0o600, 'write the env file'),
    ...release.secretFiles.map(secret =>
      write(
        path.posix.join(layout.secrets, secret.name),
        secret.content,
        0o400,
        `write the secret file ${secret.name}`
      )
    ),
    uploadTree(ctx, release, previous, before?.files)
  ])
}

async function uploadTree(
  ctx: HostContext,
  release: DeployRelease,
  previous: string | undefined,
  before: Record<string, string> | undefined
): Promise<void> {
  const { session, layout, settings } = ctx
  const { files } = release
  const t = settings.timeouts
  if (files.extraComposeFiles.length > 0) {
    await session.runChecked(
      ['mkdir', '-p', path.posix.join(layout.tree, EXTRA_COMPOSE_DIR)],
      'create the release directory',
      { timeoutSeconds: t.quick }
    )
    await Promise.all(
      files.extraComposeFiles.map(file =>
        session.writeFile(
          path.posix.join(layout.tree, file.relative),
          fs.readFileSync(file.absolute, 'utf8'),
          0o644,
          { timeoutSeconds: t.write }
        )
      )
    )
  }
  const { link, send } = splitUnchanged(files.entries, before)
  let notLinked: string[] = []
  if (link.length > 0 && previous) {
    const linked = await session.runChecked(
      projectTreeCommands.linkUnchanged(layoutOf(ctx, previous).tree, layout),
      'link unchanged files',
      { input: linkListText(link), timeoutSeconds: t.files }
    )
    notLinked = linked.stdout.split('\n').filter(Boolean)
  }
  const toSend = [...send, ...link.filter(entry => notLinked.includes(entry.path))]
  let bytesSent = 0
  if (toSend.length > 0) {
    const tarball = await runForBytes(
      createTarballArgv(files.root),
      tarMemberList(toSend),
      files.root
    )
    if (tarball.exitCode !== 0)
      throw new Error(`tar of the project files failed here: ${lastLines(tarball.stderr, 3)}`)
    bytesSent = tarball.stdout.length
    await session.runChecked(projectTreeCommands.extract(layout), 'unpack the files', {
      input: tarball.stdout,
      timeoutSeconds: t.files
    })
  }
  ctx.report.files = {
    sent: toSend.filter(entry => entry.type !== 'dir').length,
    linked: link.length - notLinked.length,
    bytesSent
  }
  await Promise.all([
    files.objects.length > 0
      ? session.runChecked(projectTreeCommands.makeObjects(layout), 'store objects', {
          input: objectListText(files),
          timeoutSeconds: t.files
        })
      : undefined,
    files.persistent.length > 0
      ? session.runChecked(
          projectTreeCommands.makeShared(
            layout,
            files.persistent.map(p => p.relative)
          ),
          'create the persistent folders',
          { timeoutSeconds: t.quick * 2 }
        )
      : undefined
  ])
}
