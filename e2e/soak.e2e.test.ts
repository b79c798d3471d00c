/**
 * Soak (issue 11), the short version of bench/soak.bench.mjs: 5 deploys and 1 rollback in a row
 * on the lab's deploy host, through the runner contract, with zero-downtime and keep-releases 3,
 * while bench/load.mjs POSTs notes at ~10/s and GETs at ~20/s through nginx, each request on a
 * fresh connection. Every deploy and the rollback change only the api (versions of it built
 * once, deployed round-robin). Afterwards:
 * - no request failed in any deploy's or the rollback's window;
 * - every write the api acknowledged is in postgres;
 * - after each command the host holds the releases the prune rule keeps (at most
 *   keep-releases + 1) and no image of the project that no remaining release names.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { describeFailures } from '../bench/load.mjs'
import { removeImages, removeProject, runSoak, soakReport, type Soak } from '../bench/soak-lib.mjs'
import { ROOT, labEnv, referenceStackEnv, runStep } from './lab.js'

const lab = labEnv()
const project = `soak-${process.pid}`
const namespace = `e2e-soak-${process.pid}`
const root = path.join(lab.LAB_DEPLOY_PATH as string, project)
const dockerHost = lab.LAB_DEPLOY_DOCKER_HOST as string
const repoPrefix = `${lab.LAB_REGISTRY}/${namespace}/`
const PORT = 8092
const KEEP = 3
const DEPLOYS = 5
const ROLLBACKS = 1
// More versions than keep-releases, so that the kept releases stop naming some: pruning then
// removes images too.
const VERSIONS = ['1', '2', '3', '4']

const common = {
  'compose-files': 'compose/compose.yaml',
  'working-directory': ROOT,
  'project-name': project,
  registry: lab.LAB_REGISTRY as string,
  'image-namespace': namespace,
  'registry-username': lab.LAB_REGISTRY_USER as string,
  'registry-password': lab.LAB_REGISTRY_PASSWORD as string
}
const hostInputs = {
  hosts: `${lab.LAB_SSH_USER}@${lab.LAB_HOST}`,
  'ssh-key': fs.readFileSync(lab.LAB_SSH_KEY as string, 'utf8'),
  'known-hosts': fs.readFileSync(lab.LAB_KNOWN_HOSTS as string, 'utf8'),
  'deploy-path': lab.LAB_DEPLOY_PATH as string,
  'health-urls': `http://{host}:${PORT}/api/health`,
  'zero-downtime': 'true'
}
const deployInputs = (version: string): Record<string, string> => ({
  ...hostInputs,
  'env-file': `POSTGRES_IMAGE=${lab.POSTGRES_IMAGE}\nREDIS_IMAGE=${lab.REDIS_IMAGE}\nWEB_PORT=${PORT}\nAPP_VERSION=${version}`,
  secrets: 'POSTGRES_PASSWORD=soak-pg-secret\nREDIS_PASSWORD=soak-redis-secret',
  // The migration runs before each rollout, as in production; the backup (a pg_dump, which
  // serves no request) is left to the bench's longer soak, to keep this one short.
  'migrate-service': 'migrate',
  'keep-releases': String(KEEP)
})

/** The step's log without its ::add-mask:: lines (they carry the secrets), for an error. */
const log = (stdout: string): string =>
  stdout
    .split('\n')
    .filter(line => !line.startsWith('::add-mask::'))
    .join('\n')
    .slice(-3000)

/** "upload 1.2s, pull 3.4s, ...": the steps of the job summary's table, for the log. */
const stepTimes = (summary: string): string =>
  [...summary.matchAll(/^\| [✅❌] ([^|]+?) \| ([\d.]+s) \|/gmu)]
    .map(([, step, seconds]) => `${step} ${seconds}`)
    .join(', ')

describe('soak: deploys and a rollback in a row under load', () => {
  const images = new Map<string, string>()
  let soak: Soak | undefined
  const steps: string[] = []

  // The build's registry login in a docker config of its own: in the shared one, another
  // build's logout (the build logs out when it ends) can land between our login and push.
  const dockerConfig = fs.mkdtempSync(path.join(os.tmpdir(), 'soak-docker-config-'))

  beforeAll(() => {
    let web: unknown
    for (const version of VERSIONS) {
      const built = runStep(
        { ...common, command: 'build', push: 'true' },
        {},
        referenceStackEnv({ APP_VERSION: version, DOCKER_CONFIG: dockerConfig })
      )
      if (built.status !== 0) throw new Error(log(built.stdout))
      const map = JSON.parse(built.outputs.images as string) as Record<string, { ref: string }>
      // Only the api may differ between versions: the web image is the same build each time.
      web ??= map.web
      expect(map.web).toEqual(web)
      images.set(version, built.outputs.images as string)
    }
  })

  afterAll(() => {
    removeProject(dockerHost, project)
    fs.rmSync(root, { recursive: true, force: true })
    fs.rmSync(dockerConfig, { recursive: true, force: true })
    removeImages(dockerHost, repoPrefix)
    removeImages('unix:///var/run/docker.sock', repoPrefix)
  })

  it(`${DEPLOYS} deploys and ${ROLLBACKS} rollback: no failed request, no lost row, releases and images bounded`, async () => {
    soak = await runSoak({
      deploys: DEPLOYS,
      rollbacks: ROLLBACKS,
      versions: VERSIONS,
      keep: KEEP,
      root,
      dockerHost,
      repoPrefix,
      baseUrl: `http://${lab.LAB_HOST}:${PORT}`,
      project,
      tag: `e2e-soak-${process.pid}`,
      pauseMs: 1000,
      deploy: version => {
        const run = runStep(
          {
            ...common,
            command: 'deploy',
            images: images.get(version) as string,
            ...deployInputs(version)
          },
          {},
          referenceStackEnv()
        )
        if (run.status !== 0) throw new Error(log(run.stdout))
        steps.push(`deploy v${version}: ${stepTimes(run.summary)}`)
        return run.outputs['release-id'] as string
      },
      rollback: target => {
        const run = runStep(
          {
            ...common,
            command: 'rollback',
            ...hostInputs,
            ...(target ? { 'release-id': target } : {})
          },
          {},
          referenceStackEnv()
        )
        if (run.status !== 0) throw new Error(log(run.stdout))
        steps.push(`rollback: ${stepTimes(run.summary)}`)
        return run.outputs['release-id'] as string
      }
    })
    console.log(
      `soak (${DEPLOYS} deploys, ${ROLLBACKS} rollback):\n${soakReport(soak)}\n  steps:\n    ${steps.join('\n    ')}`
    )

    // Every command ran, and each left the host as the prune rule says, on the version it should.
    expect(soak.ops.map(op => `${op.name}: ${op.error ?? 'ok'}`)).toEqual(
      soak.ops.map(op => `${op.name}: ok`)
    )
    expect(soak.ops.filter(op => op.kind === 'deploy')).toHaveLength(DEPLOYS)
    expect(soak.ops.filter(op => op.kind === 'rollback')).toHaveLength(ROLLBACKS)
    expect(soak.ops.map(op => `${op.name}: ${(op.problems ?? []).join('; ')}`)).toEqual(
      soak.ops.map(op => `${op.name}: `)
    )
    for (const op of soak.ops) {
      expect(op.releases).toBeLessThanOrEqual(KEEP + 1)
      expect(op.versionSeen).toBe(op.version)
    }
    // The rollback to the oldest kept release made the next deploy keep it: keep + 1 folders.
    expect(Math.max(...soak.ops.map(op => op.releases ?? 0))).toBe(KEEP + 1)

    // Api-only changes: not one failed request, in any window.
    expect(soak.windows.map(w => `${w.name}: ${describeFailures(w.failures, w.start)}`)).toEqual(
      soak.windows.map(w => `${w.name}: `)
    )

    // The load really ran (~10 writes/s, ~20 reads/s), and no acknowledged write was lost.
    const seconds = (soak.load.stopped - soak.load.started) / 1000
    const writes = soak.load.requests.filter(r => r[0] === 'w').length
    const reads = soak.load.requests.filter(r => r[0] === 'r').length
    expect(writes).toBeGreaterThan(seconds * 10 * 0.8)
    expect(reads).toBeGreaterThan(seconds * 20 * 0.8)
    expect(soak.rows.acknowledged).toBe(writes - soak.load.unacknowledged)
    expect(soak.rows.lost).toEqual([])
    expect(soak.rows.found).toBe(soak.rows.acknowledged)
  })
})
