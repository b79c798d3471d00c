/**
 * `stack-deploy deploy` and `stack-deploy rollback` end to end, as a user runs them: the images
 * output of a pushed build, secrets only in STACK_DEPLOY_* variables, the lab's deploy host
 * over its real sshd with the pinned key.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { HostReleases } from '../src/ops/releases.js'
import { labEnv, referenceStackEnv, removeProject, runCli, startLoad } from './lab.js'

const lab = labEnv()
const namespace = `e2e-deploy-cli-${process.pid}`
const project = `deploy-cli-${process.pid}`
const knownHosts = fs.readFileSync(lab.LAB_KNOWN_HOSTS as string, 'utf8')

function args(name: string, pinned: string = knownHosts): string[] {
  return [
    ...['-f', 'compose/compose.yaml', '-p', name],
    ...['--registry', lab.LAB_REGISTRY as string, '--image-namespace', namespace],
    ...['--registry-username', lab.LAB_REGISTRY_USER as string],
    ...['--hosts', `${lab.LAB_SSH_USER}@${lab.LAB_HOST}`, `--known-hosts=${pinned}`],
    ...[
      '--deploy-path',
      lab.LAB_DEPLOY_PATH as string,
      '--health-urls',
      'http://{host}:8081/api/health'
    ]
  ]
}

// Through the environment, not --env-file: Node itself takes --env-file from anywhere on its
// command line (even after the script), so that flag never reaches the CLI.
const envFile = `POSTGRES_IMAGE=${lab.POSTGRES_IMAGE}\nREDIS_IMAGE=${lab.REDIS_IMAGE}\nWEB_PORT=8081`
const env = referenceStackEnv({
  STACK_DEPLOY_REGISTRY_PASSWORD: lab.LAB_REGISTRY_PASSWORD as string,
  STACK_DEPLOY_SSH_KEY: fs.readFileSync(lab.LAB_SSH_KEY as string, 'utf8'),
  STACK_DEPLOY_SECRETS: 'POSTGRES_PASSWORD=cli-pg-secret\nREDIS_PASSWORD=cli-redis-secret'
})

describe('deploy and rollback from the CLI', () => {
  const releases: string[] = []

  afterAll(() => {
    removeProject(project, { DOCKER_HOST: lab.LAB_DEPLOY_DOCKER_HOST as string })
  })

  it('deploys twice, then rolls back to the first release', async () => {
    for (const version of ['1', '2']) {
      const built = runCli(['build', ...args(project), '--push'], {
        env: { ...env, APP_VERSION: version }
      })
      if (built.status !== 0) throw new Error(built.stderr)
      const deployed = runCli(
        [
          'deploy',
          ...args(project),
          '--images',
          built.stdout.trim(),
          '--backup-service',
          'postgres',
          '--migrate-service',
          'migrate',
          '--json'
        ],
        { env: { ...env, STACK_DEPLOY_ENV_FILE: `${envFile}\nAPP_VERSION=${version}` } }
      )
      if (deployed.status !== 0) throw new Error(deployed.stderr)
      const out = JSON.parse(deployed.stdout) as { deploy: { releaseId: string; url: string } }
      releases.push(out.deploy.releaseId)
      expect(out.deploy.url).toBe(`http://${lab.LAB_HOST}:8081/api/health`)
      const health = await fetch(out.deploy.url)
      expect(health.headers.get('x-app-version')).toBe(version)
      for (const secret of [
        'cli-pg-secret',
        'cli-redis-secret',
        lab.LAB_REGISTRY_PASSWORD as string
      ]) {
        expect(deployed.stderr).not.toContain(secret)
      }
    }
    // Requests through web all along the rollback: the api goes back new-container-first too.
    const load = await startLoad(`http://${lab.LAB_HOST}:8081/api/health`)
    const rolled = runCli(['rollback', ...args(project), '--json'], { env })
    const during = await load.stop()
    if (rolled.status !== 0) throw new Error(rolled.stderr)
    expect(during.sent).toBeGreaterThan(20)
    expect(during.failures).toEqual([])
    const rolledBack = JSON.parse(rolled.stdout) as { deploy: { releaseId: string; url: string } }
    expect(rolledBack.deploy.releaseId).toBe(releases[0])
    // The same url output as a deploy: the workflows use it as the environment's URL.
    expect(rolledBack.deploy.url).toBe(`http://${lab.LAB_HOST}:8081/api/health`)
    const health = await fetch(`http://${lab.LAB_HOST}:8081/api/health`)
    expect(health.headers.get('x-app-version')).toBe('1')
    expect(fs.readlinkSync(path.join(lab.LAB_DEPLOY_PATH as string, project, 'current'))).toMatch(
      new RegExp(`${releases[0]}$`)
    )
  })

  it('lists the releases, newest first, the live one marked, with the backup each deploy took', () => {
    const listed = runCli(['releases', ...args(project), '--json'], { env })
    if (listed.status !== 0) throw new Error(listed.stderr)
    const out = JSON.parse(listed.stdout) as { releases: HostReleases[] }
    expect(out.releases).toHaveLength(1)
    const host = out.releases[0] as HostReleases
    expect(host.host).toContain(lab.LAB_HOST as string)
    // Rolled back to the first: the second stays, for a roll forward.
    expect(host.live).toBe(releases[0])
    expect(host.releases.map(r => [r.id, r.live, r.complete])).toEqual([
      [releases[1], false, true],
      [releases[0], true, true]
    ])
    expect(host.releases[1]?.images.api).toMatch(/@sha256:[0-9a-f]{64}$/)
    // The second deploy dumped the first one's database before it migrated; the first had
    // nothing live to back up.
    const backup = host.releases[0]?.backups ?? []
    expect(backup).toHaveLength(1)
    expect(backup[0]?.service).toBe('postgres')
    expect(backup[0]?.file).toBe(
      path.join(lab.LAB_DEPLOY_PATH as string, project, 'backups', `${releases[1]}-postgres.sql.gz`)
    )
    expect(fs.statSync(backup[0]?.file as string).size).toBe(backup[0]?.bytes)
    expect(host.releases[1]?.backups).toEqual([])
    // As text, on stdout: a line each, the host first, the live one starred.
    const text = runCli(['releases', ...args(project)], { env })
    if (text.status !== 0) throw new Error(text.stderr)
    const lines = text.stdout.trim().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(
      new RegExp(`^\\[${host.host}\\]   ${releases[1]}  .* backup postgres: `)
    )
    expect(lines[1]).toMatch(new RegExp(`^\\[${host.host}\\] \\* ${releases[0]}  `))
    expect(lines[1]).not.toContain('backup')
  })

  it('refuses a host whose key is not the pinned one, before running anything', () => {
    const other = knownHosts.replace(
      /AAAA\S+/,
      'AAAAC3NzaC1lZDI1NTE5AAAAIBq7R4nW0b7Pn6cQ2m9Qy9X0x1v0M8yZtq8Xy2vJ5Y6Q'
    )
    const name = `${project}-wrong-key`
    const run = runCli(['rollback', ...args(name, other)], { env })
    expect(run.status).toBe(1)
    expect(run.stderr.trim().split('\n').pop()).toMatch(
      /host key|REMOTE HOST IDENTIFICATION|refusing to connect/i
    )
    // Nothing ran on the host: not even the deploy path's project folder exists.
    expect(fs.existsSync(path.join(lab.LAB_DEPLOY_PATH as string, name))).toBe(false)
  })
})
