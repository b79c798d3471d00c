/**
 * Stacks shaped like the ones users bring (e2e/fixtures/stacks): config bind-mounted read-only,
 * init SQL, writable upload and log folders, secret files, a WebSocket behind nginx, a profile,
 * a compose file in a subfolder. Each one, through the action as the runner runs it: build and
 * push, smoke, deploy to the lab's deploy host, deploy a config change, roll back, deploy twice
 * more so that keep-releases prunes. Each round checks that config follows the release, data
 * survives every step, the seeded rows are there, nothing in releases/ is root's, pruning keeps
 * the store bounded, and the secret never appears outside its own file.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ROOT, docker, labEnv, runCli, runStep, waitFor } from './lab.js'

const lab = labEnv()
const deployPath = lab.LAB_DEPLOY_PATH as string
const host = lab.LAB_HOST as string
const SECRET = `db-secret-${process.pid}-Zq8`

interface Stack {
  name: string
  /** Folder of the stack (the working directory), and its compose file inside it. */
  dir: string
  composeFile: string
  port: number
  /** The file whose `return 200 "v1` line a config change edits. */
  configFile: string
  probes: string
  healthUrls: string
  inputs?: Record<string, string>
}

const STACKS: Stack[] = [
  {
    name: 'webapp',
    dir: 'webapp',
    composeFile: 'compose.yaml',
    port: 18080,
    configFile: 'nginx/conf.d/app.conf',
    probes: '- http: nginx:8080/items\n  contains: gamma\n',
    healthUrls: `http://{host}:18080/health`
  },
  {
    name: 'secrets',
    dir: 'secrets',
    composeFile: 'compose.yaml',
    port: 18082,
    configFile: 'nginx/conf.d/app.conf',
    probes: '- http: nginx:8080/items\n  contains: gamma\n',
    healthUrls: `http://{host}:18082/health`
  },
  {
    name: 'websocket',
    dir: 'websocket',
    composeFile: 'compose.yaml',
    port: 18083,
    configFile: 'nginx/default.conf',
    probes: '- ws: nginx:8080/ws\n  send: ping\n  expect: echo:ping\n',
    healthUrls: `http://{host}:18083/health\nws://{host}:18083/ws`
  },
  {
    name: 'profiles',
    dir: 'profiles',
    composeFile: 'compose.yaml',
    port: 18084,
    configFile: 'nginx/conf.d/app.conf',
    probes: '- http: nginx:8080/items\n  contains: gamma\n',
    healthUrls: `http://{host}:18084/health`
  },
  {
    name: 'subdir',
    dir: 'subdir',
    composeFile: 'deploy/compose.yaml',
    port: 18085,
    configFile: 'nginx/conf.d/app.conf',
    probes: '- http: nginx:8080/greeting\n  contains: hello\n',
    healthUrls: `http://{host}:18085/health`
  }
]

function hostDocker(args: string[]): string {
  const run = docker(args, { DOCKER_HOST: lab.LAB_DEPLOY_DOCKER_HOST as string })
  if (run.status !== 0) throw new Error(`docker ${args.join(' ')}: ${run.stderr}`)
  return run.stdout
}

/**
 * One request, retried when the socket fails: a pooled keep-alive connection to an nginx that a
 * deploy just recreated is closed under us ("other side closed"), which is the old container's
 * socket, not an answer of the new release.
 */
async function request(
  url: string,
  init: RequestInit = {}
): Promise<{ status: number; text: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) })
      return { status: response.status, text: await response.text() }
    } catch (error) {
      if (attempt >= 3) throw error
      await new Promise(resolve => setTimeout(resolve, 500))
    }
  }
}

const get = (url: string): Promise<{ status: number; text: string }> => request(url)

/** Every regular file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return []
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).flatMap(entry => {
    const full = path.join(entry.parentPath, entry.name)
    return entry.isFile() ? [full] : []
  })
}

describe.each(STACKS)('the $name stack', stack => {
  const project = `fx-${stack.name}-${process.pid}`
  const root = path.join(deployPath, project)
  let work: string
  let dir: string
  let images: string
  const logs: string[] = []

  const runnerEnv = {
    NODE_IMAGE: lab.NODE_IMAGE as string,
    NGINX_IMAGE: lab.NGINX_IMAGE as string,
    POSTGRES_IMAGE: lab.POSTGRES_IMAGE as string,
    APP_GREETING: 'hello'
  }
  const common = (): Record<string, string> => ({
    'working-directory': dir,
    'compose-files': stack.composeFile,
    'project-name': project,
    ...stack.inputs
  })

  function deploy(extra: Record<string, string> = {}): ReturnType<typeof runStep> {
    const run = runStep(
      {
        command: 'deploy',
        ...common(),
        images,
        hosts: `${lab.LAB_SSH_USER}@${host}`,
        'ssh-key': fs.readFileSync(lab.LAB_SSH_KEY as string, 'utf8'),
        'known-hosts': fs.readFileSync(lab.LAB_KNOWN_HOSTS as string, 'utf8'),
        'deploy-path': deployPath,
        registry: lab.LAB_REGISTRY as string,
        'registry-username': lab.LAB_REGISTRY_USER as string,
        'registry-password': lab.LAB_REGISTRY_PASSWORD as string,
        'env-file': `APP_GREETING=hello\nNGINX_IMAGE=${lab.NGINX_IMAGE}\nPOSTGRES_IMAGE=${lab.POSTGRES_IMAGE}`,
        'health-urls': stack.healthUrls,
        'keep-releases': '2',
        ...extra
      },
      {},
      runnerEnv
    )
    logs.push(run.stdout, run.summary)
    return run
  }

  function expectDeployed(run: ReturnType<typeof runStep>): string {
    if (run.status !== 0) throw new Error(`deploy failed:\n${run.stdout.slice(-3000)}`)
    return run.outputs['release-id'] as string
  }

  function postgresContainer(): string {
    return hostDocker([
      'ps',
      '-q',
      '--filter',
      `label=com.docker.compose.project=${project}`,
      '--filter',
      'label=com.docker.compose.service=postgres'
    ]).trim()
  }

  function setConfig(version: string): void {
    const file = path.join(dir, stack.configFile)
    fs.writeFileSync(
      file,
      fs.readFileSync(file, 'utf8').replace(/return 200 "v\d+\\n"/, `return 200 "${version}\\n"`)
    )
  }

  function expectNothingOfRoot(): void {
    const owned = fs
      .readdirSync(path.join(root, 'releases'), { recursive: true })
      .map(entry => path.join(root, 'releases', String(entry)))
      .filter(file => fs.lstatSync(file).uid === 0)
    expect(owned).toEqual([])
  }

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-stacks-'))
    fs.cpSync(path.join(ROOT, 'e2e', 'fixtures', 'stacks'), work, { recursive: true })
    dir = path.join(work, stack.dir)
    if (stack.name === 'secrets')
      fs.writeFileSync(path.join(dir, 'secrets', 'db_password.txt'), SECRET)
    const built = runCli(
      [
        'build',
        '--working-directory',
        dir,
        '-f',
        stack.composeFile,
        '-p',
        project,
        '--registry',
        lab.LAB_REGISTRY as string,
        '--image-namespace',
        `e2e-fx-${process.pid}`,
        '--registry-username',
        lab.LAB_REGISTRY_USER as string,
        '--push'
      ],
      {
        env: { ...runnerEnv, STACK_DEPLOY_REGISTRY_PASSWORD: lab.LAB_REGISTRY_PASSWORD as string }
      }
    )
    if (built.status !== 0) throw new Error(built.stderr)
    images = built.stdout.trim()
  })

  afterAll(() => {
    const env = { DOCKER_HOST: lab.LAB_DEPLOY_DOCKER_HOST as string }
    const ids = docker(
      ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`],
      env
    )
      .stdout.split('\n')
      .filter(Boolean)
    if (ids.length > 0) docker(['rm', '-f', ...ids], env)
    docker(['volume', 'rm', `${project}_pgdata`], env)
    for (const net of ['front', 'back', 'default'])
      docker(['network', 'rm', `${project}_${net}`], env)
    // Containers wrote into shared/ as other users: removed as root, here.
    fs.rmSync(root, { recursive: true, force: true })
    fs.rmSync(work, { recursive: true, force: true })
  })

  it('passes smoke with the same files a deploy ships', () => {
    const run = runStep(
      { command: 'smoke', ...common(), images, probes: stack.probes },
      {},
      runnerEnv
    )
    logs.push(run.stdout, run.summary)
    if (run.status !== 0) throw new Error(run.stdout.slice(-3000))
    // Persistent folders are made in the run's own folder, never in the checkout.
    expect(fs.existsSync(path.join(dir, 'uploads'))).toBe(false)
  })

  it('deploys, keeps data across a config change and a rollback, and prunes', async () => {
    const web = `http://${host}:${stack.port}`
    const first = expectDeployed(deploy())
    expect(await get(`${web}/config-version`)).toEqual({ status: 200, text: 'v1\n' })
    expect(JSON.parse((await get(`${web}/items`)).text)).toEqual({
      count: 3,
      names: ['alpha', 'beta', 'gamma']
    })
    const postgresFirst = postgresContainer()
    expect(postgresFirst).toMatch(/^[0-9a-f]{12,}$/)
    const upload = await request(`${web}/uploads/kept.txt`, { method: 'POST', body: 'written-v1' })
    expect(upload.status).toBe(201)
    // The app's log and upload folders are the persistent ones, made before compose ran.
    const shared = path.join(root, 'shared')
    expect(fs.readFileSync(path.join(shared, 'uploads', 'kept.txt'), 'utf8')).toBe('written-v1')
    // The app writes its access log line after it answers: wait for it rather than race it.
    const appLog = path.join(shared, 'logs', 'app', 'app.log')
    await waitFor(
      `the upload's line in ${appLog}`,
      () => fs.readFileSync(appLog, 'utf8').includes('/uploads/kept.txt'),
      15
    )
    // The project tree keeps its layout: the compose file where it is in the repository.
    expect(fs.existsSync(path.join(root, 'releases', first, 'project', stack.composeFile))).toBe(
      true
    )

    setConfig('v2')
    const secondRun =
      stack.name === 'secrets'
        ? // The secret's file is gone from the tree: the secret-files input gives it.
          (fs.rmSync(path.join(dir, 'secrets', 'db_password.txt')),
          deploy({ 'secret-files': `db_password<<EOF\n${SECRET}\nEOF` }))
        : stack.name === 'profiles'
          ? deploy({ profiles: 'tools' })
          : deploy()
    const second = expectDeployed(secondRun)
    expect(secondRun.summary).toContain('Persistent, in `shared/`')
    expect(await get(`${web}/config-version`)).toEqual({ status: 200, text: 'v2\n' })
    expect((await get(`${web}/uploads/kept.txt`)).text).toBe('written-v1')
    // Unchanged files were hard-linked from the first release, not copied.
    const composeIn = (id: string): fs.Stats =>
      fs.statSync(path.join(root, 'releases', id, 'project', stack.composeFile))
    expect(composeIn(second).ino).toBe(composeIn(first).ino)
    if (stack.name === 'profiles') {
      expect((await get(`http://${host}:18081/`)).status).toBe(200)
    }
    if (stack.name === 'secrets') {
      const secretFile = path.join(root, 'releases', second, 'secrets', 'db_password')
      expect(fs.statSync(secretFile).mode & 0o777).toBe(0o400)
      expect(fs.readFileSync(secretFile, 'utf8')).toBe(SECRET)
    }

    const rolled = runStep(
      {
        command: 'rollback',
        ...common(),
        hosts: `${lab.LAB_SSH_USER}@${host}`,
        'ssh-key': fs.readFileSync(lab.LAB_SSH_KEY as string, 'utf8'),
        'known-hosts': fs.readFileSync(lab.LAB_KNOWN_HOSTS as string, 'utf8'),
        'deploy-path': deployPath,
        'health-urls': stack.healthUrls
      },
      {},
      runnerEnv
    )
    logs.push(rolled.stdout, rolled.summary)
    if (rolled.status !== 0) throw new Error(rolled.stdout.slice(-3000))
    expect(rolled.outputs['release-id']).toBe(first)
    expect(await get(`${web}/config-version`)).toEqual({ status: 200, text: 'v1\n' })
    expect((await get(`${web}/uploads/kept.txt`)).text).toBe('written-v1')
    expect(JSON.parse((await get(`${web}/items`)).text).count).toBe(3)
    expectNothingOfRoot()

    // Two more deploys: keep-releases 2 prunes the first two, and their store objects go too.
    setConfig('v3')
    const third = expectDeployed(
      deploy(stack.name === 'secrets' ? { 'secret-files': `db_password=${SECRET}` } : {})
    )
    setConfig('v4')
    const fourth = expectDeployed(
      deploy(stack.name === 'secrets' ? { 'secret-files': `db_password=${SECRET}` } : {})
    )
    expect(await get(`${web}/config-version`)).toEqual({ status: 200, text: 'v4\n' })
    expect((await get(`${web}/uploads/kept.txt`)).text).toBe('written-v1')
    expect(fs.readdirSync(path.join(root, 'releases')).sort()).toEqual([third, fourth].sort())
    const manifests = [third, fourth].map(
      id =>
        JSON.parse(fs.readFileSync(path.join(root, 'releases', id, 'manifest.json'), 'utf8')) as {
          objects: string[]
        }
    )
    expect(fs.readdirSync(path.join(root, 'store')).sort()).toEqual(
      [...new Set(manifests.flatMap(m => m.objects))].sort()
    )
    expect(second).not.toBe(first)
    expectNothingOfRoot()
    // The database was never recreated: config mounts are addressed by content, so a change
    // elsewhere leaves postgres's configuration hash as it was.
    expect(postgresContainer()).toBe(postgresFirst)
  })

  it('shows no secret value outside its own file', () => {
    // `::add-mask::VALUE` is how the runner is told to mask a value; it never shows that line.
    const shown = logs.map(text =>
      text
        .split('\n')
        .filter(line => !line.startsWith('::add-mask::'))
        .join('\n')
    )
    if (stack.name === 'secrets')
      expect(logs.some(text => text.includes(`::add-mask::${SECRET}`))).toBe(true)
    const leaks = [
      ...shown.filter(text => text.includes(SECRET)).map(() => 'a log or summary'),
      ...filesUnder(root)
        .filter(file => !file.includes(`${path.sep}secrets${path.sep}`))
        .filter(file => {
          try {
            return fs.readFileSync(file, 'utf8').includes(SECRET)
          } catch {
            return false
          }
        })
    ]
    expect(leaks).toEqual([])
    expect(logs.length).toBeGreaterThanOrEqual(4)
  })
})
