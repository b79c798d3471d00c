/**
 * What a release carries, decided once on the runner and used alike by smoke and deploy: the
 * files and folders the compose project references (./references.ts), each classified.
 *
 * - shipped: copied into every release with their layout relative to the project root
 *   (working-directory), so a rollback brings back the old config too. Compose files (and
 *   their include/extends targets), the project's `.env`, `env_file`s, `configs` files,
 *   read-only bind mounts and writable single files.
 * - persistent: writable bind-mounted folders. They hold data (uploads, logs, backups), so they
 *   live in one place per project on the host (`shared/`, as Capistrano's linked_dirs) that
 *   every release and rollback sees, and that is never pruned.
 * - host paths: written absolute (`/etc/letsencrypt`): the host's own, left alone, checked.
 * - secret files: never in the project tree that is shipped or hashed; sent on their own, 0400.
 *
 * Bind-mounted material is also addressed by content (an "object": `<hash>-<name>`), because
 * compose hashes a service with its mount sources: a per-release path would recreate every
 * service with a config mount on every deploy (postgres with its init folder, nginx with its
 * conf), while a content address changes exactly when the content does.
 */
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { stringify } from 'yaml'
import type { FileClosure, ProjectReference } from './references.js'

export type PathMode = 'persistent' | 'release'

/** Where a release keeps the compose files that came from outside the project. */
export const EXTRA_COMPOSE_DIR = '.stack-deploy-compose'

/** A shipped source larger than this is refused: big content belongs in an image or a volume. */
export const MAX_SHIPPED_BYTES = 64 * 1024 * 1024
export const MAX_SHIPPED_FILES = 5000

/**
 * One entry of the release's project tree: a regular file, a symlink inside the tree, or a
 * folder (listed so that an empty one, and every folder's mode, reach the host too).
 */
export interface FileEntry {
  /** Relative to the project root, posix separators. */
  path: string
  type: 'file' | 'symlink' | 'dir'
  /** Permission bits (regular files). */
  mode: number
  size: number
  /** sha256 of the content (of the link target's text, for a symlink). */
  sha256: string
  linkTarget?: string
}

export interface StoreObject {
  /** `<16 hex of the content hash>-<base name>`: stable while the content is. */
  name: string
  /** The source, relative to the project root. */
  relative: string
  /**
   * A writable mount (a single file, or a folder marked release): copied, never hard-linked, so
   * a container's writes stay there.
   */
  writable: boolean
}

export interface BindPlacement {
  service: string
  target: string
  readOnly: boolean
  relative: string
  /** Compose's own bind options (propagation, selinux), kept when the source is re-pointed. */
  options: Record<string, unknown>
  placement: { kind: 'object'; name: string } | { kind: 'shared' }
}

export interface PersistentPath {
  relative: string
  services: string[]
  /** Files the folder has in the working tree: persistent folders start empty on a host. */
  filesHere: number
}

export interface HostPath {
  path: string
  /** What uses it, for messages: `service api (/app/logs)`, `secret tls_key`. */
  usedBy: string
  /** A read-only use: a missing path is an error; a writable one Docker creates. */
  required: boolean
}

export interface SecretFile {
  name: string
  /** In the working tree, relative to the root; undefined when it is not there. */
  relative: string | undefined
  /** Services that use the secret. */
  services: string[]
}

export interface ConfigFile {
  name: string
  object: string
  services: string[]
}

export interface ProjectFiles {
  /** The project root on this machine (working-directory), absolute. */
  root: string
  /** compose's project directory (the first compose file's folder), relative to the root. */
  projectDirectory: string
  /** The compose files, in `-f` order, relative to the root (or in EXTRA_COMPOSE_DIR). */
  composeFiles: string[]
  /** Compose files given from outside the project: where the release keeps each. */
  extraComposeFiles: { relative: string; absolute: string }[]
  /** `--env-file` order: the project directory's `.env`, when there is one. Relative. */
  envFiles: string[]
  entries: FileEntry[]
  objects: StoreObject[]
  binds: BindPlacement[]
  persistent: PersistentPath[]
  hostPaths: HostPath[]
  secrets: SecretFile[]
  configs: ConfigFile[]
  /** Which shipped path each reference came from, for the summary. */
  shipped: { relative: string; usedBy: string[] }[]
}

/** A refusal that names what to fix: the service and path, and the input when there is one. */
export class ProjectFilesError extends Error {
  constructor(
    readonly input: 'paths' | 'compose-files' | 'secret-files',
    message: string
  ) {
    super(message)
    this.name = 'ProjectFilesError'
  }
}

/** Parses the `paths` input: `PATH: persistent|release` per line, PATH relative to the root. */
export function parsePathRules(text: string): Map<string, PathMode> {
  const rules = new Map<string, PathMode>()
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const match = /^(.+?)\s*:\s*(persistent|release)$/.exec(line)
    if (!match) {
      throw new ProjectFilesError(
        'paths',
        `line ${index + 1} "${line}" is not "PATH: persistent" or "PATH: release"`
      )
    }
    const normalized = path.posix.normalize((match[1] as string).replace(/\\/g, '/'))
    const relative = normalized.replace(/^\.\//, '').replace(/\/$/, '')
    if (relative === '.' || relative === '' || relative.startsWith('../') || relative === '..') {
      throw new ProjectFilesError(
        'paths',
        `line ${index + 1}: "${match[1]}" must be a path inside the project, relative to working-directory`
      )
    }
    rules.set(relative, match[2] as PathMode)
  }
  return rules
}

function toPosix(relative: string): string {
  return relative.split(path.sep).join('/')
}

/** A path.relative result that leaves its base (`..foo` is a name inside it). */
function leaves(relative: string): boolean {
  return relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)
}

/** The path relative to root, or undefined when it is outside (or is the root's ancestor). */
export function insideRoot(root: string, absolute: string): string | undefined {
  const relative = path.relative(root, absolute)
  if (leaves(relative)) return undefined
  return toPosix(relative)
}

function isAncestorOrSelf(ancestor: string, of: string): boolean {
  return !leaves(path.relative(ancestor, of))
}

function describeUse(reference: ProjectReference): string {
  const use = reference.use
  switch (use.kind) {
    case 'bind':
      return `service ${use.service} (${use.target})`
    case 'env-file':
      return `service ${use.service} (env_file)`
    case 'secret':
      return `secret ${use.name}`
    case 'config':
      return `config ${use.name}`
    case 'dotenv':
      return 'the project .env'
    case 'compose-file':
      return 'compose file'
  }
}

function statOf(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file)
  } catch {
    return undefined
  }
}

/** Every file and folder under `relative` (a file or a folder); symlinks must stay inside it. */
function walk(root: string, relative: string, usedBy: string): FileEntry[] {
  const entries: FileEntry[] = []
  let bytes = 0
  // Folders are listed too, but the limit is on files: a folder carries no content.
  let folders = 0
  const top = path.join(root, relative)
  const visit = (absolute: string): void => {
    const rel = toPosix(path.relative(root, absolute))
    if (/[\n\r]/.test(rel)) {
      throw new ProjectFilesError(
        'compose-files',
        `${usedBy}: "${rel}" has a line break in its name, which a release cannot carry`
      )
    }
    const stat = fs.lstatSync(absolute)
    if (stat.isDirectory()) {
      entries.push({ path: rel, type: 'dir', mode: stat.mode & 0o777, size: 0, sha256: '' })
      folders++
      for (const name of fs.readdirSync(absolute).sort()) visit(path.join(absolute, name))
      return
    }
    if (stat.isSymbolicLink()) {
      const target = fs.readlinkSync(absolute)
      const resolved = path.resolve(path.dirname(absolute), target)
      if (path.isAbsolute(target) || !isAncestorOrSelf(top, resolved) || resolved === top) {
        throw new ProjectFilesError(
          'compose-files',
          `${usedBy}: ${rel} is a symlink to ${target}, outside ${relative}; on the host it would point elsewhere. Replace it with the file, or mount the target itself`
        )
      }
      entries.push({
        path: rel,
        type: 'symlink',
        mode: 0o777,
        size: 0,
        sha256: createHash('sha256').update(target).digest('hex'),
        linkTarget: target
      })
      return
    }
    if (!stat.isFile()) {
      throw new ProjectFilesError(
        'compose-files',
        `${usedBy}: ${rel} is not a regular file or folder (a socket or device cannot be shipped)`
      )
    }
    bytes += stat.size
    if (bytes > MAX_SHIPPED_BYTES || entries.length - folders >= MAX_SHIPPED_FILES) {
      throw new ProjectFilesError(
        'paths',
        `${usedBy} mounts ${relative}, which holds more than ${MAX_SHIPPED_BYTES / 1024 / 1024} MiB or ${MAX_SHIPPED_FILES} files; releases carry config, not content: bake it into the image, or use a named volume`
      )
    }
    entries.push({
      path: rel,
      type: 'file',
      mode: stat.mode & 0o777,
      size: stat.size,
      sha256: createHash('sha256').update(fs.readFileSync(absolute)).digest('hex')
    })
  }
  visit(top)
  return entries
}

/** A stable name for the content under `relative`: its entries' names, types, modes, hashes. */
function objectName(relative: string, entries: FileEntry[]): string {
  const hash = createHash('sha256')
  const prefix = `${relative}/`
  for (const entry of entries) {
    const inner = entry.path === relative ? '' : entry.path.slice(prefix.length)
    hash.update(`${inner}\0${entry.type}\0${entry.mode}\0${entry.sha256}\n`)
  }
  const base = path.posix.basename(relative).replace(/[^A-Za-z0-9._-]/g, '_')
  return `${hash.digest('hex').slice(0, 16)}-${base}`
}

export interface ProjectFilesInput {
  root: string
  /** Compose files as given (relative to root, or absolute). */
  composeFiles: string[]
  /** The closure of compose files (absolute), from composeFileClosure. */
  closure: Pick<FileClosure, 'composeFiles' | 'includeEnvFiles'>
  references: ProjectReference[]
  rules: Map<string, PathMode>
  /** Which secrets and configs each service uses (serviceFileUses). */
  uses: Record<string, { secrets: string[]; configs: string[] }>
}

/**
 * Classifies every reference and lists the shipped files. Throws ProjectFilesError, naming the
 * service and path, for what cannot work on a host: a mount of the whole project, a relative path
 * that leaves the project, a missing file that should be shipped, too much content.
 */
export function planProjectFiles(input: ProjectFilesInput): ProjectFiles {
  const root = path.resolve(input.root)
  const firstFile = path.resolve(root, input.composeFiles[0] ?? 'compose.yaml')
  const projectDir = path.dirname(firstFile)
  const rel = (absolute: string, usedBy: string): string => {
    const relative = insideRoot(root, absolute)
    if (relative === undefined) {
      throw new ProjectFilesError(
        'compose-files',
        `${usedBy}: ${absolute} is outside the project folder ${root} (working-directory); on the host it would point outside the release. Move it into the project, or write the host's absolute path`
      )
    }
    return relative
  }

  const shippedRoots = new Map<string, Set<string>>()
  const ship = (relative: string, usedBy: string): void => {
    shippedRoots.set(relative, (shippedRoots.get(relative) ?? new Set()).add(usedBy))
  }
  // A later -f file may live outside the project (an override a CI step generated): compose
  // resolves its paths against the first file's folder wherever it is, so the release carries
  // it in a folder of its own. The first file's folder is the project directory: it must be in.
  const extraComposeFiles: ProjectFiles['extraComposeFiles'] = []
  const composeFiles = input.composeFiles.map((file, index) => {
    const absolute = path.resolve(root, file)
    if (index === 0 || insideRoot(root, absolute) !== undefined)
      return rel(absolute, 'compose-files')
    const relative = `${EXTRA_COMPOSE_DIR}/${index}-${path.basename(absolute)}`
    extraComposeFiles.push({ relative, absolute })
    return relative
  })
  const extra = new Set(extraComposeFiles.map(file => file.absolute))
  for (const file of input.closure.composeFiles)
    if (!extra.has(file)) ship(rel(file, 'compose file'), 'compose file')
  for (const file of input.closure.includeEnvFiles)
    if (fs.existsSync(file)) ship(rel(file, 'include env_file'), 'include env_file')
  const envFiles: string[] = []
  const dotenv = path.join(projectDir, '.env')
  if (statOf(dotenv)?.isFile()) {
    const relative = rel(dotenv, 'the project .env')
    ship(relative, 'the project .env (interpolation)')
    envFiles.push(relative)
  }

  const binds: BindPlacement[] = []
  const hostPaths: HostPath[] = []
  const persistent = new Map<string, PersistentPath>()
  const secrets = new Map<string, SecretFile>()
  const configSources = new Map<string, string>()
  const usedRules = new Set<string>()
  const pendingBinds: { reference: ProjectReference; relative: string; mode: PathMode }[] = []

  for (const reference of input.references) {
    const usedBy = describeUse(reference)
    const inside = insideRoot(root, reference.path)
    // Outside the project and not known to be written relative: the host's own path.
    if (reference.writtenAbsolute !== false && inside === undefined) {
      const use = reference.use
      hostPaths.push({
        path: reference.path,
        usedBy,
        required: use.kind !== 'bind' || use.readOnly
      })
      continue
    }
    const relative = rel(reference.path, usedBy)
    const use = reference.use
    const stat = statOf(reference.path)
    switch (use.kind) {
      case 'compose-file':
      case 'dotenv':
        ship(relative, usedBy)
        break
      case 'env-file':
        // compose itself fails on a required env file that is missing; an optional one is not shipped.
        if (stat) ship(relative, usedBy)
        break
      case 'secret':
        secrets.set(use.name, {
          name: use.name,
          relative: stat?.isFile() ? relative : undefined,
          services: []
        })
        break
      case 'config':
        if (!stat?.isFile()) {
          throw new ProjectFilesError(
            'compose-files',
            `${usedBy}: its file ${relative} does not exist in ${root}`
          )
        }
        ship(relative, usedBy)
        configSources.set(use.name, relative)
        break
      case 'bind': {
        if (
          isAncestorOrSelf(reference.path, projectDir) ||
          isAncestorOrSelf(reference.path, root)
        ) {
          throw new ProjectFilesError(
            'paths',
            `${usedBy} mounts ${relative === '' ? '.' : relative}, the whole project folder (a development-style mount); deploy the code in the image and mount only config or data folders`
          )
        }
        const rule = input.rules.get(relative)
        if (rule) usedRules.add(relative)
        const mode: PathMode =
          rule ?? (use.readOnly || stat?.isFile() === true ? 'release' : 'persistent')
        pendingBinds.push({ reference, relative, mode })
        break
      }
    }
  }

  for (const { reference, relative, mode } of pendingBinds) {
    const use = reference.use as Extract<ProjectReference['use'], { kind: 'bind' }>
    const usedBy = describeUse(reference)
    const stat = statOf(reference.path)
    const options = Object.fromEntries(
      Object.entries(use.options).filter(([key]) => key !== 'create_host_path')
    )
    const placeAt = (placement: BindPlacement['placement']): void => {
      binds.push({
        service: use.service,
        target: use.target,
        readOnly: use.readOnly,
        relative,
        options,
        placement
      })
    }
    if (mode === 'persistent') {
      if (stat && !stat.isDirectory()) {
        throw new ProjectFilesError(
          'paths',
          `${usedBy} mounts ${relative}, a file, as persistent; persistent paths are folders (mount the folder that holds it)`
        )
      }
      const entry = persistent.get(relative) ?? { relative, services: [], filesHere: 0 }
      if (!entry.services.includes(use.service)) entry.services.push(use.service)
      if (stat) entry.filesHere = countFiles(reference.path)
      persistent.set(relative, entry)
      placeAt({ kind: 'shared' })
      continue
    }
    if (!stat) {
      throw new ProjectFilesError(
        'compose-files',
        `${usedBy} mounts ${relative}, which does not exist in ${root}; commit it, or mark it persistent in the paths input if it holds data`
      )
    }
    ship(relative, usedBy)
    // The object's name is known once its files are listed, below.
    placeAt({ kind: 'object', name: '' })
  }

  const unused = [...input.rules.keys()].filter(rule => !usedRules.has(rule))
  if (unused.length > 0) {
    throw new ProjectFilesError(
      'paths',
      `${unused.join(', ')} ${unused.length > 1 ? 'are' : 'is'} not the source of any bind mount of the project; bind mounts: ${pendingBinds.map(b => b.relative).join(', ') || 'none'}`
    )
  }

  // A path inside another shipped folder is carried by that folder.
  const roots = [...shippedRoots.keys()].sort()
  const topLevel = roots.filter(
    candidate => !roots.some(other => other !== candidate && candidate.startsWith(`${other}/`))
  )
  const entries = new Map<string, FileEntry>()
  const bySource = new Map<string, FileEntry[]>()
  for (const relative of roots) {
    const usedBy = [...(shippedRoots.get(relative) ?? [])].join(', ')
    const files = walk(root, relative, usedBy)
    bySource.set(relative, files)
    if (topLevel.includes(relative)) for (const file of files) entries.set(file.path, file)
  }

  const objects = new Map<string, StoreObject>()
  const objectFor = (relative: string, writable: boolean): string => {
    const name = objectName(relative, bySource.get(relative) ?? [])
    const known = objects.get(name)
    objects.set(name, { name, relative, writable: writable || (known?.writable ?? false) })
    return name
  }
  for (const bind of binds) {
    if (bind.placement.kind !== 'object') continue
    bind.placement = { kind: 'object', name: objectFor(bind.relative, !bind.readOnly) }
  }
  const usersOf = (kind: 'secrets' | 'configs', name: string): string[] =>
    Object.entries(input.uses)
      .filter(([, uses]) => uses[kind].includes(name))
      .map(([service]) => service)
      .sort()
  const configs: ConfigFile[] = [...configSources].map(([name, relative]) => ({
    name,
    object: objectFor(relative, false),
    services: usersOf('configs', name)
  }))
  for (const secret of secrets.values()) secret.services = usersOf('secrets', secret.name)

  return {
    root,
    projectDirectory: toPosix(path.relative(root, projectDir)) || '.',
    composeFiles,
    extraComposeFiles,
    envFiles,
    entries: [...entries.values()].sort((a, b) => a.path.localeCompare(b.path)),
    objects: [...objects.values()].sort((a, b) => a.name.localeCompare(b.name)),
    binds,
    persistent: [...persistent.values()].sort((a, b) => a.relative.localeCompare(b.relative)),
    hostPaths,
    // A secret no service uses is never mounted: nothing to ship or to ask for.
    secrets: [...secrets.values()].filter(secret => secret.services.length > 0),
    configs,
    shipped: roots.map(relative => ({
      relative,
      usedBy: [...(shippedRoots.get(relative) ?? [])]
    }))
  }
}

function countFiles(dir: string): number {
  let count = 0
  const visit = (absolute: string): void => {
    for (const entry of fs.readdirSync(absolute, { withFileTypes: true })) {
      if (entry.isDirectory()) visit(path.join(absolute, entry.name))
      else if (entry.name !== '.gitkeep' && entry.name !== '.gitignore') count++
    }
  }
  visit(dir)
  return count
}

/** Where the files of a project are when it runs: on a host, or on this machine for smoke. */
export interface FileLocations {
  /** A store object's path; undefined leaves the mount where compose resolved it. */
  object(name: string, relative: string): string | undefined
  /** A persistent folder's path. */
  shared(relative: string): string
  /** A secret's file; undefined leaves compose's. */
  secret(name: string): string | undefined
}

/** The label that changes when a service's secrets or configs do (compose would not notice). */
export const FILE_INPUTS_LABEL = 'dev.stack-deploy.file-inputs'

/**
 * The compose override that puts every bind mount, secret and config where `where` says.
 * Compose merges a service's volumes by target, so each entry replaces the user's own.
 * `create_host_path: false`: a missing source is an error, never a folder Docker makes as root.
 *
 * Compose hashes a service without the contents of its secrets and configs (they are mounted
 * by name), so a changed secret would not recreate the container that reads it: each service
 * that uses any gets a label hashed from their contents, `secretHashes` being the sha256 of each
 * secret's content. Only a hash of the content, never the content, is written.
 */
export function filesOverrideYaml(
  files: ProjectFiles,
  where: FileLocations,
  secretHashes: Record<string, string>
): string {
  const services: Record<string, { volumes?: unknown[]; labels?: Record<string, string> }> = {}
  for (const bind of files.binds) {
    const source =
      bind.placement.kind === 'shared'
        ? where.shared(bind.relative)
        : where.object(bind.placement.name, bind.relative)
    if (source === undefined) continue
    const service = (services[bind.service] ??= {})
    ;(service.volumes ??= []).push({
      type: 'bind',
      source,
      target: bind.target,
      ...(bind.readOnly ? { read_only: true } : {}),
      bind: { ...bind.options, create_host_path: false }
    })
  }
  const inputs = new Map<string, string[]>()
  for (const secret of files.secrets)
    for (const service of secret.services)
      inputs.set(service, [
        ...(inputs.get(service) ?? []),
        `secret:${secret.name}:${secretHashes[secret.name] ?? ''}`
      ])
  for (const config of files.configs)
    for (const service of config.services)
      inputs.set(service, [
        ...(inputs.get(service) ?? []),
        `config:${config.name}:${config.object}`
      ])
  for (const [service, parts] of inputs) {
    const hash = createHash('sha256').update(parts.sort().join('\n')).digest('hex').slice(0, 32)
    ;(services[service] ??= {}).labels = { [FILE_INPUTS_LABEL]: hash }
  }
  const top: Record<string, unknown> = {}
  if (Object.keys(services).length > 0) top.services = services
  const secrets: Record<string, { file: string }> = {}
  for (const secret of files.secrets) {
    const file = where.secret(secret.name)
    if (file !== undefined) secrets[secret.name] = { file }
  }
  if (Object.keys(secrets).length > 0) top.secrets = secrets
  const configs: Record<string, { file: string }> = {}
  for (const config of files.configs) {
    const object = files.objects.find(o => o.name === config.object)
    const file = object && where.object(object.name, object.relative)
    if (file !== undefined) configs[config.name] = { file }
  }
  if (Object.keys(configs).length > 0) top.configs = configs
  return Object.keys(top).length === 0 ? '{}\n' : stringify(top)
}

/**
 * The secret files a project needs: each secret a service uses, from `given` (the secret-files
 * input) or else from the working tree. Refuses, by name, a secret with neither, and a given
 * name that no service uses (a typo would otherwise leave the real secret missing).
 */
export function secretContents(
  files: ProjectFiles,
  given: Record<string, string>
): { name: string; content: string }[] {
  const known = new Set(files.secrets.map(secret => secret.name))
  const unknown = Object.keys(given).filter(name => !known.has(name))
  if (unknown.length > 0) {
    throw new ProjectFilesError(
      'secret-files',
      `${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not a file secret that a service of the project uses (they are: ${[...known].join(', ') || 'none'})`
    )
  }
  return files.secrets.map(secret => {
    const content = given[secret.name]
    if (content !== undefined) return { name: secret.name, content }
    if (secret.relative === undefined) {
      throw new ProjectFilesError(
        'secret-files',
        `secret ${secret.name} (used by ${secret.services.join(', ')}) has no file: it is not in the working tree and secret-files does not give it`
      )
    }
    return {
      name: secret.name,
      content: fs.readFileSync(path.join(files.root, secret.relative), 'utf8')
    }
  })
}

/** sha256 of each secret's content: only the hash goes into the files override's label. */
export function secretHashes(secrets: { name: string; content: string }[]): Record<string, string> {
  return Object.fromEntries(
    secrets.map(secret => [secret.name, createHash('sha256').update(secret.content).digest('hex')])
  )
}
