import type { Plan } from './plan.js'

/**
 * Image pins: the stack runs exactly the images that were built, so nothing is rebuilt or
 * pulled. Services that run a built service's image under its compose name (a migration job
 * on the api image) are pinned to the same build. `images` is the build stage's ImageMap
 * (service -> image, whose `ref` is what to run), typed by the one field read here so that
 * compose/ needs nothing from build/.
 */
export function imageOverride<Built extends { ref: string }>(
  plan: Plan,
  images: Readonly<Record<string, Built>>
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
        image: (images[builder.name] as Built).ref,
        pull_policy: 'never'
      }
  }
  return services
}
