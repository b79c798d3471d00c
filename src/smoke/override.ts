import { Document, type YAMLSeq } from 'yaml'
import type { Plan } from '../compose/plan.js'
import type { ImageMap } from '../build/images.js'
import { imageOverride } from '../compose/images-override.js'

export type PortMode = 'ephemeral' | 'fixed'

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
