import { Document, Scalar } from 'yaml'
import type { ImageMap } from '../build/images.js'
import type { Plan } from '../compose/plan.js'
import { imageOverride } from '../compose/images-override.js'

/**
 * The release's image pins: every built service, and every service that runs a built
 * service's image, at image@digest. Build sections are reset (`!reset`, compose 2.24 and
 * later): the host never builds, and their contexts do not exist there.
 */
export function deployOverrideYaml(plan: Plan, images: ImageMap): string {
  const doc = new Document({})
  const services: Record<string, Record<string, unknown>> = {}
  for (const [name, pin] of Object.entries(imageOverride(plan, images)))
    services[name] = { image: pin.image }
  for (const service of plan.services) {
    if (!service.build) continue
    const reset = new Scalar(null)
    reset.tag = '!reset'
    services[service.name] = { ...(services[service.name] ?? {}), build: reset }
  }
  doc.contents = doc.createNode({ services }) as typeof doc.contents
  return String(doc)
}
