/**
 * The runner's contract, exercised the way the runner does it: `node dist/index.js` under
 * Node 24 with inputs in INPUT_* variables, outputs read back from GITHUB_OUTPUT, the summary
 * from GITHUB_STEP_SUMMARY, and state carried from main to post through GITHUB_STATE/STATE_*.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  NODE24,
  ROOT,
  docker,
  leftovers,
  labEnv,
  projectsLeft,
  referenceStackEnv,
  removeProject,
  runStep
} from './lab.js'

const fixtures = path.join(ROOT, '__tests__', 'fixtures')

describe('the action under the runner contract', () => {
  it('runs on Node 24', () => {
    const version = spawnSync(NODE24, ['--version'], { encoding: 'utf8' }).stdout.trim()
    expect(version).toMatch(/^v24\./)
  })

  it('plan: reads INPUT_*, writes GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and GITHUB_STATE', () => {
    const run = runStep({
      command: 'plan',
      'compose-files': 'compose.yaml',
      'working-directory': path.join(fixtures, 'targets'),
      profiles: 'debug'
    })
    expect(run.status).toBe(0)
    const plan = JSON.parse(run.outputs.plan as string) as {
      services: { name: string; kind: string }[]
    }
    expect(plan.services.map(s => `${s.name}:${s.kind}`)).toEqual([
      'app:build',
      'cache:image',
      'debug-shell:image',
      'seed:job',
      'worker:build'
    ])
    expect(run.summary).toContain('### Compose plan: targets')
    expect(run.summary).toContain('| seed | job | busybox:1.36 |')
    expect(run.state.isPost).toBe('true')
    expect(run.stdout).toContain('Project targets')
  })

  it('build: writes the images output and one summary row per service', () => {
    const run = runStep(
      {
        command: 'build',
        'compose-files': 'compose/compose.yaml',
        'working-directory': ROOT,
        services: 'api'
      },
      {},
      referenceStackEnv()
    )
    expect(run.status).toBe(0)
    const images = JSON.parse(run.outputs.images as string) as Record<
      string,
      { ref: string; tags: string[] }
    >
    expect(Object.keys(images)).toEqual(['api'])
    expect(run.summary).toContain('### Build')
    expect(run.summary).toMatch(
      /\| api \| `sha-[0-9a-f]{7}`.* \| not pushed \| \d+\.\ds \| \d+% \(\d+\/\d+\) \|/
    )
  })

  it('smoke failure: summary blocks, one annotation per service and the log-bundle output', () => {
    const lab = labEnv()
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-smoke-logs-'))
    const run = runStep(
      {
        command: 'smoke',
        'working-directory': path.join(fixtures, 'smoke-faults'),
        'compose-files': 'base.yaml\ncrash.yaml',
        'log-dir': logDir,
        'wait-timeout': '60'
      },
      {},
      { IMAGE: lab.LAB_DEBIAN_IMAGE as string, NGINX_IMAGE: lab.NGINX_IMAGE as string }
    )
    expect(run.status).toBe(1)
    expect(run.stdout).toMatch(
      /::error::Smoke test failed: service "app": container exited with code 2/
    )
    // The runner escapes ":" in annotation properties as %3A.
    expect(run.stdout).toMatch(/::error title=Smoke test%3A app::.*fatal: config file/)
    expect(run.summary).toContain('### Smoke test failed')
    expect(run.summary).toMatch(/<details><summary>.*app.*<\/summary>/)
    expect(run.summary).toContain('fatal: config file /etc/app.conf not found')
    const bundle = run.outputs['log-bundle'] as string
    expect(bundle.startsWith(logDir)).toBe(true)
    expect(fs.existsSync(bundle)).toBe(true)
    // The post step has nothing left to clean: main tore the stack down itself.
    expect(run.state['smoke-teardown']).toBe('')
    expect(projectsLeft('faults-crash-smoke-')).toEqual([])
  })

  it('fails the step with an ::error:: naming the input', () => {
    const run = runStep({ command: 'ship' })
    expect(run.status).toBe(1)
    expect(run.stdout).toContain(`::error::Input 'command': unknown command "ship"`)
  })

  it('post: tears down a stack that a cancelled main step left behind', () => {
    const lab = labEnv()
    const env = { SLEEPER_IMAGE: `${lab.LAB_REGISTRY}/lab/debian:bookworm` }
    const project = `runner-post-${process.pid}`
    const dir = path.join(fixtures, 'sleeper')
    const up = docker(
      ['compose', '-f', path.join(dir, 'compose.yaml'), '-p', project, 'up', '-d'],
      env
    )
    expect(up.stderr).not.toMatch(/error/i)
    expect(leftovers(project).length).toBeGreaterThan(0)

    const teardown = JSON.stringify({
      cwd: dir,
      argv: [
        'docker',
        'compose',
        '-f',
        'compose.yaml',
        '-p',
        project,
        'down',
        '--volumes',
        '--remove-orphans',
        '--timeout',
        '1'
      ]
    })
    const run = runStep({}, { isPost: 'true', 'smoke-teardown': teardown }, env)
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('Cleaning up after an interrupted run')
    expect(leftovers(project)).toEqual([])
  })

  it('post: does nothing when main left nothing behind', () => {
    const run = runStep({}, { isPost: 'true' })
    expect(run.status).toBe(0)
    expect(run.stdout).not.toContain('Cleaning up')
  })
})

describe('deploy under the runner contract', () => {
  const lab = labEnv()
  const project = `runner-deploy-${process.pid}`
  const common = {
    'compose-files': 'compose/compose.yaml',
    'working-directory': ROOT,
    'project-name': project,
    registry: lab.LAB_REGISTRY as string,
    'image-namespace': `e2e-runner-deploy-${process.pid}`,
    'registry-username': lab.LAB_REGISTRY_USER as string,
    'registry-password': lab.LAB_REGISTRY_PASSWORD as string
  }

  afterAll(() => {
    removeProject(project, { DOCKER_HOST: lab.LAB_DEPLOY_DOCKER_HOST as string })
  })

  it('deploy: writes release-id, url and digests, a per-host summary, and clears its state', async () => {
    const built = runStep({ ...common, command: 'build', push: 'true' }, {}, referenceStackEnv())
    expect(built.status).toBe(0)
    const images = JSON.parse(built.outputs.images as string) as Record<string, { ref: string }>

    const run = runStep(
      {
        ...common,
        command: 'deploy',
        images: built.outputs.images as string,
        hosts: `${lab.LAB_SSH_USER}@${lab.LAB_HOST}`,
        'ssh-key': fs.readFileSync(lab.LAB_SSH_KEY as string, 'utf8'),
        'known-hosts': fs.readFileSync(lab.LAB_KNOWN_HOSTS as string, 'utf8'),
        'deploy-path': lab.LAB_DEPLOY_PATH as string,
        'env-file': `POSTGRES_IMAGE=${lab.POSTGRES_IMAGE}\nREDIS_IMAGE=${lab.REDIS_IMAGE}\nWEB_PORT=8083`,
        secrets: 'POSTGRES_PASSWORD=runner-pg-secret\nREDIS_PASSWORD=runner-redis-secret',
        'backup-service': 'postgres',
        'migrate-service': 'migrate',
        'health-urls': 'http://{host}:8083/api/health'
      },
      {},
      referenceStackEnv()
    )
    expect(run.status).toBe(0)

    const releaseId = run.outputs['release-id'] as string
    expect(releaseId).toMatch(/^\d{8}T\d{6}\.\d{3}Z-[0-9a-z]+$/)
    expect(run.outputs.url).toBe(`http://${lab.LAB_HOST}:8083/api/health`)
    const digests = JSON.parse(run.outputs.digests as string) as Record<string, string>
    expect(digests).toEqual(
      Object.fromEntries(Object.entries(images).map(([service, image]) => [service, image.ref]))
    )
    for (const ref of Object.values(digests)) expect(ref).toMatch(/@sha256:[0-9a-f]{64}$/)
    // What the host runs is what the outputs say.
    const manifest = JSON.parse(
      fs.readFileSync(
        path.join(lab.LAB_DEPLOY_PATH as string, project, 'releases', releaseId, 'manifest.json'),
        'utf8'
      )
    ) as { images: Record<string, string> }
    expect(manifest.images).toEqual(digests)
    expect((await fetch(run.outputs.url as string)).status).toBe(200)

    // The summary: the release, the host's result, each step with its time.
    expect(run.summary).toContain(`### Deploy ${releaseId}`)
    expect(run.summary).toContain(`#### ${lab.LAB_SSH_USER}@${lab.LAB_HOST}: deployed`)
    for (const step of [
      'preflight',
      'lock',
      'upload',
      'pull',
      'migrate',
      'roll out',
      'verify',
      'prune'
    ])
      expect(run.summary).toMatch(new RegExp(`\\| ✅ ${step} \\| \\d+\\.\\ds \\|`))
    expect(run.summary).toContain('<summary>Migration output</summary>')

    // Nothing is left for the post step: no connection, no lock.
    expect(run.state.ssh).toBe('')
    expect(run.state['deploy-locks']).toBe('')
    for (const secret of [
      'runner-pg-secret',
      'runner-redis-secret',
      lab.LAB_REGISTRY_PASSWORD as string
    ]) {
      // ::add-mask:: is how the runner learns what to hide; everything else must not show it.
      expect(run.stdout).toContain(`::add-mask::${secret}`)
      expect(
        run.stdout
          .split('\n')
          .filter(line => !line.startsWith('::add-mask::'))
          .join('\n')
      ).not.toContain(secret)
      expect(run.summary).not.toContain(secret)
    }
  })
})
