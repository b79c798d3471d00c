/**
 * Zero-downtime replacement of a service on a host, the way a careful operator does it by hand
 * (and wowu/docker-rollout scripts): start the new container next to the old one
 * (`up --no-recreate --scale S=2n S`; never --no-deps, see commands.ts), wait until the new one is healthy, then stop
 * and remove the old one. Traffic keeps flowing through a proxy that resolves the service's
 * name per request and retries a refused connection on the next address (the reference
 * stack's nginx does both).
 *
 * Only services where that is safe qualify: built by us (their image changes between
 * releases; a database image does not), with a healthcheck (so "ready" means something), no
 * published port (two containers cannot bind one host port), no fixed container_name, no
 * writable volume (two writers on one volume is how data gets corrupted; read-only config
 * mounts are fine), and not a one-shot job.
 */
import type { Plan } from '../compose/plan.js'

export function rollingServices(plan: Plan): string[] {
  return plan.services
    .filter(
      service =>
        service.kind === 'build' &&
        service.healthcheck !== undefined &&
        service.ports.length === 0 &&
        service.containerName === undefined &&
        service.volumes.every(
          volume => volume.type === 'tmpfs' || (volume.type === 'bind' && volume.readOnly)
        )
    )
    .map(service => service.name)
    .sort()
}

export interface ServiceContainer {
  id: string
  configHash: string
  state: string
}

/** Parses `docker ps --no-trunc --format '{{.ID}} {{.Label "com.docker.compose.config-hash"}} {{.State}}'`. */
export function parseContainers(stdout: string): ServiceContainer[] {
  return stdout
    .split('\n')
    .map(line => line.trim().split(/\s+/))
    .filter(fields => fields.length === 3 && /^[0-9a-f]{12,64}$/.test(fields[0] as string))
    .map(([id, configHash, state]) => ({
      id: id as string,
      configHash: configHash as string,
      state: state as string
    }))
}

export type RollDecision =
  { action: 'skip'; reason: string } | { action: 'roll'; old: ServiceContainer[]; scaleTo: number }

/**
 * Whether to roll a service: only when it has running containers and compose would recreate
 * them, i.e. their configuration hash is not the new one (otherwise compose's own `up` creates
 * or leaves them, with nothing to replace).
 */
export function decideRoll(containers: ServiceContainer[], newHash: string): RollDecision {
  const running = containers.filter(c => c.state === 'running')
  if (running.length === 0) return { action: 'skip', reason: 'no running container to replace' }
  if (newHash && running.every(c => c.configHash === newHash))
    return { action: 'skip', reason: 'unchanged' }
  return { action: 'roll', old: running, scaleTo: running.length * 2 }
}

/** Parses `docker inspect --format '{{.Id}} {{.State.Status}} {{health or none}}'` lines. */
export function parseHealth(stdout: string): { id: string; status: string; health: string }[] {
  return stdout
    .split('\n')
    .map(line => line.trim().split(/\s+/))
    .filter(fields => fields.length === 3)
    .map(([id, status, health]) => ({
      id: id as string,
      status: status as string,
      health: health as string
    }))
}
