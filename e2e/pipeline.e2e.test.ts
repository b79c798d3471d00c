/**
 * build → scan as a workflow runs them: `node dist/index.js` twice, the second step fed the
 * first step's `images` output. The reference stack is pushed to the lab's authenticated
 * registry, the output digests are checked against the registry, and the images are scanned
 * by the stand-in Trivy (test/stand-ins/trivy: real package lists, a made-up DB), found on
 * PATH with `trivy-version: path`.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ROOT, labEnv, referenceStackEnv, runStep } from './lab.js'

const lab = labEnv()
const namespace = `e2e-pipeline-${process.pid}`
const auth = `Basic ${Buffer.from(`${lab.LAB_REGISTRY_USER}:${lab.LAB_REGISTRY_PASSWORD}`).toString('base64')}`
const standIns = path.join(ROOT, 'test', 'stand-ins')

interface ServiceScan {
  ref: string
  counts: Record<string, number>
  verdict: string
  sarif: string
  report: string
}

describe('build and push, then scan the pushed digests', () => {
  let images: Record<string, { image: string; digest: string; ref: string; tags: string[] }>
  const sarifDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-deploy-sarif-'))

  afterAll(() => fs.rmSync(sarifDir, { recursive: true, force: true }))

  it('build: pushes, and the images output matches the registry', async () => {
    const run = runStep(
      {
        command: 'build',
        'working-directory': ROOT,
        'compose-files': 'compose/compose.yaml',
        registry: lab.LAB_REGISTRY as string,
        'image-namespace': namespace,
        'registry-username': lab.LAB_REGISTRY_USER as string,
        'registry-password': lab.LAB_REGISTRY_PASSWORD as string,
        push: 'true'
      },
      {},
      referenceStackEnv()
    )
    if (run.status !== 0) throw new Error(run.stdout)
    // The password is registered as a secret first (the runner then hides it) and appears nowhere else.
    const lines = run.stdout
      .split('\n')
      .filter(line => line.includes(lab.LAB_REGISTRY_PASSWORD as string))
    expect(lines).toEqual([`::add-mask::${lab.LAB_REGISTRY_PASSWORD}`])
    expect(run.stdout.indexOf('::add-mask::')).toBeLessThan(run.stdout.indexOf('docker'))
    images = JSON.parse(run.outputs.images as string) as typeof images
    expect(Object.keys(images).sort()).toEqual(['api', 'web'])
    for (const [service, image] of Object.entries(images)) {
      const response = await fetch(
        `http://${lab.LAB_REGISTRY}/v2/${namespace}/${service}/manifests/${image.digest}`,
        {
          method: 'HEAD',
          headers: {
            authorization: auth,
            accept:
              'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json'
          }
        }
      )
      expect(response.status).toBe(200)
      expect(response.headers.get('docker-content-digest')).toBe(image.digest)
      expect(image.ref).toBe(`${lab.LAB_REGISTRY}/${namespace}/${service}@${image.digest}`)
    }
    expect(run.summary).toMatch(/\| api \| .* \| `sha256:[0-9a-f]{12}…` \|/)
  })

  it('scan: reports every service, writes one SARIF per service, and gates on severity', () => {
    const scanInputs = {
      command: 'scan',
      'working-directory': ROOT,
      'compose-files': 'compose/compose.yaml',
      images: JSON.stringify(images),
      'trivy-version': 'path',
      'sarif-dir': sarifDir,
      severity: 'CRITICAL,HIGH,MEDIUM,LOW'
    }
    const env = referenceStackEnv({ PATH: `${standIns}:${process.env.PATH}` })

    // Report only: the step passes whatever was found.
    const report = runStep({ ...scanInputs, 'exit-code': '0' }, {}, env)
    if (report.status !== 0) throw new Error(report.stdout)
    const result = JSON.parse(report.outputs.scan as string) as {
      passed: boolean
      services: Record<string, ServiceScan>
    }
    expect(Object.keys(result.services).sort()).toEqual(['api', 'web'])
    expect(report.outputs['sarif-dir']).toBe(sarifDir)
    for (const [service, scanned] of Object.entries(result.services)) {
      expect(scanned.ref).toBe(images[service]?.ref)
      const sarif = JSON.parse(fs.readFileSync(scanned.sarif, 'utf8')) as {
        runs: { automationDetails?: { id: string }; results: unknown[] }[]
      }
      expect(sarif.runs[0]?.automationDetails?.id).toBe(`stack-deploy/${service}/`)
      expect(path.dirname(scanned.sarif)).toBe(sarifDir)
      const trivyJson = JSON.parse(fs.readFileSync(scanned.report, 'utf8')) as {
        SchemaVersion: number
        ArtifactName: string
      }
      expect(trivyJson.SchemaVersion).toBe(2)
      expect(trivyJson.ArtifactName).toBe(images[service]?.ref)
      expect(report.summary).toContain(`| ${service} |`)
    }

    // The same scan as a gate: it fails exactly when some service has a finding at the threshold.
    const gate = runStep(scanInputs, {}, env)
    const blocking = Object.entries(result.services)
      .filter(([, s]) =>
        ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'].some(sev => (s.counts[sev] ?? 0) > 0)
      )
      .map(([service]) => service)
    // The lab's images carry packages that the stand-in DB lists, so the gate has work to do.
    expect(blocking.length).toBeGreaterThan(0)
    expect(gate.status).toBe(blocking.length > 0 ? 1 : 0)
    if (blocking.length > 0) {
      const error = gate.stdout.split('\n').find(line => line.startsWith('::error::')) as string
      expect(error).toMatch(/Scan gate failed/)
      for (const service of blocking) expect(error).toContain(service)
      // One annotation per failing service, naming its worst findings.
      for (const service of blocking) {
        expect(gate.stdout).toMatch(new RegExp(`::error title=[^:]*${service}[^:]*::.*STANDIN-`))
      }
    }
  })
})
