import type { ComposeConfig, ComposeHealthcheck, ComposeService } from './types.js'

export type ServiceKind = 'build' | 'image' | 'job'

export interface PlannedService {
  name: string
  /** build: has a build section; image: only pulls; job: a one-shot others wait on to finish. */
  kind: ServiceKind
  image: string | undefined
  build:
    | {
        context: string
        dockerfile: string
        target: string | undefined
        args: Record<string, string>
      }
    | undefined
  /** Services that wait for this one with `service_completed_successfully`. */
  awaitedBy: string[]
  dependsOn: { service: string; condition: string }[]
  healthcheck:
    { test: string; interval: string | undefined; retries: number | undefined } | undefined
  ports: {
    target: number
    published: string | undefined
    hostIp: string | undefined
    protocol: string
  }[]
  volumes: { type: string; source: string | undefined; target: string; readOnly: boolean }[]
  networks: string[]
  profiles: string[]
  /** A fixed container name: compose cannot run a second container of such a service. */
  containerName: string | undefined
}

export interface Plan {
  project: string
  services: PlannedService[]
  volumes: string[]
  networks: { name: string; internal: boolean; external: boolean }[]
}

function healthcheckOf(check: ComposeHealthcheck | undefined): PlannedService['healthcheck'] {
  if (!check || check.disable || !check.test) return undefined
  const test = Array.isArray(check.test) ? check.test : ['CMD-SHELL', check.test]
  if (test[0] === 'NONE') return undefined
  const [form, ...rest] = test
  return {
    test: form === 'CMD-SHELL' ? (rest[0] ?? '') : rest.join(' '),
    interval: check.interval,
    retries: check.retries
  }
}

function buildOf(service: ComposeService): PlannedService['build'] {
  if (!service.build) return undefined
  const args: Record<string, string> = {}
  for (const [key, value] of Object.entries(service.build.args ?? {})) args[key] = value ?? ''
  return {
    context: service.build.context,
    dockerfile: service.build.dockerfile ?? 'Dockerfile',
    target: service.build.target,
    args
  }
}

/**
 * Classifies the services of a normalised compose model. Pure: the table tests feed it JSON
 * captured from `docker compose config`.
 */
export function planFromConfig(config: ComposeConfig): Plan {
  const names = Object.keys(config.services).sort()
  const awaitedBy = new Map<string, string[]>()
  for (const name of names) {
    for (const [dep, spec] of Object.entries(config.services[name]?.depends_on ?? {})) {
      if (spec.condition === 'service_completed_successfully') {
        awaitedBy.set(dep, [...(awaitedBy.get(dep) ?? []), name])
      }
    }
  }

  const services = names.map((name): PlannedService => {
    const service = config.services[name] as ComposeService
    const waiters = awaitedBy.get(name) ?? []
    const kind: ServiceKind = waiters.length > 0 ? 'job' : service.build ? 'build' : 'image'
    return {
      name,
      kind,
      image: service.image,
      build: buildOf(service),
      awaitedBy: waiters,
      dependsOn: Object.entries(service.depends_on ?? {}).map(([dep, spec]) => ({
        service: dep,
        condition: spec.condition
      })),
      healthcheck: healthcheckOf(service.healthcheck),
      ports: (service.ports ?? []).map(port => ({
        target: port.target,
        published: port.published,
        hostIp: port.host_ip,
        protocol: port.protocol ?? 'tcp'
      })),
      volumes: (service.volumes ?? []).map(volume => ({
        type: volume.type,
        source: volume.source,
        target: volume.target,
        readOnly: volume.read_only === true
      })),
      networks: Object.keys(service.networks ?? {}).sort(),
      profiles: service.profiles ?? [],
      containerName: service.container_name
    }
  })

  return {
    project: config.name,
    services,
    volumes: Object.keys(config.volumes ?? {}).sort(),
    networks: Object.entries(config.networks ?? {})
      .map(([name, spec]) => ({
        name,
        internal: Boolean(spec?.internal),
        external: Boolean(spec?.external)
      }))
      .sort((a, b) => a.name.localeCompare(b.name))
  }
}

/** Services that the build stage builds: those with a build section, jobs included. */
export function builtServices(plan: Plan): PlannedService[] {
  return plan.services.filter(service => service.build !== undefined)
}

/** Resolves a `services` input against the plan; unknown names list what the project has. */
export function selectServices(plan: Plan, wanted: string[]): PlannedService[] {
  if (wanted.length === 0) return plan.services
  const known = new Map(plan.services.map(service => [service.name, service]))
  const unknown = wanted.filter(name => !known.has(name))
  if (unknown.length > 0) {
    throw new UnknownServiceError(unknown, [...known.keys()])
  }
  return wanted.map(name => known.get(name) as PlannedService)
}

export class UnknownServiceError extends Error {
  constructor(
    readonly unknown: string[],
    readonly available: string[]
  ) {
    super(
      `unknown service${unknown.length > 1 ? 's' : ''} ${unknown.map(s => `"${s}"`).join(', ')}; the project has: ${available.join(', ')}`
    )
    this.name = 'UnknownServiceError'
  }
}
