import * as path from 'node:path'
import type { ComposeProjectRef } from '../compose/types.js'
import type { Plan, PlannedService } from '../compose/plan.js'
import { lastLines, type Executor } from '../exec/executor.js'
import type { Reporter } from '../report/reporter.js'
import { bakeArgs, defaultImageName, failedTargetOf, type BakeTarget } from './bake.js'
import { splitImageRef, type ImageMap } from './images.js'

export class BuildFailedError extends Error {
  constructor(
    readonly service: string | undefined,
    message: string
  ) {
    super(message)
    this.name = 'BuildFailedError'
  }
}

export function targetsFor(plan: Plan, services: PlannedService[]): BakeTarget[] {
  return services
    .filter(service => service.build !== undefined)
    .map(service => ({
      service: service.name,
      tags: [service.image ?? defaultImageName(plan.project, service.name)]
    }))
}

/** Builds the selected services with one bake run and loads them into the local engine. */
export async function buildStage(
  ref: ComposeProjectRef,
  plan: Plan,
  services: PlannedService[],
  executor: Executor,
  reporter: Reporter
): Promise<ImageMap> {
  const targets = targetsFor(plan, services)
  if (targets.length === 0) {
    reporter.warning('Nothing to build: no selected service has a build section.')
    return {}
  }
  // buildx resolves the build contexts of a compose definition from its own working
  // directory, not from the compose file (buildx 0.13), while compose resolves them from the
  // first file's folder. Running bake there, with absolute file paths, makes both agree.
  const files = ref.files.map(file => path.resolve(ref.workingDirectory, file))
  const argv = bakeArgs({ ...ref, files }, targets, { load: true })
  const result = await reporter.group(`Build ${targets.map(t => t.service).join(', ')}`, () =>
    executor.run(argv, { cwd: path.dirname(files[0] as string), stream: true })
  )
  if (result.exitCode !== 0) {
    const output = `${result.stdout}\n${result.stderr}`
    const service = failedTargetOf(
      output,
      targets.map(t => t.service)
    )
    const tail = lastLines(output, 12)
    throw new BuildFailedError(
      service,
      `Build failed${service ? ` for service "${service}"` : ''} (docker buildx bake exit ${result.exitCode}). Last lines:\n${tail}`
    )
  }

  const images: ImageMap = {}
  for (const target of targets) {
    const tag = target.tags[0] as string
    const inspect = await executor.run(['docker', 'image', 'inspect', '--format', '{{.Id}}', tag])
    const { repository, tag: version } = splitImageRef(tag)
    images[target.service] = {
      image: repository,
      tags: [version ?? 'latest'],
      digest: '',
      ref: version ? tag : `${tag}:latest`,
      ...(inspect.exitCode === 0 ? { id: inspect.stdout.trim() } : {})
    }
  }
  return images
}
