/** What bake builds for one service, beyond what the compose file says. */
export interface BakeTarget {
  service: string
  /** Full image references (repository:tag). */
  tags: string[]
  labels: Record<string, string>
  cacheFrom: string[]
  cacheTo: string[]
}

/**
 * A bake definition (JSON) that bake merges over the compose files: tags, labels, cache and
 * output per target. Data in a file rather than `--set` flags keeps label keys with dots and
 * long cache specs out of argv. Images are always loaded into the local engine first; they
 * are pushed only once every service has built, so a failed build pushes nothing.
 */
export function bakeOverride(targets: BakeTarget[]): {
  target: Record<string, Record<string, unknown>>
} {
  const target: Record<string, Record<string, unknown>> = {}
  for (const t of targets) {
    target[t.service] = {
      tags: t.tags,
      labels: t.labels,
      ...(t.cacheFrom.length > 0 ? { 'cache-from': t.cacheFrom } : {}),
      ...(t.cacheTo.length > 0 ? { 'cache-to': t.cacheTo } : {}),
      output: ['type=docker']
    }
  }
  return { target }
}

export interface BakeInvocation {
  /** Compose files (absolute), then the override file. */
  files: string[]
  overrideFile: string
  metadataFile: string
  builder: string | undefined
  targets: string[]
}

/** `docker buildx bake` with the compose files as the definition: one BuildKit session for all targets. */
export function bakeArgs(invocation: BakeInvocation): string[] {
  return [
    'docker',
    'buildx',
    'bake',
    ...(invocation.builder ? ['--builder', invocation.builder] : []),
    ...[...invocation.files, invocation.overrideFile].flatMap(file => ['--file', file]),
    '--metadata-file',
    invocation.metadataFile,
    '--progress',
    'rawjson',
    ...invocation.targets
  ]
}

export function builderDriverArgs(builder: string | undefined): string[] {
  return ['docker', 'buildx', 'inspect', ...(builder ? [builder] : [])]
}

/** Reads the driver name from `docker buildx inspect` output ("Driver: docker-container"). */
export function parseBuilderDriver(output: string): string | undefined {
  return /^Driver:\s*(\S+)/m.exec(output)?.[1]
}

export function pushArgs(ref: string): string[] {
  return ['docker', 'push', ref]
}

/** The manifest digest from `docker push` output ("latest: digest: sha256:… size: 1234"). */
export function parsePushDigest(output: string): string | undefined {
  return /digest: (sha256:[0-9a-f]{64})/.exec(output)?.[1]
}

/** The image name compose gives a built service that has no `image:` key. */
export function defaultImageName(project: string, service: string): string {
  return `${project}-${service}`
}
