/**
 * Safety holes of the deploy pipeline, through the runner contract on the lab's deploy host:
 * - no migration without a backup: when backup-service is set and the live release's database
 *   is not running, the deploy stops before migrating (backup: false is the way past it);
 * - a cancelled rollback does not leave its lock behind: the post step releases it.
 */
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  NODE24,
  ROOT,
  docker,
  labEnv,
  readFileCommands,
  referenceStackEnv,
  removeProject,
  runStep
} from './lab.js'

const lab = labEnv()
const project = `safety-${process.pid}`
const root = path.join(lab.LAB_DEPLOY_PATH as string, project)
const hostEnv = { DOCKER_HOST: lab.LAB_DEPLOY_DOCKER_HOST as string }
const common = {
  'compose-files': 'compose/compose.yaml',
  'working-directory': ROOT,
  'project-name': project,
  registry: lab.LAB_REGISTRY as string,
  'image-namespace': `e2e-safety-${process.pid}`,
  'registry-username': lab.LAB_REGISTRY_USER as string,
  'registry-password': lab.LAB_REGISTRY_PASSWORD as string
}
const hostInputs = {
  hosts: `${lab.LAB_SSH_USER}@${lab.LAB_HOST}`,
  'ssh-key': fs.readFileSync(lab.LAB_SSH_KEY as string, 'utf8'),
  'known-hosts': fs.readFileSync(lab.LAB_KNOWN_HOSTS as string, 'utf8'),
  'deploy-path': lab.LAB_DEPLOY_PATH as string,
  'health-urls': 'http://{host}:8084/api/health'
}
const deployInputs = {
  ...hostInputs,
  'env-file': `POSTGRES_IMAGE=${lab.POSTGRES_IMAGE}\nREDIS_IMAGE=${lab.REDIS_IMAGE}\nWEB_PORT=8084`,
  secrets: 'POSTGRES_PASSWORD=safety-pg-secret\nREDIS_PASSWORD=safety-redis-secret',
  'backup-service': 'postgres',
  'migrate-service': 'migrate'
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

describe('deploy safety on the lab host', () => {
  const images: string[] = []

  beforeAll(() => {
    for (const version of ['1', '2']) {
      const built = runStep(
        { ...common, command: 'build', push: 'true' },
        {},
        referenceStackEnv({ APP_VERSION: version })
      )
      if (built.status !== 0) throw new Error(built.stdout.slice(-2000))
      images.push(built.outputs.images as string)
    }
  })

  afterAll(() => {
    removeProject(project, hostEnv)
    fs.rmSync(root, { recursive: true, force: true })
  })

  it('stops before migrating when the live database cannot be backed up', async () => {
    const first = runStep(
      { ...common, command: 'deploy', images: images[0] as string, ...deployInputs },
      {},
      referenceStackEnv()
    )
    if (first.status !== 0) throw new Error(first.stdout.slice(-3000))
    const live = first.outputs['release-id'] as string

    // Someone stopped the database by hand.
    const postgres = docker(
      [
        'ps',
        '-q',
        '--filter',
        `label=com.docker.compose.project=${project}`,
        '--filter',
        'label=com.docker.compose.service=postgres'
      ],
      hostEnv
    ).stdout.trim()
    expect(docker(['stop', postgres], hostEnv).status).toBe(0)

    const refused = runStep(
      { ...common, command: 'deploy', images: images[1] as string, ...deployInputs },
      {},
      referenceStackEnv()
    )
    expect(refused.status).not.toBe(0)
    expect(refused.stdout).toMatch(
      /::error::Deploy to deploy@[\d.]+ failed at "backup": postgres of the live release \S+ is not running, so no backup can be taken before the migration; start it, or deploy with backup: false/
    )
    // Nothing ran past the backup: no migration, no switch, and the release is gone.
    expect(refused.summary).not.toMatch(/\| ✅ migrate \|/)
    expect(refused.summary).not.toContain('<summary>Migration output</summary>')
    expect(path.basename(fs.readlinkSync(path.join(root, 'current')))).toBe(live)
    expect(fs.readdirSync(path.join(root, 'releases'))).toEqual([live])
    expect(fs.existsSync(path.join(root, '.lock'))).toBe(false)

    // backup: false is the explicit way past it.
    const forced = runStep(
      {
        ...common,
        command: 'deploy',
        images: images[1] as string,
        ...deployInputs,
        backup: 'false'
      },
      {},
      referenceStackEnv()
    )
    if (forced.status !== 0) throw new Error(forced.stdout.slice(-3000))
    expect(forced.summary).toMatch(/\| ✅ migrate \|/)
    expect(forced.summary).toContain('Backup: none')
  })

  it('releases the lock of a rollback that was cancelled', async () => {
    // The action's main step, as the runner starts it; killed once it holds the lock.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-'))
    const files = {
      GITHUB_OUTPUT: path.join(dir, 'output'),
      GITHUB_STATE: path.join(dir, 'state'),
      GITHUB_STEP_SUMMARY: path.join(dir, 'summary')
    }
    for (const file of Object.values(files)) fs.writeFileSync(file, '')
    const inputs: Record<string, string> = { ...common, command: 'rollback', ...hostInputs }
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ...referenceStackEnv(),
      ...files
    }
    for (const key of Object.keys(env))
      if (key.startsWith('INPUT_') || key.startsWith('STATE_')) delete env[key]
    for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value
    const main = spawn(NODE24, [path.join(ROOT, 'dist', 'index.js')], { env, stdio: 'ignore' })
    const exited = new Promise(resolve => main.on('exit', resolve))
    const lockDir = path.join(root, '.lock')
    const deadline = Date.now() + 60_000
    while (!fs.existsSync(path.join(lockDir, 'owner.json')) && Date.now() < deadline)
      await sleep(50)
    expect(fs.existsSync(lockDir)).toBe(true)
    main.kill('SIGKILL')
    await exited
    expect(fs.existsSync(lockDir)).toBe(true)

    // The post step gets what the main step saved through GITHUB_STATE.
    const state = readFileCommands(files.GITHUB_STATE)
    expect(state['deploy-locks']).toContain(lockDir)
    const post = runStep(
      {},
      { isPost: 'true', ssh: state.ssh ?? '', 'deploy-locks': state['deploy-locks'] ?? '' }
    )
    expect(post.status).toBe(0)
    expect(post.stdout).toContain('Released the deploy lock')
    expect(fs.existsSync(lockDir)).toBe(false)
    fs.rmSync(dir, { recursive: true, force: true })
  })
})
