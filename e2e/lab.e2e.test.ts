/**
 * The lab itself: `npm run lab:up` is idempotent, and it repairs a lab whose daemons were
 * killed with SIGKILL and no cleanup (what happens when a session ends before CI runs).
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ROOT, docker, labEnv } from './lab.js'

const STATE = '/var/lib/stack-deploy-lab'

function labUp(): { status: number; seconds: number; output: string } {
  const started = Date.now()
  const run = spawnSync('bash', [path.join(ROOT, 'test', 'lab', 'up.sh')], { encoding: 'utf8' })
  return {
    status: run.status ?? -1,
    seconds: (Date.now() - started) / 1000,
    output: run.stdout + run.stderr
  }
}

function sshDeployHost(command: string[]): { status: number; stdout: string; stderr: string } {
  const lab = labEnv()
  const run = spawnSync(
    'ssh',
    [
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${lab.LAB_KNOWN_HOSTS}`,
      '-o',
      'ConnectTimeout=10',
      '-i',
      lab.LAB_SSH_KEY as string,
      '-p',
      lab.LAB_SSH_PORT as string,
      `${lab.LAB_SSH_USER}@${lab.LAB_HOST}`,
      ...command
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }
  )
  return { status: run.status ?? -1, stdout: run.stdout, stderr: run.stderr }
}

function checkLabWorks(): void {
  const lab = labEnv()
  for (const key of [
    'LAB_REGISTRY',
    'LAB_REGISTRY_USER',
    'LAB_REGISTRY_PASSWORD',
    'LAB_HOST',
    'LAB_SSH_PORT',
    'LAB_SSH_USER',
    'LAB_SSH_KEY',
    'LAB_KNOWN_HOSTS',
    'LAB_DEPLOY_DOCKER_HOST',
    'NODE_IMAGE',
    'NGINX_IMAGE',
    'POSTGRES_IMAGE',
    'REDIS_IMAGE'
  ]) {
    expect([key, Boolean(lab[key])]).toEqual([key, true])
  }
  expect(docker(['info', '--format', '{{.ServerVersion}}']).status).toBe(0)
  // The registry answers and checks passwords.
  const config = fs.mkdtempSync('/tmp/lab-docker-config-')
  const login = spawnSync(
    'docker',
    [
      '--config',
      config,
      'login',
      '--username',
      lab.LAB_REGISTRY_USER as string,
      '--password-stdin',
      lab.LAB_REGISTRY as string
    ],
    {
      input: lab.LAB_REGISTRY_PASSWORD,
      encoding: 'utf8'
    }
  )
  const badLogin = spawnSync(
    'docker',
    [
      '--config',
      config,
      'login',
      '--username',
      'lab',
      '--password-stdin',
      lab.LAB_REGISTRY as string
    ],
    {
      input: 'wrong-password',
      encoding: 'utf8'
    }
  )
  fs.rmSync(config, { recursive: true, force: true })
  expect(login.status).toBe(0)
  expect(badLogin.status).not.toBe(0)
  // The deploy host: pinned host key, non-root user, its own engine and compose v2.
  const remote = sshDeployHost([
    'id',
    '-un',
    '&&',
    'docker',
    'info',
    '--format',
    '{{.DockerRootDir}}',
    '&&',
    'docker',
    'compose',
    'version',
    '--short'
  ])
  expect(remote.stderr).toBe('')
  const [user, root, compose] = remote.stdout.trim().split('\n')
  expect(user).toBe(labEnv().LAB_SSH_USER)
  expect(root).not.toBe(docker(['info', '--format', '{{.DockerRootDir}}']).stdout.trim())
  expect(compose).toMatch(/^2\./)
}

describe('the lab', () => {
  it('comes up again at once when it is already up', () => {
    const run = labUp()
    expect(run.status).toBe(0)
    expect(run.seconds).toBeLessThan(30)
    checkLabWorks()
  })

  it('repairs itself after its daemons were killed without cleanup', () => {
    const pidFiles = fs.readdirSync(path.join(STATE, 'pids')).filter(file => file.endsWith('.pid'))
    const killed: string[] = []
    for (const file of pidFiles) {
      const pid = Number(fs.readFileSync(path.join(STATE, 'pids', file), 'utf8').trim())
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL')
          killed.push(file)
        } catch {
          // already gone
        }
      }
    }
    // At least the registry, sshd and the deploy host's dockerd are the lab's own.
    expect(killed).toEqual(
      expect.arrayContaining(['registry.pid', 'sshd.pid', 'dockerd-deploy.pid'])
    )
    expect(sshDeployHost(['true']).status).not.toBe(0)

    const run = labUp()
    if (run.status !== 0) throw new Error(run.output)
    checkLabWorks()
  })

  it('refuses a deploy host whose key is not the pinned one', () => {
    const lab = labEnv()
    const wrong = fs.mkdtempSync('/tmp/lab-known-hosts-')
    const file = path.join(wrong, 'known_hosts')
    // A well-formed ed25519 key that is not the host's.
    fs.writeFileSync(
      file,
      `${lab.LAB_HOST} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBq7R4nW0b7Pn6cQ2m9Qy9X0x1v0M8yZtq8Xy2vJ5Y6Q\n`
    )
    const run = spawnSync(
      'ssh',
      [
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        `UserKnownHostsFile=${file}`,
        '-i',
        lab.LAB_SSH_KEY as string,
        `${lab.LAB_SSH_USER}@${lab.LAB_HOST}`,
        'true'
      ],
      { encoding: 'utf8' }
    )
    fs.rmSync(wrong, { recursive: true, force: true })
    expect(run.status).toBe(255)
    expect(run.stderr).toMatch(
      /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/
    )
  })
})
