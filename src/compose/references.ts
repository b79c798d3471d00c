/**
 * Every file and folder a compose project points at, as compose itself resolved it.
 *
 * Compose answers most of this: `docker compose config --format json` gives absolute bind-mount
 * sources and `secrets`/`configs` files (with `extends` and `include` already merged, each path
 * resolved against the file that wrote it). Three things it does not keep, so they are read
 * elsewhere, and nothing more:
 * - `env_file` entries: the resolved model inlines them into `environment`; the model without
 *   interpolation (`--no-interpolate`) keeps them, resolved.
 * - whether a path was written absolute (`/etc/letsencrypt`: the host's own path) or relative
 *   (`./nginx`: part of the project): the model without path resolution
 *   (`--no-interpolate --no-path-resolution`) keeps it as written.
 * - the files behind `include:` and `extends: { file }`: the merged model has no trace of them,
 *   so composeFileClosure reads just those two keys from the YAML. It reads no other key: compose
 *   stays the only reader of the model.
 */
import * as path from 'node:path'
import { parse } from 'yaml'
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
  /** Written as an absolute path in the compose file: on a host it names the host's own path. */
  writtenAbsolute: boolean
  use: PathUse
}

/** The three views of one project that compose gives (see the module comment). */
export interface ComposeModels {
  resolved: ComposeConfig
  /** `config --no-interpolate`: env_file entries kept, paths resolved. */
  uninterpolated: ComposeConfig
  /** `config --no-interpolate --no-path-resolution`: paths as the user wrote them. */
  asWritten: ComposeConfig
}

/** `~`, `/` or a `${VAR}` that resolved to an absolute path: never part of the project. */
function writtenAbsolute(written: string | undefined, resolved: string): boolean {
  if (written === undefined) return path.isAbsolute(resolved)
  if (written.startsWith('$')) return true
  return path.isAbsolute(written) || written.startsWith('~')
}

function envFilePaths(entries: unknown): string[] {
  if (!Array.isArray(entries)) return typeof entries === 'string' ? [entries] : []
  return entries
    .map(entry => (typeof entry === 'string' ? entry : (entry as { path?: string })?.path))
    .filter((value): value is string => typeof value === 'string')
}

/**
 * The paths the services, secrets and configs reference. Compose files and the project's
 * `.env` are added by the caller (they come from the inputs and the file closure).
 */
export function modelReferences(models: ComposeModels): ProjectReference[] {
  const out: ProjectReference[] = []
  for (const [name, service] of Object.entries(models.resolved.services)) {
    const written = models.asWritten.services[name]
    for (const volume of service.volumes ?? []) {
      if (volume.type !== 'bind' || !volume.source) continue
      const as = written?.volumes?.find(v => v.target === volume.target)
      out.push({
        path: volume.source,
        writtenAbsolute: writtenAbsolute(as?.source, volume.source),
        use: {
          kind: 'bind',
          service: name,
          target: volume.target,
          readOnly: volume.read_only === true,
          options: volume.bind ?? {}
        }
      })
    }
    const envFiles = envFilePaths(models.uninterpolated.services[name]?.env_file)
    const writtenEnv = envFilePaths(written?.env_file)
    envFiles.forEach((file, index) =>
      out.push({
        path: file,
        writtenAbsolute: writtenAbsolute(writtenEnv[index], file),
        use: { kind: 'env-file', service: name }
      })
    )
  }
  for (const kind of ['secret', 'config'] as const) {
    const key = kind === 'secret' ? 'secrets' : 'configs'
    for (const [name, spec] of Object.entries(models.resolved[key] ?? {})) {
      if (!spec?.file || spec.external) continue
      out.push({
        path: spec.file,
        writtenAbsolute: writtenAbsolute(models.asWritten[key]?.[name]?.file, spec.file),
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
 * `extends: { file }`, each resolved against the file that names it. Absolute paths in, absolute
 * paths out, first-seen order, each once.
 */
export function composeFileClosure(
  files: string[],
  read: (file: string) => string
): { composeFiles: string[]; includeEnvFiles: string[] } {
  const seen = new Set<string>()
  const composeFiles: string[] = []
  const includeEnvFiles: string[] = []
  const visit = (file: string): void => {
    if (seen.has(file)) return
    seen.add(file)
    composeFiles.push(file)
    let doc: unknown
    try {
      doc = parse(read(file))
    } catch (error) {
      throw new ComposeReferenceError(file, `cannot read ${file}: ${(error as Error).message}`)
    }
    if (!doc || typeof doc !== 'object') return
    const dir = path.dirname(file)
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
        visit(resolve(entry, `include[${index}]`))
        continue
      }
      const spec = (entry ?? {}) as { path?: unknown; env_file?: unknown }
      const paths = Array.isArray(spec.path) ? spec.path : [spec.path]
      for (const one of paths) visit(resolve(one, `include[${index}].path`))
      const envFiles = Array.isArray(spec.env_file)
        ? spec.env_file
        : spec.env_file
          ? [spec.env_file]
          : []
      for (const envFile of envFiles)
        includeEnvFiles.push(resolve(envFile, `include[${index}].env_file`))
    }
    const services = (doc as { services?: unknown }).services
    if (services && typeof services === 'object') {
      for (const [name, service] of Object.entries(services as Record<string, unknown>)) {
        const extendsFile = (service as { extends?: { file?: unknown } } | null)?.extends?.file
        if (extendsFile !== undefined) visit(resolve(extendsFile, `services.${name}.extends.file`))
      }
    }
  }
  for (const file of files) visit(file)
  return { composeFiles, includeEnvFiles }
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
