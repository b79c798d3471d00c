/**
 * The build stage in the lab: the reference stack built with one bake run, tagged from git,
 * labelled, pushed to the lab's authenticated registry, with the `images` output checked
 * against the registry's own digests; and the faults, each failing on one line with nothing
 * pushed.
 */
import { execFileSync } from 'node:child_process'
import * as path from 'node:path'
import { ROOT, docker, labEnv, referenceStackEnv, runCli } from './lab.js'

const lab = labEnv()
const namespace = `e2e-build-${process.pid}`
const auth = `Basic ${Buffer.from(`${lab.LAB_REGISTRY_USER}:${lab.LAB_REGISTRY_PASSWORD}`).toString('base64')}`
const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json'
].join(', ')

async function registryDigest(repository: string, tag: string): Promise<string | undefined> {
  const response = await fetch(`http://${lab.LAB_REGISTRY}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { authorization: auth, accept: MANIFEST_TYPES }
  })
  return response.status === 200
    ? (response.headers.get('docker-content-digest') ?? undefined)
    : undefined
}

async function registryTags(repository: string): Promise<string[]> {
  const response = await fetch(`http://${lab.LAB_REGISTRY}/v2/${repository}/tags/list`, {
    headers: { authorization: auth }
  })
  if (response.status === 404) return []
  return ((await response.json()) as { tags: string[] | null }).tags ?? []
}

const gitSha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()

const registryEnv = (extra: Record<string, string> = {}): Record<string, string> =>
  referenceStackEnv({
    STACK_DEPLOY_REGISTRY_PASSWORD: lab.LAB_REGISTRY_PASSWORD as string,
    ...extra
  })

describe('build: the reference stack, pushed to the lab registry', () => {
  it('pushes every built service and reports digests that the registry confirms', async () => {
    const run = runCli(
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
      { env: registryEnv() }
    )
    if (run.status !== 0) throw new Error(run.stderr)
    const images = JSON.parse(run.stdout) as Record<
      string,
      { image: string; tags: string[]; digest: string; ref: string }
    >
    expect(Object.keys(images).sort()).toEqual(['api', 'web'])
    for (const [service, image] of Object.entries(images)) {
      expect(image.image).toBe(`${lab.LAB_REGISTRY}/${namespace}/${service}`)
      expect(image.tags).toContain(`sha-${gitSha.slice(0, 7)}`)
      expect(image.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
      expect(image.ref).toBe(`${image.image}@${image.digest}`)
      for (const tag of image.tags) {
        expect([tag, await registryDigest(`${namespace}/${service}`, tag)]).toEqual([
          tag,
          image.digest
        ])
      }
      // OCI labels from git.
      const labels = JSON.parse(
        docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', image.ref]).stdout
      ) as Record<string, string>
      expect(labels['org.opencontainers.image.revision']).toBe(gitSha)
      expect(labels['org.opencontainers.image.title']).toBe(service)
      expect(labels['org.opencontainers.image.created']).toMatch(/^\d{4}-\d\d-\d\dT/)
    }
    // The password never reached argv or the output.
    expect(run.stderr).not.toContain(lab.LAB_REGISTRY_PASSWORD as string)
    expect(run.stdout).not.toContain(lab.LAB_REGISTRY_PASSWORD as string)
  })

  it('tags from templates', () => {
    const run = runCli(
      [
        'build',
        '-f',
        'compose/compose.yaml',
        '--services',
        'api',
        '--tags',
        'e2e-{{short_sha}}',
        '--tags',
        'pr-{{pr}}'
      ],
      {
        env: referenceStackEnv()
      }
    )
    if (run.status !== 0) throw new Error(run.stderr)
    const images = JSON.parse(run.stdout) as Record<string, { tags: string[] }>
    // pr-{{pr}} does not apply outside a pull request; the compose file's own tag is kept.
    expect(images.api?.tags).toEqual([`e2e-${gitSha.slice(0, 7)}`, 'local'])
  })
})

describe('build faults: one line, non-zero exit, nothing pushed', () => {
  const brokenDir = path.join(ROOT, '__tests__', 'fixtures', 'broken-build')
  const faultNamespace = `${namespace}-faults`

  const lastLine = (stderr: string): string => stderr.trim().split('\n').pop() as string

  it('a service that fails to build names the service and pushes nothing', async () => {
    const run = runCli(
      [
        'build',
        '-C',
        brokenDir,
        '--registry',
        lab.LAB_REGISTRY as string,
        '--image-namespace',
        faultNamespace,
        '--registry-username',
        lab.LAB_REGISTRY_USER as string,
        '--push'
      ],
      { env: registryEnv({ BASE_IMAGE: lab.LAB_DEBIAN_IMAGE as string }) }
    )
    expect(run.status).toBe(1)
    expect(lastLine(run.stderr)).toMatch(
      /^stack-deploy: Build failed for service "broken" at step \[broken 2\/2\] RUN .*; nothing was pushed/
    )
    // The failing step's own output is shown above the error.
    expect(run.stderr).toContain('error: missing dependency libfoo')
    expect(await registryTags(`${faultNamespace}/fine`)).toEqual([])
    expect(await registryTags(`${faultNamespace}/broken`)).toEqual([])
  })

  it('a refused login names registry-password', () => {
    const run = runCli(
      [
        'build',
        '-f',
        'compose/compose.yaml',
        '--services',
        'api',
        '--registry',
        lab.LAB_REGISTRY as string,
        '--image-namespace',
        faultNamespace,
        '--registry-username',
        lab.LAB_REGISTRY_USER as string,
        '--push'
      ],
      { env: registryEnv({ STACK_DEPLOY_REGISTRY_PASSWORD: 'not-the-password' }) }
    )
    expect(run.status).toBe(1)
    expect(lastLine(run.stderr)).toMatch(
      /^stack-deploy: Input 'registry-password': login to .* as lab was refused/
    )
    expect(run.stderr).not.toContain('not-the-password')
  })

  it('an unreachable registry names registry', async () => {
    const run = runCli(
      [
        'build',
        '-f',
        'compose/compose.yaml',
        '--services',
        'api',
        '--registry',
        '127.0.0.1:9',
        '--image-namespace',
        faultNamespace,
        '--registry-username',
        'lab',
        '--push'
      ],
      { env: registryEnv() }
    )
    expect(run.status).toBe(1)
    expect(lastLine(run.stderr)).toMatch(
      /^stack-deploy: Input 'registry': cannot log in to 127.0.0.1:9: the registry cannot be reached/
    )
  })

  it('a push to a registry without credentials fails naming registry', async () => {
    const run = runCli(
      [
        'build',
        '-f',
        'compose/compose.yaml',
        '--services',
        'api',
        '--registry',
        lab.LAB_REGISTRY as string,
        '--image-namespace',
        faultNamespace,
        '--push'
      ],
      {
        env: { ...referenceStackEnv(), DOCKER_CONFIG: '/tmp/stack-deploy-e2e-empty-docker-config' }
      }
    )
    expect(run.status).toBe(1)
    expect(lastLine(run.stderr)).toMatch(
      /^stack-deploy: Input '(registry|registry-password)': pushing .* \(service api\) failed/
    )
    expect(await registryTags(`${faultNamespace}/api`)).toEqual([])
  })

  it('an invalid tag template is refused before anything is built', () => {
    const run = runCli(['build', '-f', 'compose/compose.yaml', '--tags', 'v{{semver}}'], {
      env: referenceStackEnv()
    })
    expect(run.status).toBe(1)
    expect(run.stderr.trim()).toMatch(
      /^stack-deploy: Input 'tags': unknown variable \{\{semver\}\}/
    )
    expect(run.stderr).not.toContain('Build ')
  })

  it('a compose service without build or image is refused', () => {
    const run = runCli(['build', '-C', path.join(ROOT, '__tests__', 'fixtures', 'no-image')])
    expect(run.status).toBe(1)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(run.stderr).toMatch(/Input 'compose-files'.*orphan/)
  })
})
