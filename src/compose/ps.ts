import type { Plan } from './plan.js'

/** One container as `docker compose ps --all --format json` describes it. */
export interface ContainerState {
  Name: string
  Service: string
  State: string
  Health: string
  ExitCode: number
}

/** Compose prints a JSON array (older v2) or one JSON object per line (newer); read both. */
export function parsePsOutput(stdout: string): ContainerState[] {
  const text = stdout.trim()
  if (text === '') return []
  if (text.startsWith('[')) return JSON.parse(text) as ContainerState[]
  return text
    .split('\n')
    .filter(line => line.trim() !== '')
    .map(line => JSON.parse(line) as ContainerState)
}

export interface StackAssessment {
  ready: boolean
  /** Services whose every container is running and healthy, or (jobs) exited 0. */
  readyServices: string[]
  failed: { service: string; reason: string }[]
  pending: { service: string; reason: string }[]
}

/**
 * Decides whether a stack is up: long-running services running (and healthy when they have a
 * healthcheck), one-shot jobs exited 0. A job that exited non-zero, a service that exited or
 * turned unhealthy, fails at once instead of waiting out the timeout.
 */
export function assessStack(
  plan: Plan,
  containers: ContainerState[],
  services: string[]
): StackAssessment {
  const failed: StackAssessment['failed'] = []
  const pending: StackAssessment['pending'] = []
  const readyServices: string[] = []
  for (const name of services) {
    const before = failed.length + pending.length
    const service = plan.services.find(s => s.name === name)
    const own = containers.filter(c => c.Service === name)
    if (own.length === 0) {
      pending.push({ service: name, reason: 'no container yet' })
      continue
    }
    for (const container of own) {
      const state = container.State.toLowerCase()
      const health = (container.Health ?? '').toLowerCase()
      if (service?.kind === 'job') {
        if (state === 'exited' && container.ExitCode === 0) continue
        if (state === 'exited' || state === 'dead') {
          failed.push({
            service: name,
            reason: `one-shot job exited with code ${container.ExitCode}`
          })
        } else pending.push({ service: name, reason: `job is ${state}` })
        continue
      }
      if (state === 'exited' || state === 'dead') {
        failed.push({ service: name, reason: `container exited with code ${container.ExitCode}` })
      } else if (state === 'restarting') {
        failed.push({ service: name, reason: 'container is restarting (it keeps crashing)' })
      } else if (health === 'unhealthy') {
        failed.push({ service: name, reason: 'healthcheck reports unhealthy' })
      } else if (state !== 'running') {
        pending.push({ service: name, reason: `container is ${state}` })
      } else if (health === 'starting') {
        pending.push({ service: name, reason: 'healthcheck still starting' })
      }
    }
    if (failed.length + pending.length === before) readyServices.push(name)
  }
  return { ready: failed.length === 0 && pending.length === 0, readyServices, failed, pending }
}
