import type { ComposeProjectRef } from '../compose/types.js'

export interface BakeTarget {
  service: string
  tags: string[]
}

export interface BakeOptions {
  /** Load the results into the local engine (for scan and smoke on the same runner). */
  load: boolean
}

/**
 * `docker buildx bake` with the compose files as the definition: one BuildKit session builds
 * every target in parallel. Tags are set per target so that they never depend on bake's own
 * defaults for services without an `image:`.
 */
export function bakeArgs(
  ref: ComposeProjectRef,
  targets: BakeTarget[],
  options: BakeOptions
): string[] {
  return [
    'docker',
    'buildx',
    'bake',
    ...ref.files.flatMap(file => ['--file', file]),
    ...(options.load ? ['--load'] : []),
    ...targets.flatMap(target =>
      target.tags.map(tag => ['--set', `${target.service}.tags=${tag}`]).flat()
    ),
    ...targets.map(target => target.service)
  ]
}

/** The image name compose gives a built service that has no `image:` key. */
export function defaultImageName(project: string, service: string): string {
  return `${project}-${service}`
}

/** Finds which bake target failed in bake's output, so the error can name the service. */
export function failedTargetOf(output: string, targets: string[]): string | undefined {
  const explicit = /target (\S+?):? failed to solve/.exec(output)
  if (explicit && targets.includes(explicit[1] as string)) return explicit[1]
  // BuildKit prefixes steps with "[target stage n/m]"; the last such step before ERROR failed.
  const errorAt = output.lastIndexOf('ERROR')
  const before = errorAt >= 0 ? output.slice(0, errorAt) : output
  const steps = [...before.matchAll(/\[(\S+?) [^\]]*\d+\/\d+\]/g)].map(match => match[1])
  for (let i = steps.length - 1; i >= 0; i--) {
    if (targets.includes(steps[i] as string)) return steps[i]
  }
  return undefined
}
