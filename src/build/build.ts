import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { ComposeProjectRef } from '../compose/types.js'
import type { Plan, PlannedService } from '../compose/plan.js'
import { lastLines, type Executor } from '../exec/executor.js'
import { loginArgs, logoutArgs } from '../exec/docker.js'
import { InputError } from '../errors.js'
import { type BuildInputs } from '../inputs.js'
import type { Reporter } from '../report/reporter.js'
import {
  bakeArgs,
  bakeOverride,
  builderDriverArgs,
  defaultImageName,
  parseBuilderDriver,
  parsePushDigest,
  pushArgs,
  type BakeTarget
} from './bake.js'
import {
  adaptCacheToDriver,
  cacheSettings,
  cacheWriteAllowed,
  githubCacheAvailable,
  resolveCacheBackend
} from './cache.js'
import type { GitContext } from './git-context.js'
import { splitImageRef, type ImageMap } from './images.js'
import { ociLabels } from './labels.js'
import { ProgressTracker } from './progress.js'
import { classifyLoginFailure } from './registry.js'
import { tagsFor, TagTemplateError } from './tags.js'

export class BuildFailedError extends Error {
  constructor(
    readonly service: string | undefined,
    message: string
  ) {
    super(message)
    this.name = 'BuildFailedError'
  }
}

export interface BuildRequest {
  ref: ComposeProjectRef
  plan: Plan
  services: PlannedService[]
  inputs: BuildInputs
  git: GitContext
  commitTime: string | undefined
  env: NodeJS.ProcessEnv
}

export interface ServiceBuildReport {
  service: string
  tags: string[]
  digest: string
  seconds: number
  steps: number
  cached: number
}

/** The repository a service's images go to: `<registry>/<namespace>/<service>`, or its own `image:`. */
export function repositoryFor(
  plan: Plan,
  service: PlannedService,
  inputs: BuildInputs,
  env: NodeJS.ProcessEnv
): string {
  if (inputs.registry) {
    const namespace =
      inputs.imageNamespace ??
      (env.GITHUB_REPOSITORY ? env.GITHUB_REPOSITORY.toLowerCase() : plan.project)
    return `${inputs.registry}/${namespace}/${service.name}`
  }
  return service.image
    ? splitImageRef(service.image).repository
    : defaultImageName(plan.project, service.name)
}

/** Tags and labels for every selected service with a build section (pure, table-tested). */
export function planTargets(
  request: BuildRequest
): { target: BakeTarget; repository: string; tags: string[] }[] {
  return request.services
    .filter(service => service.build !== undefined)
    .map(service => {
      const repository = repositoryFor(request.plan, service, request.inputs, request.env)
      let tags: string[]
      try {
        tags = tagsFor(request.git, service.name, request.inputs.tagTemplates)
      } catch (error) {
        if (error instanceof TagTemplateError) throw new InputError('tags', error.message)
        throw error
      }
      // Without a registry the compose file's own tag is kept too, so that plain
      // `docker compose` on the same files finds the image that was just built.
      const ownTag =
        !request.inputs.registry && service.image ? splitImageRef(service.image).tag : undefined
      if (ownTag && !tags.includes(ownTag)) tags = [...tags, ownTag]
      return {
        repository,
        tags,
        target: {
          service: service.name,
          tags: tags.map(tag => `${repository}:${tag}`),
          labels: ociLabels(request.git, service.name, request.commitTime),
          cacheFrom: [],
          cacheTo: []
        }
      }
    })
}

async function login(request: BuildRequest, executor: Executor): Promise<string | undefined> {
  const { registry, registryUsername, registryPassword } = request.inputs
  if (!registry || !registryUsername || registryPassword === undefined) return undefined
  const result = await executor.run(loginArgs(registry, registryUsername), {
    input: registryPassword
  })
  if (result.exitCode !== 0) {
    const output = lastLines(`${result.stderr}\n${result.stdout}`, 3).replace(/\n/g, ' | ')
    const kind = classifyLoginFailure(output)
    if (kind === 'refused') {
      throw new InputError(
        'registry-password',
        `login to ${registry} as ${registryUsername} was refused; check the username and password or token (${output})`
      )
    }
    throw new InputError(
      'registry',
      `cannot log in to ${registry}: ${kind === 'unreachable' ? 'the registry cannot be reached' : 'docker login failed'} (${output})`
    )
  }
  return registry
}

/**
 * Builds the selected services in one bake run, loads them into the local engine, and pushes
 * them only once every service has built. Returns the `images` map that scan, smoke and deploy
 * consume; after a push each `ref` is `image@sha256:…`.
 */
export async function buildStage(
  request: BuildRequest,
  executor: Executor,
  reporter: Reporter
): Promise<{ images: ImageMap; reports: ServiceBuildReport[] }> {
  const planned = planTargets(request)
  if (planned.length === 0) {
    reporter.warning('Nothing to build: no selected service has a build section.')
    return { images: {}, reports: [] }
  }
  const { inputs } = request

  if (inputs.cache === 'gha' && !githubCacheAvailable(request.env)) {
    throw new InputError(
      'cache',
      '"gha" needs the GitHub Actions cache service, which this run does not have; use registry or none'
    )
  }
  const backend = resolveCacheBackend(inputs.cache, request.env, inputs.registry !== undefined)
  // The builder's driver only matters for the cache (and a named builder must exist), so
  // `buildx inspect` is skipped otherwise, and runs alongside the registry login.
  const needDriver = backend !== 'none' || inputs.builder !== undefined
  const [inspect, loggedIn] = await Promise.all([
    needDriver ? executor.run(builderDriverArgs(inputs.builder)) : undefined,
    login(request, executor)
  ])
  const logout = async (): Promise<void> => {
    if (loggedIn) await executor.run(logoutArgs(loggedIn))
  }
  if (inspect && inspect.exitCode !== 0) {
    await logout()
    throw new InputError(
      inputs.builder ? 'builder' : 'command',
      `docker buildx cannot find ${inputs.builder ? `builder "${inputs.builder}"` : 'a builder'}: ${lastLines(inspect.stderr, 2)}`
    )
  }
  const driver = (inspect && parseBuilderDriver(inspect.stdout)) ?? 'docker'
  const write = cacheWriteAllowed(inputs.cacheWrite, request.git)
  let droppedReason: string | undefined
  for (const { target, repository } of planned) {
    const wanted = cacheSettings(
      backend,
      { project: request.plan.project, service: target.service, repository },
      inputs.cacheMode,
      write
    )
    const adapted = adaptCacheToDriver(wanted, backend, driver)
    droppedReason ??= adapted.dropped
    target.cacheFrom = adapted.settings.cacheFrom
    target.cacheTo = adapted.settings.cacheTo
  }
  if (droppedReason) {
    reporter.warning(
      `Build cache limited: ${droppedReason}. Set up a docker-container builder (docker/setup-buildx-action) and pass it as builder.`
    )
  }
  reporter.info(
    `Cache: ${backend}${backend !== 'none' ? ` (mode ${inputs.cacheMode}, ${write ? 'read and write' : 'read only'}; builder driver ${driver})` : ''}`
  )

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-deploy-build-'))
  try {
    const files = request.ref.files.map(file => path.resolve(request.ref.workingDirectory, file))
    const overrideFile = path.join(dir, 'stack-deploy.bake.json')
    const metadataFile = path.join(dir, 'metadata.json')
    fs.writeFileSync(
      overrideFile,
      JSON.stringify(bakeOverride(planned.map(p => p.target)), null, 2)
    )
    const argv = bakeArgs({
      files,
      overrideFile,
      metadataFile,
      builder: inputs.builder,
      targets: planned.map(p => p.target.service)
    })
    const services = planned.map(p => p.target.service)
    const tracker = new ProgressTracker(services)
    // buildx resolves a compose definition's build contexts from its own working directory
    // (buildx 0.13), compose from the first file's folder: running bake there makes them agree.
    const result = await reporter.group(`Build ${services.join(', ')}`, () =>
      executor.run(argv, {
        cwd: path.dirname(files[0] as string),
        onLine: line => {
          for (const finished of tracker.push(`${line}\n`)) reporter.info(finished)
        }
      })
    )
    if (result.exitCode !== 0) {
      const failed = tracker.failure(services)
      const service =
        failed?.service && services.includes(failed.service) ? failed.service : undefined
      // The step's output goes to the log; the error itself stays one line.
      const tail = failed
        ? failed.logs.slice(-15).join('\n')
        : lastLines(result.stderr.replace(/^[{}\s"].*$/gm, ''), 12)
      if (tail)
        reporter.error(`${failed ? failed.name : 'docker buildx bake'}: last lines\n${tail}`, {
          title: `Build failed${service ? `: ${service}` : ''}`
        })
      const where = failed ? ` at step ${failed.name}: ${(failed.error ?? '').split('\n')[0]}` : ''
      throw new BuildFailedError(
        service,
        `Build failed${service ? ` for service "${service}"` : ''}${where}; nothing was pushed (the step's last lines are above)`
      )
    }
    const metadata = JSON.parse(fs.readFileSync(metadataFile, 'utf8')) as Record<
      string,
      Record<string, string>
    >

    const images: ImageMap = {}
    const reports: ServiceBuildReport[] = []
    for (const { target, repository, tags } of planned) {
      const id =
        metadata[target.service]?.['containerimage.config.digest'] ??
        metadata[target.service]?.['containerimage.digest']
      let digest = ''
      if (inputs.push) {
        for (const ref of target.tags) {
          const push = await executor.run(pushArgs(ref))
          if (push.exitCode !== 0) {
            const why = lastLines(push.stderr || push.stdout, 3).replace(/\n/g, ' | ')
            const input = classifyLoginFailure(why) === 'refused' ? 'registry-password' : 'registry'
            throw new InputError(input, `pushing ${ref} (service ${target.service}) failed: ${why}`)
          }
          digest ||= parsePushDigest(push.stdout) ?? ''
        }
      }
      const firstTag = tags[0] as string
      images[target.service] = {
        image: repository,
        tags,
        digest,
        ref: digest ? `${repository}@${digest}` : `${repository}:${firstTag}`,
        ...(id ? { id } : {})
      }
      reports.push({ service: target.service, tags, digest, ...tracker.summary(target.service) })
    }
    return { images, reports }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
    await logout()
  }
}

/** One summary row per service: tags, digest, duration and the share of cached steps. */
export function buildSummary(reports: ServiceBuildReport[]): string {
  const rows = reports.map(r => {
    const share =
      r.steps > 0 ? `${Math.round((100 * r.cached) / r.steps)}% (${r.cached}/${r.steps})` : '-'
    return `| ${r.service} | ${r.tags.map(t => `\`${t}\``).join(' ')} | ${r.digest ? `\`${r.digest.slice(0, 19)}…\`` : 'not pushed'} | ${r.seconds.toFixed(1)}s | ${share} |`
  })
  return [
    '### Build',
    '',
    '| Service | Tags | Digest | Duration | Cached steps |',
    '|---|---|---|---|---|',
    ...rows,
    ''
  ].join('\n')
}
