/**
 * Every file and folder a compose project points at, as compose itself resolved it.
 *
 * Compose answers most of this: `docker compose config --format json` gives absolute bind-mount
 * sources and `secrets`/`configs` files (with `extends` and `include` already merged, each path
 * resolved against the file that wrote it). What it does not keep is read elsewhere:
 * - whether a path was written absolute (`/etc/letsencrypt`: the host's own path) or relative
 *   (`./nginx`: part of the project): the model without path resolution
 *   (`--no-interpolate --no-path-resolution`) keeps it as written. Compose cannot always make
 *   that view (a short volume line with `${VAR:-./x}` fails to parse there); without it, a path
 *   outside the project is taken as the host's.
 * - the file names behind `include:`, `extends: { file }` and `env_file:`: the merged model has
 *   no trace of the first two and inlines the third, so composeFileClosure reads just those keys
 *   from the YAML (and compose's `.env` rules). It reads nothing else: compose stays the only
 *   reader of the model.
 */
import * as path from 'node:path'
import { parseAllDocuments } from 'yaml'
import type { ComposeConfig } from './types.js'

export type PathUse =
  | { kind: 'compose-file' }
  /** The project directory's `.env`: compose reads it for interpolation without being told. */
  | { kind: 'dotenv' }
  | { kind: 'env-file'; service: string }
  | {
      kind: 'bind'
      service: string
      target: string
      readOnly: boolean
      /** compose's bind options (propagation, selinux, create_host_path). */
      options: Record<string, unknown>
    }
  | { kind: 'secret'; name: string }
  | { kind: 'config'; name: string }

export interface ProjectReference {
  /** Absolute path on this machine, as compose resolved it. */
  path: string
  /**
   * Written as an absolute path in the compose file: on a host it names the host's own path.
   * Undefined when compose could not say.
   */
  writtenAbsolute: boolean | undefined
  use: PathUse
}

/** The views of one project that compose gives (see the module comment). */
export interface ComposeModels {
  resolved: ComposeConfig
  /** `config --no-interpolate --no-path-resolution`: paths as written; undefined if it failed. */
  asWritten: ComposeConfig | undefined
}

/** `~`, `/` or a `${VAR}` that resolved to an absolute path: never part of the project. */
function writtenAbsolute(
  written: string | undefined,
  resolved: string,
  known: boolean
): boolean | undefined {
  if (!known) return undefined
  if (written === undefined) return path.isAbsolute(resolved)
  if (written.startsWith('$')) return true
  return path.isAbsolute(written) || written.startsWith('~')
}

function envFileEntries(entries: unknown): { path: string; required: boolean }[] {
  const list = Array.isArray(entries) ? entries : entries === undefined ? [] : [entries]
  return list.flatMap(entry =>
    typeof entry === 'string'
      ? [{ path: entry, required: true }]
      : typeof (entry as { path?: unknown })?.path === 'string'
        ? [
            {
              path: (entry as { path: string }).path,
              required: (entry as { required?: unknown }).required !== false
            }
          ]
        : []
  )
}

/**
 * The paths the services' bind mounts, secrets and configs reference. Compose files, env files
 * and the project's `.env` come from composeFileClosure.
 */
export function modelReferences(models: ComposeModels): ProjectReference[] {
  const out: ProjectReference[] = []
  const known = models.asWritten !== undefined
  for (const [name, service] of Object.entries(models.resolved.services)) {
    const written = models.asWritten?.services[name]
    for (const volume of service.volumes ?? []) {
      if (volume.type !== 'bind' || !volume.source) continue
      const as = written?.volumes?.find(v => v.target === volume.target)
      out.push({
        path: volume.source,
        writtenAbsolute: writtenAbsolute(as?.source, volume.source, known),
        use: {
          kind: 'bind',
          service: name,
          target: volume.target,
          readOnly: volume.read_only === true,
          options: volume.bind ?? {}
        }
      })
    }
  }
  for (const kind of ['secret', 'config'] as const) {
    const key = kind === 'secret' ? 'secrets' : 'configs'
    for (const [name, spec] of Object.entries(models.resolved[key] ?? {})) {
      if (!spec?.file || spec.external) continue
      out.push({
        path: spec.file,
        writtenAbsolute: writtenAbsolute(models.asWritten?.[key]?.[name]?.file, spec.file, known),
        use: { kind, name }
      })
    }
  }
  return out
}

export class ComposeReferenceError extends Error {
  constructor(
    readonly file: string,
    message: string
  ) {
    super(message)
    this.name = 'ComposeReferenceError'
  }
}

/**
 * The compose files and everything they pull in through `include:` (with its env files) and
 * `extends: { file }`, each resolved against the file that names it (as compose does, the `-f`
 * files after the first resolve theirs against the first file's folder). Absolute paths in,
 * absolute paths out, first-seen order, each once.
 */
export function composeFileClosure(files: string[], read: (file: string) => string): FileClosure {
  const seen = new Set<string>()
  const composeFiles: string[] = []
  const includeEnvFiles: string[] = []
  const envFiles: FileClosure['envFiles'] = []
  const visit = (file: string, dir = path.dirname(file)): void => {
    if (seen.has(file)) return
    seen.add(file)
    composeFiles.push(file)
    let docs: unknown[]
    try {
      // Compose merges the documents of a multi-document file.
      docs = parseAllDocuments(read(file)).map(doc => {
        if (doc.errors[0]) throw doc.errors[0]
        return doc.toJS() as unknown
      })
    } catch (error) {
      throw new ComposeReferenceError(file, `cannot read ${file}: ${(error as Error).message}`)
    }
    for (const doc of docs) if (doc && typeof doc === 'object') visitDoc(file, dir, doc)
  }
  const visitDoc = (file: string, dir: string, doc: object): void => {
    const resolve = (value: unknown, what: string): string => {
      if (typeof value !== 'string' || value === '')
        throw new ComposeReferenceError(file, `${file}: ${what} is not a path`)
      if (value.includes('$'))
        throw new ComposeReferenceError(
          file,
          `${file}: ${what} "${value}" uses a variable; stack-deploy ships the files a project references and needs their paths written out`
        )
      return path.resolve(dir, value)
    }
    const include = (doc as { include?: unknown }).include
    for (const [index, entry] of (Array.isArray(include) ? include : []).entries()) {
      if (typeof entry === 'string') {
        const included = resolve(entry, `include[${index}]`)
        visit(included)
        includeEnvFiles.push(path.join(path.dirname(included), '.env'))
        continue
      }
      const spec = (entry ?? {}) as {
        path?: unknown
        env_file?: unknown
        project_directory?: unknown
      }
      const paths = Array.isArray(spec.path) ? spec.path : [spec.path]
      const included = paths.map(one => resolve(one, `include[${index}].path`))
      for (const one of included) visit(one)
      const envFiles = Array.isArray(spec.env_file)
        ? spec.env_file
        : spec.env_file
          ? [spec.env_file]
          : []
      for (const envFile of envFiles)
        includeEnvFiles.push(resolve(envFile, `include[${index}].env_file`))
      // Without env_file, compose reads the .env of the included project's directory.
      if (envFiles.length === 0 && included[0] !== undefined) {
        const projectDirectory =
          spec.project_directory === undefined
            ? path.dirname(included[0])
            : resolve(spec.project_directory, `include[${index}].project_directory`)
        includeEnvFiles.push(path.join(projectDirectory, '.env'))
      }
    }
    const services = (doc as { services?: unknown }).services
    if (services && typeof services === 'object') {
      for (const [name, service] of Object.entries(services as Record<string, unknown>)) {
        const spec = service as { extends?: { file?: unknown }; env_file?: unknown } | null
        const extendsFile = spec?.extends?.file
        if (extendsFile !== undefined) visit(resolve(extendsFile, `services.${name}.extends.file`))
        for (const entry of envFileEntries(spec?.env_file))
          envFiles.push({
            service: name,
            path: resolve(entry.path, `services.${name}.env_file`),
            writtenAbsolute: path.isAbsolute(entry.path) || entry.path.startsWith('~'),
            required: entry.required
          })
      }
    }
  }
  const projectDir = files[0] === undefined ? undefined : path.dirname(files[0])
  for (const file of files) visit(file, projectDir)
  return { composeFiles, includeEnvFiles: [...new Set(includeEnvFiles)], envFiles }
}

export interface FileClosure {
  composeFiles: string[]
  includeEnvFiles: string[]
  /** Every service's `env_file:` entries, in every file (compose inlines them in its model). */
  envFiles: { service: string; path: string; writtenAbsolute: boolean; required: boolean }[]
}

/** The closure's env files as references (an optional one that is missing is left out later). */
export function envFileReferences(closure: FileClosure): ProjectReference[] {
  return closure.envFiles.map(entry => ({
    path: entry.path,
    writtenAbsolute: entry.writtenAbsolute,
    use: { kind: 'env-file', service: entry.service }
  }))
}

/** Which secrets and configs each service of the resolved model uses. */
export function serviceFileUses(
  config: ComposeConfig
): Record<string, { secrets: string[]; configs: string[] }> {
  const uses: Record<string, { secrets: string[]; configs: string[] }> = {}
  for (const [name, service] of Object.entries(config.services)) {
    uses[name] = {
      secrets: (service.secrets ?? []).map(s => s.source),
      configs: (service.configs ?? []).map(c => c.source)
    }
  }
  return uses
}
