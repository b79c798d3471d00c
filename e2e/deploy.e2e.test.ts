/**
 * The deploy stage against the lab's deploy host: a real sshd with a pinned host key, a separate
 * dockerd and image store, images pulled from the authenticated lab registry.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { MemoryReporter } from '../src/report/reporter.js'
import { RemoteExecutor } from '../src/exec/remote.js'
import { HostDeployment, type DeployPlan } from '../src/deploy/deploy.js'
import { deployOverrideYaml } from '../src/deploy/override.js'
import { buildEnvFile, releaseId } from '../src/deploy/release.js'
import { planFromConfig } from '../src/compose/plan.js'
import type { ComposeConfig } from '../src/compose/types.js'
import { ROOT, docker, labEnv, referenceStackEnv, runCli } from './lab.js'

const lab = labEnv()
const namespace = `e2e-deploy-${process.pid}`
const project = `deploy-e2e-${process.pid}`

function deployDocker(args: string[]) {
  return docker(args, { DOCKER_HOST: lab.LAB_DEPLOY_DOCKER_HOST as string })
}

describe('deploy to the lab host', () => {
  let images: Record<string, { image: string; tags: string[]; digest: string; ref: string }>
  let basePlan: DeployPlan
  let remote: RemoteExecutor

  beforeAll(async () => {
    const env = referenceStackEnv({
      STACK_DEPLOY_REGISTRY_PASSWORD: lab.LAB_REGISTRY_PASSWORD as string
    })
    const built = runCli(
      [
        'build',
        '-f',
        'compose/compose.yaml',
        '--registry',
        lab.LAB_REGISTRY as string,
        '--image-namespace',
        namespace,
        '--registry-username',
        lab.LAB_REGISTRY_USER as string,
        '--push'
      ],
      { env }
    )
    if (built.status !== 0) throw new Error(built.stderr)
    images = JSON.parse(built.stdout)
    const config = JSON.parse(
      docker(
        ['compose', '-f', path.join(ROOT, 'compose', 'compose.yaml'), 'config', '--format', 'json'],
        referenceStackEnv()
      ).stdout
    ) as ComposeConfig
    const plan = planFromConfig(config)
    basePlan = {
      project,
      releaseId: releaseId(new Date(), 'e2e0001'),
      deployPath: lab.LAB_DEPLOY_PATH as string,
      composeFiles: [
        {
          name: 'compose.yaml',
          content: fs.readFileSync(path.join(ROOT, 'compose', 'compose.yaml'), 'utf8')
        }
      ],
      images,
      envFile: buildEnvFile([
        `POSTGRES_PASSWORD=deploy-pg-secret\nREDIS_PASSWORD=deploy-redis-secret\nPOSTGRES_IMAGE=${lab.POSTGRES_IMAGE}\nREDIS_IMAGE=${lab.REDIS_IMAGE}\nWEB_PORT=8080\nAPP_VERSION=1`
      ]).text,
      imagesOverride: deployOverrideYaml(plan, images),
      registry: {
        host: lab.LAB_REGISTRY as string,
        username: lab.LAB_REGISTRY_USER as string,
        password: lab.LAB_REGISTRY_PASSWORD as string
      },
      backupService: 'postgres',
      backupKeep: 3,
      migrateService: 'migrate',
      migrateTimeoutSeconds: 300,
      waitTimeoutSeconds: 180,
      lockTimeoutSeconds: 10,
      lockTtlSeconds: 900,
      keepReleases: 3,
      minFreeMiB: 100,
      healthUrls: ['http://{host}:8080/api/health'],
      healthRetries: 10,
      sha: 'e2e0001',
      actor: 'e2e',
      runUrl: undefined
    }
    remote = await RemoteExecutor.open({
      target: {
        user: lab.LAB_SSH_USER as string,
        host: lab.LAB_HOST as string,
        port: Number(lab.LAB_SSH_PORT)
      },
      privateKey: fs.readFileSync(lab.LAB_SSH_KEY as string, 'utf8'),
      knownHosts: fs.readFileSync(lab.LAB_KNOWN_HOSTS as string, 'utf8')
    })
  })

  afterAll(async () => {
    await remote?.dispose()
    deployDocker(['compose', '-p', project, 'down', '--volumes', '--remove-orphans'])
  })

  it('deploys to an empty host', async () => {
    const reporter = new MemoryReporter()
    const host = new HostDeployment(remote, basePlan, reporter)
    try {
      await host.deploy('e2e')
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\n${reporter.lines.join('\n')}\n${JSON.stringify(host.report, null, 2)}`
      )
    }
    expect(host.report.result).toBe('deployed')
    const health = await fetch(`http://${lab.LAB_HOST}:8080/api/health`)
    expect(health.status).toBe(200)
  })
})
