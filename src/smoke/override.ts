import { Document, type YAMLSeq } from 'yaml'
import type { Plan } from '../compose/plan.js'
import type { ImageMap } from '../build/images.js'

export type PortMode = 'ephemeral' | 'fixed'

/**
 * Image pins: the stack runs exactly the images that were built, so nothing is rebuilt or
 * pulled. Services that run a built service's image under its compose name (a migration job
 * on the api image) are pinned to the same build.
 */
export function imageOverride(
  plan: Plan,
  images: ImageMap
): Record<string, { image: string; pull_policy: string }> {
  const services: Record<string, { image: string; pull_policy: string }> = {}
  for (const [service, built] of Object.entries(images)) {
    services[service] = { image: built.ref, pull_policy: 'never' }
  }
  for (const service of plan.services) {
    if (service.build || !service.image || services[service.name]) continue
    const builder = plan.services.find(s => s.build && s.image === service.image && images[s.name])
    if (builder)
      services[service.name] = {
        image: (images[builder.name] as { ref: string }).ref,
        pull_policy: 'never'
      }
  }
  return services
}

/**
 * The smoke override as YAML. With ephemeral ports every published port is replaced (the
 * `!override` tag, compose 2.24.4 and later; plain lists would be merged) by the same
 * container port on a random host port bound to 127.0.0.1, so that two runs never collide
 * and nothing is exposed beyond the runner.
 */
export function smokeOverrideYaml(plan: Plan, images: ImageMap, ports: PortMode): string {
  const doc = new Document({})
  const pins = imageOverride(plan, images)
  const services: Record<string, Record<string, unknown>> = {}
  for (const [name, pin] of Object.entries(pins)) services[name] = { ...pin }
  if (ports === 'ephemeral') {
    for (const service of plan.services) {
      if (service.ports.length === 0) continue
      const seq = doc.createNode(
        service.ports.map(port => ({
          target: port.target,
          host_ip: '127.0.0.1',
          protocol: port.protocol
        }))
      ) as YAMLSeq
      seq.tag = '!override'
      services[service.name] = { ...(services[service.name] ?? {}), ports: seq }
    }
  }
  doc.contents = doc.createNode({ services }) as typeof doc.contents
  return String(doc)
}
